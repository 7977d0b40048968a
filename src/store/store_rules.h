/* store_rules.h - what the store decides from what a job's queries read, the same on every back
 * end (SQLite: store_sqlite.c, store_e2ee.c; PostgreSQL: pg/): the statuses of the message ops
 * and of the e2ee ops. Pure functions: no database, no I/O; each back end reads, calls the
 * rule, and writes only when it says STORE_OK.
 */
#ifndef PIER_STORE_RULES_H
#define PIER_STORE_RULES_H

#include <stdbool.h>
#include <stdint.h>

#include "store.h"

/* What the message ops check about a message (each back end reads it with one query). */
struct store_msg_check {
	int64_t sender_id, ts, room_id, pair_lo, pair_hi;
	bool recalled, has_media, visible, e2ee;
};

/* How a message shows media of type: the kind asked for when it fits the type ("file" fits
 * everything), else what the type says ("image/png" -> "image"), else "file". */
const char *store_media_kind(const char *asked, const char *type);

/* APPEND with reply_to: q, the quoted message as read with status qs, must be of the
 * conversation the job writes to (room room_id, or the pair of job->user_id and job->peer_id)
 * and not recalled. STORE_OK, or why not. */
enum store_status store_rule_reply(enum store_status qs, const struct store_msg_check *q,
                                   const struct store_job *job, int64_t room_id);

/* EDIT of m (read with status st) by job->user_id to job->text. STORE_OK to write it. */
enum store_status store_rule_edit(enum store_status st, const struct store_msg_check *m,
                                  const struct store_job *job);

/* RECALL of m (read with status st) by job->user_id at now. STORE_OK to write it; STORE_OK
 * with job->already set when it was recalled before (nothing to write). */
enum store_status store_rule_recall(enum store_status st, const struct store_msg_check *m,
                                    struct store_job *job, int64_t now);

/* REACT to m (read with status st): STORE_OK to write it. */
enum store_status store_rule_react(enum store_status st, const struct store_msg_check *m,
                                   const struct store_job *job);

#endif
