/* offline.c - private messages that waited for their recipient.
 *
 * users.seen_id in the store is the watermark: the highest private message id whose bytes were
 * written to some session of the user. It moves only on written bytes (conn_written_tag), never
 * on queued ones, so a session dropped with output still queued loses nothing: the next login
 * starts below what it never got.
 *
 * When a user's first session opens, that session (u->catchup) gets the backlog, the private
 * messages above the watermark, OFFLINE_PAGE at a time: a page is read only while the
 * session's queued output is below its soft mark, and a page is queued only while it stays
 * below it; what did not fit is read again once the output drained (conn_handler.drained).
 * So a client that does not read holds at most the soft mark plus one message, never passes
 * the output limit, and is never dropped for its backlog.
 *
 * Ordering: while the backlog is being read, private messages to the user are not delivered
 * live to the catching-up session. The store completes jobs in order, so a message stored
 * before a page read is in that page or a later one, and one stored after the last page read
 * is delivered live after it: the backlog and the live messages meet without a gap or a
 * duplicate. The user's other sessions get live messages at once; their writes count for the
 * watermark only once the catch-up is written (until then the backlog below them is not).
 * The watermark is stored when the user's last session closes; after a crash, messages since
 * the last store are delivered again (clients drop duplicates by id).
 * In a cluster, other nodes' messages come through the sequencer at any time after their
 * commit, possibly before the page read that preceded their commit completed: a live one the
 * catching-up session skipped above what the backlog reached makes it read once more; and
 * one the backlog held may arrive live after the catch-up ended: a session never gets a
 * private message at or below the highest it was given (ids reach a session ascending).
 */
#include "offline.h"

#include <stdlib.h>

#include "conn.h"
#include "events.h"
#include "hub.h"
#include "log.h"
#include "sbuf.h"
#include "server.h"
#include "store.h"
#include "xalloc.h"

/* One page read of a backlog. */
struct offline_read {
	struct user *user;
	struct conn *conn;           /* referenced while the read runs */
	unsigned gen;
	struct store_job job;
};

static void store_seen(struct server *srv, struct user *u);

static bool is_paging(const struct user *u)
{
	return u->catchup != NULL && !u->offline_all_queued;
}

/* The catching-up session wrote its whole backlog: from now on every session's writes count. */
static void check_caught_up(struct user *u)
{
	struct conn *c = u->catchup;
	int64_t written;

	if (c == NULL || !u->offline_all_queued)
		return;
	/* written_max counts when nothing was queued: offline_after never passed it then. */
	written = conn_written_tag(c);
	if (written < u->written_max)
		written = u->written_max;
	if (written < u->offline_after)
		return;
	if (u->offline_after > u->written_max)
		u->written_max = u->offline_after;
	u->catchup = NULL;
	/* A cluster: the user's next login may be on another node, which knows the watermark
	 * only from the store: store it now, not only when the last session here closes. */
	if (c->srv->cluster != NULL && u->written_max > u->seen_saved)
		store_seen(c->srv, u);
}

static void note_written(struct user *u, const struct conn *c)
{
	int64_t t = conn_written_tag(c);

	if ((u->catchup == NULL || u->catchup == c) && t > u->written_max)
		u->written_max = t;
}

static void read_page(struct server *srv, struct user *u);

/* Queues the page's messages while c's output stays below its soft mark. */
static void page_read(struct store_job *job)
{
	struct offline_read *r = job->data;
	struct user *u = r->user;
	struct conn *c = r->conn;
	struct server *srv = c->srv;
	size_t i;

	if (u->online_gen != r->gen || u->catchup != c)
		goto out;            /* a stale read: the session left, or another took over */
	u->offline_reading = false;
	if (job->status != STORE_OK || c->closing) {
		if (job->status != STORE_OK)
			log_error("offline: could not read the backlog of %s", u->name);
		goto out;
	}
	for (i = 0; i < job->nmsgs && u->offline_pushed < OFFLINE_PUSH_MAX; i++) {
		const struct store_msg *m = &job->msgs[i];
		json_t *ev;
		struct sbuf *b;
		bool queued;

		if (!conn_output_below_soft(c))
			break;       /* the rest is read again once the output drained */
		ev = event_msg_offline(&srv->hub, m);
		b = sbuf_from_json(ev);
		json_decref(ev);
		queued = b->len <= conn_output_room(c) && conn_send_tagged(c, b, m->id);
		sbuf_unref(b);
		if (!queued)
			break;
		u->offline_after = m->id;
		u->offline_pushed++;
	}
	if (i == job->nmsgs && !job->more && srv->cluster != NULL &&
	    u->offline_skipped > u->offline_after) {
		/* A cluster: another node's message reached the sequencer while this page was
		 * read, perhaps after the read; it was skipped live, so read once more (the new
		 * read comes after its commit and holds it). One node never gets here: its own
		 * messages complete in the store's order, before the page that follows them. */
		read_page(srv, u);
	} else if (i == job->nmsgs && !job->more) {
		u->offline_all_queued = true;
	} else if (u->offline_pushed >= OFFLINE_PUSH_MAX) {
		/* Enough for one login: the client is told exactly where to go on with sync. */
		conn_send_json(c, event_offline_more(u->offline_after));
		u->offline_all_queued = true;
	} else if (i == job->nmsgs && conn_output_below_soft(c)) {
		read_page(srv, u);   /* the page fit: the next one at once */
	}
	check_caught_up(u);
out:
	conn_unref(c);
	store_job_release(job);
	free(r);
}

