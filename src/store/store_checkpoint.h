/* store_checkpoint.h - SQLite's WAL checkpoints on a thread of their own, off the commit path.
 *
 * With SQLite's default (wal_autocheckpoint = 1000 pages) the COMMIT that crosses 1000 WAL pages
 * copies them all into the database file and fsyncs it before it returns: that batch's acks and
 * everything queued behind it wait several fdatasyncs (docs/PERFORMANCE.md, "The latency tail").
 * Here the writer's WAL hook (which replaces the automatic checkpoint) only counts pages and
 * wakes a checkpointer thread with its own connection, which runs PASSIVE checkpoints beside the
 * writer. Durability is unchanged: a commit is durable once its WAL frames are synced, which
 * the writer's COMMIT still does (synchronous=FULL); a checkpoint only moves synced frames into
 * the database file. The WAL is reset by the writer's next transaction after a checkpoint that
 * caught up; when steady writes never let it catch up and the WAL passes STORE_CKPT_HARD_PAGES,
 * the writer catches up itself (a short PASSIVE checkpoint of what is left), which bounds the
 * WAL's size as before.
 */
#ifndef STORE_CHECKPOINT_H
#define STORE_CHECKPOINT_H

#include <stdbool.h>
#include <stdint.h>

#include <sqlite3.h>

#define STORE_CKPT_PAGES       512    /* new WAL pages that wake the checkpointer */
#define STORE_CKPT_HARD_PAGES  16000  /* past this the writer catches up itself (64 MiB) */

struct store_ckpt;

/* Opens a second connection to path and starts the checkpointer thread; installs the WAL
 * hook on writer (the connection that commits), which turns its automatic checkpoints off.
 * writer_syncs_wal: the writer commits with synchronous=FULL, so the checkpoints need not sync
 * the WAL first (store_ckpt_vfs.h). NULL with *err a malloc'd message on failure (writer left
 * with its automatic checkpoints). */
struct store_ckpt *store_ckpt_start(sqlite3 *writer, const char *path, bool writer_syncs_wal,
                                    char **err);

/* Stops the thread and closes its connection (before the writer closes: the last connection
 * to close checkpoints the whole WAL and removes it). NULL is fine. */
void store_ckpt_stop(struct store_ckpt *c);

/* Checkpoints run by the thread, and by the writer at the hard limit. */
uint64_t store_ckpt_count(const struct store_ckpt *c);
uint64_t store_ckpt_inline_count(const struct store_ckpt *c);

#endif
