/* store_rules.c - the store's decisions that do not depend on the database (store_rules.h),
 * one copy for the SQLite and the PostgreSQL back ends. */
#include "store_rules.h"

#include <string.h>

#include "msgrules.h"

const char *store_media_kind(const char *asked, const char *type)
{
	static const char *const kinds[] = { "image", "video", "audio" };
	const char *fits = "file";

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		size_t n = strlen(kinds[i]);

		if (strncmp(type, kinds[i], n) == 0 && type[n] == '/')
			fits = kinds[i];
	}
	if (asked == NULL)
		return fits;
	return strcmp(asked, fits) == 0 ? fits : "file";
}

enum store_status store_rule_cid(int found)
{
	if (found == 2)
		return STORE_CONFLICT;
	if (found <= 0)
		return found == 0 ? STORE_DUPLICATE : STORE_FAILED;
	return STORE_OK;
}

enum store_status store_rule_media(enum store_status ms, struct store_job *job, bool e2ee)
{
	if (ms != STORE_OK)
		return ms == STORE_NOT_FOUND ? STORE_DENIED : ms;
	job->kind = store_media_kind(job->kind, job->media.type);
	if (e2ee && !job->media.e2ee)
		return STORE_DENIED;    /* an encrypted message carries only ciphertext */
	return STORE_OK;
}

enum store_status store_rule_reply(enum store_status qs, const struct store_msg_check *q,
                                   const struct store_job *job, int64_t room_id)
{
	/* The quoted message must be of this conversation (so the sender may see it). */
	int64_t lo = job->user_id < job->peer_id ? job->user_id : job->peer_id;
	int64_t hi = job->user_id < job->peer_id ? job->peer_id : job->user_id;

	if (qs == STORE_FAILED)
		return STORE_FAILED;
	if (qs != STORE_OK || (job->room != NULL ? q->room_id != room_id
	                                         : q->room_id != 0 || q->pair_lo != lo ||
	                                           q->pair_hi != hi))
		return STORE_BAD_REPLY;
	if (q->recalled)
		return STORE_RECALLED;
	return STORE_OK;
}

enum store_status store_rule_edit(enum store_status st, const struct store_msg_check *m,
                                  const struct store_job *job)
{
	if (job->text == NULL)
		return STORE_FAILED;
	if (st != STORE_OK)
		return st;
	if (m->sender_id != job->user_id)
		return STORE_NOT_OWN;
	if (m->recalled)
		return STORE_RECALLED;
	if (m->e2ee)
		return STORE_E2EE_REQUIRED;     /* its text is in its payload, which only clients open */
	if (job->text[0] == '\0' && !m->has_media)
		return STORE_EMPTY;
	return STORE_OK;
}

enum store_status store_rule_recall(enum store_status st, const struct store_msg_check *m,
                                    struct store_job *job, int64_t now)
{
	job->already = false;
	if (st != STORE_OK)
		return st;
	if (m->sender_id != job->user_id)
		return STORE_NOT_OWN;
	if (m->recalled) {
		job->already = true;
		return STORE_OK;
	}
	if (now - m->ts > job->window_ms)
		return STORE_TOO_LATE;
	return STORE_OK;
}

enum store_status store_rule_react(enum store_status st, const struct store_msg_check *m,
                                   const struct store_job *job)
{
	if (st != STORE_OK)
		return st;
	if (job->emoji == NULL)
		return STORE_FAILED;
	if (m->recalled)
		return STORE_RECALLED;
	return STORE_OK;
}

/* The state of one store_mentions_scan. */
struct mention_scan {
	const struct store_mention_ops *ops;
	void *ud;
	int pos;
	size_t stored;
	bool failed;
};

/* The user named by len bytes of name: 1 (and *user_id), 0 none, -1 error. */
static int mention_user(struct mention_scan *ms, const char *name, size_t len, int64_t *user_id)
{
	char buf[PIER_NAME_MAX + 1], key[PIER_KEY_MAX];

	memcpy(buf, name, len);
	buf[len] = '\0';
	pier_name_key(buf, key);
	return ms->ops->user(ms->ud, key, user_id);
}

static bool mention_found(void *ud, const char *name, size_t len, size_t alt_len)
{
	struct mention_scan *ms = ud;
	int64_t user_id = 0, n;
	int rc = mention_user(ms, name, len, &user_id);

	if (rc == 0 && alt_len > 0)
		rc = mention_user(ms, name, alt_len, &user_id);
	if (rc <= 0) {
		ms->failed = rc < 0;
		return rc == 0;
	}
	n = ms->ops->insert(ms->ud, user_id, ms->pos++);
	if (n < 0) {
		ms->failed = true;
		return false;
	}
	ms->stored += (size_t)n;
	return true;
}

enum store_status store_mentions_scan(const char *text, const struct store_mention_ops *ops,
                                      void *ud, size_t *stored)
{
	struct mention_scan ms = { .ops = ops, .ud = ud };

	pier_mentions_scan(text, PIER_MENTIONS_MAX, mention_found, &ms);
	*stored = ms.stored;
	return ms.failed ? STORE_FAILED : STORE_OK;
}

/* ---- read positions and members ---- */

