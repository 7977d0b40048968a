/* wire_msg.c - the msg event and the sent reply written without a jansson tree (wire_msg.h).
 * Each writer follows its tree's code (events.c event_msg, event_quote, media.c media_json,
 * wire_sent_json) key by key, in the same order: jansson keeps an object's keys in insertion
 * order, and a key it would drop (json_string of a string that is not UTF-8 gives NULL) makes
 * the writer give up rather than guess. */
#include "wire_msg.h"

#include <string.h>

#include "events.h"
#include "hub.h"
#include "jsonw.h"
#include "media.h"
#include "reply.h"
#include "sbuf.h"
#include "store.h"

/* What a msg event needs besides its strings: the punctuation, the integers, the flags. */
#define WIRE_MSG_BASE 192

static size_t len_of(const char *s)
{
	return s != NULL ? strlen(s) : 0;
}

/* A C string that jansson's json_string would take (NULL is taken as "absent" by callers). */
static bool is_utf8(const char *s)
{
	return s != NULL && jsonw_is_utf8(s, strlen(s));
}

/* ,"display":... for the user called name, when it has a display name (set_display_of). */
static void write_display_of(struct jsonw *w, struct hub *h, const char *name)
{
	const struct user *u;

	if (name == NULL || name[0] == '\0')
		return;
	u = hub_find_user(h, name);
	if (u != NULL && u->display != NULL) {
		JSONW_LIT(w, ",\"display\":");
		jsonw_str(w, u->display);
	}
}

/* event_quote. */
static void write_quote(struct jsonw *w, struct hub *h, const struct store_msg *m)
{
	JSONW_LIT(w, "{\"id\":");
	jsonw_int(w, m->reply_to);
	JSONW_LIT(w, ",\"from\":");
	jsonw_str(w, m->quote_from != NULL ? m->quote_from : "");
	write_display_of(w, h, m->quote_from);
	if (m->quote_recalled) {
		JSONW_LIT(w, ",\"recalled\":true}");
		return;
	}
	JSONW_LIT(w, ",\"text\":");
	jsonw_str(w, m->quote_text != NULL ? m->quote_text : "");
	if (m->quote_cut)
		JSONW_LIT(w, ",\"cut\":true");
	if (m->quote_kind != NULL) {
		JSONW_LIT(w, ",\"kind\":");
		jsonw_str(w, m->quote_kind);
	}
	JSONW_LIT(w, "}");
}

/* media_json, after its key. */
static void write_media(struct jsonw *w, int64_t id, const char *name, int64_t size,
                        const char *type, int width, int height)
{
	if (type == NULL) {          /* media_json would have no object at all */
		w->bad = true;
		return;
	}
	JSONW_LIT(w, "{\"id\":");
	jsonw_int(w, id);
	JSONW_LIT(w, ",\"name\":");
	jsonw_str(w, is_utf8(name) ? name : "file");   /* media_json's fallback */
	JSONW_LIT(w, ",\"size\":");
	jsonw_int(w, size);
	JSONW_LIT(w, ",\"type\":");
	jsonw_str(w, type);
	if (width > 0 && height > 0) {
		JSONW_LIT(w, ",\"width\":");
		jsonw_int(w, width);
		JSONW_LIT(w, ",\"height\":");
		jsonw_int(w, height);
	}
	JSONW_LIT(w, "}");
}

/* key (the literal ,"name":) and the array of stored JSON text, when it is a non-empty array
 * (events.c stored_array). Rare (mentions, reactions): parsed and written by jansson. */
static void write_stored_array(struct jsonw *w, const char *key, size_t keylen,
                               const char *text)
{
	json_t *a = text != NULL ? json_loads(text, 0, NULL) : NULL;

	if (a != NULL && json_is_array(a) && json_array_size(a) > 0) {
		jsonw_raw(w, key, keylen);
		jsonw_json(w, a);
	}
	json_decref(a);
}

#define WRITE_STORED_ARRAY(w, lit, text) write_stored_array((w), (lit), sizeof(lit) - 1, (text))

/* event_msg(h, m); live: as wire_msg_live_json tells it. */
static struct sbuf *write_msg(struct hub *h, const struct store_msg *m, bool live)
{
	bool mentioned = live ? false : m->mentioned;
	bool id_last = live && m->e2ee && m->reply_to != 0;
	struct jsonw w;

