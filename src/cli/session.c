/* session.c - pier's session on the server across connection drops (session.h): reconnecting
 * with backoff, logging in again with the token, catching up with sync, and the outbox of
 * messages with cids.
 *
 * The state machine:
 *
 *     ONLINE --drop--> WAITING --time--> CONNECTING --connected--> LOGGING_IN --status 1--> ONLINE
 *                        ^                   |                         |
 *                        +----- failed ------+------ closed, timeout --+
 *
 * A token refused at LOGGING_IN asks for the password (ops->password) and logs in with it on
 * the same connection; when that cannot work out, the session goes to FAILED.
 *
 * Showing each message once: ids are unique and grow strictly, and a connection delivers them
 * in order, so every message with an id up to the highest one shown (`high`) was shown or was
 * older than the first login. After a reconnect the session fetches every message after
 * `high` (sync), holding back the live ones that arrive meanwhile so that the screen stays in
 * id order; a ring of the ids shown last catches the overlaps (a live message also in the
 * sync, a resend answered with the original `sent`, offline messages pushed again).
 */
#include "session.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "account.h"
#include "clock.h"
#include "xalloc.h"

#define RETRY_MIN_MS        500       /* the first reconnect waits 0.25-0.5 s */
#define RETRY_MAX_MS        30000     /* the longest wait between attempts */
#define RETRY_LIMIT_MS      300000    /* the longest a server's retry_after_ms is obeyed */
#define PING_IDLE_MS        30000     /* silence after which the server is pinged */
#define PONG_TIMEOUT_MS     30000     /* ... and after which, unanswered, the link counts as dead */
#define SYNC_PAGE           200
#define SYNC_PAGES_MAX      10        /* a catch-up shows at most 2,000 messages */
#define HELD_MAX            1000      /* live messages held back during a catch-up */
#define BASELINE_ROOMS_MAX  32        /* rooms asked for their newest id after the first login */
#define SEND_WINDOW         16        /* messages of the outbox in flight at once */
#define LOGIN_ATTEMPTS      5         /* passwords tried after a refused token */
#define RUN_ROUNDS          4         /* read-and-handle rounds per session_run */
#define RUN_EVENTS          256       /* events handled per round */

enum req_kind { SREQ_LOGIN, SREQ_SYNC, SREQ_BASELINE, SREQ_PING };

/* A request of the session's own, awaiting its reply. */
struct session_req {
	char ref[PIER_REF_MAX];
	enum req_kind kind;
	struct session_req *next;
};

/* A chat message in the outbox. */
struct session_out {
	char cid[48];
	char to[SESSION_TARGET_MAX];
	char *text;
	int64_t reply_to;            /* the quoted message, 0: none */
	char ref[PIER_REF_MAX];      /* of the send in flight on the current connection */
	bool in_flight;
	struct session_out *next;
};

/* A connection attempt: account_open in a thread of its own (it resolves the name and
 * waits for the connect and a TLS handshake, up to CLI_CONNECT_TIMEOUT_MS), so that the
 * chat's loop never waits for it. When the session stops caring (session_release), the
 * thread cleans up after itself. */
struct session_dial {
	pthread_t thread;
	pthread_mutex_t lock;
	int wake[2];                 /* one byte on wake[1] when done: poll wake[0] */
	bool done, abandoned;        /* under lock */
	const struct cli_options *o; /* main()'s: lives until the process exits */
	struct pier_conn *conn;      /* the result; NULL on failure */
};

static void drop(struct session *s, enum session_drop why, int64_t min_delay_ms);

/* ---- small things ---- */

static uint64_t rng_next(struct session *s)
{
	/* xorshift64*: jitter and cids need spread, not secrecy */
	s->rng ^= s->rng >> 12;
	s->rng ^= s->rng << 25;
	s->rng ^= s->rng >> 27;
	return s->rng * 0x2545F4914F6CDD1DULL;
}

static void wipe_free(char *secret)
{
	if (secret == NULL)
		return;
	explicit_bzero(secret, strlen(secret));
	free(secret);
}

static bool seen_has(const struct session *s, int64_t id)
{
	if (id > s->seen_max)
		return false;
	for (size_t i = 0; i < s->nseen; i++) {
		if (s->seen[i] == id)
			return true;
	}
	return false;
}

