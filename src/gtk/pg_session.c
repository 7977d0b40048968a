/* pg_session.c - login, models and reconnection of pier-gtk (see pg_session.h). */
#include "pg_session.h"

#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "pg_changes.h"
#include "pg_conn.h"
#include "pg_e2ee.h"
#include "pg_media.h"
#include "pg_i18n.h"
#include "pg_outbox.h"
#include "pg_secret.h"

#define HISTORY_PAGE        100
#define SYNC_PAGE           200
#define BACKOFF_FIRST_MS    500
#define BACKOFF_MAX_MS      15000
#define READ_COALESCE_MS    2000
#define RETRY_SEND_MS       1000
#define PG_SESSION_RECALL_WINDOW_DEFAULT 120

/* What a request in flight was, to route its reply (by ref). */
enum req_kind { REQ_LOGIN, REQ_REGISTER, REQ_HISTORY_NEWEST, REQ_HISTORY_OLDER, REQ_SEND,
                REQ_SYNC, REQ_UNREAD, REQ_JOIN, REQ_PART, REQ_READ, REQ_CALLBACK, REQ_OTHER };

struct listener {
	pg_session_event_cb cb;
	void *ud;
};

struct req {
	enum req_kind kind;
	char *with;   /* history, join, part */
	char *cid;    /* send */
	pg_session_reply_cb cb;   /* REQ_CALLBACK: called once, with the reply or NULL */
	void *ud;
};

struct pg_session {
	struct pg_session_config cfg;   /* strings owned */
	struct pg_session_ops ops;
	void *ud;
	struct pg_conn *conn;
	enum pg_session_state state;
	char *user;
	char *token;
	char *password;                 /* only during a password login */
	bool register_first;
	char *http_base;
	char *session_file;
	GCancellable *secret_cancel;    /* keyring calls in flight (cancelled when freed) */
	struct pg_outbox *outbox;
	PgConvList *convs;
	PgConvList *online;             /* contacts online (presence), and everyone online as
	                                 * the last pg_session_fetch_online listed them */
	int64_t online_total;           /* users online, as the server last said */
	int online_pages;               /* pages of a fetch asked for; 0: none in flight */
	void (*online_changed)(void *ud); /* the sidebar's hook: online_total changed */
	void *online_changed_ud;
	GHashTable *stores;             /* folded "with" -> PgMsgStore * (ref) */
	GHashTable *reqs;               /* ref -> struct req * */
	GHashTable *loading;            /* folded "with" of stores with a history request out */
	GHashTable *read_pending;       /* folded "with" -> newest id to mark read */
	int64_t last_seen;              /* the highest message id seen: sync's "after" */
	int64_t change_seq;
	bool logged_in_once;            /* the next connection is a reconnect */
	int attempts;
	guint retry_timer;
	guint read_timer;
	guint send_timer;
	char *active;                   /* the conversation shown */
	bool focused;
	struct pg_e2ee *e2ee;           /* end-to-end encryption of private chats */
	void (*e2ee_changed)(void *ud); /* the windows' hook (pg_session_on_e2ee_changed) */
	void *e2ee_ud;
	struct pg_media *media;         /* borrowed: e2ee's history transfers (may be NULL) */
	/* the chat features' side (the end of this file) */
	GArray *listeners;              /* of struct listener */
	GHashTable *read_pos;           /* folded "with" -> int64_t * read position */
	int recall_window;              /* seconds */
	bool away_from_end;             /* the view is scrolled up from the newest messages */
};

static void listeners_dispatch(struct pg_session *s, json_t *ev);
static void read_pos_set(struct pg_session *s, const char *with, int64_t id);
static void take_change_event(struct pg_session *s, const json_t *ev);

static char *fold(const char *with)
{
	return g_ascii_strdown(with, -1);
}

static void req_free(gpointer p)
{
	struct req *r = p;

	if (r->cb != NULL)
		r->cb(NULL, r->ud);   /* never answered: the caller releases ud */
	g_free(r->with);
	g_free(r->cid);
	g_free(r);
}

static void set_state(struct pg_session *s, enum pg_session_state st)
{
	if (s->state == st)
		return;
	s->state = st;
	if (s->ops.state_changed != NULL)
		s->ops.state_changed(s->ud);
}

static void notice(struct pg_session *s, const char *text)
{
	if (s->ops.notice != NULL && text != NULL)
		s->ops.notice(s->ud, text);
}

/* Sends req (taken) remembering what it was. False when not connected. */
static bool request(struct pg_session *s, json_t *req, enum req_kind kind, const char *with,
                    const char *cid)
{
	char ref[PIER_REF_MAX];
	struct req *r;

	if (!pg_conn_is_connected(s->conn)) {
		json_decref(req);
		return false;
	}
	if (pg_conn_request(s->conn, req, ref) != 0)
		return false;
	r = g_new0(struct req, 1);
	r->kind = kind;
	r->with = g_strdup(with);
	r->cid = g_strdup(cid);
	g_hash_table_replace(s->reqs, g_strdup(ref), r);
	return true;
}

/* ---- the saved session (token) ---- */

static char *server_name(const struct pg_session *s)
{
	return g_strdup_printf("%s:%s", s->cfg.host, s->cfg.port);
}

/* The session file: the server and the user, and the token unless the keyring has it. */
static void write_session_file(struct pg_session *s, bool in_keyring)
{
	json_t *j = json_pack("{s:s, s:s, s:s}", "host", s->cfg.host, "port", s->cfg.port,
	                      "user", s->user);
	char *text;

	if (in_keyring)
		json_object_set_new(j, "keyring", json_true());
	else
		json_object_set_new(j, "token", json_string(s->token));
	text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (text != NULL)
		g_file_set_contents_full(s->session_file, text, -1, G_FILE_SET_CONTENTS_CONSISTENT,
		                         0600, NULL);
	free(text);
}

static void on_token_stored(bool ok, void *ud)
{
	struct pg_session *s = ud;

	if (s->token != NULL)
		write_session_file(s, ok);
}

/* The keyring first; the 0600 file when no keyring takes it. */
static void save_token(struct pg_session *s)
{
	char *server = server_name(s);

	pg_secret_store(server, s->user, s->token, s->secret_cancel, on_token_stored, s);
	g_free(server);
}

static void forget_token(struct pg_session *s)
{
	char *server = server_name(s);

	g_unlink(s->session_file);
	if (s->user != NULL)
		pg_secret_clear(server, s->user);
	g_free(server);
	g_clear_pointer(&s->token, g_free);
}

/* ---- the outbox ---- */

/* The user's outbox file (one per user: what one user typed never goes out as another). */
static void open_outbox(struct pg_session *s)
{
	char *key = g_ascii_strdown(s->user != NULL ? s->user : "", -1);
	char *name = g_strconcat("outbox-", key, ".json", NULL);
	char *path = g_build_filename(s->cfg.data_dir, name, NULL);

	pg_outbox_free(s->outbox);
	s->outbox = pg_outbox_new(path, 0);
	g_free(path);
	g_free(name);
	g_free(key);
}