	jsonw_init(&w, WIRE_MSG_BASE + len_of(m->text) + len_of(m->from) + len_of(m->to) +
	               len_of(m->quote_text) + len_of(m->media_name));
	JSONW_LIT(&w, "{\"op\":\"msg\",\"id\":");
	jsonw_int(&w, m->id);
	JSONW_LIT(&w, ",\"from\":");
	jsonw_str(&w, m->from);
	JSONW_LIT(&w, ",\"to\":");
	jsonw_str(&w, m->to);
	JSONW_LIT(&w, ",\"ts\":");
	jsonw_int(&w, m->ts);
	write_display_of(&w, h, m->from);
	if (m->recalled != 0) {
		JSONW_LIT(&w, ",\"recalled\":true,\"changed\":");
		jsonw_int(&w, m->changed);
		goto out;
	}
	if (m->e2ee) {
		JSONW_LIT(&w, ",\"e2ee\":true");
	} else if (m->text != NULL) {
		JSONW_LIT(&w, ",\"text\":");
		jsonw_str(&w, m->text);
	}
	if (m->media_id != 0) {
		JSONW_LIT(&w, ",\"kind\":");
		jsonw_str(&w, m->kind != NULL ? m->kind : "file");
		JSONW_LIT(&w, ",\"media\":");
		write_media(&w, m->media_id, m->media_name, m->media_size, m->media_type,
		            m->media_width, m->media_height);
	}
	if (m->reply_to != 0 && !id_last) {
		JSONW_LIT(&w, ",\"reply_to\":");
		jsonw_int(&w, m->reply_to);
		JSONW_LIT(&w, ",\"quote\":");
		write_quote(&w, h, m);
	}
	WRITE_STORED_ARRAY(&w, ",\"mentions\":", m->mentions);
	if (mentioned)
		JSONW_LIT(&w, ",\"mentioned\":true");
	if (m->edited != 0) {
		JSONW_LIT(&w, ",\"edited\":");
		jsonw_int(&w, m->edited);
	}
	WRITE_STORED_ARRAY(&w, ",\"reactions\":", m->reactions);
	if (m->changed != 0) {
		JSONW_LIT(&w, ",\"changed\":");
		jsonw_int(&w, m->changed);
	}
out:
	if (id_last) {
		JSONW_LIT(&w, ",\"reply_to\":");
		jsonw_int(&w, m->reply_to);
	}
	JSONW_LIT(&w, "}");
	return jsonw_finish(&w);
}

struct sbuf *wire_msg_event(struct hub *h, const struct store_msg *m)
{
	return write_msg(h, m, false);
}

struct sbuf *wire_msg_live(struct hub *h, const struct store_msg *m)
{
	return write_msg(h, m, true);
}

struct sbuf *wire_msg_live_buf(struct hub *h, const struct store_msg *m)
{
	struct sbuf *b = wire_msg_live(h, m);
	json_t *ev;

	if (b != NULL)
		return b;
	ev = wire_msg_live_json(h, m);
	b = sbuf_from_json(ev);
	json_decref(ev);
	return b;
}

json_t *wire_msg_live_json(struct hub *h, const struct store_msg *stored)
{
	struct store_msg m = *stored;
	json_t *ev;

	m.mentioned = false;
	if (!m.e2ee || m.reply_to == 0)
		return event_msg(h, &m);
	/* As e2ee_send.c tells it: the reply's id, no quote (the text is in the payload). */
	m.reply_to = 0;
	ev = event_msg(h, &m);
	json_object_set_new(ev, "reply_to", json_integer(stored->reply_to));
	return ev;
}

struct sbuf *wire_msg_mentioned(struct sbuf *b)
{
	static const char flag[] = ",\"mentioned\":true}\n";
	size_t keep = b->len - 2;    /* all but the closing "}\n" */
	struct sbuf *out;

	/* Not an object with members (a tree jansson could not encode): nothing to flag. */
	if (b->len < 4 || memcmp(b->data + keep, "}\n", 2) != 0 || b->data[keep - 1] == '{')
		return sbuf_ref(b);
	out = sbuf_new(keep + sizeof(flag) - 1);
	memcpy(out->data, b->data, keep);
	memcpy(out->data + keep, flag, sizeof(flag) - 1);
	return out;
}

/* The tree of both sent replies' head: op, ref, id, ts, to, cid. */
static json_t *sent_head_json(json_t *ref, const struct store_job *job, const char *to)
{
	json_t *r = reply_new("sent", ref);

	json_object_set_new(r, "id", json_integer(job->msg_id));
	json_object_set_new(r, "ts", json_integer(job->ts));
	json_object_set_new(r, "to", json_string(to));
	if (job->cid != NULL)
		json_object_set_new(r, "cid", json_string(job->cid));
	return r;
}