static void seen_add(struct session *s, int64_t id)
{
	s->seen[s->seen_pos] = id;
	s->seen_pos = (s->seen_pos + 1) % SESSION_SEEN_MAX;
	if (s->nseen < SESSION_SEEN_MAX)
		s->nseen++;
	if (id > s->seen_max)
		s->seen_max = id;
}

static int64_t msg_id(const json_t *msg)
{
	return json_integer_value(json_object_get(msg, "id"));
}

/* Shows msg, unless check says to look first whether it was shown already (or is older than
 * the last reconnect's floor). True if shown. */
static bool show(struct session *s, const json_t *msg, enum session_origin origin, bool check)
{
	int64_t id = msg_id(msg);

	if (id > 0) {
		if (check && (id <= s->floor || seen_has(s, id)))
			return false;
		seen_add(s, id);
		if (id > s->high)
			s->high = id;
	}
	s->ops->message(s->ctx, msg, origin);
	return true;
}

/* ---- the session's own requests ---- */

static void own_request(struct session *s, json_t *req, enum req_kind kind)
{
	struct session_req *r = xcalloc(1, sizeof *r);

	if (pier_client_request(pier_conn_client(s->conn), req, r->ref) != 0) {
		free(r);
		return;
	}
	r->kind = kind;
	r->next = s->reqs;
	s->reqs = r;
}

static struct session_req *take_req(struct session *s, const char *ref)
{
	for (struct session_req **p = &s->reqs; *p != NULL; p = &(*p)->next) {
		struct session_req *r = *p;

		if (strcmp(r->ref, ref) == 0) {
			*p = r->next;
			return r;
		}
	}
	return NULL;
}

static void free_reqs(struct session *s)
{
	while (s->reqs != NULL) {
		struct session_req *r = s->reqs;

		s->reqs = r->next;
		free(r);
	}
}

/* ---- the outbox ---- */

static struct session_out *find_out(struct session *s, const char *ref)
{
	for (struct session_out *m = s->out_head; m != NULL; m = m->next) {
		if (m->in_flight && strcmp(m->ref, ref) == 0)
			return m;
	}
	return NULL;
}

static void out_unlink(struct session *s, struct session_out *m)
{
	struct session_out *prev = NULL;

	for (struct session_out *p = s->out_head; p != NULL; prev = p, p = p->next) {
		if (p != m)
			continue;
		if (prev != NULL)
			prev->next = m->next;
		else
			s->out_head = m->next;
		if (s->out_tail == m)
			s->out_tail = prev;
		s->nout--;
		if (m->in_flight)
			s->inflight--;
		return;
	}
}

static void out_free(struct session_out *m)
{
	free(m->text);
	free(m);
}

/* Sends what the outbox holds, oldest first, at most SEND_WINDOW in flight: when online,
 * not catching up (resends go after the missed messages are shown) and not rate limited. */
static void outbox_pump(struct session *s)
{
	if (s->state != SESSION_ONLINE || s->catchup || pier_mono_ms() < s->send_paused_until)
		return;
	for (struct session_out *m = s->out_head; m != NULL && s->inflight < SEND_WINDOW; m = m->next) {
		if (m->in_flight)
			continue;
		/* The text was checked by session_send; only memory could fail here. */
		if (pier_client_request(pier_conn_client(s->conn),
		                        pier_req_send_reply(m->to, m->text, m->cid, m->reply_to),
		                        m->ref) != 0)
			break;
		m->in_flight = true;
		s->inflight++;
	}
}

