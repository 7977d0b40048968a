/* test_wire_msg.c - the differential test of the msg event and sent reply writers
 * (wire_msg.c, jsonw.c): for a table of messages (Chinese, emoji, quotes, backslashes,
 * control characters, long texts, and every optional field of both shapes), the writer's
 * bytes equal json_dumpb of the tree the server built before it (event_msg, the live event,
 * the sent reply), which is what pierd sent until issue 13. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_line.h"
#include "events.h"
#include "hub.h"
#include "jsonw.h"
#include "sbuf.h"
#include "store.h"
#include "tap.h"
#include "wire_msg.h"

static unsigned compared;

/* The bytes the writer gave (NULL: it gave up) equal those of the tree (taken). */
static bool same(struct sbuf *w, json_t *tree, const char *what, int row)
{
	struct sbuf *t = sbuf_from_json(tree);
	bool ok;

	json_decref(tree);
	compared++;
	ok = w != NULL && w->len == t->len && memcmp(w->data, t->data, t->len) == 0;
	if (!CHECK(ok, "%s, row %d: the writer's bytes are jansson's", what, row))
		fprintf(stderr, "  jansson: %.*s  writer:  %.*s\n", (int)t->len, t->data,
		        w != NULL ? (int)w->len : 6, w != NULL ? w->data : "(NULL)\n");
	sbuf_unref(t);
	sbuf_unref(w);
	return ok;
}

static const char *const texts[] = {
	"hi",
	"",
	"你好，世界！这是一条中文消息。",
	"emoji 😀👍🏽👩‍👩‍👧 and a flag 🇫🇷",
	"she said \"hi\" \\ back\\slash, a /slash/ and </script>",
	"controls \x01\x02\x1f \x7f \b\f\n\r\t end",
	"\"",
	"\\",
	"\n",
	"line\u2028sep\u2029para \xef\xbb\xbf bom",
	"mixed: ascii, ελληνικά, русский, עברית, العربية, 日本語, 한국어",
};

static const char *const displays[] = { NULL, "Alice", "爱丽丝 🌸", "Zoë \"Z\" \\ \x01" };

struct variant {
	const char *name;
	void (*apply)(struct store_msg *m);
};

static void v_plain(struct store_msg *m) { (void)m; }
static void v_room(struct store_msg *m) { m->to = "#Café"; }
static void v_self(struct store_msg *m) { m->to = "@alice"; }
static void v_media(struct store_msg *m)
{
	m->media_id = 77;
	m->kind = "image";
	m->media_name = "照片 \"1\".png";
	m->media_type = "image/png";
	m->media_size = 123456789012LL;
	m->media_width = 640;
	m->media_height = 480;
}
static void v_media_nokind(struct store_msg *m)
{
	m->media_id = 78;
	m->media_name = "notes.txt";
	m->media_type = "text/plain";
	m->media_size = 0;
	m->media_width = 10;   /* no height: neither is written */
}
static void v_media_badname(struct store_msg *m)
{
	v_media_nokind(m);
	m->media_name = "bad \xff name";   /* media_json says "file" */
}
static void v_reply(struct store_msg *m)
{
	m->reply_to = 41;
	m->quote_from = "bob";
	m->quote_text = "the \"quoted\" 文字\n";
}
static void v_reply_full(struct store_msg *m)
{
	m->reply_to = 42;
	m->quote_from = "alice";
	m->quote_text = "cut here…";
	m->quote_cut = true;
	m->quote_kind = "video";
}
static void v_reply_recalled(struct store_msg *m)
{
	m->reply_to = 43;
	m->quote_from = "alice";
	m->quote_text = "";
	m->quote_recalled = true;
}
static void v_reply_gone(struct store_msg *m)
{
	m->reply_to = 44;         /* the quoted sender is gone: "from":"" */
}
static void v_mentions(struct store_msg *m)
{
	m->to = "#Café";
	m->mentions = "[\"bob\",\"alice\"]";
	m->mentioned = true;
}
static void v_mentions_empty(struct store_msg *m)
{
	m->mentions = "[]";       /* not written */
	m->reactions = "{\"not\":\"an array\"}";
}
static void v_changed(struct store_msg *m)
{
	m->edited = 1700000000123LL;
	m->reactions = "[{\"emoji\":\"👍\",\"count\":2,\"users\":[\"bob\",\"alice\"],\"mine\":true}]";
	m->changed = 9;
}
static void v_recalled(struct store_msg *m)
{
	v_media(m);
	v_reply(m);
	m->text = "";
	m->recalled = 1700000000999LL;
	m->changed = 12;
}
static void v_e2ee(struct store_msg *m)
{
	m->e2ee = true;
	m->text = "";
}
static void v_e2ee_reply(struct store_msg *m)
{
	v_e2ee(m);
	v_reply(m);
	v_media(m);
}
static void v_e2ee_recalled_reply(struct store_msg *m)
{
	v_e2ee_reply(m);
	m->recalled = 5;
}
static void v_no_text(struct store_msg *m)
{
	m->text = NULL;           /* json_string(NULL): no "text" */
}
static void v_big_ids(struct store_msg *m)
{
	m->id = INT64_MAX;
	m->ts = -1;
	m->changed = INT64_MIN;
}

