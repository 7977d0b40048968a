/* store_ckpt_vfs.h - the checkpointer connection's VFS: SQLite's unix VFS, with the database
 * file's writes handed to the kernel's writeback as the checkpoint makes them.
 *
 * A checkpoint copies up to STORE_CKPT_PAGES pages (2 MiB) into the database file and then
 * fsyncs it; that fsync sends the whole copy to the disk at once, and the writer's commits
 * whose WAL fdatasync falls beside it wait behind it (docs/PERFORMANCE.md, "The latency
 * tail"). Here every STORE_CKPT_VFS_TRICKLE bytes written start their writeback at once
 * (sync_file_range(SYNC_FILE_RANGE_WRITE), which does not wait for it), so the disk receives
 * the copy in small pieces while it is made and the final fsync finds little left to send.
 * Nothing else changes: the fsync is still made, and made before SQLite records the
 * checkpoint as done, so durability is SQLite's own.
 *
 * STORE_CKPT_VFS_WAL_SYNCED also leaves out the checkpoint's sync of the WAL before it copies.
 * That sync makes the frames about to be copied durable first; when the writer commits with
 * synchronous=FULL they already are: SQLite syncs a commit's frames before it publishes them
 * in the WAL index, and a checkpoint copies only published frames. The checkpointer's
 * connection writes no frames of its own. So on pierd's durable store that sync only adds a
 * device flush beside the commits' (docs/PERFORMANCE.md); with --no-sync it is kept.
 */
#ifndef STORE_CKPT_VFS_H
#define STORE_CKPT_VFS_H

#include <stdint.h>

#define STORE_CKPT_VFS_NAME           "pier-ckpt"
#define STORE_CKPT_VFS_WAL_SYNCED     "pier-ckpt-wal-synced"
#define STORE_CKPT_VFS_TRICKLE (64 * 4096)   /* bytes written between writeback starts */

/* Registers both VFSes (once; neither as the default). 0, or -1 when SQLite has no default
 * VFS. */
int store_ckpt_vfs_register(void);

/* Writebacks started, and WAL syncs left out, by every file of the VFSes since the process
 * started. */
uint64_t store_ckpt_vfs_trickles(void);
uint64_t store_ckpt_vfs_wal_syncs_skipped(void);

#endif
