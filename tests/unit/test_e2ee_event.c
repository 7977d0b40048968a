/* test_e2ee_event.c - the envelope event written without a tree (src/server/chat/e2ee_event.c)
 * against jansson's encoding of the same event (e2ee_envelope_event): a message's envelope,
 * a device_send's, a recalled message's, with media and a reply, integers at their limits,
 * and strings that need escaping or are not ASCII (those go through jansson). Byte for byte. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "e2ee_chat.h"
#include "sbuf.h"
#include "tap.h"

static void same(const struct store_envelope *v, const char *what)
{
	struct sbuf *fast = e2ee_envelope_sbuf(v);
	json_t *ev = e2ee_envelope_event(v);
	struct sbuf *ref = sbuf_from_json(ev);

	CHECK(fast->len == ref->len && memcmp(fast->data, ref->data, ref->len) == 0,
	      "%s: %.*s vs jansson %.*s", what, (int)fast->len, fast->data, (int)ref->len, ref->data);
	CHECK(fast->len > 0 && fast->data[fast->len - 1] == '\n', "%s: ends with a newline", what);
	sbuf_unref(fast);
	sbuf_unref(ref);
	json_decref(ev);
}

static struct store_envelope message(void)
{
	struct store_envelope v = {
		.qid = 41, .device_rid = 3, .from = "alice", .to = "@bob",
		.payload = "SGVsbG8td29ybGQ_", .body = "Ym9keQ", .msg_id = 1007,
		.ts = 1795000000000,
	};

	snprintf(v.from_device, sizeof(v.from_device), "%s", "AAAAAAAAAAAAAAAAAAAAAA");
	return v;
}

int main(void)
{
	struct store_envelope v = message();

	same(&v, "a message");
	v.reply_to = 99;
	same(&v, "a reply");
	v.media_id = 5;
	v.media_size = 123456;
	v.media_name = "photo.jpg";
	v.media_type = "application/octet-stream";
	same(&v, "with media");
	v.payload = NULL;
	same(&v, "recalled");
	v = message();
	v.msg_id = 0;
	v.to = NULL;
	v.ts = 0;
	same(&v, "a device_send");
	v.payload = NULL;
	v.body = NULL;
	v.from = NULL;
	same(&v, "nothing but the qid");
	v = message();
	v.qid = INT64_MAX;
	v.msg_id = INT64_MIN;
	v.ts = -1;
	v.reply_to = INT64_MIN;
	v.media_id = INT64_MAX;
	v.media_size = INT64_MIN;
	v.media_name = "n";
	v.media_type = "t";
	same(&v, "integers at their limits");
	for (int64_t x = -1000; x <= 1000; x += 7) {
		v = message();
		v.qid = x;
		v.ts = x * 1000003;
		v.msg_id = x == 0 ? 1 : x;
		same(&v, "small integers");
	}
	/* Each kind of byte at each place of a word (the check reads eight at a time). */
	for (size_t len = 1; len <= 26; len++) {
		static const unsigned char kinds[] = {
			0x00, 0x01, 0x1f, 0x20, 0x21, '"', '\\', '/', 0x5b, 0x5d, 0x7e, 0x7f, 0x80, 0xc3,
			0xff,
		};
		char text[32];

		for (size_t at = 0; at < len; at++) {
			for (size_t k = 0; k < sizeof(kinds); k++) {
				memset(text, 'A', len);
				text[len] = '\0';
				text[at] = (char)kinds[k];
				v = message();
				v.payload = text;
				same(&v, "a byte of each kind at each place");
			}
		}
	}
	v = message();
	v.qid = 0;
	same(&v, "qid 0");
	v = message();
	v.from = "b\"o\\b";
	same(&v, "a quote and a backslash");
	v = message();
	v.body = "line\nbreak\t";
	same(&v, "control characters");
	v = message();
	v.to = "@al\xc3\xa9";
	same(&v, "UTF-8");
	v = message();
	v.payload = "\xff\xfe";
	same(&v, "not UTF-8");
	v = message();
	v.media_id = 6;
	v.media_name = NULL;
	v.media_type = "t";
	same(&v, "media without a name");
	v.media_name = "caf\xc3\xa9.txt";
	same(&v, "media with a name not ASCII");
	v = message();
	v.payload = "";
	v.body = "";
	v.from = "";
	v.from_device[0] = '\0';
	same(&v, "empty strings");
	return tap_done();
}