static const struct variant variants[] = {
	{ "plain", v_plain }, { "room", v_room }, { "to self", v_self }, { "media", v_media },
	{ "media without kind", v_media_nokind }, { "media, name not UTF-8", v_media_badname },
	{ "reply", v_reply }, { "reply, cut, kind", v_reply_full },
	{ "reply to a recalled one", v_reply_recalled }, { "reply, sender gone", v_reply_gone },
	{ "mentions", v_mentions }, { "empty arrays", v_mentions_empty },
	{ "edited, reactions", v_changed }, { "recalled", v_recalled }, { "e2ee", v_e2ee },
	{ "e2ee reply", v_e2ee_reply }, { "e2ee recalled reply", v_e2ee_recalled_reply },
	{ "no text", v_no_text }, { "extreme integers", v_big_ids },
};

static void check_msg(struct hub *h, const struct store_msg *m, int row)
{
	struct sbuf *live;
	json_t *tree;

	same(wire_msg_event(h, m), event_msg(h, m), "event_msg", row);
	same(wire_msg_live(h, m), wire_msg_live_json(h, m), "live msg", row);
	/* A mentioned member's copy: the flag added to the tree after it was built. */
	live = wire_msg_live(h, m);
	tree = wire_msg_live_json(h, m);
	json_object_set_new(tree, "mentioned", json_true());
	if (CHECK(live != NULL, "row %d: live written", row))
		same(wire_msg_mentioned(live), tree, "mentioned copy", row);
	else
		json_decref(tree);
	sbuf_unref(live);
}

static void check_sent(struct hub *h, struct store_msg *m, int row)
{
	static const char *const refs[] = {
		NULL, "7", "-12", "\"r-1\"", "\"引用 \\\"q\\\" \\u0001\"", "3.5", "null", "true",
		"{\"a\":[1,2,{\"b\":\"c\"}]}", "[]", "1e300",
	};

	for (size_t i = 0; i < sizeof(refs) / sizeof(refs[0]); i++) {
		json_t *ref = refs[i] != NULL ? json_loads(refs[i], JSON_DECODE_ANY, NULL) : NULL;
		struct store_job job;

		memset(&job, 0, sizeof(job));
		job.status = (row + (int)i) % 5 == 0 ? STORE_DUPLICATE : STORE_OK;
		job.msg_id = m->id;
		job.ts = m->ts;
		job.cid = i % 2 == 0 ? m->text : NULL;
		if (job.cid != NULL && job.cid[0] == '\0')
			job.cid = "c\"1\"";
		if (m->media_id != 0) {
			job.media_id = m->media_id;
			job.kind = i % 3 == 0 ? NULL : m->kind != NULL ? m->kind : "file";
			job.media.id = m->media_id;
			job.media.size = m->media_size;
			job.media.width = m->media_width;
			job.media.height = m->media_height;
			snprintf(job.media.name, sizeof(job.media.name), "%s", m->media_name);
			snprintf(job.media.type, sizeof(job.media.type), "%s", m->media_type);
		}
		if (m->reply_to != 0 || m->mentions != NULL) {
			job.msgs = m;
			job.nmsgs = 1;
		}
		CHECK(refs[i] == NULL || ref != NULL, "ref %s parses", refs[i]);
		same(wire_sent(h, ref, &job, m->to), wire_sent_json(h, ref, &job, m->to), "sent",
		     row * 100 + (int)i);
		same(wire_sent_e2ee(ref, &job, m->to), wire_sent_e2ee_json(ref, &job, m->to),
		     "encrypted sent", row * 100 + (int)i);
		json_decref(ref);
	}
}

static void check_table(struct hub *h)
{
	int row = 0;

	for (size_t d = 0; d < sizeof(displays) / sizeof(displays[0]); d++) {
		hub_set_display(hub_find_user(h, "alice"), displays[d]);
		for (size_t t = 0; t < sizeof(texts) / sizeof(texts[0]); t++) {
			for (size_t v = 0; v < sizeof(variants) / sizeof(variants[0]); v++) {
				struct store_msg m = {
					.id = 1000 + row, .ts = 1700000000000LL + row, .from = "alice",
					.to = "@bob", .text = (char *)texts[t],
				};

				variants[v].apply(&m);
				check_msg(h, &m, row);
				check_sent(h, &m, row);
				row++;
			}
		}
	}
}

