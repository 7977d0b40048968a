/* e2ee_event.c - the envelope event ({"op":"envelope",...}), the one event each device gets
 * per encrypted message, live or from its queue.
 *
 * Written straight into the shared buffer, without a jansson tree: the strings of the usual
 * envelope (names, device ids, "@name", base64url payload and body, the media's name and
 * type when plain ASCII) need no escaping, so they are copied. Any string with a byte that
 * JSON would escape (or that is not ASCII) sends the whole event through jansson instead
 * (e2ee_envelope_event), so the bytes are always what jansson writes: test_e2ee_event and
 * fuzz/fuzz_envelope_event compare the two on every field. */
#include "e2ee_chat.h"

#include <stdint.h>
#include <string.h>

#include "media.h"
#include "sbuf.h"

json_t *e2ee_envelope_event(const struct store_envelope *v)
{
	json_t *j = json_pack("{s:s, s:I, s:s, s:s}", "op", "envelope", "qid", (json_int_t)v->qid,
	                      "from", v->from != NULL ? v->from : "", "from_device", v->from_device);

	if (v->msg_id != 0) {
		json_object_set_new(j, "id", json_integer(v->msg_id));
		json_object_set_new(j, "to", json_string(v->to != NULL ? v->to : ""));
		json_object_set_new(j, "ts", json_integer(v->ts));
	}
	/* A recalled message has no payload left: the envelope says so by its absence. */
	if (v->payload != NULL)
		json_object_set_new(j, "payload", json_string(v->payload));
	else if (v->msg_id != 0)
		json_object_set_new(j, "recalled", json_true());
	json_object_set_new(j, "body", json_string(v->body != NULL ? v->body : ""));
	if (v->media_id != 0)
		json_object_set_new(j, "media", media_json(v->media_id, v->media_name, v->media_size,
		                                           v->media_type, 0, 0));
	if (v->reply_to != 0)
		json_object_set_new(j, "reply_to", json_integer(v->reply_to));
	return j;
}

/* Whether s goes into JSON as it is: printable ASCII but the quote and the backslash. Adds
 * its length to *len. Eight bytes at a time (a payload is hundreds of characters), with the
 * usual word tests: each term has a byte's high bit set if and only if some byte is below
 * 0x20, above 0x7e, a quote or a backslash (a borrow or carry only spreads past a byte that
 * is already one of those, so the answer is exact). */
static bool plain(const char *s, size_t *len)
{
	const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i = 0;
	uint64_t bad = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t x, q, b;

		memcpy(&x, p + i, 8);
		q = x ^ (ones * '"');
		b = x ^ (ones * '\\');
		bad |= ((x - ones * 0x20) & ~x) | ((x + ones) | x) | ((q - ones) & ~q) |
		       ((b - ones) & ~b);
	}
	bad &= high;
	for (; i < n; i++) {
		if (p[i] < 0x20 || p[i] > 0x7e || p[i] == '"' || p[i] == '\\')
			bad = 1;
	}
	*len += n;
	return bad == 0;
}

/* A writer into a buffer sized before (no bound checks past the sizing). */
struct out {
	char *p;
};

static void put(struct out *o, const char *s, size_t n)
{
	memcpy(o->p, s, n);
	o->p += n;
}

#define PUT_LIT(o, lit) put((o), (lit), sizeof(lit) - 1)

static void put_str(struct out *o, const char *s)
{
	*o->p++ = '"';
	put(o, s, strlen(s));
	*o->p++ = '"';
}

/* v in decimal, as jansson writes it ("%lld"; snprintf costs some 1.7 k instructions). */
static void put_int(struct out *o, int64_t v)
{
	char t[24], *p = t + sizeof(t);
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		*--p = '-';
	put(o, p, (size_t)(t + sizeof(t) - p));
}

struct sbuf *e2ee_envelope_sbuf(const struct store_envelope *v)
{
	const char *from = v->from != NULL ? v->from : "", *to = v->to != NULL ? v->to : "";
	const char *body = v->body != NULL ? v->body : "";
	size_t len = 0;
	struct sbuf *b;
	struct out o;
	bool ok;

	ok = plain(from, &len) && plain(v->from_device, &len) && plain(body, &len) &&
	     (v->msg_id == 0 || plain(to, &len)) && (v->payload == NULL || plain(v->payload, &len)) &&
	     (v->media_id == 0 || (v->media_name != NULL && v->media_type != NULL &&
	                           plain(v->media_name, &len) && plain(v->media_type, &len)));
	if (!ok) {
		json_t *ev = e2ee_envelope_event(v);

		b = sbuf_from_json(ev);
		json_decref(ev);
		return b;
	}
	/* The strings, the member names, quotes and braces (154 bytes at most), six integers of
	 * at most 20 characters each, the newline. */
	b = sbuf_new(len + 192 + 6 * 20 + 1);
	o.p = b->data;
	PUT_LIT(&o, "{\"op\":\"envelope\",\"qid\":");
	put_int(&o, v->qid);
	PUT_LIT(&o, ",\"from\":");
	put_str(&o, from);
	PUT_LIT(&o, ",\"from_device\":");
	put_str(&o, v->from_device);
	if (v->msg_id != 0) {
		PUT_LIT(&o, ",\"id\":");
		put_int(&o, v->msg_id);
		PUT_LIT(&o, ",\"to\":");
		put_str(&o, to);
		PUT_LIT(&o, ",\"ts\":");
		put_int(&o, v->ts);
	}
	if (v->payload != NULL) {
		PUT_LIT(&o, ",\"payload\":");
		put_str(&o, v->payload);
	} else if (v->msg_id != 0) {
		PUT_LIT(&o, ",\"recalled\":true");
	}
	PUT_LIT(&o, ",\"body\":");
	put_str(&o, body);
	if (v->media_id != 0) {
		PUT_LIT(&o, ",\"media\":{\"id\":");
		put_int(&o, v->media_id);
		PUT_LIT(&o, ",\"name\":");
		put_str(&o, v->media_name);
		PUT_LIT(&o, ",\"size\":");
		put_int(&o, v->media_size);
		PUT_LIT(&o, ",\"type\":");
		put_str(&o, v->media_type);
		*o.p++ = '}';
	}
	if (v->reply_to != 0) {
		PUT_LIT(&o, ",\"reply_to\":");
		put_int(&o, v->reply_to);
	}
	*o.p++ = '}';
	*o.p++ = '\n';
	b->len = (size_t)(o.p - b->data);
	return b;
}
