/* store_pg_stubs.c - placeholders for the PostgreSQL back end's e2ee, social and search
 * modules (store_pg_e2ee.c, store_pg_social.c, store_pg_search.c), so that the back end builds
 * and its core ops run before those exist. Whoever writes them deletes this file.
 *
 * The ops fail (STORE_FAILED). The helpers the core ops call behave as a store with no e2ee
 * device lists, no read positions, no display names and no topics would: a plaintext
 * APPEND passes the e2ee check (but one carrying ciphertext media is refused), a new member's
 * read position is not set, JOIN reads no topic, the startup reads find nothing.
 */
#include "store_pg_internal.h"

int store_pg_social_prepare(struct store_pg *pg, char **err)
{
	(void)pg;
	(void)err;
	return 0;
}

enum store_status store_pg_social_run(struct store_pg *pg, struct store_job *job)
{
	(void)pg;
	(void)job;
	return STORE_FAILED;
}

enum store_status store_pg_social_topic(struct store_pg *pg, int64_t room_id,
                                        struct store_job *job)
{
	(void)pg;
	(void)room_id;
	(void)job;
	return STORE_OK;
}

int store_pg_social_read_baseline(struct store_pg *pg, int64_t user_id, int64_t room_id)
{
	(void)pg;
	(void)user_id;
	(void)room_id;
	return 0;
}

int store_pg_each_display(struct store_pg *pg,
                          void (*cb)(void *ud, const char *name, const char *display), void *ud)
{
	(void)pg;
	(void)cb;
	(void)ud;
	return 0;
}

int store_pg_each_topic(struct store_pg *pg,
                        void (*cb)(void *ud, const char *room, const char *topic, const char *by,
                                   int64_t ts), void *ud)
{
	(void)pg;
	(void)cb;
	(void)ud;
	return 0;
}

int store_pg_e2ee_prepare(struct store_pg *pg, char **err)
{
	(void)pg;
	(void)err;
	return 0;
}

enum store_status store_pg_e2ee_run(struct store_pg *pg, struct store_job *job)
{
	(void)pg;
	(void)job;
	return STORE_FAILED;
}

enum store_status store_pg_e2ee_plain_check(struct store_pg *pg, struct store_job *job,
                                            bool media_e2ee)
{
	(void)pg;
	(void)job;
	return media_e2ee ? STORE_E2EE_REQUIRED : STORE_OK;
}

enum store_status store_pg_e2ee_send_check(struct store_pg *pg, struct store_job *job)
{
	(void)pg;
	(void)job;
	return STORE_FAILED;
}

enum store_status store_pg_e2ee_send_queue(struct store_pg *pg, struct store_job *job)
{
	(void)pg;
	(void)job;
	return STORE_FAILED;
}

int store_pg_search_prepare(struct store_pg *pg, char **err)
{
	(void)pg;
	(void)err;
	return 0;
}

enum store_status store_pg_search(struct store_pg *pg, struct store_job *job)
{
	(void)pg;
	(void)job;
	return STORE_FAILED;
}

int store_pg_search_batch_end(struct store_pg *pg)
{
	pg->search_pending = false;
	return 0;
}