/* Forgets the models of the user who was logged in (a logout, another user's login). */
static void reset_models(struct pg_session *s)
{
	while (g_list_model_get_n_items(G_LIST_MODEL(s->convs)) > 0) {
		PgConv *c = g_list_model_get_item(G_LIST_MODEL(s->convs), 0);

		pg_conv_list_remove(s->convs, c->with);
		g_object_unref(c);
	}
	while (g_list_model_get_n_items(G_LIST_MODEL(s->online)) > 0) {
		PgConv *c = g_list_model_get_item(G_LIST_MODEL(s->online), 0);

		pg_conv_list_remove(s->online, c->with);
		g_object_unref(c);
	}
	g_hash_table_remove_all(s->stores);
	g_hash_table_remove_all(s->read_pending);
	g_hash_table_remove_all(s->read_pos);
	s->last_seen = 0;
	s->change_seq = 0;
}

static bool send_entry(struct pg_session *s, const struct pg_outbox_entry *e);

static void flush_outbox(struct pg_session *s)
{
	const struct pg_outbox_entry *e;

	if (s->state != PG_SESSION_ONLINE)
		return;
	while ((e = pg_outbox_next_to_send(s->outbox)) != NULL)
		if (!send_entry(s, e))
			break;
}

static gboolean on_send_timer(gpointer data)
{
	struct pg_session *s = data;

	s->send_timer = 0;
	flush_outbox(s);
	return G_SOURCE_REMOVE;
}

/* ---- read marks ---- */

static gboolean on_read_timer(gpointer data)
{
	struct pg_session *s = data;
	GHashTableIter it;
	gpointer key, val;

	s->read_timer = 0;
	if (s->state != PG_SESSION_ONLINE)
		return G_SOURCE_REMOVE;
	g_hash_table_iter_init(&it, s->read_pending);
	while (g_hash_table_iter_next(&it, &key, &val)) {
		PgMsgStore *st = g_hash_table_lookup(s->stores, key);

		if (st != NULL)
			request(s, pier_req_read(pg_msg_store_with(st), *(int64_t *)val), REQ_READ,
			        NULL, NULL);
	}
	g_hash_table_remove_all(s->read_pending);
	return G_SOURCE_REMOVE;
}

/* The user saw with up to id: marked read on the server, at most once per 2 s. */
static void mark_read(struct pg_session *s, const char *with, int64_t id)
{
	char *key = fold(with);
	int64_t *old = g_hash_table_lookup(s->read_pending, key);

	if (id <= 0) {
		g_free(key);
		return;
	}
	if (old == NULL || *old < id) {
		int64_t *v = g_new(int64_t, 1);

		*v = id;
		g_hash_table_replace(s->read_pending, key, v);
	} else {
		g_free(key);
	}
	if (s->read_timer == 0)
		s->read_timer = g_timeout_add(READ_COALESCE_MS, on_read_timer, s);
}

static bool is_active(struct pg_session *s, const char *with)
{
	return s->active != NULL && s->focused && !s->away_from_end &&
	       g_ascii_strcasecmp(s->active, with) == 0;
}

/* The conversation with in the sidebar; a private chat shows whether its user is online. */
static void ensure_conv(struct pg_session *s, const char *with)
{
	pg_conv_list_ensure(s->convs, with);
	if (with[0] == '@' && pg_conv_list_find(s->online, with, NULL) != NULL)
		pg_conv_list_set_online(s->convs, with + 1, true);
}

/* ---- incoming messages ---- */

enum origin { ORIGIN_LIVE, ORIGIN_CATCHUP };

static json_t *e2ee_fill(struct pg_session *s, const json_t *m, bool *hidden);

static void take_message(struct pg_session *s, const json_t *m0, enum origin origin)
{
	bool hidden = false;
	json_t *filled = e2ee_fill(s, m0, &hidden);
	const json_t *m = filled != NULL ? filled : m0;
	char *with = pg_msg_conversation_of(m, s->user);
	const char *from = json_string_value(json_object_get(m, "from"));
	json_int_t id = json_integer_value(json_object_get(m, "id"));
	bool mine = from != NULL && g_ascii_strcasecmp(from, s->user) == 0;
	PgMsgStore *st;
	char *key;
	bool added = true;

	if (with == NULL || id <= 0 || hidden) {
		if (id > s->last_seen)
			s->last_seen = id;
		g_free(with);
		json_decref(filled);
		return;
	}
	if (id > s->last_seen)
		s->last_seen = id;
	ensure_conv(s, with);
	key = fold(with);
	st = g_hash_table_lookup(s->stores, key);
	if (st != NULL)
		added = pg_msg_store_add(st, m) || !pg_msg_store_is_loaded(st);
	g_free(key);
	if (mine && json_string_value(json_object_get(m, "cid")) != NULL)
		pg_outbox_remove(s->outbox, json_string_value(json_object_get(m, "cid")));
	if (added && !mine) {
		if (is_active(s, with))
			mark_read(s, with, id);
		else
			pg_conv_list_add_unread(s->convs, with,
			                        json_is_true(json_object_get(m, "mentioned")));
		if (origin == ORIGIN_LIVE && s->ops.incoming != NULL) {
			PgMsg *msg = pg_msg_new_from_json(m);

			s->ops.incoming(s->ud, with, msg);
			g_object_unref(msg);
		}
	}
	g_free(with);
	json_decref(filled);
}

static void take_messages(struct pg_session *s, const json_t *msgs, enum origin origin)
{
	size_t i;
	json_t *m;

	json_array_foreach(msgs, i, m)
		take_message(s, m, origin);
}

/* ---- login ---- */

static void send_login(struct pg_session *s)
{
	if (s->password != NULL && s->register_first)
		request(s, pier_req_register(s->user, s->password), REQ_REGISTER, NULL, NULL);
	else if (s->password != NULL)
		request(s, pier_req_login(s->user, s->password), REQ_LOGIN, NULL, NULL);
	else
		request(s, pier_req_login_token(s->token), REQ_LOGIN, NULL, NULL);
}

static void ask_unread(struct pg_session *s, const char *after)
{
	request(s, pier_req_unread(after, 0), REQ_UNREAD, NULL, NULL);
}

static void e2ee_login(struct pg_session *s, const json_t *reply);

static void on_logged_in(struct pg_session *s, const json_t *reply)
{
	const char *user = json_string_value(json_object_get(reply, "user"));
	const char *token = json_string_value(json_object_get(reply, "token"));
	json_t *room;
	size_t i;
	bool reconnect = s->logged_in_once;

	if (user != NULL) {
		g_free(s->user);
		s->user = g_strdup(user);
	}
	if (token != NULL) {
		g_free(s->token);
		s->token = g_strdup(token);
	}
	g_clear_pointer(&s->password, g_free);
	save_token(s);
	s->attempts = 0;
	s->logged_in_once = true;
	pg_conv_list_ensure(s->convs, "#lobby");
	json_array_foreach(json_object_get(reply, "rooms"), i, room)
		if (json_is_string(room))
			pg_conv_list_ensure(s->convs, json_string_value(room));
	if (json_is_integer(json_object_get(reply, "recall_window")))
		s->recall_window = (int)json_integer_value(json_object_get(reply, "recall_window"));
	if (!reconnect && json_is_integer(json_object_get(reply, "change_seq")))
		s->change_seq = json_integer_value(json_object_get(reply, "change_seq"));
	set_state(s, PG_SESSION_ONLINE);
	e2ee_login(s, reply);
	/* The outbox first, then what was missed: a resent message's duplicate `sent` and its
	 * copy in the sync are one message in the store. */
	flush_outbox(s);
	if (reconnect && s->last_seen > 0)
		request(s, pier_req_sync_changes(s->last_seen, s->change_seq, SYNC_PAGE), REQ_SYNC,
		        NULL, NULL);
	ask_unread(s, NULL);
	/* Stores opened before the drop that never got their page get it now. */
	{
		GHashTableIter it;
		gpointer key, val;

		g_hash_table_iter_init(&it, s->stores);
		while (g_hash_table_iter_next(&it, &key, &val))
			if (!pg_msg_store_is_loaded(val))
				pg_session_reload_newest(s, pg_msg_store_with(val));
	}
	if (s->ops.login_result != NULL && !reconnect)
		s->ops.login_result(s->ud, true,
		                    pier_login_status_text(PIER_LOGIN_OK, pg_i18n_lang()));
}

