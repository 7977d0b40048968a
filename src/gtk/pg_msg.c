/* pg_msg.c - the message item (see pg_msg.h). */
#include "pg_msg.h"

#include <string.h>

G_DEFINE_TYPE(PgMsg, pg_msg, G_TYPE_OBJECT)

static void pg_msg_finalize(GObject *obj)
{
	PgMsg *m = PG_MSG(obj);

	g_free(m->from);
	g_free(m->display);
	g_free(m->to);
	g_free(m->text);
	g_free(m->kind);
	g_free(m->cid);
	json_decref(m->media);
	json_decref(m->reactions);
	json_decref(m->quote);
	G_OBJECT_CLASS(pg_msg_parent_class)->finalize(obj);
}

static void pg_msg_class_init(PgMsgClass *klass)
{
	G_OBJECT_CLASS(klass)->finalize = pg_msg_finalize;
}

static void pg_msg_init(PgMsg *m)
{
	(void)m;
}

static const char *jstr(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

void pg_msg_update_from_json(PgMsg *msg, const json_t *m)
{
	json_t *media = json_object_get(m, "media");

	msg->recalled = json_is_true(json_object_get(m, "recalled"));
	msg->encrypted = json_is_true(json_object_get(m, "e2ee"));
	msg->edited = json_object_get(m, "edited") != NULL;
	g_free(msg->text);
	msg->text = g_strdup(jstr(m, "text") != NULL ? jstr(m, "text") : "");
	g_free(msg->kind);
	msg->kind = g_strdup(jstr(m, "kind"));
	json_decref(msg->media);
	msg->media = json_is_object(media) ? json_incref(media) : NULL;
	if (jstr(m, "display") != NULL) {
		g_free(msg->display);
		msg->display = g_strdup(jstr(m, "display"));
	}
	pg_msg_update_changes(msg, m);
}

void pg_msg_update_changes(PgMsg *msg, const json_t *m)
{
	json_t *reactions = json_object_get(m, "reactions");
	json_t *quote = json_object_get(m, "quote");

	json_decref(msg->reactions);
	msg->reactions = json_is_array(reactions) && json_array_size(reactions) > 0
	                 ? json_deep_copy(reactions) : NULL;
	json_decref(msg->quote);
	msg->quote = json_is_object(quote) ? json_deep_copy(quote) : NULL;
	msg->reply_to = json_integer_value(json_object_get(m, "reply_to"));
	msg->edited_at = json_integer_value(json_object_get(m, "edited"));
}

PgMsg *pg_msg_new_from_json(const json_t *m)
{
	json_int_t id = json_integer_value(json_object_get(m, "id"));
	PgMsg *msg;

	if (id <= 0)
		return NULL;
	msg = g_object_new(PG_TYPE_MSG, NULL);
	msg->id = id;
	msg->ts = json_integer_value(json_object_get(m, "ts"));
	msg->from = g_strdup(jstr(m, "from") != NULL ? jstr(m, "from") : "");
	msg->to = g_strdup(jstr(m, "to") != NULL ? jstr(m, "to") : "");
	msg->cid = g_strdup(jstr(m, "cid"));
	msg->mentioned = json_is_true(json_object_get(m, "mentioned"));
	pg_msg_update_from_json(msg, m);
	return msg;
}

PgMsg *pg_msg_new_pending(const char *cid, const char *from, const char *to, const char *text,
                          const char *kind, int64_t seq)
{
	PgMsg *msg = g_object_new(PG_TYPE_MSG, NULL);

	msg->pending = true;
	msg->seq = seq;
	msg->ts = g_get_real_time() / 1000;
	msg->cid = g_strdup(cid);
	msg->from = g_strdup(from);
	msg->to = g_strdup(to);
	msg->text = g_strdup(text != NULL ? text : "");
	msg->kind = g_strdup(kind);
	return msg;
}

char *pg_msg_conversation_of(const json_t *m, const char *me)
{
	const char *to = jstr(m, "to"), *from = jstr(m, "from");

	if (to == NULL)
		return NULL;
	if (to[0] == '#')
		return g_strdup(to);
	/* A private message: the conversation is named by the other party. */
	if (from != NULL && me != NULL && g_ascii_strcasecmp(from, me) != 0)
		return g_strconcat("@", from, NULL);
	return g_strdup(to);
}

bool pg_msg_is_private(const PgMsg *msg)
{
	return msg->to != NULL && msg->to[0] == '@';
}
