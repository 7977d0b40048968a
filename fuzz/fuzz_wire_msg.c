/* fuzz_wire_msg.c - libFuzzer harness: the msg event and sent reply writers (wire_msg.c,
 * jsonw.c) against jansson. The input is 16 bytes of numbers and flags, then NUL-separated
 * strings (text, to, the sender's display name, quote text, quote sender, cid, media name,
 * kind, mentions JSON, reactions JSON, ref JSON, media type, quote kind). Every encoding the
 * writers give must be byte-equal to json_dumpb of the tree; when a writer gives up, one of
 * the strings must be one jansson refuses (not UTF-8). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "hub.h"
#include "jsonw.h"
#include "sbuf.h"
#include "store.h"
#include "wire_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NFIELDS 13
#define HEAD 16

enum { F_TEXT, F_TO, F_DISPLAY, F_QTEXT, F_QFROM, F_CID, F_MNAME, F_KIND, F_MENTIONS,
       F_REACTIONS, F_REF, F_MTYPE, F_QKIND };

static bool utf8(const char *s)
{
	return s == NULL || jsonw_is_utf8(s, strlen(s));
}

/* Equal bytes, or (writer gave up) a string jansson would refuse. */
static void compare(struct sbuf *w, json_t *tree, bool all_utf8)
{
	if (w == NULL) {
		if (all_utf8)
			abort();
	} else {
		struct sbuf *t = sbuf_from_json(tree);

		if (t->len != w->len || memcmp(t->data, w->data, t->len) != 0)
			abort();
		sbuf_unref(t);
	}
	json_decref(tree);
	sbuf_unref(w);
}

static int64_t num(const uint8_t *head, int i)
{
	int64_t v = 0;

	memcpy(&v, head + i, 4);
	return head[15] & 0x80 ? v * 1000003 : v;   /* sometimes big, sometimes negative */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t head[HEAD] = { 0 };
	char *copy, *field[NFIELDS] = { NULL };
	struct store_msg m;
	struct store_job job;
	struct hub h;
	json_t *ref, *tree;
	bool ok = true;
	unsigned f;
	size_t n = 0;

	memcpy(head, data, size < HEAD ? size : HEAD);
	data += size < HEAD ? size : HEAD;
	size -= size < HEAD ? size : HEAD;
	copy = malloc(size + 1);
	memcpy(copy, data, size);
	copy[size] = '\0';
	for (char *p = copy; n < NFIELDS && p <= copy + size; p += strlen(p) + 1)
		field[n++] = p;
	f = head[12] | (unsigned)head[13] << 8 | (unsigned)head[14] << 16;

	hub_init(&h);
	hub_add_user(&h, 1, "alice");
	hub_add_user(&h, 2, "bob");
	if (field[F_DISPLAY] != NULL && field[F_DISPLAY][0] != '\0') {
		hub_set_display(hub_find_user(&h, f & 1 ? "bob" : "alice"), field[F_DISPLAY]);
		ok = ok && utf8(field[F_DISPLAY]);
	}

	memset(&m, 0, sizeof(m));
	m.id = num(head, 0);
	m.ts = num(head, 4);
	m.from = f & 2 ? "bob" : "alice";
	m.to = field[F_TO] != NULL && f & 4 ? field[F_TO] : "@bob";
	m.text = f & 8 ? NULL : field[F_TEXT] != NULL ? field[F_TEXT] : "";
	ok = ok && utf8(m.to) && utf8(m.text);
	if (f & 16) {
		m.media_id = num(head, 8) | 1;
		m.kind = field[F_KIND];
		m.media_name = field[F_MNAME] != NULL ? field[F_MNAME] : "f";
		m.media_type = field[F_MTYPE] != NULL ? field[F_MTYPE] : "image/png";
		m.media_size = num(head, 4);
		m.media_width = head[9];
		m.media_height = head[10];
		ok = ok && utf8(m.kind) && utf8(m.media_type);
	}
	if (f & 32) {
		m.reply_to = num(head, 8) | 2;
		m.quote_from = field[F_QFROM];
		m.quote_text = field[F_QTEXT];
		m.quote_kind = field[F_QKIND];
		m.quote_cut = f & 64;
		m.quote_recalled = f & 128;
		ok = ok && utf8(m.quote_from) && (m.quote_recalled ||
		                                  (utf8(m.quote_text) && utf8(m.quote_kind)));
	}
	m.mentions = f & 256 ? field[F_MENTIONS] : NULL;
	m.reactions = f & 512 ? field[F_REACTIONS] : NULL;
	m.mentioned = f & 1024;
	m.e2ee = f & 2048;
	m.edited = f & 4096 ? num(head, 0) ^ 0x5555 : 0;
	m.changed = f & 8192 ? num(head, 8) : 0;
	m.recalled = f & 16384 ? 1 : 0;

	compare(wire_msg_event(&h, &m), event_msg(&h, &m), ok);
	compare(wire_msg_live(&h, &m), wire_msg_live_json(&h, &m), ok);
	tree = wire_msg_live_json(&h, &m);
	if (tree != NULL) {
		struct sbuf *live = wire_msg_live(&h, &m);

		json_object_set_new(tree, "mentioned", json_true());
		compare(live != NULL ? wire_msg_mentioned(live) : NULL, json_incref(tree), ok);
		sbuf_unref(live);
	}
	json_decref(tree);

	memset(&job, 0, sizeof(job));
	job.status = f & 32768 ? STORE_DUPLICATE : STORE_OK;
	job.msg_id = m.id;
	job.ts = m.ts;
	job.cid = f & 65536 ? field[F_CID] : NULL;
	if (m.media_id != 0 && utf8(m.media_type)) {
		job.media_id = m.media_id;
		job.kind = m.kind;
		job.media.id = m.media_id;
		job.media.size = m.media_size;
		job.media.width = m.media_width;
		job.media.height = m.media_height;
		strncpy(job.media.name, m.media_name, sizeof(job.media.name) - 1);
		strncpy(job.media.type, m.media_type, sizeof(job.media.type) - 1);
		/* strncpy may cut a UTF-8 sequence in two: media_json calls it "file" then. */
	}
	if (f & (1u << 17)) {
		job.msgs = &m;
		job.nmsgs = 1;
	}
	ref = field[F_REF] != NULL ? json_loads(field[F_REF], JSON_DECODE_ANY, NULL) : NULL;
	compare(wire_sent(&h, ref, &job, m.to), wire_sent_json(&h, ref, &job, m.to),
	        ok && utf8(job.cid) && utf8(job.kind) && utf8(job.media.type));
	compare(wire_sent_e2ee(ref, &job, m.to), wire_sent_e2ee_json(ref, &job, m.to),
	        ok && utf8(job.cid) && utf8(job.media.type));
	json_decref(ref);
	hub_release(&h);
	free(copy);
	return 0;
}
