/* bench_setup.c - registers and logs in a scenario's users, joins them to a room. */
#include "bench_setup.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum step { STEP_IDLE, STEP_REGISTER, STEP_LOGIN, STEP_JOIN, STEP_READY };

struct regconn {
	size_t first, count, answered;
	struct bconn *c;
};

/* Shared by the setup phases. */
struct setup {
	struct buser *u;
	size_t n;
	struct regconn *regs;
	size_t nregs;
	size_t next, in_setup, ready, answered;   /* answered: registrations or pongs */
	bool do_register;
	const char *room;
	int window;
	int64_t first_login_ns, last_login_ns;
	struct bsetup_stats st;
	struct bnet *net;
	char err[512];
	bool failed;
};

static void fail(struct setup *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail(struct setup *s, const char *fmt, ...)
{
	va_list ap;

	if (s->failed)
		return;
	s->failed = true;
	va_start(ap, fmt);
	vsnprintf(s->err, sizeof(s->err), fmt, ap);
	va_end(ap);
}

struct buser *bsetup_users(const char *tag, const char *scen, size_t n)
{
	struct buser *u = calloc(n ? n : 1, sizeof(*u));

	if (u == NULL)
		abort();
	for (size_t i = 0; i < n; i++) {
		/* at most 10 + 1 + 8 + 7 characters: within pier's 32 */
		snprintf(u[i].name, sizeof(u[i].name), "%.10s_%.8s%u", tag, scen,
		         (unsigned)(i % 10000000u));
		u[i].idx = (uint32_t)i;
	}
	return u;
}

const char *bsetup_describe(json_t *ev)
{
	static char buf[300];
	char *s = json_dumps(ev, JSON_COMPACT);

	snprintf(buf, sizeof(buf), "%s", s != NULL ? s : "?");
	free(s);
	return buf;
}

/* ---- registration over a few pipelined connections ---- */

static void reg_json(void *ctx, struct bconn *c, json_t *ev)
{
	struct setup *s = ctx;
	struct regconn *r = c->udata;
	json_t *status = json_object_get(ev, "status");

	if (strcmp(pier_event_op(ev), "register") != 0 || json_integer_value(status) != 3) {
		fail(s, "registration of %s refused: %s", s->u[r->first + r->answered].name,
		     bsetup_describe(ev));
		return;
	}
	r->answered++;
	s->answered++;
}

static void reg_close(void *ctx, struct bconn *c, const char *why)
{
	(void)c;
	fail(ctx, "a registration connection closed: %s", why);
}

static void setup_init(struct setup *s, struct bnet *net, struct buser *u, size_t n)
{
	memset(s, 0, sizeof(*s));
	s->u = u;
	s->n = n;
	s->net = net;
}

/* 0 when the step got through for all n users (done of them did), or -1 with its first error
 * in err. */
static int setup_result(const struct setup *s, size_t done, char *err, size_t errlen)
{
	if (s->failed || done != s->n) {
		snprintf(err, errlen, "%s", s->err);
		return -1;
	}
	return 0;
}

static bool reg_done(void *ctx)
{
	struct setup *s = ctx;

	return s->failed || s->answered == s->n;
}

int bsetup_register(struct bnet *net, struct buser *u, size_t n, int nconns, int64_t deadline_ns,
                    char *err, size_t errlen)
{
	static const struct bnet_handler h = { .on_json = reg_json, .on_close = reg_close };
	struct setup s;
	size_t per;
	int rc = -1;

	setup_init(&s, net, u, n);
	if (n == 0)
		return 0;
	if (nconns < 1)
		nconns = 1;
	if ((size_t)nconns > n)
		nconns = (int)n;
	s.regs = calloc((size_t)nconns, sizeof(*s.regs));
	if (s.regs == NULL)
		abort();
	per = (n + (size_t)nconns - 1) / (size_t)nconns;
	for (size_t first = 0; first < n; first += per) {
		struct regconn *r = &s.regs[s.nregs++];

		r->first = first;
		r->count = first + per <= n ? per : n - first;
		r->c = bnet_connect(net, r, err, errlen);
		if (r->c == NULL)
			goto out;
		for (size_t i = 0; i < r->count; i++)
			bnet_request(r->c, pier_req_register(u[first + i].name, BSETUP_PASSWORD));
	}
	if (bnet_run(net, &h, &s, reg_done, deadline_ns) != 0 && !s.failed)
		snprintf(s.err, sizeof(s.err), "registration timed out (%zu of %zu registered)",
		         s.answered, n);
	rc = setup_result(&s, s.answered, err, errlen);
out:
	for (size_t i = 0; i < s.nregs; i++) {
		if (s.regs[i].c != NULL)
			bnet_close(s.regs[i].c);
	}
	free(s.regs);
	return rc;
}

/* ---- one session per user ---- */

static void start_one(struct setup *s)
{
	struct buser *u = &s->u[s->next++];
	char err[256];

	u->c = bnet_connect(s->net, u, err, sizeof(err));
	if (u->c == NULL) {
		fail(s, "connecting %s: %s", u->name, err);
		return;
	}
	s->in_setup++;
	if (s->do_register)
		bnet_request(u->c, pier_req_register(u->name, BSETUP_PASSWORD));
	bnet_request(u->c, pier_req_login(u->name, BSETUP_PASSWORD));
	if (s->room != NULL)
		bnet_request(u->c, pier_req_join(s->room));
	u->step = s->do_register ? STEP_REGISTER : STEP_LOGIN;
	if (s->first_login_ns == 0)
		s->first_login_ns = bnet_clock();
}

static void start_more(struct setup *s)
{
	while (!s->failed && s->next < s->n && s->in_setup < (size_t)s->window)
		start_one(s);
}

static void became_ready(struct setup *s, struct buser *u)
{
	u->step = STEP_READY;
	s->in_setup--;
	s->ready++;
	start_more(s);
}

/* The login reply's challenge, kept for the user's device (a longer one is not kept). */
static void keep_challenge(struct buser *u, json_t *ev)
{
	const char *ch = json_string_value(json_object_get(ev, "challenge"));

	u->challenge[0] = '\0';
	if (ch != NULL && strlen(ch) < sizeof(u->challenge))
		snprintf(u->challenge, sizeof(u->challenge), "%s", ch);
}

static void login_json(void *ctx, struct bconn *c, json_t *ev)
{
	struct setup *s = ctx;
	struct buser *u = c->udata;
	const char *op = pier_event_op(ev);
	json_int_t status = json_integer_value(json_object_get(ev, "status"));

	switch (u->step) {
	case STEP_REGISTER:
		if (strcmp(op, "register") != 0 || status != 3) {
			fail(s, "registering %s: %s", u->name, bsetup_describe(ev));
			return;
		}
		u->step = STEP_LOGIN;
		return;
	case STEP_LOGIN:
		if (strcmp(op, "login") != 0 || status != 1) {
			fail(s, "logging in %s: %s", u->name, bsetup_describe(ev));
			return;
		}
		s->last_login_ns = bnet_now(s->net);
		s->st.logins++;
		keep_challenge(u, ev);
		if (s->room != NULL)
			u->step = STEP_JOIN;
		else
			became_ready(s, u);
		return;
	case STEP_JOIN:
		if (strcmp(op, "join") != 0) {
			fail(s, "%s joining the room: %s", u->name, bsetup_describe(ev));
			return;
		}
		became_ready(s, u);
		return;
	default:
		/* pong replies of bsetup_sync; offline markers; nothing else is expected */
		if (strcmp(op, "offline") == 0)
			return;
		fail(s, "unexpected event for %s during setup: %s", u->name, bsetup_describe(ev));
	}
}

static void count_fast(void *ctx, struct bconn *c, const struct bline *ev)
{
	struct setup *s = ctx;
	struct buser *u = c->udata;

	switch (ev->op) {
	case BLINE_PRESENCE:
		s->st.presence++;
		break;
	case BLINE_MEMBER:
		s->st.member++;
		break;
	case BLINE_USERS:
		s->st.users++;
		break;
	case BLINE_PONG:
		if (u->step == STEP_READY && bline_eq(ev->ref, "sync")) {
			u->step = STEP_IDLE;
			s->answered++;
			break;
		}
		fail(s, "unexpected pong for %s", u->name);
		break;
	default:
		fail(s, "unexpected %s for %s during setup", ev->op == BLINE_MSG ? "msg" : "sent",
		     u->name);
	}
}

static void login_close(void *ctx, struct bconn *c, const char *why)
{
	struct buser *u = c->udata;

	fail(ctx, "the connection of %s closed during setup: %s", u->name, why);
}

/* Logins and the sync after them hear the same events. */
static const struct bnet_handler session_handler = {
	.on_fast = count_fast, .on_json = login_json, .on_close = login_close,
};

static bool login_done(void *ctx)
{
	struct setup *s = ctx;

	return s->failed || s->ready == s->n;
}

int bsetup_login(struct bnet *net, struct buser *u, size_t n, bool do_register, const char *room,
                 int window, int64_t deadline_ns, struct bsetup_stats *st, char *err,
                 size_t errlen)
{
	struct setup s;

	setup_init(&s, net, u, n);
	s.do_register = do_register;
	s.room = room;
	s.window = window > 0 ? window : BSETUP_WINDOW;
	start_more(&s);
	if (bnet_run(net, &session_handler, &s, login_done, deadline_ns) != 0 && !s.failed)
		snprintf(s.err, sizeof(s.err), "logins timed out: %zu of %zu sessions ready", s.ready, n);
	s.st.login_ns = s.last_login_ns - s.first_login_ns;
	if (st != NULL)
		*st = s.st;
	return setup_result(&s, s.ready, err, errlen);
}

static bool sync_done(void *ctx)
{
	struct setup *s = ctx;

	return s->failed || s->answered == s->n;
}

int bsetup_sync(struct bnet *net, struct buser *u, size_t n, int64_t deadline_ns, char *err,
                size_t errlen)
{
	return bsetup_sync_counted(net, u, n, deadline_ns, NULL, err, errlen);
}

int bsetup_sync_counted(struct bnet *net, struct buser *u, size_t n, int64_t deadline_ns,
                        struct bsetup_stats *st, char *err, size_t errlen)
{
	struct setup s;

	setup_init(&s, net, u, n);
	for (size_t i = 0; i < n; i++) {
		json_t *ping = pier_req_ping();

		json_object_set_new(ping, "ref", json_string("sync"));
		u[i].step = STEP_READY;
		bnet_request(u[i].c, ping);
	}
	if (bnet_run(net, &session_handler, &s, sync_done, deadline_ns) != 0 && !s.failed)
		snprintf(s.err, sizeof(s.err), "sync timed out: %zu of %zu pongs", s.answered, n);
	if (st != NULL)
		*st = s.st;
	if (setup_result(&s, s.answered, err, errlen) != 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		u[i].step = STEP_READY;
	return 0;
}