static void send_reply(struct session *s, struct session_out *m, const json_t *ev)
{
	const char *op = pier_event_op(ev);
	const char *code = json_string_value(json_object_get(ev, "error"));

	if (strcmp(op, "sent") == 0) {
		const char *to = json_string_value(json_object_get(ev, "to"));
		json_t *msg = json_pack("{s:O?, s:s, s:s, s:s, s:O?}", "id", json_object_get(ev, "id"),
					"from", s->self, "to", to != NULL ? to : m->to, "text", m->text,
					"ts", json_object_get(ev, "ts"));
		static const char *const extra[] = { "reply_to", "quote", "mentions" };

		/* what the server adds: the quote of a reply, whom it mentions */
		for (size_t i = 0; msg != NULL && i < sizeof extra / sizeof extra[0]; i++) {
			if (json_object_get(ev, extra[i]) != NULL)
				json_object_set(msg, extra[i], json_object_get(ev, extra[i]));
		}
		out_unlink(s, m);
		s->high_known = true;
		/* a duplicate was stored by an earlier try: maybe shown by the catch-up already */
		if (msg != NULL)
			show(s, msg, SESSION_MSG_OWN, json_is_true(json_object_get(ev, "duplicate")));
		json_decref(msg);
		out_free(m);
		return;
	}
	if (strcmp(op, "error") == 0 && code != NULL && strcmp(code, "rate_limited") == 0) {
		int64_t wait = json_integer_value(json_object_get(ev, "retry_after_ms"));

		/* Not stored: send it again when the server allows. */
		m->in_flight = false;
		s->inflight--;
		wait = wait < 100 ? 100 : wait > RETRY_LIMIT_MS ? RETRY_LIMIT_MS : wait;
		if (pier_mono_ms() + wait > s->send_paused_until)
			s->send_paused_until = pier_mono_ms() + wait;
		return;
	}
	out_unlink(s, m);
	s->ops->send_failed(s->ctx, m->to, m->text, ev);
	out_free(m);
}

/* ---- catching up ---- */

static bool is_change_event(const char *op)
{
	return strcmp(op, "edited") == 0 || strcmp(op, "recalled") == 0 ||
	       strcmp(op, "reaction") == 0;
}

/* The next page of a sync chain; a catch-up asks for the changes too. */
static void request_sync(struct session *s)
{
	own_request(s, s->catchup ? pier_req_sync_changes(s->sync_after, s->sync_changes_after, SYNC_PAGE)
	                          : pier_req_sync(s->sync_after, SYNC_PAGE), SREQ_SYNC);
}

static void start_sync(struct session *s, int64_t after, bool catchup)
{
	s->syncing = true;
	s->catchup = catchup;
	s->sync_pages = 0;
	s->sync_shown = 0;
	s->changes_shown = 0;
	s->sync_after = after;
	s->sync_changes_after = s->change_seq;
	request_sync(s);
}

/* A live change to a message: shown unless a catch-up showed that state already. */
static void show_change_event(struct session *s, const json_t *ev)
{
	int64_t changed = json_integer_value(json_object_get(ev, "changed"));

	if (changed != 0 && changed <= s->change_seq)
		return;
	if (changed > s->change_seq)
		s->change_seq = changed;
	s->ops->event(s->ctx, ev);
}

static void end_sync(struct session *s, bool truncated)
{
	bool catchup = s->catchup;
	json_t *msg;
	size_t i;

	s->syncing = false;
	s->catchup = false;
	json_array_foreach(s->held, i, msg) {
		if (is_change_event(pier_event_op(msg)))
			show_change_event(s, msg);
		else
			show(s, msg, json_is_true(json_object_get(msg, "offline")) ? SESSION_MSG_OFFLINE
										    : SESSION_MSG_LIVE, true);
	}
	json_array_clear(s->held);
	if (!catchup)
		return;
	s->ops->caught_up(s->ctx, s->sync_shown, s->changes_shown, truncated, false);
	outbox_pump(s);
}

/* The changes of a catch-up's page: each message as it is now, in change order. */
static void sync_changes(struct session *s, const json_t *ev)
{
	json_t *msg;
	size_t i;

	json_array_foreach(json_object_get(ev, "changes"), i, msg) {
		int64_t changed = json_integer_value(json_object_get(msg, "changed"));

		if (changed > s->sync_changes_after)
			s->sync_changes_after = changed;
		if (changed <= s->change_seq)
			continue;
		s->change_seq = changed;
		s->ops->changed(s->ctx, msg);
		s->changes_shown++;
	}
}