json_t *wire_sent_json(struct hub *h, json_t *ref, const struct store_job *job, const char *to)
{
	json_t *r = sent_head_json(ref, job, to);

	if (job->status == STORE_DUPLICATE) {
		json_object_set_new(r, "duplicate", json_true());
		return r;
	}
	if (job->media_id != 0) {
		const struct store_media *md = &job->media;

		json_object_set_new(r, "kind", json_string(job->kind));
		json_object_set_new(r, "media", media_json(md->id, md->name, md->size, md->type,
		                                           md->width, md->height));
	}
	if (job->nmsgs == 1) {
		const struct store_msg *m = &job->msgs[0];
		json_t *mentions = event_mentions(m);

		if (m->reply_to != 0) {
			json_object_set_new(r, "reply_to", json_integer(m->reply_to));
			json_object_set_new(r, "quote", event_quote(h, m));
		}
		if (mentions != NULL)
			json_object_set_new(r, "mentions", mentions);
	}
	return r;
}

/* {"op":"sent"[,"ref"],"id","ts","to"[,"cid"] of both sent replies, the object left open. */
static void write_sent_head(struct jsonw *w, const json_t *ref, const struct store_job *job,
                            const char *to)
{
	JSONW_LIT(w, "{\"op\":\"sent\"");
	if (ref != NULL) {
		JSONW_LIT(w, ",\"ref\":");
		if (json_is_integer(ref))
			jsonw_int(w, json_integer_value(ref));
		else if (json_is_string(ref))
			jsonw_strn(w, json_string_value(ref), json_string_length(ref));
		else
			jsonw_json(w, ref);
	}
	JSONW_LIT(w, ",\"id\":");
	jsonw_int(w, job->msg_id);
	JSONW_LIT(w, ",\"ts\":");
	jsonw_int(w, job->ts);
	JSONW_LIT(w, ",\"to\":");
	jsonw_str(w, to);
	if (job->cid != NULL) {
		JSONW_LIT(w, ",\"cid\":");
		jsonw_str(w, job->cid);
	}
}

json_t *wire_sent_e2ee_json(json_t *ref, const struct store_job *job, const char *to)
{
	json_t *r = sent_head_json(ref, job, to);

	json_object_set_new(r, "e2ee", json_true());
	if (job->status == STORE_DUPLICATE)
		json_object_set_new(r, "duplicate", json_true());
	else if (job->media_id != 0)
		json_object_set_new(r, "media", media_json(job->media.id, job->media.name,
		                                           job->media.size, job->media.type, 0, 0));
	return r;
}

struct sbuf *wire_sent_e2ee(const json_t *ref, const struct store_job *job, const char *to)
{
	struct jsonw w;

	jsonw_init(&w, WIRE_MSG_BASE + len_of(job->cid) + strlen(to) + len_of(job->media.name));
	write_sent_head(&w, ref, job, to);
	JSONW_LIT(&w, ",\"e2ee\":true");
	if (job->status == STORE_DUPLICATE) {
		JSONW_LIT(&w, ",\"duplicate\":true");
	} else if (job->media_id != 0) {
		JSONW_LIT(&w, ",\"media\":");
		write_media(&w, job->media.id, job->media.name, job->media.size, job->media.type, 0, 0);
	}
	JSONW_LIT(&w, "}");
	return jsonw_finish(&w);
}

struct sbuf *wire_sent(struct hub *h, const json_t *ref, const struct store_job *job,
                       const char *to)
{
	struct jsonw w;

	jsonw_init(&w, WIRE_MSG_BASE + len_of(job->cid) + strlen(to) + len_of(job->media.name));
	write_sent_head(&w, ref, job, to);
	if (job->status == STORE_DUPLICATE) {
		JSONW_LIT(&w, ",\"duplicate\":true}");
		return jsonw_finish(&w);
	}
	if (job->media_id != 0) {
		const struct store_media *md = &job->media;

		if (job->kind != NULL) {
			JSONW_LIT(&w, ",\"kind\":");
			jsonw_str(&w, job->kind);
		}
		JSONW_LIT(&w, ",\"media\":");
		write_media(&w, md->id, md->name, md->size, md->type, md->width, md->height);
	}
	if (job->nmsgs == 1) {
		const struct store_msg *m = &job->msgs[0];

		if (m->reply_to != 0) {
			JSONW_LIT(&w, ",\"reply_to\":");
			jsonw_int(&w, m->reply_to);
			JSONW_LIT(&w, ",\"quote\":");
			write_quote(&w, h, m);
		}
		WRITE_STORED_ARRAY(&w, ",\"mentions\":", m->mentions);
	}
	JSONW_LIT(&w, "}");
	return jsonw_finish(&w);
}