static void schedule_reconnect(struct pg_session *s);

static void on_login_reply(struct pg_session *s, const json_t *reply)
{
	int status = (int)json_integer_value(json_object_get(reply, "status"));

	if (json_is_integer(json_object_get(reply, "status")) && status == PIER_LOGIN_OK) {
		on_logged_in(s, reply);
		return;
	}
	if (json_is_object(reply) && strcmp(pier_event_op(reply), "error") == 0) {
		/* rate_limited, busy: try again later, as after a drop */
		const char *code = json_string_value(json_object_get(reply, "error"));
		const char *text = pier_error_text(code, pg_i18n_lang());

		if (s->logged_in_once) {
			pg_conn_free(s->conn);
			s->conn = NULL;
			schedule_reconnect(s);
			return;
		}
		g_clear_pointer(&s->password, g_free);
		pg_conn_free(s->conn);
		s->conn = NULL;
		set_state(s, PG_SESSION_LOGGED_OUT);
		if (s->ops.login_result != NULL)
			s->ops.login_result(s->ud, false, text != NULL ? text : code);
		return;
	}
	/* Refused: a wrong password, or a token the server no longer knows (forgotten: the
	 * login page asks for the password). */
	if (s->password == NULL)
		forget_token(s);
	g_clear_pointer(&s->password, g_free);
	s->logged_in_once = false;
	pg_conn_free(s->conn);
	s->conn = NULL;
	set_state(s, PG_SESSION_LOGGED_OUT);
	if (s->ops.login_result != NULL)
		s->ops.login_result(s->ud, false, pier_login_status_text(status, pg_i18n_lang()));
}

static void on_register_reply(struct pg_session *s, const json_t *reply)
{
	int status = (int)json_integer_value(json_object_get(reply, "status"));

	if (status == PIER_REGISTER_OK) {
		s->register_first = false;
		send_login(s);
		return;
	}
	g_clear_pointer(&s->password, g_free);
	pg_conn_free(s->conn);
	s->conn = NULL;
	set_state(s, PG_SESSION_LOGGED_OUT);
	if (s->ops.login_result != NULL)
		s->ops.login_result(s->ud, false, pier_register_status_text(status, pg_i18n_lang()));
}

/* ---- events ---- */

static json_t *e2ee_fill_page(struct pg_session *s, const json_t *msgs);

static void on_history(struct pg_session *s, const struct req *r, const json_t *reply)
{
	char *key = fold(r->with);
	PgMsgStore *st = g_hash_table_lookup(s->stores, key);
	json_t *msgs = json_object_get(reply, "messages");
	bool more = json_is_true(json_object_get(reply, "more"));
	size_t i;
	json_t *m;

	g_hash_table_remove(s->loading, key);
	g_free(key);
	if (st == NULL)
		return;
	json_array_foreach(msgs, i, m) {
		json_int_t id = json_integer_value(json_object_get(m, "id"));

		if (id > s->last_seen)
			s->last_seen = id;
	}
	msgs = e2ee_fill_page(s, msgs);
	if (r->kind == REQ_HISTORY_NEWEST) {
		pg_msg_store_reset(st, msgs, more);
		if (is_active(s, r->with))
			mark_read(s, r->with, pg_msg_store_newest_id(st));
	} else {
		pg_msg_store_add_older(st, msgs, more);
	}
	json_decref(msgs);
}

static void on_unread(struct pg_session *s, const json_t *reply)
{
	json_t *c, *convs = json_object_get(reply, "conversations");
	const char *last = NULL;
	size_t i;

	json_array_foreach(convs, i, c) {
		const char *with = json_string_value(json_object_get(c, "with"));

		if (with == NULL)
			continue;
		last = with;
		read_pos_set(s, with, json_integer_value(json_object_get(c, "read")));
		if (is_active(s, with))
			continue;
		pg_conv_list_set_unread(s->convs, with,
		                        (int)json_integer_value(json_object_get(c, "unread")),
		                        json_is_true(json_object_get(c, "capped")));
	}
	if (json_is_true(json_object_get(reply, "more")) && last != NULL)
		ask_unread(s, last);
}

static void clear_online(struct pg_session *s)
{
	while (g_list_model_get_n_items(G_LIST_MODEL(s->online)) > 0) {
		PgConv *c = g_list_model_get_item(G_LIST_MODEL(s->online), 0);

		pg_conv_list_remove(s->online, c->with);
		g_object_unref(c);
	}
}

/* Puts user u (a JSON string of a users list; anything else is skipped) in the online list,
 * marked online; its name, or NULL. */
static const char *list_online(struct pg_session *s, json_t *u)
{
	char *with;

	if (!json_is_string(u))
		return NULL;
	with = g_strconcat("@", json_string_value(u), NULL);
	pg_conv_list_ensure(s->online, with);
	pg_conv_list_set_online(s->online, json_string_value(u), true);
	g_free(with);
	return json_string_value(u);
}

static void set_online_total(struct pg_session *s, int64_t total)
{
	s->online_total = total;
	if (s->online_changed != NULL)
		s->online_changed(s->online_changed_ud);
}

/* The login's users event: the user and its contacts online (presence keeps them live), and
 * "total" (everyone online; listed by pg_session_fetch_online when asked). */
static void on_users(struct pg_session *s, const json_t *ev)
{
	json_t *u;
	size_t i;
	json_int_t total = json_integer_value(json_object_get(ev, "total"));

	/* The list is replaced (a login, a reconnect). */
	clear_online(s);
	json_array_foreach(json_object_get(ev, "online"), i, u) {
		const char *name = list_online(s, u);

		if (name != NULL)
			pg_conv_list_set_online(s->convs, name, true);
	}
	set_online_total(s, MAX(total, (json_int_t)json_array_size(json_object_get(ev, "online"))));
}

static void on_presence(struct pg_session *s, const json_t *ev)
{
	const char *user = json_string_value(json_object_get(ev, "user"));
	bool online = json_is_true(json_object_get(ev, "online"));
	char *with;

	if (user == NULL)
		return;
	with = g_strconcat("@", user, NULL);
	/* a contact's transition (presence comes for contacts only): the total follows */
	if (online != (pg_conv_list_find(s->online, with, NULL) != NULL))
		set_online_total(s, MAX(0, s->online_total + (online ? 1 : -1)));
	if (online) {
		pg_conv_list_ensure(s->online, with);
		pg_conv_list_set_online(s->online, user, true);
	} else
		pg_conv_list_remove(s->online, with);
	pg_conv_list_set_online(s->convs, user, online);
	g_free(with);
}