static void sync_reply(struct session *s, const json_t *ev)
{
	json_t *messages = json_object_get(ev, "messages"), *msg;
	bool more, changes_more;
	size_t i;

	if (strcmp(pier_event_op(ev), "sync") != 0) {
		end_sync(s, true);
		return;
	}
	json_array_foreach(messages, i, msg) {
		if (show(s, msg, s->catchup ? SESSION_MSG_MISSED : SESSION_MSG_OFFLINE, true))
			s->sync_shown++;
		if (msg_id(msg) > s->sync_after)
			s->sync_after = msg_id(msg);
	}
	more = json_is_true(json_object_get(ev, "more"));
	changes_more = s->catchup && json_is_true(json_object_get(ev, "changes_more"));
	if (s->catchup)
		sync_changes(s, ev);
	s->sync_pages++;
	if ((more || changes_more) && s->sync_pages < SYNC_PAGES_MAX) {
		request_sync(s);
		return;
	}
	/* Every change up to the server's newest was in the pages: start from there next time. */
	if (s->catchup && !changes_more &&
	    json_integer_value(json_object_get(ev, "change_seq")) > s->change_seq)
		s->change_seq = json_integer_value(json_object_get(ev, "change_seq"));
	end_sync(s, more || changes_more);
}

/* After the first login nothing was seen yet: the newest message of each room (up to
 * BASELINE_ROOMS_MAX) says where a catch-up after a drop must start, so that it does not
 * replay the rooms' whole history. */
static void start_baseline(struct session *s, const json_t *rooms)
{
	json_t *room;
	size_t i;

	json_array_foreach(rooms, i, room) {
		if (i >= BASELINE_ROOMS_MAX || !json_is_string(room))
			break;
		own_request(s, pier_req_history(json_string_value(room), 0, 1), SREQ_BASELINE);
		s->baseline_left++;
	}
	if (s->baseline_left == 0)
		s->high_known = true;
}

/* ---- logging in ---- */

static void fail(struct session *s, enum session_fail why)
{
	pier_conn_close(s->conn);
	s->conn = NULL;
	free_reqs(s);
	wipe_free(s->password);
	s->password = NULL;
	s->state = SESSION_FAILED;
	s->ops->failed(s->ctx, why);
}

static void send_login(struct session *s)
{
	json_t *req = s->token != NULL ? pier_req_login_token(s->token)
				       : pier_req_login(s->self, s->password);

	s->relogin = s->token == NULL;
	own_request(s, req, SREQ_LOGIN);
	s->state = SESSION_LOGGING_IN;
	s->login_deadline = pier_mono_ms() + CLI_REPLY_TIMEOUT_MS;
}

/* Gets a password from the user. False (after fail) when there is none. */
static bool ask_password(struct session *s, bool again)
{
	char *pw;

	if (s->password_tries >= LOGIN_ATTEMPTS) {
		fail(s, SESSION_FAIL_PASSWORD);
		return false;
	}
	pw = s->ops->password(s->ctx, again);
	if (pw == NULL) {
		fail(s, again ? SESSION_FAIL_PASSWORD : SESSION_FAIL_NO_PASSWORD);
		return false;
	}
	wipe_free(s->password);
	s->password = pw;
	return true;
}

static void set_challenge(struct session *s, const json_t *reply)
{
	const char *c = json_string_value(json_object_get(reply, "challenge"));

	snprintf(s->challenge, sizeof s->challenge, "%s", c != NULL ? c : "");
}

static void logged_in(struct session *s, const json_t *ev)
{
	const char *token = json_string_value(json_object_get(ev, "token"));
	const char *user = json_string_value(json_object_get(ev, "user"));

	if (token != NULL) {
		wipe_free(s->token);
		s->token = xstrdup(token);
	}
	if (user != NULL)
		snprintf(s->self, sizeof s->self, "%s", user);
	set_challenge(s, ev);
	wipe_free(s->password);
	s->password = NULL;
	s->password_tries = 0;
	s->state = SESSION_ONLINE;
	s->attempt = 0;
	s->last_heard = pier_mono_ms();
	s->ping_out = false;
	s->swallow_users = true;
	if (s->relogin) {
		/* A refused token most likely means the server's data is not what it was (restored,
		 * reset): ids seen before say nothing about it. Start again as after a first login. */
		s->high = s->floor = s->seen_max = 0;
		s->nseen = s->seen_pos = 0;
		s->high_known = false;
	}
	s->floor = s->high;
	s->ops->reconnected(s->ctx, s->relogin);
	if (s->state != SESSION_ONLINE)
		return;
	if (s->high_known) {
		start_sync(s, s->high, true);
		return;
	}
	/* Dropped before anything said where the catch-up would start: none, this time. */
	s->change_seq = json_integer_value(json_object_get(ev, "change_seq"));
	start_baseline(s, json_object_get(ev, "rooms"));
	s->ops->caught_up(s->ctx, 0, 0, false, true);
	outbox_pump(s);
}

