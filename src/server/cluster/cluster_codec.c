/* cluster_codec.c - the bus's payloads to and from JSON bytes, every field checked
 * (cluster_codec.h). One decode helper per field shape; each payload's decoder is a list of
 * them, so that no field is read without its check. */
#include "cluster_codec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "msgrules.h"
#include "xalloc.h"

#define CLUSTER_NAME_MAX     32
#define QUOTE_TEXT_MAX       (STORE_QUOTE_CHARS * 4)   /* bytes of UTF-8 */
#define TS_MAX               ((int64_t)1 << 53)         /* ms: far past any real date */
#define MEDIA_DIM_MAX        1000000

static bool name_chars_ok(const char *s, size_t max, bool dot)
{
	size_t n = 0;

	for (; s[n] != '\0'; n++) {
		char ch = s[n];

		if (n >= max)
			return false;
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' || (dot && ch == '.')))
			return false;
	}
	return n > 0;
}

bool cluster_node_name_ok(const char *name)
{
	return name != NULL && name_chars_ok(name, CLUSTER_NODE_MAX, true);
}

bool cluster_name_ok(const char *name)
{
	return name != NULL && name_chars_ok(name, CLUSTER_NAME_MAX, false);
}

static bool user_ok(const char *s)
{
	return s != NULL && pier_name_check(s) == PIER_NAME_OK;
}

/* A JSON string that is a valid user name (and holds no NUL before its end). */
static bool juser_ok(json_t *v)
{
	return json_is_string(v) && strlen(json_string_value(v)) == json_string_length(v) &&
	       user_ok(json_string_value(v));
}

/* "#room" or "@user" */
static bool target_ok(const char *s)
{
	if (s == NULL)
		return false;
	if (s[0] == '#')
		return pier_room_check(s) == PIER_NAME_OK;
	if (s[0] == '@')
		return user_ok(s + 1);
	return false;
}

static bool kind_ok(const char *s)
{
	return strcmp(s, "image") == 0 || strcmp(s, "video") == 0 || strcmp(s, "audio") == 0 ||
	       strcmp(s, "file") == 0;
}

/* ---- decoding helpers: each returns 0 (the field is valid, or absent and optional) or -1 */

/* The payload's object and its "node", or NULL. */
static json_t *open_payload(const char *data, size_t len, char node[CLUSTER_NODE_MAX + 1])
{
	json_t *o, *n;

	if (data == NULL || len == 0 || len > CLUSTER_PAYLOAD_MAX)
		return NULL;
	o = json_loadb(data, len, JSON_REJECT_DUPLICATES, NULL);
	if (o == NULL)
		return NULL;
	n = json_object_get(o, "node");
	if (!json_is_object(o) || !json_is_string(n) || !cluster_node_name_ok(json_string_value(n)) ||
	    strlen(json_string_value(n)) != json_string_length(n)) {
		json_decref(o);
		return NULL;
	}
	memcpy(node, json_string_value(n), json_string_length(n) + 1);
	return o;
}

/* A string of at most max bytes without NUL; *out points into o (borrowed) or is NULL when
 * absent or null and !required. */
