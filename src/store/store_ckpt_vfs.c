/* store_ckpt_vfs.c - the checkpointer's VFSes (store_ckpt_vfs.h says why): every call goes to
 * the default (unix) VFS; a main database file's writes also start their writeback, and in
 * the wal-synced flavour the WAL's syncs are left out. */
#define _GNU_SOURCE            /* sync_file_range */
#include "store_ckpt_vfs.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

struct ckpt_file {
	sqlite3_file base;             /* pMethods: &file_methods once the real file is open */
	sqlite3_file *real;            /* the unix VFS's file, in the same allocation */
	int fd;                        /* a descriptor of our own to the database file, or -1 */
	bool skip_sync;                /* a WAL synced by the writer's commits */
	sqlite3_int64 unstarted;       /* bytes written since the last writeback started */
};

#define REAL_OFFSET ((sizeof(struct ckpt_file) + 15) & ~(size_t)15)

static sqlite3_vfs ckpt_vfs, wal_synced_vfs;
static sqlite3_vfs *base_vfs;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int register_rc = -1;
static atomic_uint_least64_t trickles, syncs_skipped;

#define REAL(f) (((struct ckpt_file *)(f))->real)

static int f_close(sqlite3_file *f)
{
	struct ckpt_file *p = (struct ckpt_file *)f;
	int rc = p->real->pMethods->xClose(p->real);

	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	return rc;
}

static int f_read(sqlite3_file *f, void *buf, int amt, sqlite3_int64 off)
{
	return REAL(f)->pMethods->xRead(REAL(f), buf, amt, off);
}

static int f_write(sqlite3_file *f, const void *buf, int amt, sqlite3_int64 off)
{
	struct ckpt_file *p = (struct ckpt_file *)f;
	int rc = p->real->pMethods->xWrite(p->real, buf, amt, off);

	if (rc == SQLITE_OK && p->fd >= 0) {
		p->unstarted += amt;
		if (p->unstarted >= STORE_CKPT_VFS_TRICKLE) {
			/* Start writing back whatever is dirty in the file; does not wait for it. A
			 * failure only means the fsync will send it all, as without this shim. */
			(void)sync_file_range(p->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
			p->unstarted = 0;
			atomic_fetch_add(&trickles, 1);
		}
	}
	return rc;
}

static int f_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	return REAL(f)->pMethods->xTruncate(REAL(f), size);
}

static int f_sync(sqlite3_file *f, int flags)
{
	struct ckpt_file *p = (struct ckpt_file *)f;

	p->unstarted = 0;
	if (p->skip_sync) {
		atomic_fetch_add(&syncs_skipped, 1);
		return SQLITE_OK;
	}
	return p->real->pMethods->xSync(p->real, flags);
}

static int f_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
	return REAL(f)->pMethods->xFileSize(REAL(f), size);
}

static int f_lock(sqlite3_file *f, int level)
{
	return REAL(f)->pMethods->xLock(REAL(f), level);
}

static int f_unlock(sqlite3_file *f, int level)
{
	return REAL(f)->pMethods->xUnlock(REAL(f), level);
}

static int f_check_reserved(sqlite3_file *f, int *out)
{
	return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}

static int f_file_control(sqlite3_file *f, int op, void *arg)
{
	return REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
}

static int f_sector_size(sqlite3_file *f)
{
	return REAL(f)->pMethods->xSectorSize(REAL(f));
}

static int f_device_characteristics(sqlite3_file *f)
{
	return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}

static int f_shm_map(sqlite3_file *f, int region, int size, int extend, void volatile **out)
{
	return REAL(f)->pMethods->xShmMap(REAL(f), region, size, extend, out);
}

static int f_shm_lock(sqlite3_file *f, int offset, int n, int flags)
{
	return REAL(f)->pMethods->xShmLock(REAL(f), offset, n, flags);
}

static void f_shm_barrier(sqlite3_file *f)
{
	REAL(f)->pMethods->xShmBarrier(REAL(f));
}

static int f_shm_unmap(sqlite3_file *f, int delete_flag)
{
	return REAL(f)->pMethods->xShmUnmap(REAL(f), delete_flag);
}

static int f_fetch(sqlite3_file *f, sqlite3_int64 off, int amt, void **out)
{
	return REAL(f)->pMethods->xFetch(REAL(f), off, amt, out);
}

static int f_unfetch(sqlite3_file *f, sqlite3_int64 off, void *page)
{
	return REAL(f)->pMethods->xUnfetch(REAL(f), off, page);
}