static void on_send_error(struct pg_session *s, const struct req *r, const json_t *err)
{
	const char *code = json_string_value(json_object_get(err, "error"));
	const char *text;
	char *key;
	PgMsgStore *st;

	if (code != NULL && (strcmp(code, "rate_limited") == 0 || strcmp(code, "busy") == 0)) {
		pg_outbox_retry(s->outbox, r->cid);
		if (s->send_timer == 0)
			s->send_timer = g_timeout_add(RETRY_SEND_MS, on_send_timer, s);
		return;
	}
	pg_outbox_remove(s->outbox, r->cid);
	key = fold(r->with);
	st = g_hash_table_lookup(s->stores, key);
	g_free(key);
	if (st != NULL)
		pg_msg_store_fail(st, r->cid);
	text = pier_error_text(code, pg_i18n_lang());
	notice(s, text != NULL ? text : code);
}

static void on_sent(struct pg_session *s, const json_t *reply)
{
	const char *cid = json_string_value(json_object_get(reply, "cid"));
	const char *to = json_string_value(json_object_get(reply, "to"));
	json_int_t id = json_integer_value(json_object_get(reply, "id"));
	char *key;
	PgMsgStore *st;

	if (id > s->last_seen)
		s->last_seen = id;
	if (cid != NULL)
		pg_outbox_remove(s->outbox, cid);
	if (to == NULL)
		return;
	ensure_conv(s, to);
	key = fold(to);
	st = g_hash_table_lookup(s->stores, key);
	g_free(key);
	if (st != NULL)
		pg_msg_store_ack(st, reply);
}

static void on_change(struct pg_session *s, const json_t *m)
{
	char *with = pg_msg_conversation_of(m, s->user), *key;
	PgMsgStore *st;
	json_int_t changed = json_integer_value(json_object_get(m, "changed"));

	if (changed > s->change_seq)
		s->change_seq = changed;
	if (with == NULL)
		return;
	key = fold(with);
	st = g_hash_table_lookup(s->stores, key);
	if (st != NULL)
		pg_msg_store_update(st, m);
	g_free(key);
	g_free(with);
}

static void on_event(void *ud, json_t *ev)
{
	struct pg_session *s = ud;
	const char *op = pier_event_op(ev);
	const char *ref = json_string_value(json_object_get(ev, "ref"));
	struct req *r = ref != NULL ? g_hash_table_lookup(s->reqs, ref) : NULL;
	enum req_kind kind = r != NULL ? r->kind : REQ_OTHER;

	if (r != NULL)
		g_hash_table_steal(s->reqs, ref);
	if (s->state == PG_SESSION_LOGGED_OUT && kind != REQ_LOGIN && kind != REQ_REGISTER) {
		/* After a logout, what the old session still says changes nothing. */
		if (r != NULL)
			req_free(r);
		return;
	}
	if (r == NULL && pg_e2ee_event(s->e2ee, ev))
		return;
	if (kind == REQ_CALLBACK) {
		r->cb(ev, r->ud);
		r->cb = NULL;
	} else if (kind == REQ_LOGIN) {
		on_login_reply(s, ev);
	} else if (kind == REQ_REGISTER) {
		on_register_reply(s, ev);
	} else if (strcmp(op, "error") == 0) {
		if (kind == REQ_SEND) {
			on_send_error(s, r, ev);
		} else if (kind == REQ_HISTORY_NEWEST || kind == REQ_HISTORY_OLDER) {
			char *key = fold(r->with);

			g_hash_table_remove(s->loading, key);
			g_free(key);
		}
		if (kind != REQ_SEND && kind != REQ_READ) {
			const char *code = json_string_value(json_object_get(ev, "error"));
			const char *text = pier_error_text(code, pg_i18n_lang());

			notice(s, text != NULL ? text : code);
		}
	} else if (strcmp(op, "msg") == 0) {
		take_message(s, ev, json_is_true(json_object_get(ev, "offline")) ? ORIGIN_CATCHUP
		                                                                  : ORIGIN_LIVE);
	} else if (strcmp(op, "sent") == 0) {
		on_sent(s, ev);
	} else if (kind == REQ_HISTORY_NEWEST || kind == REQ_HISTORY_OLDER) {
		on_history(s, r, ev);
	} else if (kind == REQ_SYNC) {
		json_t *c;
		size_t i;

		take_messages(s, json_object_get(ev, "messages"), ORIGIN_CATCHUP);
		json_array_foreach(json_object_get(ev, "changes"), i, c)
			on_change(s, c);
		if (json_is_integer(json_object_get(ev, "change_seq")))
			s->change_seq = json_integer_value(json_object_get(ev, "change_seq"));
		if (json_is_true(json_object_get(ev, "more")) ||
		    json_is_true(json_object_get(ev, "changes_more")))
			request(s, pier_req_sync_changes(s->last_seen, s->change_seq, SYNC_PAGE),
			        REQ_SYNC, NULL, NULL);
	} else if (strcmp(op, "offline") == 0 && json_is_true(json_object_get(ev, "more"))) {
		request(s, pier_req_sync(json_integer_value(json_object_get(ev, "after")), SYNC_PAGE),
		        REQ_SYNC, NULL, NULL);
	} else if (kind == REQ_UNREAD) {
		on_unread(s, ev);
	} else if (kind == REQ_JOIN) {
		const char *room = json_string_value(json_object_get(ev, "room"));

		if (room != NULL) {
			pg_conv_list_ensure(s->convs, room);
			if (s->ops.joined != NULL)
				s->ops.joined(s->ud, room);
		}
	} else if (kind == REQ_PART) {
		const char *room = json_string_value(json_object_get(ev, "room"));

		if (room != NULL) {
			pg_conv_list_remove(s->convs, room);
			if (s->ops.parted != NULL)
				s->ops.parted(s->ud, room);
		}
	} else if (strcmp(op, "users") == 0 && ref == NULL) {
		on_users(s, ev);
	} else if (strcmp(op, "presence") == 0) {
		on_presence(s, ev);
	} else if (strcmp(op, "edited") == 0 || strcmp(op, "recalled") == 0 ||
	           strcmp(op, "reaction") == 0) {
		take_change_event(s, ev);
	} else if (strcmp(op, "read") == 0) {
		const char *with = json_string_value(json_object_get(ev, "with"));

		if (with != NULL)
			read_pos_set(s, with, json_integer_value(json_object_get(ev, "id")));
		if (with != NULL && ref == NULL)
			ask_unread(s, NULL);
	}
	if (r != NULL)
		req_free(r);
	else if (s->state == PG_SESSION_ONLINE)
		listeners_dispatch(s, ev);
}

/* ---- the connection's life ---- */

static void open_connection(struct pg_session *s);

static gboolean on_retry(gpointer data)
{
	struct pg_session *s = data;

	s->retry_timer = 0;
	open_connection(s);
	return G_SOURCE_REMOVE;
}

