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

/* APPEND with a cid: what finding the original of a resend answered (0 found, 2 found with
 * another target, 1 none, -1 error). STORE_OK (none: store it), STORE_DUPLICATE (the
 * original's id and ts are in the job), STORE_CONFLICT or STORE_FAILED. */
enum store_status store_rule_cid(int found);

/* APPEND with media_id: the media as read into job->media with status ms (STORE_NOT_FOUND
 * also for media the user may not see). STORE_OK and job->kind set to how the message shows
 * it, or why not (an encrypted message, e2ee, carries only ciphertext). */
enum store_status store_rule_media(enum store_status ms, struct store_job *job, bool e2ee);

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

/* How a back end stores the @mentions of one room message (store_mentions_scan). */
struct store_mention_ops {
	/* The id of the user with name key key who may see the room: 1 found, 0 none, -1 error. */
	int (*user)(void *ud, const char *key, int64_t *user_id);
	/* Stores user_id's mention at position pos: the rows stored (0: already there), -1 error. */
	int64_t (*insert)(void *ud, int64_t user_id, int pos);
};

/* Finds the @mentions in text (at most PIER_MENTIONS_MAX; a name that is no user's falls back
 * to its shorter alternative) and stores each through ops with ud. *stored: how many were
 * stored. STORE_OK or STORE_FAILED. */
enum store_status store_mentions_scan(const char *text, const struct store_mention_ops *ops,
                                      void *ud, size_t *stored);

/* ---- read positions and members (READ, UNREAD, MEMBERS) ---- */

/* Where a conversation is: room (looked up with answer room_rc: 0 found, 1 none, -1 error), or
 * the pair of user and peer (*lo, *hi; 0 for a room). STORE_OK, STORE_NOT_FOUND or
 * STORE_FAILED. */
enum store_status store_rule_conv(int room_rc, const char *room, int64_t user, int64_t peer,
                                  int64_t *lo, int64_t *hi);

/* READ: the user's position old moves to job->read_id, never back and never past the newest
 * message last. Sets job->read_id (the position after) and job->moved; true to write it. */
bool store_rule_read(struct store_job *job, int64_t old, int64_t last);

/* MEMBERS: the page size (1..STORE_MEMBERS_MAX) and the key after which the page starts
 * (job->name's; "" from the start). */
#define STORE_MEMBERS_MAX 1000
int store_rule_members(const struct store_job *job, char key[PIER_KEY_MAX]);

/* ---- end-to-end encryption (store_e2ee.h) ---- */

/* Pending devices (registered, not yet in a list) a user may have at once, besides the
 * --e2ee-max-devices listed ones. */
#define STORE_E2EE_PENDING_MAX 3

/* REGISTER: room for one more device, with active listed ones and pending ones waiting for
 * approval (a few, not a way past the limit). STORE_OK or STORE_FULL. */
enum store_status store_e2ee_register_rule(const struct store_e2ee *e, int64_t active,
                                           int64_t pending);

/* A device a request names, found with rc (0 found, 1 none, -1 error) and owned by owner: it
 * must be user_id's and not revoked. STORE_OK, STORE_FAILED, or missing. */
enum store_status store_e2ee_own_device(int rc, const struct store_device *d, int64_t owner,
                                        int64_t user_id, enum store_status missing);

/* HELLO: e->dev found with rc and owned by owner. STORE_OK and e's outputs (rid, state, opk
 * count, queue) set from it, or why not. */
enum store_status store_e2ee_hello_rule(struct store_e2ee *e, int rc, int64_t owner,
                                        int64_t user_id);

/* PUBLISH, before any device is looked at: the version follows the stored one (read into
 * e->version_out), a reset is allowed and lists one device, else the account key is the
 * stored one (ak, NULL when none is stored). STORE_OK, or why not. */
enum store_status store_e2ee_publish_rule(const struct store_e2ee *e, const char *ak);

/* PUBLISH: listed device i, found as d with rc and owned by owner, must be the user's,
 * registered with the listed keys, not revoked; on a reset, the session's own. */
enum store_status store_e2ee_listed_rule(const struct store_job *job, size_t i, int rc,
                                         const struct store_device *d, int64_t owner);

/* The device of e's list with id, or NULL. */
const struct store_device *store_e2ee_find_listed(const struct store_e2ee *e, const char *id);

/* An encrypted send: the envelopes e->envs_in must be exactly one per device of *cur (ncur:
 * the recipient's and the sender's other active devices), the sender's own device left out.
 * Each matched envelope gets its device's rid. STORE_OK, STORE_FULL (a queue is full), or
 * STORE_CHANGED with the current set in e->devices (then *cur, taken, is NULL; else the
 * caller frees it). */
enum store_status store_e2ee_match(struct store_e2ee *e, struct store_device **cur,
                                   size_t ncur);

#endif