/* A text over sbuf_from_json's 2 KiB first pass, and one that grows the writer many times. */
static void check_long(struct hub *h)
{
	size_t n = 70000;
	char *text = malloc(n + 1);
	struct store_msg m = { .id = 5, .ts = 6, .from = "alice", .to = "@bob" };

	for (size_t i = 0; i < n; i++)      /* 7 bytes a turn (é is two): n is a multiple */
		text[i] = "a\"\\\n\x01é"[i % 7];
	text[n] = '\0';
	m.text = text;
	same(wire_msg_event(h, &m), event_msg(h, &m), "long, escapes", 1);
	memset(text, 'x', n);
	same(wire_msg_event(h, &m), event_msg(h, &m), "long, plain", 2);
	free(text);
}

/* Strings jansson refuses: the writer gives up (the caller takes the tree). */
static void check_not_utf8(struct hub *h)
{
	static const char *const bad[] = {
		"\xff", "a\xc3", "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
		"\xf8\x88\x80\x80\x80", "ok \x80",
	};
	static const char edges[] = "\xf4\x8f\xbf\xbf \xef\xbf\xbf \xc2\x80 \xe0\xa0\x80 \xf0\x90\x80\x80";

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct store_msg m = { .id = 1, .ts = 2, .from = "alice", .to = "@bob",
		                       .text = (char *)bad[i] };
		struct store_job job;

		memset(&job, 0, sizeof(job));
		job.status = STORE_OK;
		job.cid = bad[i];
		CHECK(wire_msg_event(h, &m) == NULL, "text %zu not UTF-8: no bytes", i);
		CHECK(wire_sent(h, NULL, &job, "@bob") == NULL, "cid %zu not UTF-8: no bytes", i);
		CHECK(wire_sent_e2ee(NULL, &job, "@bob") == NULL, "cid %zu not UTF-8: no encrypted sent",
		      i);
		CHECK(!jsonw_is_utf8(bad[i], strlen(bad[i])), "bad %zu is not UTF-8", i);
		CHECK(json_string(bad[i]) == NULL, "jansson refuses bad %zu too", i);
	}
	CHECK(jsonw_is_utf8(edges, strlen(edges)), "the edges are UTF-8");
}

/* The flagged copy of something that is no object with members: the same bytes. */
static void check_mentioned_guard(void)
{
	struct sbuf *b = sbuf_new(1), *out;

	b->data[0] = '\n';
	out = wire_msg_mentioned(b);
	CHECK(out == b && b->refs == 2, "a bare newline is passed on as it is");
	sbuf_unref(out);
	sbuf_unref(b);
}

/* pier-bench reads the msg lines of its traffic with a fast reader written for this writer's
 * key order (src/bench/bench_line.c); when the two disagree every delivery goes through its
 * general reader and the bench, not pierd, limits fan-out (it did: 2.7 M deliveries/s). */
static void check_bench_reader(struct hub *h)
{
	static const char *const tos[] = { "@bob", "#lobby" };

	hub_add_user(h, 3, "carol");          /* no display name, as pier-bench's users */
	for (size_t i = 0; i < sizeof(tos) / sizeof(tos[0]); i++) {
		struct store_msg m = { .id = 4242, .ts = 1700000000123LL, .from = "carol",
		                       .to = (char *)tos[i], .text = "b 17 4 123456789" };
		struct sbuf *b = wire_msg_live(h, &m);
		struct bline ev;

		if (!CHECK(b != NULL && b->len > 1 && b->data[b->len - 1] == '\n', "%s: written",
		           tos[i]))
			continue;
		CHECK(bline_parse_msg(b->data, b->len - 1, &ev) == 0 && ev.op == BLINE_MSG &&
		      ev.id == 4242 && ev.ts == 1700000000123LL && bline_eq(ev.from, "carol") &&
		      bline_eq(ev.to, tos[i]) && bline_eq(ev.text, "b 17 4 123456789"),
		      "%s: the bench's fast reader takes [%.*s]", tos[i], (int)b->len - 1, b->data);
		sbuf_unref(b);
	}
}

static void check_ints(void)
{
	static const int64_t v[] = { 0, 1, -1, 9, 10, -10, 1234567890123LL, INT64_MAX, INT64_MIN };

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct jsonw w;
		json_t *j = json_pack("[I]", (json_int_t)v[i]);

		jsonw_init(&w, 1);
		JSONW_LIT(&w, "[");
		jsonw_int(&w, v[i]);
		JSONW_LIT(&w, "]");
		same(jsonw_finish(&w), j, "integer", (int)i);
	}
}

int main(void)
{
	struct hub h;

	hub_init(&h);
	hub_add_user(&h, 1, "alice");
	hub_add_user(&h, 2, "bob");
	hub_set_display(hub_find_user(&h, "bob"), "鲍勃");
	check_table(&h);
	check_long(&h);
	check_not_utf8(&h);
	check_ints();
	check_mentioned_guard();
	check_bench_reader(&h);
	CHECK(compared > 5000, "%u encodings compared", compared);
	hub_release(&h);
	return tap_done();
}