static void schedule_reconnect(struct pg_session *s)
{
	guint delay = BACKOFF_FIRST_MS;

	for (int i = 0; i < s->attempts && delay < BACKOFF_MAX_MS; i++)
		delay *= 2;
	if (delay > BACKOFF_MAX_MS)
		delay = BACKOFF_MAX_MS;
	/* jitter: 75-100 % of the delay, so that many clients do not come back at once */
	delay = delay * 3 / 4 + (guint)g_random_int_range(0, (gint32)(delay / 4 + 1));
	s->attempts++;
	set_state(s, PG_SESSION_OFFLINE);
	if (s->retry_timer == 0)
		s->retry_timer = g_timeout_add(delay, on_retry, s);
}

static void on_connected(void *ud)
{
	send_login(ud);
}

static void on_dropped(void *ud, const char *why)
{
	struct pg_session *s = ud;

	g_debug("pier-gtk: connection lost: %s", why);
	/* Who is online is unknown while offline; the login's `users` brings it back. */
	while (g_list_model_get_n_items(G_LIST_MODEL(s->online)) > 0) {
		PgConv *c = g_list_model_get_item(G_LIST_MODEL(s->online), 0);

		pg_conv_list_set_online(s->convs, c->with + 1, false);
		pg_conv_list_remove(s->online, c->with);
		g_object_unref(c);
	}
	g_hash_table_remove_all(s->reqs);
	g_hash_table_remove_all(s->loading);
	pg_outbox_connection_lost(s->outbox);
	pg_e2ee_offline(s->e2ee);
	if (s->logged_in_once && s->password == NULL) {
		schedule_reconnect(s);
		return;
	}
	if (s->state == PG_SESSION_LOGGED_OUT)
		return;   /* the server closed after our logout */
	g_clear_pointer(&s->password, g_free);
	set_state(s, PG_SESSION_LOGGED_OUT);
	if (s->ops.login_result != NULL)
		s->ops.login_result(s->ud, false, why);
}

static const struct pg_conn_ops conn_ops = {
	.connected = on_connected,
	.event = on_event,
	.dropped = on_dropped,
};

static void open_connection(struct pg_session *s)
{
	struct pg_conn_options opt = {
		.host = s->cfg.host, .port = s->cfg.port, .tls = s->cfg.tls,
		.ca_file = s->cfg.ca_file,
	};

	/* Freed here, not in its own callback (pg_conn.h allows both; this keeps it simple). */
	pg_conn_free(s->conn);
	s->conn = pg_conn_open(&opt, &conn_ops, s);
}

/* ---- the public side ---- */

static void free_config(struct pg_session *s)
{
	g_free((char *)s->cfg.host);
	g_free((char *)s->cfg.port);
	g_free((char *)s->cfg.http_port);
	g_free((char *)s->cfg.ca_file);
	g_free(s->http_base);
}

static void set_config(struct pg_session *s, const struct pg_session_config *cfg)
{
	s->cfg.host = g_strdup(cfg->host != NULL ? cfg->host : "localhost");
	s->cfg.port = g_strdup(cfg->port != NULL ? cfg->port
	                       : cfg->tls ? PIER_DEFAULT_TLS_PORT : PIER_DEFAULT_PORT);
	s->cfg.http_port = g_strdup(cfg->http_port != NULL ? cfg->http_port
	                            : cfg->tls ? "8443" : "8080");
	s->cfg.tls = cfg->tls;
	s->cfg.ca_file = g_strdup(cfg->ca_file);
	/* An IPv6 address goes in brackets in a URL. */
	s->http_base = g_strdup_printf(strchr(s->cfg.host, ':') != NULL ? "%s://[%s]:%s"
	                               : "%s://%s:%s", cfg->tls ? "https" : "http", s->cfg.host,
	                               s->cfg.http_port);
}

void pg_session_configure(struct pg_session *s, const struct pg_session_config *cfg)
{
	free_config(s);
	set_config(s, cfg);
}

const char *pg_session_ca_file(const struct pg_session *s)
{
	return s->cfg.ca_file;
}

static struct pg_e2ee *e2ee_new(struct pg_session *s);

struct pg_session *pg_session_new(const struct pg_session_config *cfg,
                                  const struct pg_session_ops *ops, void *ud)
{
	struct pg_session *s = g_new0(struct pg_session, 1);

	set_config(s, cfg);
	s->cfg.data_dir = g_strdup(cfg->data_dir);
	g_mkdir_with_parents(s->cfg.data_dir, 0700);
	s->ops = *ops;
	s->ud = ud;
	s->session_file = g_build_filename(s->cfg.data_dir, "session.json", NULL);
	s->secret_cancel = g_cancellable_new();
	s->outbox = pg_outbox_new(NULL, 0);
	s->convs = pg_conv_list_new();
	s->online = pg_conv_list_new();
	s->stores = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_object_unref);
	s->reqs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, req_free);
	s->loading = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	s->read_pending = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	s->e2ee = e2ee_new(s);
	s->listeners = g_array_new(FALSE, TRUE, sizeof(struct listener));
	s->read_pos = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	s->recall_window = PG_SESSION_RECALL_WINDOW_DEFAULT;
	return s;
}

void pg_session_free(struct pg_session *s)
{
	if (s == NULL)
		return;
	pg_e2ee_free(s->e2ee);
	pg_conn_free(s->conn);
	if (s->retry_timer != 0)
		g_source_remove(s->retry_timer);
	if (s->read_timer != 0)
		g_source_remove(s->read_timer);
	if (s->send_timer != 0)
		g_source_remove(s->send_timer);
	g_hash_table_unref(s->stores);
	g_hash_table_unref(s->reqs);
	g_hash_table_unref(s->loading);
	g_hash_table_unref(s->read_pending);
	g_array_unref(s->listeners);
	g_hash_table_unref(s->read_pos);
	g_object_unref(s->convs);
	g_object_unref(s->online);
	pg_outbox_free(s->outbox);
	free_config(s);
	g_free((char *)s->cfg.data_dir);
	g_free(s->user);
	g_free(s->token);
	g_free(s->password);
	g_free(s->session_file);
	g_cancellable_cancel(s->secret_cancel);
	g_object_unref(s->secret_cancel);
	g_free(s->active);
	g_free(s);
}

void pg_session_login(struct pg_session *s, const char *user, const char *password,
                      bool register_first)
{
	if (s->user == NULL || g_ascii_strcasecmp(s->user, user) != 0)
		reset_models(s);
	g_free(s->user);
	s->user = g_strdup(user);
	open_outbox(s);
	g_free(s->password);
	s->password = g_strdup(password);
	s->register_first = register_first;
	s->logged_in_once = false;
	s->last_seen = 0;
	set_state(s, PG_SESSION_CONNECTING);
	open_connection(s);
}

static void resume_with(struct pg_session *s, const char *token)
{
	g_free(s->token);
	s->token = g_strdup(token);
	g_clear_pointer(&s->password, g_free);
	s->logged_in_once = false;
	set_state(s, PG_SESSION_CONNECTING);
	open_connection(s);
}

static void on_token_found(const char *token, void *ud)
{
	struct pg_session *s = ud;

	if (token != NULL) {
		resume_with(s, token);
		return;
	}
	set_state(s, PG_SESSION_LOGGED_OUT);
	if (s->ops.login_result != NULL)
		s->ops.login_result(s->ud, false, NULL);
}

