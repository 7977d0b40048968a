/* fuzz_cluster.c - libFuzzer harness: the bus's payload decoders (src/server/cluster/
 * cluster_codec.c) on any bytes, as another node (or anyone on the NATS) could send them.
 * The first byte picks the payload kind; the rest is the payload.
 *
 * Checked: whatever decodes holds valid fields only (names, targets, bounds), and encoding it
 * again gives bytes that decode to a payload that encodes to the very same bytes (a fixed
 * point: nothing the decoder accepts is lost or changed on the way to the next node).
 *
 * A first byte of 7 (mod 8) drives the sequencer (cluster_seq.c) instead: the bytes are
 * commits, bus signals (any visible id, again and again, or never), read answers (failed
 * ones too) and polls, against a fake store; every existing id must come out exactly once, in
 * order, and every item be freed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_codec.h"
#include "cluster_seq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct cluster_limits lim = { .max_text = 4096 };

static void same_again(char *a, size_t alen, char *b, size_t blen)
{
	if (a == NULL || b == NULL || alen != blen || memcmp(a, b, alen) != 0)
		abort();
	free(a);
	free(b);
}

static void check_msg(const struct store_msg *m)
{
	if (m->id <= 0 || m->from == NULL || m->to == NULL || m->text == NULL ||
	    pier_name_check(m->from) != PIER_NAME_OK || strlen(m->text) > lim.max_text ||
	    (m->to[0] != '#' && m->to[0] != '@') || (m->e2ee && m->text[0] != '\0') ||
	    m->reply_to >= m->id)
		abort();
}

static void fuzz_msg(const char *p, size_t n)
{
	char node[CLUSTER_NODE_MAX + 1];
	struct store_msg m, m2;
	size_t l1, l2;
	char *e1, *e2;

	if (cluster_decode_msg(p, n, &lim, node, &m) != 0)
		return;
	check_msg(&m);
	if (!cluster_node_name_ok(node))
		abort();
	e1 = cluster_encode_msg(node, &m, &l1);
	if (cluster_decode_msg(e1, l1, &lim, node, &m2) != 0)
		abort();
	e2 = cluster_encode_msg(node, &m2, &l2);
	same_again(e1, l1, e2, l2);
	store_msg_release(&m);
	store_msg_release(&m2);
}

static void fuzz_change(const char *p, size_t n)
{
	char node[CLUSTER_NODE_MAX + 1];
	struct cluster_change c, c2;
	size_t l1, l2;
	char *e1, *e2;

	if (cluster_decode_change(p, n, &lim, node, &c) != 0)
		return;
	check_msg(&c.msg);
	e1 = cluster_encode_change(node, &c, &l1);
	if (cluster_decode_change(e1, l1, &lim, node, &c2) != 0)
		abort();
	e2 = cluster_encode_change(node, &c2, &l2);
	same_again(e1, l1, e2, l2);
	cluster_change_release(&c);
	cluster_change_release(&c2);
}

static void fuzz_event(const char *p, size_t n)
{
	char node[CLUSTER_NODE_MAX + 1];
	struct cluster_event ev, ev2;
	size_t l1, l2;
	char *e1, *e2;

	if (cluster_decode_event(p, n, &lim, node, &ev) != 0)
		return;
	if (pier_name_check(ev.user) != PIER_NAME_OK)
		abort();
	e1 = cluster_encode_event(node, &ev, &l1);
	if (cluster_decode_event(e1, l1, &lim, node, &ev2) != 0)
		abort();
	e2 = cluster_encode_event(node, &ev2, &l2);
	same_again(e1, l1, e2, l2);
	cluster_event_release(&ev);
	cluster_event_release(&ev2);
}

static void fuzz_small(const char *p, size_t n, int which)
{
	char node[CLUSTER_NODE_MAX + 1];
	struct cluster_env env;
	struct cluster_presence_msg pr;
	struct cluster_hb hb;
	char **names;
	size_t count, l1, l2;
	char *e1 = NULL, *e2 = NULL;

	switch (which) {
	case 0:
		if (cluster_decode_env(p, n, node, &env) != 0)
			return;
		if (env.device <= 0 || env.qid <= 0)
			abort();
		e1 = cluster_encode_env(node, &env, &l1);
		if (cluster_decode_env(e1, l1, node, &env) != 0)
			abort();
		e2 = cluster_encode_env(node, &env, &l2);
		break;
	case 1:
		if (cluster_decode_presence(p, n, node, &pr) != 0)
			return;
		e1 = cluster_encode_presence(node, &pr, &l1);
		if (cluster_decode_presence(e1, l1, node, &pr) != 0)
			abort();
		e2 = cluster_encode_presence(node, &pr, &l2);
		break;
	case 2:
		if (cluster_decode_hb(p, n, node, &hb) != 0)
			return;
		e1 = cluster_encode_hb(node, &hb, &l1);
		if (cluster_decode_hb(e1, l1, node, &hb) != 0)
			abort();
		e2 = cluster_encode_hb(node, &hb, &l2);
		break;
	default:
		if (cluster_decode_hello(p, n, node, &names, &count) != 0)
			return;
		e1 = cluster_encode_hello(node, (const char *const *)names, count, &l1);
		cluster_names_free(names, count);
		if (e1 == NULL || cluster_decode_hello(e1, l1, node, &names, &count) != 0)
			abort();
		e2 = cluster_encode_hello(node, (const char *const *)names, count, &l2);
		cluster_names_free(names, count);
		break;
	}
	same_again(e1, l1, e2, l2);
}

/* ---- the sequencer ---- */