static const sqlite3_io_methods file_methods = {
	.iVersion = 3,
	.xClose = f_close,
	.xRead = f_read,
	.xWrite = f_write,
	.xTruncate = f_truncate,
	.xSync = f_sync,
	.xFileSize = f_file_size,
	.xLock = f_lock,
	.xUnlock = f_unlock,
	.xCheckReservedLock = f_check_reserved,
	.xFileControl = f_file_control,
	.xSectorSize = f_sector_size,
	.xDeviceCharacteristics = f_device_characteristics,
	.xShmMap = f_shm_map,
	.xShmLock = f_shm_lock,
	.xShmBarrier = f_shm_barrier,
	.xShmUnmap = f_shm_unmap,
	.xFetch = f_fetch,
	.xUnfetch = f_unfetch,
};

static int v_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out_flags)
{
	struct ckpt_file *p = (struct ckpt_file *)f;
	int rc;

	memset(p, 0, sizeof(*p));
	p->fd = -1;
	p->real = (sqlite3_file *)((char *)p + REAL_OFFSET);
	rc = base_vfs->xOpen(base_vfs, name, p->real, flags, out_flags);
	if (rc != SQLITE_OK || p->real->pMethods == NULL) {
		p->base.pMethods = NULL;      /* SQLite calls no xClose on a failed open */
		return rc;
	}
	if ((flags & SQLITE_OPEN_MAIN_DB) && name != NULL)
		p->fd = open(name, O_RDONLY | O_CLOEXEC);
	p->skip_sync = vfs == &wal_synced_vfs && (flags & SQLITE_OPEN_WAL);
	p->base.pMethods = &file_methods;
	return SQLITE_OK;
}

static int v_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
	(void)vfs;
	return base_vfs->xDelete(base_vfs, name, sync_dir);
}

static int v_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
	(void)vfs;
	return base_vfs->xAccess(base_vfs, name, flags, out);
}

static int v_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
	(void)vfs;
	return base_vfs->xFullPathname(base_vfs, name, n, out);
}

static void *v_dl_open(sqlite3_vfs *vfs, const char *name)
{
	(void)vfs;
	return base_vfs->xDlOpen(base_vfs, name);
}

static void v_dl_error(sqlite3_vfs *vfs, int n, char *msg)
{
	(void)vfs;
	base_vfs->xDlError(base_vfs, n, msg);
}

static void (*v_dl_sym(sqlite3_vfs *vfs, void *handle, const char *sym))(void)
{
	(void)vfs;
	return base_vfs->xDlSym(base_vfs, handle, sym);
}

static void v_dl_close(sqlite3_vfs *vfs, void *handle)
{
	(void)vfs;
	base_vfs->xDlClose(base_vfs, handle);
}

static int v_randomness(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	return base_vfs->xRandomness(base_vfs, n, out);
}

static int v_sleep(sqlite3_vfs *vfs, int us)
{
	(void)vfs;
	return base_vfs->xSleep(base_vfs, us);
}

static int v_current_time(sqlite3_vfs *vfs, double *out)
{
	(void)vfs;
	return base_vfs->xCurrentTime(base_vfs, out);
}

static int v_last_error(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	return base_vfs->xGetLastError(base_vfs, n, out);
}

static int v_current_time64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
	(void)vfs;
	return base_vfs->xCurrentTimeInt64(base_vfs, out);
}

static void register_once(void)
{
	base_vfs = sqlite3_vfs_find(NULL);
	if (base_vfs == NULL || base_vfs->iVersion < 2)
		return;
	ckpt_vfs = (sqlite3_vfs){
		.iVersion = 2,
		.szOsFile = (int)REAL_OFFSET + base_vfs->szOsFile,
		.mxPathname = base_vfs->mxPathname,
		.zName = STORE_CKPT_VFS_NAME,
		.xOpen = v_open,
		.xDelete = v_delete,
		.xAccess = v_access,
		.xFullPathname = v_full_pathname,
		.xDlOpen = v_dl_open,
		.xDlError = v_dl_error,
		.xDlSym = v_dl_sym,
		.xDlClose = v_dl_close,
		.xRandomness = v_randomness,
		.xSleep = v_sleep,
		.xCurrentTime = v_current_time,
		.xGetLastError = v_last_error,
		.xCurrentTimeInt64 = v_current_time64,
	};
	wal_synced_vfs = ckpt_vfs;
	wal_synced_vfs.zName = STORE_CKPT_VFS_WAL_SYNCED;
	register_rc = sqlite3_vfs_register(&ckpt_vfs, 0) == SQLITE_OK &&
	              sqlite3_vfs_register(&wal_synced_vfs, 0) == SQLITE_OK ? 0 : -1;
}

int store_ckpt_vfs_register(void)
{
	pthread_once(&once, register_once);
	return register_rc;
}

uint64_t store_ckpt_vfs_trickles(void)
{
	return atomic_load(&trickles);
}

uint64_t store_ckpt_vfs_wal_syncs_skipped(void)
{
	return atomic_load(&syncs_skipped);
}