bool pg_session_resume(struct pg_session *s)
{
	json_t *j = json_load_file(s->session_file, 0, NULL);
	const char *host = json_string_value(json_object_get(j, "host"));
	const char *port = json_string_value(json_object_get(j, "port"));
	const char *user = json_string_value(json_object_get(j, "user"));
	const char *token = json_string_value(json_object_get(j, "token"));
	bool keyring = json_is_true(json_object_get(j, "keyring"));
	bool ok = host != NULL && port != NULL && user != NULL && (token != NULL || keyring) &&
	          strcmp(host, s->cfg.host) == 0 && strcmp(port, s->cfg.port) == 0;

	if (ok) {
		g_free(s->user);
		s->user = g_strdup(user);
		open_outbox(s);
		if (token != NULL) {
			resume_with(s, token);
		} else {
			char *server = server_name(s);

			set_state(s, PG_SESSION_CONNECTING);
			pg_secret_lookup(server, user, s->secret_cancel, on_token_found, s);
			g_free(server);
		}
	}
	json_decref(j);
	return ok;
}

void pg_session_logout(struct pg_session *s)
{
	request(s, pier_req_logout(), REQ_OTHER, NULL, NULL);
	pg_e2ee_logout(s->e2ee);
	forget_token(s);
	s->logged_in_once = false;
	reset_models(s);
	/* The logout request goes out before the connection closes: closing comes when the
	 * server answers it (it closes the session), or at the next login. */
	set_state(s, PG_SESSION_LOGGED_OUT);
}

enum pg_session_state pg_session_state(const struct pg_session *s)
{
	return s->state;
}

const char *pg_session_user(const struct pg_session *s)
{
	return s->user;
}

const char *pg_session_token(const struct pg_session *s)
{
	return s->token;
}

const char *pg_session_http_base(const struct pg_session *s)
{
	return s->http_base;
}

const char *pg_session_data_dir(const struct pg_session *s)
{
	return s->cfg.data_dir;
}

PgConvList *pg_session_conversations(struct pg_session *s)
{
	return s->convs;
}

PgConvList *pg_session_online(struct pg_session *s)
{
	return s->online;
}

int64_t pg_session_online_total(struct pg_session *s)
{
	return s->online_total;
}

void pg_session_on_online_changed(struct pg_session *s, void (*cb)(void *ud), void *ud)
{
	s->online_changed = cb;
	s->online_changed_ud = ud;
}

bool pg_session_fetching_online(struct pg_session *s)
{
	return s->online_pages > 0;
}

static bool ask_online_page(struct pg_session *s, const char *after);

/* A page of everyone online: added to the online list (the contacts stay); the next page is
 * asked for while "more" says so, up to PG_SESSION_ONLINE_PAGES. */
static void online_page(json_t *reply, void *ud)
{
	struct pg_session *s = ud;
	json_t *online, *u;
	const char *last = NULL;
	size_t i;

	if (reply == NULL || !json_is_array(json_object_get(reply, "online"))) {
		s->online_pages = 0;     /* dropped or refused: nothing more (s may be closing) */
		if (reply != NULL && s->online_changed != NULL)
			s->online_changed(s->online_changed_ud);
		return;
	}
	online = json_object_get(reply, "online");
	/* The first page replaces the list: strangers gone since the last fetch leave it (their
	 * presence never comes); contacts online are on the pages. */
	if (s->online_pages == 1)
		clear_online(s);
	json_array_foreach(online, i, u) {
		const char *name = list_online(s, u);

		if (name != NULL)
			last = name;
	}
	if (json_is_true(json_object_get(reply, "more")) && last != NULL &&
	    s->online_pages < PG_SESSION_ONLINE_PAGES) {
		char *after = g_strdup(last);
		bool asked;

		s->online_pages++;
		asked = ask_online_page(s, after);
		g_free(after);
		if (asked)
			return;
	}
	s->online_pages = 0;
	set_online_total(s, json_integer_value(json_object_get(reply, "total")));
}

static bool ask_online_page(struct pg_session *s, const char *after)
{
	json_t *req = pier_req_users_page(after, PG_SESSION_ONLINE_PAGE);

	return pg_session_call(s, req, online_page, s);
}

bool pg_session_fetch_online(struct pg_session *s)
{
	if (s->online_pages > 0)
		return false;
	s->online_pages = 1;
	if (!ask_online_page(s, NULL)) {
		s->online_pages = 0;
		return false;
	}
	if (s->online_changed != NULL)
		s->online_changed(s->online_changed_ud);
	return true;
}

PgMsgStore *pg_session_open(struct pg_session *s, const char *with)
{
	char *key = fold(with);
	PgMsgStore *st = g_hash_table_lookup(s->stores, key);

	ensure_conv(s, with);
	if (st == NULL) {
		st = pg_msg_store_new(with, 0);
		g_hash_table_insert(s->stores, g_strdup(key), st);
		/* What the outbox holds for it shows as pending. */
		for (size_t i = 0; i < pg_outbox_count(s->outbox); i++) {
			const struct pg_outbox_entry *e = pg_outbox_at(s->outbox, i);

			if (g_ascii_strcasecmp(e->to, with) == 0)
				pg_msg_store_add_pending(st, e->cid, s->user, e->text, e->kind);
		}
	}
	g_free(key);
	if (!pg_msg_store_is_loaded(st))
		pg_session_reload_newest(s, with);
	return st;
}

static void ask_history(struct pg_session *s, const char *with, bool newest)
{
	char *key = fold(with);
	PgMsgStore *st = g_hash_table_lookup(s->stores, key);

	if (st == NULL || g_hash_table_contains(s->loading, key) || s->state != PG_SESSION_ONLINE) {
		g_free(key);
		return;
	}
	if (request(s, pier_req_history(with, newest ? 0 : pg_msg_store_oldest_id(st), HISTORY_PAGE),
	            newest ? REQ_HISTORY_NEWEST : REQ_HISTORY_OLDER, with, NULL))
		g_hash_table_add(s->loading, key);
	else
		g_free(key);
}

void pg_session_load_older(struct pg_session *s, const char *with)
{
	char *key = fold(with);
	PgMsgStore *st = g_hash_table_lookup(s->stores, key);

	g_free(key);
	if (st != NULL && pg_msg_store_is_loaded(st) && pg_msg_store_has_older(st) &&
	    pg_msg_store_oldest_id(st) > 0)
		ask_history(s, with, false);
}

void pg_session_reload_newest(struct pg_session *s, const char *with)
{
	ask_history(s, with, true);
}

void pg_session_set_active(struct pg_session *s, const char *with, bool focused)
{
	if (s->active == NULL || with == NULL || g_ascii_strcasecmp(s->active, with) != 0)
		s->away_from_end = false;   /* another conversation opens at its end */
	g_free(s->active);
	s->active = g_strdup(with);
	s->focused = focused;
	if (with != NULL && focused) {
		char *key = fold(with);
		PgMsgStore *st = g_hash_table_lookup(s->stores, key);

		g_free(key);
		pg_conv_list_clear_unread(s->convs, with);
		if (st != NULL)
			mark_read(s, with, pg_msg_store_newest_id(st));
	}
}

