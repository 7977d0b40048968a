/* test_file_modes.c - adversarial: the data directory and the database are the owner's alone.
 *
 * pier.db holds password and token hashes and every message. Started with umask 0 and on a
 * data directory an older pierd (or the operator) left world-readable, pierd makes the
 * directory 0700 and pier.db, pier.db-wal and pier.db-shm 0600; files it creates meanwhile
 * (an uploaded file) are 0600 too. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"
#include "netclient.h"

/* The permission bits of dir/name, or -1. */
static int mode_of(const char *dir, const char *name)
{
	char path[4096];
	struct stat st;

	snprintf(path, sizeof(path), "%s%s%s", dir, name[0] ? "/" : "", name);
	return stat(path, &st) == 0 ? (int)(st.st_mode & 07777) : -1;
}

static void set_mode(const char *dir, const char *name, int mode)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s%s%s", dir, name[0] ? "/" : "", name);
	chmod(path, (mode_t)mode);
}

static void check_modes(struct pierd *p, const char *when)
{
	const char *dir = pierd_dir(p);

	CHECK(mode_of(dir, "") == 0700, "%s: the data directory is 0700 (%o)", when,
	      mode_of(dir, ""));
	CHECK(mode_of(dir, "pier.db") == 0600, "%s: pier.db is 0600 (%o)", when,
	      mode_of(dir, "pier.db"));
	CHECK(mode_of(dir, "pier.db-wal") == 0600, "%s: pier.db-wal is 0600 (%o)", when,
	      mode_of(dir, "pier.db-wal"));
	CHECK(mode_of(dir, "pier.db-shm") == 0600, "%s: pier.db-shm is 0600 (%o)", when,
	      mode_of(dir, "pier.db-shm"));
}

int main(void)
{
	char user[HARNESS_NAME_MAX];
	struct pier_conn *c;
	struct pierd *p;

	harness_watchdog(60);
	umask(0);   /* pierd inherits it */
	p = pierd_start(NULL);
	REQUIRE(p != NULL, harness_done(), "pierd starts under umask 0");
	c = client_new_user(p, "modes", user);
	REQUIRE(c != NULL, harness_done(), "a user registers (the database is written)");
	pier_conn_close(c);
	check_modes(p, "new data directory, umask 0");
	CHECK(pierd_stop(p), "pierd stops");

	/* What an older pierd left: everything readable by everyone. */
	set_mode(pierd_dir(p), "", 0755);
	set_mode(pierd_dir(p), "pier.db", 0644);
	set_mode(pierd_dir(p), "pier.db-wal", 0644);
	set_mode(pierd_dir(p), "pier.db-shm", 0644);
	REQUIRE(pierd_restart(p) == 0, harness_done(), "pierd starts again on it");
	c = client_login(p, user, HARNESS_PASSWORD);
	CHECK(c != NULL, "the user logs in (the database is written)");
	if (c != NULL)
		pier_conn_close(c);
	check_modes(p, "existing world-readable data directory");
	CHECK(mode_of(pierd_dir(p), "media") == 0700, "the media directory is 0700 (%o)",
	      mode_of(pierd_dir(p), "media"));
	CHECK(pierd_stop(p), "pierd stops cleanly");
	return harness_done();
}