enum store_status store_rule_conv(int room_rc, const char *room, int64_t user, int64_t peer,
                                  int64_t *lo, int64_t *hi)
{
	*lo = *hi = 0;
	if (room != NULL)
		return room_rc == 0 ? STORE_OK : room_rc > 0 ? STORE_NOT_FOUND : STORE_FAILED;
	if (peer <= 0)
		return STORE_NOT_FOUND;
	*lo = user < peer ? user : peer;
	*hi = user < peer ? peer : user;
	return STORE_OK;
}

bool store_rule_read(struct store_job *job, int64_t old, int64_t last)
{
	int64_t want = job->read_id < last ? job->read_id : last;

	job->moved = want > old;
	job->read_id = job->moved ? want : old;
	return job->moved;
}

int store_rule_members(const struct store_job *job, char key[PIER_KEY_MAX])
{
	key[0] = '\0';
	if (job->name != NULL && strlen(job->name) <= PIER_NAME_MAX)
		pier_name_key(job->name, key);
	return job->limit < 1 ? 1 : job->limit > STORE_MEMBERS_MAX ? STORE_MEMBERS_MAX : job->limit;
}

/* ---- end-to-end encryption ---- */

enum store_status store_e2ee_register_rule(const struct store_e2ee *e, int64_t active,
                                           int64_t pending)
{
	if (active + pending >= e->max_devices + STORE_E2EE_PENDING_MAX ||
	    pending >= STORE_E2EE_PENDING_MAX)
		return STORE_FULL;
	return STORE_OK;
}

enum store_status store_e2ee_own_device(int rc, const struct store_device *d, int64_t owner,
                                        int64_t user_id, enum store_status missing)
{
	if (rc < 0)
		return STORE_FAILED;
	if (rc > 0 || owner != user_id || d->state == STORE_DEVICE_REVOKED)
		return missing;
	return STORE_OK;
}

enum store_status store_e2ee_hello_rule(struct store_e2ee *e, int rc, int64_t owner,
                                        int64_t user_id)
{
	if (rc < 0)
		return STORE_FAILED;
	if (rc > 0 || owner != user_id)
		return STORE_NOT_FOUND;      /* another user's device does not exist for this one */
	if (e->dev.state == STORE_DEVICE_REVOKED)
		return STORE_REVOKED;
	e->rid = e->dev.rid;
	e->state = e->dev.state;
	e->opk_count = e->dev.opk_count;
	e->queued = e->dev.queued;
	return STORE_OK;
}

enum store_status store_e2ee_publish_rule(const struct store_e2ee *e, const char *ak)
{
	if (e->version != e->version_out + 1)
		return STORE_STALE;
	if (e->reset) {
		if (!e->reset_allowed)
			return STORE_DENIED;
		return e->nlisted == 1 ? STORE_OK : STORE_CONFLICT;
	}
	if (ak != NULL && strcmp(ak, e->ak) != 0)
		return STORE_CONFLICT;
	return STORE_OK;
}

enum store_status store_e2ee_listed_rule(const struct store_job *job, size_t i, int rc,
                                         const struct store_device *d, int64_t owner)
{
	const struct store_e2ee *e = &job->e2ee;

	if (rc < 0)
		return STORE_FAILED;
	if (rc > 0 || owner != job->user_id || d->state == STORE_DEVICE_REVOKED ||
	    strcmp(d->sign_key, e->listed[i].sign_key) != 0 ||
	    strcmp(d->dh_key, e->listed[i].dh_key) != 0)
		return STORE_NOT_FOUND;
	if (e->reset && d->rid != e->device_rid)
		return STORE_CONFLICT;
	return STORE_OK;
}

const struct store_device *store_e2ee_find_listed(const struct store_e2ee *e, const char *id)
{
	for (size_t i = 0; i < e->nlisted; i++) {
		if (strcmp(e->listed[i].id, id) == 0)
			return &e->listed[i];
	}
	return NULL;
}

/* The envelope of e for device id, or NULL. */
static struct store_envelope *env_for(struct store_e2ee *e, const char *id)
{
	for (size_t i = 0; i < e->nenvs_in; i++) {
		if (strcmp(e->envs_in[i].device, id) == 0)
			return &e->envs_in[i];
	}
	return NULL;
}

enum store_status store_e2ee_match(struct store_e2ee *e, struct store_device **cur,
                                   size_t ncur)
{
	struct store_device *v = *cur;
	size_t want = 0, keep = 0;
	bool same = true, full = false;

	for (size_t i = 0; i < ncur; i++) {
		struct store_envelope *env;

		if (v[i].rid == e->device_rid)
			continue;
		want++;
		env = env_for(e, v[i].id);
		if (env == NULL) {
			same = false;
			continue;
		}
		env->device_rid = v[i].rid;
		if (v[i].queued >= e->max_queue)
			full = true;
	}
	if (same && want == e->nenvs_in)
		return full ? STORE_FULL : STORE_OK;
	/* The current set, for the client to encrypt again (the sender's device left out). */
	for (size_t i = 0; i < ncur; i++) {
		if (v[i].rid != e->device_rid)
			v[keep++] = v[i];
	}
	e->devices = v;
	e->ndevices = keep;
	*cur = NULL;
	return STORE_CHANGED;
}