int pg_session_send(struct pg_session *s, const char *with, const char *text, const char *kind,
                    int64_t media)
{
	const struct pg_outbox_entry *e = pg_outbox_add(s->outbox, with, text, kind, media);
	char *key;
	PgMsgStore *st;

	if (e == NULL)
		return -1;
	ensure_conv(s, with);
	key = fold(with);
	st = g_hash_table_lookup(s->stores, key);
	g_free(key);
	if (st != NULL)
		pg_msg_store_add_pending(st, e->cid, s->user, text, kind);
	flush_outbox(s);
	return 0;
}

void pg_session_join(struct pg_session *s, const char *room)
{
	if (!request(s, pier_req_join(room), REQ_JOIN, room, NULL))
		notice(s, _("Offline: try again when connected."));
}

void pg_session_part(struct pg_session *s, const char *room)
{
	if (!request(s, pier_req_part(room), REQ_PART, room, NULL))
		notice(s, _("Offline: try again when connected."));
}

bool pg_session_members(struct pg_session *s, const char *room, const char *after,
                        pg_session_reply_cb cb, void *ud)
{
	char ref[PIER_REF_MAX];
	struct req *r;

	if (s->state != PG_SESSION_ONLINE || !pg_conn_is_connected(s->conn) ||
	    pg_conn_request(s->conn, pier_req_members(room, after, 100), ref) != 0)
		return false;
	r = g_new0(struct req, 1);
	r->kind = REQ_CALLBACK;
	r->with = g_strdup(room);
	r->cb = cb;
	r->ud = ud;
	g_hash_table_replace(s->reqs, g_strdup(ref), r);
	return true;
}

size_t pg_session_outbox_count(const struct pg_session *s)
{
	return pg_outbox_count(s->outbox);
}

/* ---- end-to-end encryption (pg_e2ee.h): the hooks the device manager is lent ---- */

static int e2ee_request(void *ctx, json_t *req, char ref[PIER_REF_MAX])
{
	struct pg_session *s = ctx;

	if (s->conn == NULL || !pg_conn_is_connected(s->conn)) {
		json_decref(req);
		return -1;
	}
	return pg_conn_request(s->conn, req, ref);
}

static void e2ee_notice(void *ctx, const char *text)
{
	notice(ctx, text);
}

/* A decrypted message: shown like any other; it replaces its placeholder (same id). Not live
 * (one's own send, the device's queue replayed at its hello): the `unread` reply counted it
 * already, so it only fills in the conversation. */
static void e2ee_show(void *ctx, const json_t *msg, bool live)
{
	struct pg_session *s = ctx;
	char *with = pg_msg_conversation_of(msg, s->user), *key;
	int64_t id = json_integer_value(json_object_get(msg, "id"));
	PgMsgStore *st;

	if (with == NULL)
		return;
	key = fold(with);
	if (live) {
		take_message(s, msg, ORIGIN_LIVE);
	} else {
		if (id > s->last_seen)
			s->last_seen = id;
		ensure_conv(s, with);
		st = g_hash_table_lookup(s->stores, key);
		if (st != NULL)
			pg_msg_store_add(st, msg);
	}
	st = g_hash_table_lookup(s->stores, key);
	if (st != NULL)
		pg_msg_store_update(st, msg);
	g_free(key);
	g_free(with);
}

static void e2ee_sent(void *ctx, const json_t *reply)
{
	on_sent(ctx, reply);
}

static void e2ee_send_failed(void *ctx, const char *to, const char *cid, const json_t *reply,
                             const char *text)
{
	struct pg_session *s = ctx;
	struct req r = { .kind = REQ_SEND, .with = (char *)to, .cid = (char *)cid };
	char *key;
	PgMsgStore *st;

	if (reply != NULL) {
		on_send_error(s, &r, reply);
		return;
	}
	pg_outbox_remove(s->outbox, cid);
	key = fold(to);
	st = g_hash_table_lookup(s->stores, key);
	g_free(key);
	if (st != NULL)
		pg_msg_store_fail(st, cid);
	notice(s, text);
}

/* The peer has no device list: the entry goes as plaintext, as the server allows. */
static void e2ee_send_plain(void *ctx, const char *cid)
{
	struct pg_session *s = ctx;
	const struct pg_outbox_entry *e = pg_outbox_find(s->outbox, cid);

	if (e != NULL)
		request(s, pg_outbox_request(e), REQ_SEND, e->to, e->cid);
}

static void e2ee_changed(void *ctx)
{
	struct pg_session *s = ctx;

	if (s->e2ee_changed != NULL)
		s->e2ee_changed(s->e2ee_ud);
}

/* History transfers go through the window's media (encrypted uploads and downloads). */
struct e2ee_xfer {
	void (*up)(const json_t *file, void *ud);
	void (*down)(const void *data, size_t len, void *ud);
	void *ud;
};

static void e2ee_uploaded(json_t *result, const char *error, gpointer data)
{
	struct e2ee_xfer *x = data;

	(void)error;
	x->up(result != NULL ? json_object_get(result, "file") : NULL, x->ud);
	g_free(x);
}

static void e2ee_upload(void *ctx, const char *path, void (*done)(const json_t *file, void *ud),
                        void *ud)
{
	struct pg_session *s = ctx;
	struct e2ee_xfer *x;

	if (s->media == NULL) {
		done(NULL, ud);
		return;
	}
	x = g_new0(struct e2ee_xfer, 1);
	x->up = done;
	x->ud = ud;
	pg_media_upload_e2ee(s->media, path, NULL, NULL, e2ee_uploaded, x);
}

static void e2ee_downloaded(GBytes *bytes, const char *error, gpointer data)
{
	struct e2ee_xfer *x = data;
	gsize len = 0;
	const void *p = bytes != NULL ? g_bytes_get_data(bytes, &len) : NULL;

	(void)error;
	x->down(p, len, x->ud);
	g_free(x);
}

static void e2ee_download(void *ctx, const json_t *media,
                          void (*done)(const void *data, size_t len, void *ud), void *ud)
{
	struct pg_session *s = ctx;
	struct e2ee_xfer *x;

	if (s->media == NULL) {
		done(NULL, 0, ud);
		return;
	}
	x = g_new0(struct e2ee_xfer, 1);
	x->down = done;
	x->ud = ud;
	pg_media_fetch_e2ee(s->media, media, e2ee_downloaded, x);
}

/* Earlier messages came from another device: the private chats shown are filled again. */
static void e2ee_imported(void *ctx)
{
	struct pg_session *s = ctx;
	GHashTableIter it;
	gpointer key, val;

	g_hash_table_iter_init(&it, s->stores);
	while (g_hash_table_iter_next(&it, &key, &val))
		if (((const char *)key)[0] == '@')
			pg_session_reload_newest(s, pg_msg_store_with(val));
}

static struct pg_e2ee *e2ee_new(struct pg_session *s)
{
	const struct pg_e2ee_host host = {
		.ctx = s, .request = e2ee_request, .notice = e2ee_notice, .show = e2ee_show,
		.sent = e2ee_sent, .send_failed = e2ee_send_failed, .send_plain = e2ee_send_plain,
		.changed = e2ee_changed, .upload = e2ee_upload, .download = e2ee_download,
		.imported = e2ee_imported,
	};