static int get_str(json_t *o, const char *key, size_t max, bool required, const char **out)
{
	json_t *v = json_object_get(o, key);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return required ? -1 : 0;
	if (!json_is_string(v) || json_string_length(v) > max ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return -1;
	*out = json_string_value(v);
	return 0;
}

/* The same, copied (malloc'd) into *out. */
static int dup_str(json_t *o, const char *key, size_t max, bool required, char **out)
{
	const char *s;

	*out = NULL;
	if (get_str(o, key, max, required, &s) != 0)
		return -1;
	if (s != NULL)
		*out = xstrdup(s);
	return 0;
}

/* A name by the user name rules, copied into out (PIER_NAME_MAX + 1 bytes). */
static int get_user(json_t *o, const char *key, char *out)
{
	const char *s;

	if (get_str(o, key, PIER_NAME_MAX, true, &s) != 0 || !user_ok(s))
		return -1;
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

/* An integer in [min, max]; absent (or null) is 0 when !required. */
static int get_int(json_t *o, const char *key, int64_t min, int64_t max, bool required,
                   int64_t *out)
{
	json_t *v = json_object_get(o, key);

	*out = 0;
	if (v == NULL || json_is_null(v))
		return required || min > 0 ? -1 : 0;
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
		return -1;
	*out = json_integer_value(v);
	return 0;
}

/* A boolean; absent is false. */
static int get_bool(json_t *o, const char *key, bool *out)
{
	json_t *v = json_object_get(o, key);

	*out = false;
	if (v == NULL)
		return 0;
	if (!json_is_boolean(v))
		return -1;
	*out = json_is_true(v);
	return 0;
}

static char *dump(json_t *o, size_t *len)
{
	char *s = json_dumps(o, JSON_COMPACT);

	json_decref(o);
	if (s == NULL)
		abort();      /* only out of memory: xalloc's policy */
	*len = strlen(s);
	return s;
}

static json_t *with_node(const char *node)
{
	return json_pack("{s:s}", "node", node);
}

/* ---- messages ---- */

static json_t *stored_array(const char *text)
{
	json_t *a = text != NULL ? json_loads(text, 0, NULL) : NULL;

	if (a != NULL && !json_is_array(a)) {
		json_decref(a);
		a = NULL;
	}
	return a;
}

static json_t *msg_json(const struct store_msg *m)
{
	json_t *j = json_pack("{s:I, s:I, s:s, s:s, s:s}", "id", (json_int_t)m->id,
	                      "ts", (json_int_t)m->ts, "from", m->from, "to", m->to,
	                      "text", m->text != NULL ? m->text : ""), *a;

	if (m->kind != NULL)
		json_object_set_new(j, "kind", json_string(m->kind));
	if (m->media_id != 0)
		json_object_set_new(j, "media", json_pack("{s:I, s:s, s:s, s:I, s:i, s:i}",
		        "id", (json_int_t)m->media_id, "name", m->media_name ? m->media_name : "",
		        "type", m->media_type ? m->media_type : "", "size", (json_int_t)m->media_size,
		        "width", m->media_width, "height", m->media_height));
	if (m->edited != 0)
		json_object_set_new(j, "edited", json_integer(m->edited));
	if (m->recalled != 0)
		json_object_set_new(j, "recalled", json_integer(m->recalled));
	if (m->changed != 0)
		json_object_set_new(j, "changed", json_integer(m->changed));
	if (m->reply_to != 0) {
		json_t *q = json_pack("{s:I}", "id", (json_int_t)m->reply_to);

		json_object_set_new(j, "reply_to", json_integer(m->reply_to));

		if (m->quote_from != NULL)
			json_object_set_new(q, "from", json_string(m->quote_from));
		if (m->quote_text != NULL)
			json_object_set_new(q, "text", json_string(m->quote_text));
		if (m->quote_kind != NULL)
			json_object_set_new(q, "kind", json_string(m->quote_kind));
		if (m->quote_cut)
			json_object_set_new(q, "cut", json_true());
		if (m->quote_recalled)
			json_object_set_new(q, "recalled", json_true());
		json_object_set_new(j, "quote", q);
	}
	a = stored_array(m->mentions);
	if (a != NULL)
		json_object_set_new(j, "mentions", a);
	a = stored_array(m->reactions);
	if (a != NULL)
		json_object_set_new(j, "reactions", a);
	if (m->e2ee)
		json_object_set_new(j, "e2ee", json_true());
	return j;
}

char *cluster_encode_msg(const char *node, const struct store_msg *m, size_t *len)
{
	json_t *o = with_node(node);

	json_object_set_new(o, "msg", msg_json(m));
	return dump(o, len);
}

static char *dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

void cluster_msg_copy(struct store_msg *dst, const struct store_msg *src)
{
	*dst = *src;
	dst->from = dup_or_null(src->from);
	dst->to = dup_or_null(src->to);
	dst->text = dup_or_null(src->text);
	dst->kind = dup_or_null(src->kind);
	dst->media_name = dup_or_null(src->media_name);
	dst->media_type = dup_or_null(src->media_type);
	dst->quote_from = dup_or_null(src->quote_from);
	dst->quote_text = dup_or_null(src->quote_text);
	dst->quote_kind = dup_or_null(src->quote_kind);
	dst->mentions = dup_or_null(src->mentions);
	dst->reactions = dup_or_null(src->reactions);
	dst->mentioned = false;
	dst->spans = dst->name_spans = NULL;
	dst->nspans = dst->nname_spans = 0;
}

/* "mentions": 1..PIER_MENTIONS_MAX valid user names; kept as the store keeps it (JSON). */
static int get_mentions(json_t *o, char **out)
{
	json_t *a = json_object_get(o, "mentions"), *v;
	size_t i;

	*out = NULL;
	if (a == NULL || json_is_null(a))
		return 0;
	if (!json_is_array(a) || json_array_size(a) == 0 || json_array_size(a) > PIER_MENTIONS_MAX)
		return -1;
	json_array_foreach(a, i, v) {
		if (!juser_ok(v))
			return -1;
	}
	*out = json_dumps(a, JSON_COMPACT);
	return *out != NULL ? 0 : -1;
}

/* "reactions": [{"emoji","count","users":[names]}], rebuilt from checked fields only. */
static int get_reactions(json_t *o, char **out)
{
	json_t *a = json_object_get(o, "reactions"), *r, *clean;
	size_t i;

	*out = NULL;
	if (a == NULL || json_is_null(a))
		return 0;
	if (!json_is_array(a) || json_array_size(a) == 0 ||
	    json_array_size(a) > CLUSTER_REACTIONS_MAX)
		return -1;
	clean = json_array();
	json_array_foreach(a, i, r) {
		const char *emoji;
		int64_t count;
		json_t *users = json_is_object(r) ? json_object_get(r, "users") : NULL, *u;
		size_t k;

		if (!json_is_object(r) || get_str(r, "emoji", PIER_REACTION_MAX_BYTES, true, &emoji) ||
		    !pier_reaction_check(emoji) || get_int(r, "count", 1, INT32_MAX, true, &count) ||
		    !json_is_array(users) || json_array_size(users) > STORE_REACTION_USERS)
			goto bad;
		json_array_foreach(users, k, u) {
			if (!juser_ok(u))
				goto bad;
		}
		json_array_append_new(clean, json_pack("{s:s, s:I, s:O}", "emoji", emoji,
		                                       "count", (json_int_t)count, "users", users));
	}
	*out = json_dumps(clean, JSON_COMPACT);
	json_decref(clean);
	return *out != NULL ? 0 : -1;
bad:
	json_decref(clean);
	return -1;
}

static int get_media(json_t *o, struct store_msg *m)
{
	json_t *md = json_object_get(o, "media");
	int64_t w, h;

	if (md == NULL || json_is_null(md))
		return m->kind == NULL ? 0 : -1;        /* a kind needs media */
	if (!json_is_object(md) ||
	    get_int(md, "id", 1, INT64_MAX, true, &m->media_id) ||
	    dup_str(md, "name", STORE_MEDIA_NAME_MAX, true, &m->media_name) ||
	    dup_str(md, "type", STORE_MEDIA_TYPE_MAX, true, &m->media_type) ||
	    get_int(md, "size", 0, INT64_MAX, true, &m->media_size) ||
	    get_int(md, "width", 0, MEDIA_DIM_MAX, false, &w) ||
	    get_int(md, "height", 0, MEDIA_DIM_MAX, false, &h))
		return -1;
	m->media_width = (int)w;
	m->media_height = (int)h;
	return 0;
}

static int get_quote(json_t *o, struct store_msg *m)
{
	json_t *q = json_object_get(o, "quote");

	if (m->reply_to == 0)
		return q == NULL || json_is_null(q) ? 0 : -1;
	if (!json_is_object(q))
		return -1;
	if (get_int(q, "id", 1, INT64_MAX, true, &(int64_t){0}) ||
	    json_integer_value(json_object_get(q, "id")) != m->reply_to ||
	    dup_str(q, "from", PIER_NAME_MAX, false, &m->quote_from) ||
	    (m->quote_from != NULL && !user_ok(m->quote_from)) ||
	    dup_str(q, "text", QUOTE_TEXT_MAX, false, &m->quote_text) ||
	    dup_str(q, "kind", 8, false, &m->quote_kind) ||
	    (m->quote_kind != NULL && !kind_ok(m->quote_kind)) ||
	    get_bool(q, "cut", &m->quote_cut) || get_bool(q, "recalled", &m->quote_recalled))
		return -1;
	return 0;
}

static int msg_from_json(json_t *j, const struct cluster_limits *lim, struct store_msg *m)
{
	size_t max_text = lim != NULL && lim->max_text != 0 ? lim->max_text : CLUSTER_TEXT_MAX;

	memset(m, 0, sizeof(*m));
	if (!json_is_object(j))
		return -1;
	if (get_int(j, "id", 1, INT64_MAX, true, &m->id) ||
	    get_int(j, "ts", 0, TS_MAX, true, &m->ts) ||
	    dup_str(j, "from", PIER_NAME_MAX, true, &m->from) || !user_ok(m->from) ||
	    dup_str(j, "to", PIER_KEY_MAX, true, &m->to) || !target_ok(m->to) ||
	    dup_str(j, "text", max_text, true, &m->text) ||
	    dup_str(j, "kind", 8, false, &m->kind) || (m->kind != NULL && !kind_ok(m->kind)) ||
	    get_media(j, m) ||
	    get_int(j, "edited", 0, TS_MAX, false, &m->edited) ||
	    get_int(j, "recalled", 0, TS_MAX, false, &m->recalled) ||
	    get_int(j, "changed", 0, INT64_MAX, false, &m->changed) ||
	    get_int(j, "reply_to", 0, INT64_MAX, false, &m->reply_to) ||
	    get_quote(j, m) || get_mentions(j, &m->mentions) ||
	    get_reactions(j, &m->reactions) || get_bool(j, "e2ee", &m->e2ee))
		goto bad;
	/* What the store never holds: text in an encrypted or a recalled message; a private
	 * message with mentions (they are a room's); a reply to itself. */
	if ((m->e2ee || m->recalled != 0) && m->text[0] != '\0')
		goto bad;
	if (m->to[0] == '@' && m->mentions != NULL)
		goto bad;
	if (m->reply_to >= m->id)
		goto bad;
	return 0;
bad:
	store_msg_release(m);
	return -1;
}

/* reply_to is read from the message, not the quote (get_quote checks they agree). */
int cluster_decode_msg(const char *data, size_t len, const struct cluster_limits *lim,
                       char node[CLUSTER_NODE_MAX + 1], struct store_msg *m)
{
	json_t *o = open_payload(data, len, node);
	int rc;

	memset(m, 0, sizeof(*m));
	if (o == NULL)
		return -1;
	rc = msg_from_json(json_object_get(o, "msg"), lim, m);
	json_decref(o);
	return rc;
}

/* ---- changes ---- */

static const char *const change_ops[] = {
	[CLUSTER_EDITED] = "edited", [CLUSTER_RECALLED] = "recalled",
	[CLUSTER_REACTION] = "reaction",
};

char *cluster_encode_change(const char *node, const struct cluster_change *ch, size_t *len)
{
	json_t *o = with_node(node);
	json_t *ev = json_pack("{s:s, s:o}", "op", change_ops[ch->op], "msg", msg_json(&ch->msg));

	if (ch->op == CLUSTER_REACTION) {
		json_object_set_new(ev, "user", json_string(ch->user));
		json_object_set_new(ev, "emoji", json_string(ch->emoji));
		json_object_set_new(ev, "on", json_boolean(ch->on));
		json_object_set_new(ev, "count", json_integer(ch->count));
	}
	json_object_set_new(o, "ev", ev);
	return dump(o, len);
}

void cluster_change_release(struct cluster_change *ch)
{
	store_msg_release(&ch->msg);
	memset(ch, 0, sizeof(*ch));
}

int cluster_decode_change(const char *data, size_t len, const struct cluster_limits *lim,
                          char node[CLUSTER_NODE_MAX + 1], struct cluster_change *ch)
{
	json_t *o = open_payload(data, len, node), *ev;
	const char *op, *emoji;
	size_t i;
	int rc = -1;

	memset(ch, 0, sizeof(*ch));
	if (o == NULL)
		return -1;
	ev = json_object_get(o, "ev");
	if (!json_is_object(ev) || get_str(ev, "op", 16, true, &op) != 0)
		goto out;
	for (i = 0; i < sizeof(change_ops) / sizeof(change_ops[0]); i++) {
		if (strcmp(op, change_ops[i]) == 0)
			break;
	}
	if (i == sizeof(change_ops) / sizeof(change_ops[0]))
		goto out;
	ch->op = (enum cluster_change_op)i;
	if (msg_from_json(json_object_get(ev, "msg"), lim, &ch->msg) != 0)
		goto out;
	if (ch->msg.changed == 0 || (ch->op == CLUSTER_RECALLED && ch->msg.recalled == 0) ||
	    (ch->op == CLUSTER_EDITED && ch->msg.edited == 0))
		goto out;
	if (ch->op == CLUSTER_REACTION) {
		if (get_user(ev, "user", ch->user) ||
		    get_str(ev, "emoji", PIER_REACTION_MAX_BYTES, true, &emoji) ||
		    !pier_reaction_check(emoji) || get_bool(ev, "on", &ch->on) ||
		    get_int(ev, "count", 0, INT32_MAX, true, &ch->count))
			goto out;
		memcpy(ch->emoji, emoji, strlen(emoji) + 1);
	}
	rc = 0;
out:
	if (rc != 0)
		cluster_change_release(ch);
	json_decref(o);
	return rc;
}

/* ---- envelopes ---- */

char *cluster_encode_env(const char *node, const struct cluster_env *e, size_t *len)
{
	json_t *o = with_node(node);

	json_object_set_new(o, "user", json_string(e->user));
	if (e->peer[0] != '\0')
		json_object_set_new(o, "peer", json_string(e->peer));
	json_object_set_new(o, "device", json_integer(e->device));
	json_object_set_new(o, "qid", json_integer(e->qid));
	return dump(o, len);
}

int cluster_decode_env(const char *data, size_t len, char node[CLUSTER_NODE_MAX + 1],
                       struct cluster_env *e)
{
	json_t *o = open_payload(data, len, node);
	int rc = -1;

	memset(e, 0, sizeof(*e));
	if (o == NULL)
		return -1;
	if (get_user(o, "user", e->user) == 0 &&
	    (json_object_get(o, "peer") == NULL || get_user(o, "peer", e->peer) == 0) &&
	    get_int(o, "device", 1, INT64_MAX, true, &e->device) == 0 &&
	    get_int(o, "qid", 1, INT64_MAX, true, &e->qid) == 0)
		rc = 0;
	json_decref(o);
	return rc;
}

/* ---- events ---- */

static const char *const event_ops[] = {
	[CLUSTER_EV_MEMBER] = "member", [CLUSTER_EV_TOPIC] = "topic", [CLUSTER_EV_READ] = "read",
	[CLUSTER_EV_PROFILE] = "profile", [CLUSTER_EV_TYPING] = "typing",
	[CLUSTER_EV_DEVICES] = "devices_changed", [CLUSTER_EV_USER] = "user",
};

char *cluster_encode_event(const char *node, const struct cluster_event *ev, size_t *len)
{
	json_t *o = with_node(node);
	json_t *e = json_pack("{s:s, s:s}", "op", event_ops[ev->op], "user", ev->user);

	if (ev->target[0] != '\0')
		json_object_set_new(e, "to", json_string(ev->target));
	if (ev->text != NULL)
		json_object_set_new(e, "text", json_string(ev->text));
	if (ev->id != 0)
		json_object_set_new(e, "id", json_integer(ev->id));
	if (ev->ts != 0)
		json_object_set_new(e, "ts", json_integer(ev->ts));
	if (ev->flag)
		json_object_set_new(e, "flag", json_true());
	json_object_set_new(o, "ev", e);
	return dump(o, len);
}

void cluster_event_release(struct cluster_event *ev)
{
	free(ev->text);
	memset(ev, 0, sizeof(*ev));
}

int cluster_decode_event(const char *data, size_t len, const struct cluster_limits *lim,
                         char node[CLUSTER_NODE_MAX + 1], struct cluster_event *ev)
{
	json_t *o = open_payload(data, len, node), *e;
	const char *op, *to;
	size_t i, nops = sizeof(event_ops) / sizeof(event_ops[0]);
	size_t max_text = lim != NULL && lim->max_text != 0 ? lim->max_text : CLUSTER_TEXT_MAX;
	int rc = -1;

	memset(ev, 0, sizeof(*ev));
	if (o == NULL)
		return -1;
	e = json_object_get(o, "ev");
	if (!json_is_object(e) || get_str(e, "op", 16, true, &op) != 0)
		goto out;
	for (i = 0; i < nops && strcmp(op, event_ops[i]) != 0; i++)
		;
	if (i == nops)
		goto out;
	ev->op = (enum cluster_event_op)i;
	if (get_user(e, "user", ev->user) || get_str(e, "to", PIER_KEY_MAX, false, &to) ||
	    dup_str(e, "text", max_text, false, &ev->text) ||
	    get_int(e, "id", 0, INT64_MAX, false, &ev->id) ||
	    get_int(e, "ts", 0, TS_MAX, false, &ev->ts) || get_bool(e, "flag", &ev->flag))
		goto out;
	if (to != NULL) {
		if (!target_ok(to))
			goto out;
		memcpy(ev->target, to, strlen(to) + 1);
	}
	/* what each op needs, and nothing it cannot carry */
	switch (ev->op) {
	case CLUSTER_EV_MEMBER:
		if (ev->target[0] != '#' || ev->text != NULL)
			goto out;
		break;
	case CLUSTER_EV_TOPIC:
		if (ev->target[0] != '#' || ev->ts == 0)
			goto out;
		break;
	case CLUSTER_EV_READ:
		if (ev->target[0] == '\0' || ev->id <= 0 || ev->text != NULL)
			goto out;
		break;
	case CLUSTER_EV_TYPING:
		if (ev->target[0] == '\0' || ev->text != NULL)
			goto out;
		break;
	case CLUSTER_EV_PROFILE:
		if (ev->target[0] != '\0')
			goto out;
		break;
	case CLUSTER_EV_DEVICES:
		if (ev->target[0] != '\0' || (ev->text != NULL && strlen(ev->text) > 64))
			goto out;
		break;
	case CLUSTER_EV_USER:
		if (ev->target[0] != '\0' || ev->id <= 0 || ev->text != NULL)
			goto out;
		break;
	}
	rc = 0;
out:
	if (rc != 0)
		cluster_event_release(ev);
	json_decref(o);
	return rc;
}

/* ---- presence, heartbeats, hello ---- */

char *cluster_encode_presence(const char *node, const struct cluster_presence_msg *p, size_t *len)
{
	json_t *o = with_node(node);

	json_object_set_new(o, "user", json_string(p->user));
	json_object_set_new(o, "online", json_boolean(p->online));
	return dump(o, len);
}

int cluster_decode_presence(const char *data, size_t len, char node[CLUSTER_NODE_MAX + 1],
                            struct cluster_presence_msg *p)
{
	json_t *o = open_payload(data, len, node);
	int rc = -1;

	memset(p, 0, sizeof(*p));
	if (o == NULL)
		return -1;
	if (get_user(o, "user", p->user) == 0 && json_is_boolean(json_object_get(o, "online"))) {
		p->online = json_is_true(json_object_get(o, "online"));
		rc = 0;
	}
	json_decref(o);
	return rc;
}

/* 64-bit values travel as decimal strings: JSON numbers past 2^53 are not safe everywhere. */
char *cluster_encode_hb(const char *node, const struct cluster_hb *hb, size_t *len)
{
	json_t *o = with_node(node);
	char digest[21];

	snprintf(digest, sizeof(digest), "%llu", (unsigned long long)hb->digest);
	json_object_set_new(o, "seq", json_integer((json_int_t)(hb->seq & INT64_MAX)));
	json_object_set_new(o, "users", json_integer(hb->users));
	json_object_set_new(o, "digest", json_string(digest));
	return dump(o, len);
}

int cluster_decode_hb(const char *data, size_t len, char node[CLUSTER_NODE_MAX + 1],
                      struct cluster_hb *hb)
{
	json_t *o = open_payload(data, len, node);
	const char *digest;
	int64_t seq;
	char *end;
	int rc = -1;

	memset(hb, 0, sizeof(*hb));
	if (o == NULL)
		return -1;
	if (get_int(o, "seq", 0, INT64_MAX, true, &seq) ||
	    get_int(o, "users", 0, INT32_MAX, true, &hb->users) ||
	    get_str(o, "digest", 20, true, &digest) || digest[0] < '0' || digest[0] > '9')
		goto out;
	hb->seq = (uint64_t)seq;
	hb->digest = strtoull(digest, &end, 10);
	if (*end != '\0')
		goto out;
	rc = 0;
out:
	json_decref(o);
	return rc;
}

char *cluster_encode_hello(const char *node, const char *const *names, size_t n, size_t *len)
{
	json_t *o, *a;

	if (n > CLUSTER_HELLO_MAX)
		return NULL;
	o = with_node(node);
	a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(names[i]));
	json_object_set_new(o, "online", a);
	return dump(o, len);
}

void cluster_names_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

int cluster_decode_hello(const char *data, size_t len, char node[CLUSTER_NODE_MAX + 1],
                         char ***names, size_t *n)
{
	json_t *o = open_payload(data, len, node), *a, *v;
	size_t i;
	int rc = -1;

	*names = NULL;
	*n = 0;
	if (o == NULL)
		return -1;
	a = json_object_get(o, "online");
	if (!json_is_array(a) || json_array_size(a) > CLUSTER_HELLO_MAX)
		goto out;
	json_array_foreach(a, i, v) {
		if (!juser_ok(v))
			goto out;
	}
	*names = xcalloc(json_array_size(a) + 1, sizeof(char *));
	json_array_foreach(a, i, v)
		(*names)[i] = xstrdup(json_string_value(v));
	*n = json_array_size(a);
	rc = 0;
out:
	json_decref(o);
	return rc;
}