static void login_reply(struct session *s, const json_t *ev)
{
	json_t *status = json_object_get(ev, "status");

	if (strcmp(pier_event_op(ev), "login") != 0 || !json_is_integer(status)) {
		/* rate_limited, busy, store_failed: try again later */
		drop(s, SESSION_DROP_LOGIN, json_integer_value(json_object_get(ev, "retry_after_ms")));
		return;
	}
	switch (json_integer_value(status)) {
	case PIER_LOGIN_OK:
		logged_in(s, ev);
		return;
	case PIER_LOGIN_NO_SUCH_USER:
		fail(s, SESSION_FAIL_NO_USER);
		return;
	default:
		break;
	}
	/* The token is unknown or revoked, or the password was wrong: ask, and log in with the
	 * password on this connection (or the next one, if the server closes this meanwhile). */
	if (s->relogin)
		s->password_tries++;
	wipe_free(s->token);
	s->token = NULL;
	if (ask_password(s, s->relogin))
		send_login(s);
}

/* ---- events ---- */

static void own_reply(struct session *s, enum req_kind kind, const json_t *ev)
{
	json_t *msg;
	size_t i;

	switch (kind) {
	case SREQ_LOGIN:
		login_reply(s, ev);
		break;
	case SREQ_SYNC:
		sync_reply(s, ev);
		break;
	case SREQ_BASELINE:
		json_array_foreach(json_object_get(ev, "messages"), i, msg) {
			if (msg_id(msg) > s->high)
				s->high = msg_id(msg);
		}
		if (--s->baseline_left == 0)
			s->high_known = true;
		break;
	case SREQ_PING:
		break;
	}
}

static void on_change(struct session *s, const json_t *ev)
{
	if (s->catchup && json_array_size(s->held) < HELD_MAX) {
		json_array_append(s->held, (json_t *)ev);
		return;
	}
	show_change_event(s, ev);
}

static void on_msg(struct session *s, const json_t *ev)
{
	bool offline = json_is_true(json_object_get(ev, "offline"));

	if (s->catchup && json_array_size(s->held) < HELD_MAX) {
		json_array_append(s->held, (json_t *)ev);
		return;
	}
	/* A live message is new; an offline one may have been pushed before (a server that
	 * crashed before it noted what was delivered). */
	if (!offline)
		s->high_known = true;
	show(s, ev, offline ? SESSION_MSG_OFFLINE : SESSION_MSG_LIVE, offline || s->catchup);
}

static void on_event(struct session *s, const json_t *ev)
{
	const char *op = pier_event_op(ev);
	const char *ref = json_string_value(json_object_get(ev, "ref"));
	struct session_req *r = ref != NULL ? take_req(s, ref) : NULL;
	struct session_out *m = ref != NULL && r == NULL ? find_out(s, ref) : NULL;

	s->last_heard = pier_mono_ms();
	s->ping_out = false;
	if (r != NULL) {
		enum req_kind kind = r->kind;

		free(r);
		own_reply(s, kind, ev);
	} else if (m != NULL) {
		send_reply(s, m, ev);
	} else if (strcmp(op, "msg") == 0) {
		on_msg(s, ev);
	} else if (is_change_event(op)) {
		on_change(s, ev);
	} else if (strcmp(op, "offline") == 0) {
		/* More private messages arrived while logged out than the server pushes. After a
		 * reconnect the catch-up fetches them anyway. */
		if (json_is_true(json_object_get(ev, "more")) && !s->syncing)
			start_sync(s, json_integer_value(json_object_get(ev, "after")), false);
	} else if (strcmp(op, "users") == 0 && s->swallow_users) {
		s->swallow_users = false;     /* who is online was known before the drop */
	} else {
		s->ops->event(s->ctx, ev);
	}
}