	return pg_e2ee_new(&host);
}

static void e2ee_login(struct pg_session *s, const json_t *reply)
{
	char *dir = pg_e2ee_dir(s->cfg.data_dir, s->cfg.host, s->cfg.port, s->user);

	pg_e2ee_login(s->e2ee, dir, s->user,
	              json_string_value(json_object_get(reply, "challenge")));
	g_free(dir);
}

/* An outbox entry goes: private ones encrypted when this device can. False when offline. */
static bool send_entry(struct pg_session *s, const struct pg_outbox_entry *e)
{
	if (pg_e2ee_private(s->e2ee, e->to)) {
		pg_e2ee_send(s->e2ee, e->to, e->cid, e->text, e->kind, e->media, e->reply_to);
		return s->conn != NULL && pg_conn_is_connected(s->conn);
	}
	return request(s, pg_outbox_request(e), REQ_SEND, e->to, e->cid);
}

static json_t *e2ee_fill(struct pg_session *s, const json_t *m, bool *hidden)
{
	return pg_e2ee_fill(s->e2ee, m, hidden);
}

/* A history page with what this device decrypted filled in (encrypted edits left out). */
static json_t *e2ee_fill_page(struct pg_session *s, const json_t *msgs)
{
	json_t *out = json_array(), *m;
	size_t i;

	json_array_foreach(msgs, i, m) {
		bool hidden = false;
		json_t *filled = pg_e2ee_fill(s->e2ee, m, &hidden);

		if (hidden)
			continue;
		json_array_append_new(out, filled != NULL ? filled : json_incref(m));
	}
	return out;
}

struct pg_e2ee *pg_session_e2ee(struct pg_session *s)
{
	return s->e2ee;
}

void pg_session_set_media(struct pg_session *s, struct pg_media *media)
{
	s->media = media;
}

void pg_session_on_e2ee_changed(struct pg_session *s, void (*cb)(void *ud), void *ud)
{
	s->e2ee_changed = cb;
	s->e2ee_ud = ud;
}

/* ---- the chat features' side: requests with callbacks, listeners, read positions ---- */

bool pg_session_call(struct pg_session *s, json_t *req, pg_session_reply_cb cb, void *ud)
{
	char ref[PIER_REF_MAX];
	struct req *r;

	if (s->state != PG_SESSION_ONLINE || !pg_conn_is_connected(s->conn)) {
		json_decref(req);
		return false;
	}
	if (pg_conn_request(s->conn, req, ref) != 0)
		return false;
	r = g_new0(struct req, 1);
	r->kind = REQ_CALLBACK;
	r->cb = cb;
	r->ud = ud;
	g_hash_table_replace(s->reqs, g_strdup(ref), r);
	return true;
}

bool pg_session_notify(struct pg_session *s, json_t *req)
{
	if (s->state != PG_SESSION_ONLINE || !pg_conn_is_connected(s->conn)) {
		json_decref(req);
		return false;
	}
	return pg_conn_request(s->conn, req, NULL) == 0;
}

void pg_session_listen(struct pg_session *s, pg_session_event_cb cb, void *ud)
{
	struct listener l = { .cb = cb, .ud = ud };

	g_array_append_val(s->listeners, l);
}

static void listeners_dispatch(struct pg_session *s, json_t *ev)
{
	for (guint i = 0; i < s->listeners->len; i++) {
		struct listener *l = &g_array_index(s->listeners, struct listener, i);

		l->cb(ev, l->ud);
	}
}

PgMsgStore *pg_session_store(struct pg_session *s, const char *with)
{
	char *key = fold(with);
	PgMsgStore *st = g_hash_table_lookup(s->stores, key);

	g_free(key);
	return st;
}

/* A live reaction, edit or recall: the message in its store, if open; the newest change
 * seen moves on (a reconnect's sync starts after it). */
static void take_change_event(struct pg_session *s, const json_t *ev)
{
	char *with = pg_msg_conversation_of(ev, s->user);
	json_int_t changed = json_integer_value(json_object_get(ev, "changed"));

	if (changed > s->change_seq)
		s->change_seq = changed;
	if (with != NULL)
		pg_changes_apply_event(pg_session_store(s, with), ev, s->user);
	g_free(with);
}

static void read_pos_set(struct pg_session *s, const char *with, int64_t id)
{
	char *key = fold(with);
	int64_t *old = g_hash_table_lookup(s->read_pos, key);

	if (old != NULL && *old >= id) {
		g_free(key);
		return;
	}
	if (old == NULL) {
		old = g_new(int64_t, 1);
		g_hash_table_insert(s->read_pos, key, old);
	} else {
		g_free(key);
	}
	*old = id;
}

int64_t pg_session_read_position(struct pg_session *s, const char *with)
{
	char *key = fold(with);
	int64_t *v = g_hash_table_lookup(s->read_pos, key);

	g_free(key);
	return v != NULL ? *v : 0;
}

struct around {
	struct pg_session *s;
	char *with;
	pg_session_reply_cb cb;
	void *ud;
};

static void on_around(json_t *reply, void *ud)
{
	struct around *a = ud;
	PgMsgStore *st = reply != NULL ? pg_session_store(a->s, a->with) : NULL;

	if (st != NULL && json_is_array(json_object_get(reply, "messages"))) {
		json_t *msgs = e2ee_fill_page(a->s, json_object_get(reply, "messages"));

		pg_msg_store_reset_older(st, msgs, json_is_true(json_object_get(reply, "more")));
		json_decref(msgs);
	}
	a->cb(reply, a->ud);
	g_free(a->with);
	g_free(a);
}

bool pg_session_load_around(struct pg_session *s, const char *with, int64_t id,
                            pg_session_reply_cb cb, void *ud)
{
	struct around *a;

	if (s->state != PG_SESSION_ONLINE)
		return false;
	a = g_new0(struct around, 1);
	a->s = s;
	a->with = g_strdup(with);
	a->cb = cb;
	a->ud = ud;
	pg_session_open(s, with);
	/* The page that ends with id: it is the window's newest, older ones above it. */
	if (!pg_session_call(s, pier_req_history(with, id + 1, HISTORY_PAGE), on_around, a)) {
		g_free(a->with);
		g_free(a);
		return false;
	}
	return true;
}

int pg_session_recall_window(const struct pg_session *s)
{
	return s->recall_window;
}

void pg_session_set_recall_window(struct pg_session *s, int seconds)
{
	if (seconds >= 0)
		s->recall_window = seconds;
}

void pg_session_set_at_end(struct pg_session *s, bool at_end)
{
	if (s->away_from_end == !at_end)
		return;
	s->away_from_end = !at_end;
	if (at_end && s->active != NULL && s->focused) {
		PgMsgStore *st = pg_session_store(s, s->active);

		pg_conv_list_clear_unread(s->convs, s->active);
		if (st != NULL)
			mark_read(s, s->active, pg_msg_store_newest_id(st));
	}
}

int pg_session_send_reply(struct pg_session *s, const char *with, const char *text,
                          int64_t reply_to)
{
	int r;

	pg_outbox_set_next_reply(s->outbox, reply_to);
	r = pg_session_send(s, with, text, NULL, 0);
	pg_outbox_set_next_reply(s->outbox, 0);
	return r;
}
