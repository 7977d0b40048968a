/* e2ee_event.c - the envelope event ({"op":"envelope",...}), the one event each device gets
 * per encrypted message, live or from its queue.
 *
 * Written straight into the shared buffer by jsonw (jansson's bytes without a tree, as the
 * msg event is: wire_msg.c); a string jansson would refuse (not UTF-8) sends the whole event
 * through the tree instead (e2ee_envelope_event), so the bytes are always what jansson
 * writes: test_e2ee_event and fuzz/fuzz_envelope_event compare the two on every field. */
#include "e2ee_chat.h"

#include <string.h>

#include "jsonw.h"
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

struct sbuf *e2ee_envelope_sbuf(const struct store_envelope *v)
{
	const char *body = v->body != NULL ? v->body : "";
	struct jsonw w;
	struct sbuf *b;

	jsonw_init(&w, 160 + strlen(body) + (v->payload != NULL ? strlen(v->payload) : 0));
	JSONW_LIT(&w, "{\"op\":\"envelope\",\"qid\":");
	jsonw_int(&w, v->qid);
	JSONW_LIT(&w, ",\"from\":");
	jsonw_str(&w, v->from != NULL ? v->from : "");
	JSONW_LIT(&w, ",\"from_device\":");
	jsonw_str(&w, v->from_device);
	if (v->msg_id != 0) {
		JSONW_LIT(&w, ",\"id\":");
		jsonw_int(&w, v->msg_id);
		JSONW_LIT(&w, ",\"to\":");
		jsonw_str(&w, v->to != NULL ? v->to : "");
		JSONW_LIT(&w, ",\"ts\":");
		jsonw_int(&w, v->ts);
	}
	if (v->payload != NULL) {
		JSONW_LIT(&w, ",\"payload\":");
		jsonw_str(&w, v->payload);
	} else if (v->msg_id != 0) {
		JSONW_LIT(&w, ",\"recalled\":true");
	}
	JSONW_LIT(&w, ",\"body\":");
	jsonw_str(&w, body);
	if (v->media_id != 0) {
		/* media_json: a name or type it cannot write (NULL, not UTF-8) makes the writer
		 * bad, and the tree says what jansson makes of it */
		JSONW_LIT(&w, ",\"media\":{\"id\":");
		jsonw_int(&w, v->media_id);
		JSONW_LIT(&w, ",\"name\":");
		jsonw_str(&w, v->media_name);
		JSONW_LIT(&w, ",\"size\":");
		jsonw_int(&w, v->media_size);
		JSONW_LIT(&w, ",\"type\":");
		jsonw_str(&w, v->media_type);
		JSONW_LIT(&w, "}");
	}
	if (v->reply_to != 0) {
		JSONW_LIT(&w, ",\"reply_to\":");
		jsonw_int(&w, v->reply_to);
	}
	JSONW_LIT(&w, "}");
	b = jsonw_finish(&w);
	if (b == NULL) {
		json_t *ev = e2ee_envelope_event(v);

		b = sbuf_from_json(ev);
		json_decref(ev);
	}
	return b;
}