#define SEQ_IDS 512

struct seq_world {
	bool exists[SEQ_IDS + 1];
	int64_t newest, last_out;
	size_t nout, live;
	bool pending;
	int64_t after, upto;
	size_t page;
};

static void *seq_item(struct seq_world *w, int64_t id)
{
	int64_t *item = malloc(sizeof(*item));

	if (item == NULL)
		abort();
	*item = id;
	w->live++;
	return item;
}

static void seq_deliver(void *ud, int64_t id, void *item)
{
	struct seq_world *w = ud;

	if (*(int64_t *)item != id || id <= w->last_out || id > w->newest || !w->exists[id])
		abort();
	w->last_out = id;
	w->nout++;
	w->live--;
	free(item);
}

static void seq_drop(void *ud, void *item)
{
	struct seq_world *w = ud;

	free(item);
	w->live--;
}

static void seq_read(void *ud, int64_t after, int64_t upto)
{
	struct seq_world *w = ud;

	if (w->pending)
		abort();                 /* one read at a time */
	w->pending = true;
	w->after = after;
	w->upto = upto;
}

static const struct cluster_seq_ops seq_fuzz_ops = { seq_deliver, seq_drop, seq_read };

static void seq_answer(struct cluster_seq *s, struct seq_world *w, bool ok)
{
	int64_t ids[SEQ_IDS];
	void *items[SEQ_IDS];
	size_t n = 0;
	int64_t upto = w->upto != 0 && w->upto < w->newest ? w->upto : w->newest;
	bool more = false;

	if (!w->pending)
		return;
	w->pending = false;
	for (int64_t id = w->after + 1; ok && id <= upto; id++) {
		if (!w->exists[id])
			continue;
		if (n == w->page) {
			more = true;
			break;
		}
		items[n] = seq_item(w, id);
		ids[n++] = id;
	}
	cluster_seq_read_done(s, ok, ids, items, n, more);
}

static void fuzz_seq(const uint8_t *p, size_t n)
{
	static struct seq_world w;
	struct cluster_seq s;
	size_t expect = 0;

	memset(&w, 0, sizeof(w));
	if (n < 3)
		return;
	w.page = 1 + p[0] % 16;
	cluster_seq_init(&s, 0, 1 + p[1] % 8, &seq_fuzz_ops, &w);
	for (size_t i = 2; i < n; i++) {
		uint8_t b = p[i];

		switch (b % 5) {
		case 0:                                  /* a commit (or an id never used) */
			if (w.newest < SEQ_IDS)
				w.exists[++w.newest] = (b & 0x80) == 0;
			break;
		case 1: {                                /* a signal for a visible id */
			int64_t id = w.newest > 0 ? 1 + (int64_t)(b / 5) % w.newest : 0;

			if (id > 0 && w.exists[id])
				cluster_seq_offer(&s, id, seq_item(&w, id));
			break;
		}
		case 2:
			seq_answer(&s, &w, true);
			break;
		case 3:
			seq_answer(&s, &w, false);
			break;
		default:
			cluster_seq_poll(&s);
			break;
		}
	}
	for (int round = 0; round < 2 * SEQ_IDS + 2 && (round < 2 || s.nheld > 0 ||
	                                                s.delivered < w.newest); round++) {
		cluster_seq_poll(&s);       /* each tick: a hole confirmed, the rest read */
		while (w.pending)
			seq_answer(&s, &w, true);
	}
	for (int64_t id = 1; id <= w.newest; id++)
		expect += w.exists[id];
	if (w.nout != expect)
		abort();
	cluster_seq_release(&s);
	if (w.live != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data + 1;

	if (size < 1)
		return 0;
	if (data[0] % 8 == 7) {
		fuzz_seq(data + 1, size - 1);
		return 0;
	}
	switch (data[0] % 7) {
	case 0: fuzz_msg(p, size - 1); break;
	case 1: fuzz_change(p, size - 1); break;
	case 2: fuzz_event(p, size - 1); break;
	default: fuzz_small(p, size - 1, data[0] % 7 - 3); break;
	}
	return 0;
}