/* ---- connecting ---- */

static void dial_free(struct session_dial *d)
{
	close(d->wake[0]);
	close(d->wake[1]);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

static void *dial_main(void *arg)
{
	struct session_dial *d = arg;
	struct pier_conn *conn = account_open(d->o, NULL);
	bool abandoned;

	pthread_mutex_lock(&d->lock);
	abandoned = d->abandoned;
	d->conn = conn;
	d->done = true;
	pthread_mutex_unlock(&d->lock);
	if (abandoned) {
		pier_conn_close(conn);
		dial_free(d);
	} else if (write(d->wake[1], "", 1) < 0) {
		/* the session checks d->done on its next run anyway */
	}
	return NULL;
}

/* Starts a connection attempt; after a refused token without a password, asks first. */
static void dial_start(struct session *s)
{
	struct session_dial *d;
	sigset_t all, old;
	int rc;

	if (s->token == NULL && s->password == NULL && !ask_password(s, false))
		return;
	d = xcalloc(1, sizeof *d);
	if (pipe(d->wake) != 0) {
		free(d);
		drop(s, SESSION_DROP_CLOSED, 0);
		return;
	}
	pthread_mutex_init(&d->lock, NULL);
	d->o = s->o;
	/* Signals (Ctrl-C) belong to the main thread's poll loop. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&d->thread, NULL, dial_main, d);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		dial_free(d);
		drop(s, SESSION_DROP_CLOSED, 0);
		return;
	}
	s->dial = d;
	s->state = SESSION_CONNECTING;
}

/* Takes the attempt's result once it is there. */
static void dial_check(struct session *s)
{
	struct session_dial *d = s->dial;
	struct pier_conn *conn;
	bool done;

	pthread_mutex_lock(&d->lock);
	done = d->done;
	pthread_mutex_unlock(&d->lock);
	if (!done)
		return;
	pthread_join(d->thread, NULL);
	conn = d->conn;
	dial_free(d);
	s->dial = NULL;
	if (conn == NULL) {
		drop(s, SESSION_DROP_CLOSED, 0);
		return;
	}
	s->conn = conn;
	s->last_heard = pier_mono_ms();
	send_login(s);
}

static void dial_abandon(struct session *s)
{
	struct session_dial *d = s->dial;
	bool done;

	if (d == NULL)
		return;
	s->dial = NULL;
	pthread_mutex_lock(&d->lock);
	done = d->done;
	d->abandoned = true;
	pthread_mutex_unlock(&d->lock);
	if (!done) {
		pthread_detach(d->thread);   /* dial_main frees d */
		return;
	}
	pthread_join(d->thread, NULL);
	pier_conn_close(d->conn);
	dial_free(d);
}

/* The connection is gone (or never came): forget what was in flight, and wait before the
 * next attempt: 0.5 s doubling to 30 s, each wait somewhere in its upper half. */
static void drop(struct session *s, enum session_drop why, int64_t min_delay_ms)
{
	bool was_online = s->state == SESSION_ONLINE;
	int64_t base = RETRY_MAX_MS, delay;

	pier_conn_close(s->conn);
	s->conn = NULL;
	free_reqs(s);
	json_array_clear(s->held);    /* the next catch-up fetches them again */
	s->syncing = false;
	s->catchup = false;
	s->baseline_left = 0;
	s->swallow_users = false;
	s->ping_out = false;
	for (struct session_out *m = s->out_head; m != NULL; m = m->next)
		m->in_flight = false;  /* sent again, with the same cid, after the next login */
	s->inflight = 0;
	s->send_paused_until = 0;

	if (s->attempt < 6)
		base = (int64_t)RETRY_MIN_MS << s->attempt;
	if (base > RETRY_MAX_MS)
		base = RETRY_MAX_MS;
	delay = base / 2 + (int64_t)(rng_next(s) % (uint64_t)(base / 2 + 1));
	if (min_delay_ms > RETRY_LIMIT_MS)
		min_delay_ms = RETRY_LIMIT_MS;
	if (delay < min_delay_ms)
		delay = min_delay_ms;
	s->attempt++;
	s->state = SESSION_WAITING;
	s->next_try = pier_mono_ms() + delay;
	if (was_online)
		s->ops->offline(s->ctx, why, s->nout);
}

/* ---- the session's face ---- */

void session_init(struct session *s, const struct cli_options *o, const struct session_ops *ops,
		  void *ctx)
{
	uint64_t seed = 0;

	memset(s, 0, sizeof *s);
	s->o = o;
	s->ops = ops;
	s->ctx = ctx;
	s->state = SESSION_WAITING;
	s->next_try = INT64_MAX;
	s->held = json_array();
	if (s->held == NULL) {
		fputs("pier: out of memory\n", stderr);
		abort();
	}
	if (getentropy(&seed, sizeof seed) != 0)
		seed = 0;
	seed ^= (uint64_t)pier_now_ms() ^ ((uint64_t)getpid() << 32);
	s->rng = seed != 0 ? seed : 0x9E3779B97F4A7C15ULL;
	/* cids must be unique per user, across runs and the user's other clients */
	snprintf(s->cid_base, sizeof s->cid_base, "%016llx", (unsigned long long)rng_next(s));
}

void session_release(struct session *s)
{
	dial_abandon(s);
	pier_conn_close(s->conn);
	s->conn = NULL;
	free_reqs(s);
	while (s->out_head != NULL) {
		struct session_out *m = s->out_head;

		s->out_head = m->next;
		out_free(m);
	}
	s->out_tail = NULL;
	s->nout = 0;
	json_decref(s->held);
	s->held = NULL;
	wipe_free(s->token);
	wipe_free(s->password);
	s->token = s->password = NULL;
}

void session_start(struct session *s, struct pier_conn *conn, const json_t *reply)
{
	const char *token = json_string_value(json_object_get(reply, "token"));
	const char *user = json_string_value(json_object_get(reply, "user"));

	s->conn = conn;
	snprintf(s->self, sizeof s->self, "%s", user != NULL ? user : "");
	s->token = token != NULL ? xstrdup(token) : NULL;
	set_challenge(s, reply);
	s->state = SESSION_ONLINE;
	s->last_heard = pier_mono_ms();
	s->change_seq = json_integer_value(json_object_get(reply, "change_seq"));
	start_baseline(s, json_object_get(reply, "rooms"));
}

void session_pollfd(struct session *s, struct pollfd *pfd)
{
	const char *data;

	pfd->fd = -1;
	pfd->events = POLLIN;
	pfd->revents = 0;
	if (s->state == SESSION_CONNECTING && s->dial != NULL) {
		pfd->fd = s->dial->wake[0];
	} else if (s->conn != NULL) {
		pfd->fd = pier_conn_fd(s->conn);
		if (pier_client_pending(pier_conn_client(s->conn), &data) > 0)
			pfd->events |= POLLOUT;
	}
}

static int64_t earlier(int64_t a, int64_t b)
{
	return a < 0 || (b >= 0 && b < a) ? b : a;
}

int session_timeout_ms(const struct session *s)
{
	int64_t now = pier_mono_ms(), at = -1;

	if (s->busy && (s->state == SESSION_ONLINE || s->state == SESSION_LOGGING_IN))
		return 0;      /* events are waiting to be handled */
	switch (s->state) {
	case SESSION_WAITING:
		at = s->next_try;
		break;
	case SESSION_LOGGING_IN:
		at = s->login_deadline;
		break;
	case SESSION_ONLINE:
		at = s->last_heard + PING_IDLE_MS + (s->ping_out ? PONG_TIMEOUT_MS : 0);
		if (s->nout > s->inflight && s->send_paused_until > now)
			at = earlier(at, s->send_paused_until);
		break;
	case SESSION_CONNECTING:
	case SESSION_FAILED:
		break;
	}
	if (at < 0 || at == INT64_MAX)
		return -1;
	at -= now;
	return at <= 0 ? 0 : at > 60000 ? 60000 : (int)at;
}

/* Keepalive and the login's deadline. */
static void check_timers(struct session *s)
{
	int64_t now = pier_mono_ms();

	if (s->state == SESSION_LOGGING_IN) {
		if (now >= s->login_deadline)
			drop(s, SESSION_DROP_LOGIN, 0);
		return;
	}
	if (!s->ping_out && now - s->last_heard >= PING_IDLE_MS) {
		own_request(s, pier_req_ping(), SREQ_PING);
		s->ping_out = true;
	} else if (s->ping_out && now - s->last_heard >= PING_IDLE_MS + PONG_TIMEOUT_MS) {
		drop(s, SESSION_DROP_SILENT, 0);
	}
}

void session_run(struct session *s)
{
	json_t *ev;

	if (s->state == SESSION_WAITING && pier_mono_ms() >= s->next_try)
		dial_start(s);
	if (s->state == SESSION_CONNECTING)
		dial_check(s);
	if (s->state != SESSION_ONLINE && s->state != SESSION_LOGGING_IN)
		return;
	/* Every read is followed by handling what it brought: pier_conn_next reads until nothing
	 * more has arrived, so an event is never left in the connection's queue to wait for the
	 * next wake-up. A flood is handled in rounds, the keyboard served in between (s->busy).
	 * What gets queued goes out on the next run: session_pollfd asks for POLLOUT. */
	s->busy = true;
	for (int round = 0; round < RUN_ROUNDS && s->busy; round++) {
		bool closed = pier_conn_pump(s->conn) != 0;
		size_t handled = 0;

		while (s->conn != NULL && handled < RUN_EVENTS &&
		       (ev = pier_conn_next(s->conn, 0)) != NULL) {
			on_event(s, ev);
			json_decref(ev);
			handled++;
		}
		if (s->conn == NULL)
			return;
		if (closed && handled < RUN_EVENTS) {
			drop(s, SESSION_DROP_CLOSED, 0);
			return;
		}
		s->busy = handled > 0;
	}
	check_timers(s);
	if (s->conn != NULL)
		outbox_pump(s);
}

enum session_state session_state(const struct session *s)
{
	return s->state;
}

bool session_is_online(const struct session *s)
{
	return s->state == SESSION_ONLINE;
}

const char *session_self(const struct session *s)
{
	return s->self;
}

const char *session_challenge(const struct session *s)
{
	return s->challenge;
}

size_t session_unsent(const struct session *s)
{
	return s->nout;
}

enum session_send_result session_send(struct session *s, const char *to, const char *text)
{
	return session_send_reply(s, to, text, 0);
}

enum session_send_result session_send_reply(struct session *s, const char *to, const char *text,
                                            int64_t reply_to)
{
	json_t *probe;
	struct session_out *m;

	if (s->nout >= SESSION_OUTBOX_MAX)
		return SESSION_SEND_FULL;
	probe = pier_req_send(to, text, NULL);
	if (probe == NULL)
		return SESSION_SEND_BAD;
	json_decref(probe);
	m = xcalloc(1, sizeof *m);
	snprintf(m->cid, sizeof m->cid, "%s-%llu", s->cid_base, (unsigned long long)++s->cid_seq);
	snprintf(m->to, sizeof m->to, "%s", to);
	m->text = xstrdup(text);
	m->reply_to = reply_to;
	if (s->out_tail != NULL)
		s->out_tail->next = m;
	else
		s->out_head = m;
	s->out_tail = m;
	s->nout++;
	/* session_run sends it (no callbacks from here) */
	return s->state == SESSION_ONLINE ? SESSION_SEND_OK : SESSION_SEND_QUEUED;
}

int session_request(struct session *s, json_t *req, char ref_out[PIER_REF_MAX])
{
	if (s->state != SESSION_ONLINE) {
		json_decref(req);
		return -1;
	}
	return pier_client_request(pier_conn_client(s->conn), req, ref_out);
}

void session_saw(struct session *s, const json_t *messages)
{
	json_t *msg;
	size_t i;

	json_array_foreach(messages, i, msg) {
		if (msg_id(msg) > s->high)
			s->high = msg_id(msg);
	}
}

void session_logout(struct session *s, int timeout_ms)
{
	if (s->state != SESSION_ONLINE || s->conn == NULL || pier_conn_is_closed(s->conn))
		return;
	json_decref(pier_conn_call(s->conn, pier_req_logout(), timeout_ms));
}