static void read_page(struct server *srv, struct user *u)
{
	struct offline_read *r = xcalloc(1, sizeof(*r));

	u->offline_reading = true;
	r->user = u;
	r->conn = u->catchup;
	conn_ref(r->conn);
	r->gen = u->online_gen;
	store_job_init(&r->job, STORE_OFFLINE);
	r->job.user_id = u->id;
	r->job.after = u->offline_after;
	r->job.limit = OFFLINE_PAGE;
	r->job.data = r;
	r->job.done = page_read;
	store_submit(srv->store, &r->job);
}

/* Starts (or restarts) the catch-up on c from the watermark. */
static void begin_catchup(struct server *srv, struct user *u, struct conn *c)
{
	u->online_gen++;
	u->catchup = c;
	u->offline_all_queued = false;
	u->offline_after = u->written_max;
	u->offline_skipped = 0;
	read_page(srv, u);
}

void offline_start(struct server *srv, struct user *u, struct conn *c)
{
	u->offline_pushed = 0;
	begin_catchup(srv, u, c);
}

void offline_deliver_private(struct user *u, struct sbuf *b, int64_t id, const struct conn *except,
                             bool (*skip)(const struct conn *c))
{
	bool paging = is_paging(u);

	for (size_t i = 0; i < u->nsessions; i++) {
		struct conn *c = u->sessions[i];

		if (paging && c == u->catchup && c != except && (skip == NULL || !skip(c))) {
			if (id > u->offline_skipped)
				u->offline_skipped = id;
			continue;
		}
		if (c == except || (paging && c == u->catchup) || (skip != NULL && skip(c)))
			continue;
		/* A cluster: another node's message committed before a backlog page was read is in
		 * the page, and may reach this node's sequencer only after the catch-up ended. */
		if (id <= conn_queued_tag(c))
			continue;
		conn_send_tagged(c, b, id);
	}
}

void offline_drained(struct conn *c)
{
	struct user *u = c->user;

	if (u == NULL)
		return;
	note_written(u, c);
	if (u->catchup != c)
		return;
	check_caught_up(u);
	if (is_paging(u) && !u->offline_reading && conn_output_below_soft(c))
		read_page(c->srv, u);
}

void offline_session_leave(struct server *srv, struct user *u, struct conn *c)
{
	note_written(u, c);
	if (u->catchup != c)
		return;
	u->catchup = NULL;
	u->offline_reading = false;
	u->online_gen++;             /* a read in flight is stale now */
	for (size_t i = 0; i < u->nsessions; i++) {
		if (u->sessions[i] != c && !u->sessions[i]->closing) {
			/* It may get again what it had live: clients drop duplicates by id. */
			begin_catchup(srv, u, u->sessions[i]);
			return;
		}
	}
}

static void seen_stored(struct store_job *job)
{
	if (job->status != STORE_OK)
		log_error("could not record delivered messages for user id %lld", (long long)job->user_id);
	store_job_release(job);
	free(job);
}

static void store_seen(struct server *srv, struct user *u)
{
	struct store_job *job = xcalloc(1, sizeof(*job));

	store_job_init(job, STORE_SET_SEEN);
	job->user_id = u->id;
	job->seen_id = u->written_max;
	job->done = seen_stored;
	u->seen_saved = u->written_max;
	store_submit(srv->store, job);
}

void offline_user_gone(struct server *srv, struct user *u)
{
	u->catchup = NULL;
	u->offline_reading = false;
	u->online_gen++;
	if (u->written_max == 0)
		return;
	store_seen(srv, u);
}

void offline_tick(struct server *srv)
{
	if (srv->cluster == NULL)
		return;
	for (struct user *u = srv->hub.online; u != NULL; u = u->online_next) {
		if (u->catchup == NULL && u->written_max > u->seen_saved)
			store_seen(srv, u);
	}
}
