/* store_rules.c - the store's decisions that do not depend on the database (store_rules.h),
 * one copy for the SQLite and the PostgreSQL back ends. */
#include "store_rules.h"

#include <string.h>

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
