/* harness.c - runs a real pierd on loopback for integration tests, drives clients (harness.h). */

#include "harness.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "clock.h"
#include "rundir.h"

#define MAX_LIVE      8
#define LOG_TAIL      80   /* lines printed by pierd_dump_log */
#define LISTEN_NEEDLE "listening on 127.0.0.1:"

struct pierd {
	pid_t pid;              /* 0 when not running */
	char dir[PATH_MAX];
	char log_path[PATH_MAX + 16];
	char **extra;           /* copied extra arguments, NULL-terminated */
	char listen[32];        /* --listen: "127.0.0.1:0", or the port of the last run */
	char http_listen[32];   /* --http: likewise */
	bool shared_dir;        /* pierd_start_in: the directory is the caller's, never removed */
	int port;
	char port_str[16];
	int http_port, tls_port, https_port;    /* 0: not listening */
	char tls_port_str[16];
	bool tls;               /* started with --tls-cert: wait for the TLS listeners too */
	char pgdb[64];          /* PIER_TEST_STORE mode: the database made for it, else "" */
};

/* The port of the "listening on 127.0.0.1:PORT (kind)" line in log, or 0. */
static int listen_port(const char *log, const char *kind)
{
	char tail[32];
	const char *at = log;

	snprintf(tail, sizeof(tail), " (%s)\n", kind);
	while ((at = strstr(at, LISTEN_NEEDLE)) != NULL) {
		char *end;
		long port = strtol(at + strlen(LISTEN_NEEDLE), &end, 10);

		at += strlen(LISTEN_NEEDLE);
		if (strncmp(end, tail, strlen(tail)) == 0 && port > 0 && port < 65536)
			return (int)port;
	}
	return 0;
}

/* pids the watchdog kills; written only from the main thread, read by the signal handler */
static volatile sig_atomic_t live_pids[MAX_LIVE];
static atomic_int user_counter;
/* every pierd not yet freed, for harness_done */
static struct pierd *all_pierds[MAX_LIVE];

static void live_add(pid_t pid)
{
	for (int i = 0; i < MAX_LIVE; i++) {
		if (live_pids[i] == 0) {
			live_pids[i] = (sig_atomic_t)pid;
			return;
		}
	}
}

static void live_remove(pid_t pid)
{
	for (int i = 0; i < MAX_LIVE; i++) {
		if (live_pids[i] == (sig_atomic_t)pid)
			live_pids[i] = 0;
	}
}

static void on_watchdog(int sig)
{
	static const char msg[] = "FAIL harness: watchdog expired, test took too long\n";

	(void)sig;
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0) {
		/* nothing more can be done */
	}
	for (int i = 0; i < MAX_LIVE; i++) {
		if (live_pids[i] != 0)
			kill((pid_t)live_pids[i], SIGKILL);
	}
	_exit(2);
}

void harness_watchdog(unsigned seconds)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_watchdog;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	alarm(seconds);
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
		/* go on sleeping the rest */
	}
}

/* The bytes of path from offset on, NUL-terminated (NULs inside replaced by spaces). */
static char *read_file_from(const char *path, long offset, size_t *len_out)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0;

	if (f == NULL)
		goto out;
	if (offset > 0 && fseek(f, offset, SEEK_SET) != 0)
		goto out;
	for (;;) {
		size_t n;

		if (cap - len < 4096) {
			char *nb = realloc(buf, cap + 65536);

			if (nb == NULL)
				break;
			buf = nb;
			cap += 65536;
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		if (n == 0)
			break;
		len += n;
	}
out:
	if (f != NULL)
		fclose(f);
	if (buf == NULL) {
		buf = calloc(1, 1);
		len = 0;
	} else {
		buf[len] = '\0';
		for (size_t i = 0; i < len; i++) {
			if (buf[i] == '\0')
				buf[i] = ' ';
		}
	}
	if (len_out != NULL)
		*len_out = len;
	return buf;
}

static long file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (long)st.st_size : 0;
}

/* Forks and execs pierd; the log is appended to. */
static pid_t spawn_pierd(struct pierd *p)
{
	const char *fixed[] = { PIERD_PATH, "--listen", p->listen, "--http", p->http_listen,
	                        "--data-dir", p->dir, "--weak-password-hash", "--log-level", "info" };
	size_t nfixed = sizeof(fixed) / sizeof(fixed[0]), nextra = 0;
	char **argv;
	pid_t pid;

	while (p->extra[nextra] != NULL)
		nextra++;
	argv = calloc(nfixed + nextra + 1, sizeof(*argv));
	if (argv == NULL)
		return -1;
	for (size_t i = 0; i < nfixed; i++)
		argv[i] = (char *)fixed[i];
	for (size_t i = 0; i < nextra; i++)
		argv[nfixed + i] = p->extra[i];

	pid = rundir_spawn(argv, p->log_path, "harness");
	free(argv);
	return pid;
}

/* Reaps p->pid if it exited. Returns true if it is still running. */
static bool still_running(struct pierd *p, int *status_out)
{
	int status = 0;
	pid_t r;

	if (p->pid == 0)
		return false;
	r = waitpid(p->pid, &status, WNOHANG);
	if (r == 0)
		return true;
	live_remove(p->pid);
	p->pid = 0;
	if (status_out != NULL)
		*status_out = status;
	return false;
}

static void describe_status(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exit status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %d", WTERMSIG(status));
	else
		snprintf(buf, len, "wait status 0x%x", status);
}

/* Starts pierd and waits for its "listening on" line. */
static int launch(struct pierd *p)
{
	long offset = file_size(p->log_path);
	int64_t deadline = pier_mono_ms() + HARNESS_START_MS;
	int status = 0;

	p->port = 0;
	p->pid = spawn_pierd(p);
	if (!CHECK(p->pid > 0, "fork pierd: %s", strerror(errno))) {
		p->pid = 0;
		return -1;
	}
	live_add(p->pid);
	p->http_port = p->tls_port = p->https_port = 0;
	while (pier_mono_ms() < deadline) {
		char *log = read_file_from(p->log_path, offset, NULL);

		/* The listeners log in a fixed order: tcp, tls, http, https. */
		if (listen_port(log, p->tls ? "https" : "http") != 0) {
			p->port = listen_port(log, "tcp");
			p->tls_port = listen_port(log, "tls");
			p->http_port = listen_port(log, "http");
			p->https_port = listen_port(log, "https");
		}
		free(log);
		if (p->port != 0)
			break;
		if (!still_running(p, &status)) {
			char what[64];

			describe_status(status, what, sizeof(what));
			CHECK(false, "pierd exited while starting (%s)", what);
			pierd_dump_log(p);
			return -1;
		}
		sleep_ms(20);
	}
	if (!CHECK(p->port != 0, "pierd did not log \"%s<port>\" within %d ms", LISTEN_NEEDLE,
	           HARNESS_START_MS)) {
		pierd_dump_log(p);
		pierd_kill9(p);
		return -1;
	}
	snprintf(p->port_str, sizeof(p->port_str), "%d", p->port);
	snprintf(p->tls_port_str, sizeof(p->tls_port_str), "%d", p->tls_port);
	return 0;
}

/* ---- PostgreSQL mode (PIER_TEST_STORE) ---- */

const char *harness_store_url(void)
{
	const char *url = getenv("PIER_TEST_STORE");

	return url != NULL && url[0] != '\0' ? url : NULL;
}

static bool has_store_arg(const char *const *args)
{
	for (size_t i = 0; args != NULL && args[i] != NULL; i++) {
		if (strcmp(args[i], "--store") == 0)
			return true;
	}
	return false;
}

/* A database name is used quoted in SQL and as the path of a URL: keep it to a plain set. */
static bool db_name_ok(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > 63)
		return false;
	for (size_t i = 0; i < len; i++) {
		char ch = name[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		      ch == '-' || ch == '_'))
			return false;
	}
	return true;
}

/* Runs one statement on PIER_TEST_STORE's database (bounded by connect and statement
 * timeouts). 0, or -1 with the error in *err (malloc'd). */
static int pg_admin_exec(const char *sql, char **err)
{
	const char *const keys[] = { "dbname", "connect_timeout", "options", "gssencmode", NULL };
	const char *const vals[] = { harness_store_url(), "10", "-c statement_timeout=30000",
	                             "disable", NULL };
	PGconn *conn = PQconnectdbParams(keys, vals, 1);
	PGresult *res = NULL;
	int rc = -1;

	if (PQstatus(conn) != CONNECTION_OK) {
		*err = strdup(PQerrorMessage(conn));
		goto out;
	}
	res = PQexec(conn, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		*err = strdup(PQresultErrorMessage(res));
		goto out;
	}
	rc = 0;
out:
	PQclear(res);
	PQfinish(conn);
	return rc;
}

char *harness_pg_url(const char *name)
{
	const char *base = harness_store_url(), *auth, *path, *query;
	char *url;
	size_t len;

	if (base == NULL || !db_name_ok(name))
		return NULL;
	auth = strstr(base, "://");
	auth = auth != NULL ? auth + 3 : base;
	query = strchr(auth, '?');
	if (query == NULL)
		query = auth + strlen(auth);
	path = memchr(auth, '/', (size_t)(query - auth));
	if (path == NULL)
		path = query;
	len = (size_t)(path - base) + 1 + strlen(name) + strlen(query) + 1;
	url = malloc(len);
	if (url != NULL)
		snprintf(url, len, "%.*s/%s%s", (int)(path - base), base, name, query);
	return url;
}

char *harness_pg_create_db(const char *name)
{
	char sql[128], *err = NULL;

	if (!CHECK(harness_store_url() != NULL && db_name_ok(name),
	           "harness_pg_create_db(%s): PIER_TEST_STORE unset or a bad name", name))
		return NULL;
	snprintf(sql, sizeof(sql), "CREATE DATABASE \"%s\"", name);
	if (!CHECK(pg_admin_exec(sql, &err) == 0, "%s on %s: %s", sql, harness_store_url(),
	           err != NULL ? err : "?")) {
		free(err);
		return NULL;
	}
	return harness_pg_url(name);
}

void harness_pg_drop_db(const char *name)
{
	char sql[128], *err = NULL;

	if (harness_store_url() == NULL || !db_name_ok(name))
		return;
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS \"%s\" WITH (FORCE)", name);
	if (pg_admin_exec(sql, &err) != 0)
		fprintf(stderr, "harness: %s: %s", sql, err != NULL ? err : "?\n");
	free(err);
}

/* The harness pierd whose data directory args name with --data-dir and that has a database
 * of its own, or NULL. */
static const struct pierd *store_owner(const char *const *args)
{
	for (size_t i = 0; args != NULL && args[i] != NULL && args[i + 1] != NULL; i++) {
		if (strcmp(args[i], "--data-dir") != 0)
			continue;
		for (int k = 0; k < MAX_LIVE; k++) {
			if (all_pierds[k] != NULL && all_pierds[k]->pgdb[0] != '\0' &&
			    strcmp(all_pierds[k]->dir, args[i + 1]) == 0)
				return all_pierds[k];
		}
	}
	return NULL;
}

/* The lowest port the kernel hands out by itself (ip_local_port_range), 32768 if unknown. */
static int ephemeral_low(void)
{
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
	int low = 32768;

	if (f != NULL) {
		if (fscanf(f, "%d", &low) != 1 || low < 2048)
			low = 32768;
		fclose(f);
	}
	return low;
}

/* A TCP port on 127.0.0.1 that nothing was bound to a moment ago (bound, closed), not one of
 * taken[0..n), below the kernel's ephemeral range (harness.h says why). 0 on failure. */
int harness_free_port(const int *taken, size_t n)
{
	static bool seeded;
	int low = 20000, high = ephemeral_low() - 1;

	if (!seeded) {         /* tests running side by side draw different ports */
		srandom((unsigned)getpid() ^ (unsigned)time(NULL));
		seeded = true;
	}
	if (high <= low + 1000)
		low = 1024;
	for (int attempt = 0; attempt < 200; attempt++) {
		struct sockaddr_in a;
		int fd = socket(AF_INET, SOCK_STREAM, 0), port;
		bool ok, dup = false;

		if (fd < 0)
			return 0;
		port = low + (int)(random() % (high - low + 1));
		memset(&a, 0, sizeof(a));
		a.sin_family = AF_INET;
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		a.sin_port = htons((uint16_t)port);
		ok = bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
		close(fd);
		for (size_t i = 0; i < n; i++)
			dup = dup || taken[i] == port;
		if (ok && !dup)
			return port;
	}
	return 0;
}

/* Sets p's --listen and --http to two ports harness_free_port chose (":0", the kernel's
 * choice, if it found none). */
static void choose_ports(struct pierd *p)
{
	int ports[2];

	ports[0] = harness_free_port(NULL, 0);
	ports[1] = harness_free_port(ports, 1);
	if (ports[0] == 0 || ports[1] == 0)
		ports[0] = ports[1] = 0;
	snprintf(p->listen, sizeof(p->listen), "127.0.0.1:%d", ports[0]);
	snprintf(p->http_listen, sizeof(p->http_listen), "127.0.0.1:%d", ports[1]);
}

struct pierd *pierd_start(const char *const *extra_args)
{
	struct pierd *p = calloc(1, sizeof(*p));
	const char *tmp = getenv("TMPDIR");
	size_t n = 0;

	signal(SIGPIPE, SIG_IGN);
	if (p == NULL)
		return NULL;
	if (tmp == NULL || tmp[0] == '\0')
		tmp = "/tmp";
	snprintf(p->dir, sizeof(p->dir), "%s/pier-test-XXXXXX", tmp);
	if (!CHECK(mkdtemp(p->dir) != NULL, "mkdtemp %s: %s", p->dir, strerror(errno))) {
		free(p);
		return NULL;
	}
	snprintf(p->log_path, sizeof(p->log_path), "%s/pierd.log", p->dir);
	choose_ports(p);
	while (extra_args != NULL && extra_args[n] != NULL)
		n++;
	p->extra = calloc(n + 3, sizeof(*p->extra));
	for (size_t i = 0; p->extra != NULL && i < n; i++) {
		p->extra[i] = strdup(extra_args[i]);
		if (strcmp(extra_args[i], "--tls-cert") == 0)
			p->tls = true;
	}
	if (p->extra != NULL && harness_store_url() != NULL && !has_store_arg(extra_args)) {
		/* One database per pierd, named after its data directory: tests do not see each
		 * other's users. Dropped by pierd_free. A pierd started on another one's data
		 * directory (--data-dir of a running harness pierd: two nodes on one store) shares
		 * that one's database instead. */
		const struct pierd *owner = store_owner(extra_args);
		char *url;

		if (owner != NULL) {
			url = harness_pg_url(owner->pgdb);
		} else {
			snprintf(p->pgdb, sizeof(p->pgdb), "%s", strrchr(p->dir, '/') + 1);
			url = harness_pg_create_db(p->pgdb);
			if (url == NULL)
				p->pgdb[0] = '\0';
		}
		if (url == NULL) {
			pierd_free(p);
			return NULL;
		}
		p->extra[n] = strdup("--store");
		p->extra[n + 1] = url;
	}
	if (p->extra == NULL || launch(p) != 0) {
		pierd_free(p);
		return NULL;
	}
	for (int i = 0; i < MAX_LIVE; i++) {
		if (all_pierds[i] == NULL) {
			all_pierds[i] = p;
			break;
		}
	}
	return p;
}

struct pierd *pierd_start_in(const char *dir, const char *name, const char *const *extra_args)
{
	struct pierd *p = calloc(1, sizeof(*p));
	size_t n = 0;

	signal(SIGPIPE, SIG_IGN);
	if (p == NULL)
		return NULL;
	p->shared_dir = true;
	snprintf(p->dir, sizeof(p->dir), "%s", dir);
	snprintf(p->log_path, sizeof(p->log_path), "%s/%s.log", dir, name);
	choose_ports(p);
	while (extra_args != NULL && extra_args[n] != NULL)
		n++;
	p->extra = calloc(n + 1, sizeof(*p->extra));
	for (size_t i = 0; p->extra != NULL && i < n; i++) {
		p->extra[i] = strdup(extra_args[i]);
		if (strcmp(extra_args[i], "--tls-cert") == 0)
			p->tls = true;
	}
	if (p->extra == NULL || launch(p) != 0) {
		pierd_free(p);
		return NULL;
	}
	for (int i = 0; i < MAX_LIVE; i++) {
		if (all_pierds[i] == NULL) {
			all_pierds[i] = p;
			break;
		}
	}
	return p;
}

int pierd_restart(struct pierd *p)
{
	if (p == NULL)
		return -1;
	if (!CHECK(p->pid == 0 || !still_running(p, NULL), "pierd_restart: pierd still runs"))
		return -1;
	snprintf(p->listen, sizeof(p->listen), "127.0.0.1:0");
	snprintf(p->http_listen, sizeof(p->http_listen), "127.0.0.1:0");
	return launch(p);
}

int pierd_restart_same_port(struct pierd *p)
{
	if (p == NULL)
		return -1;
	if (!CHECK(p->pid == 0 || !still_running(p, NULL), "pierd_restart_same_port: pierd still runs"))
		return -1;
	snprintf(p->listen, sizeof(p->listen), "127.0.0.1:%d", p->port);
	if (p->http_port != 0)
		snprintf(p->http_listen, sizeof(p->http_listen), "127.0.0.1:%d", p->http_port);
	return launch(p);
}

bool pierd_exit_clean(struct pierd *p)
{
	static const char *const reports[] = { "ERROR: AddressSanitizer", "runtime error:",
	                                       "LeakSanitizer", "WARNING: ThreadSanitizer" };
	char *log = read_file_from(p->log_path, 0, NULL);
	bool clean = true;

	for (size_t i = 0; i < sizeof(reports) / sizeof(reports[0]); i++) {
		if (!CHECK(strstr(log, reports[i]) == NULL, "pierd.log has a sanitizer report (\"%s\")",
		           reports[i]))
			clean = false;
	}
	free(log);
	return clean;
}

bool pierd_stop(struct pierd *p)
{
	int64_t deadline;
	int status = 0;
	bool ok = true;
	char what[64];

	if (p == NULL || p->pid == 0)
		return true;
	if (!still_running(p, &status)) {
		describe_status(status, what, sizeof(what));
		CHECK(false, "pierd died before it was stopped (%s)", what);
		pierd_exit_clean(p);
		return false;
	}
	kill(p->pid, SIGTERM);
	deadline = pier_mono_ms() + HARNESS_STOP_MS;
	while (still_running(p, &status) && pier_mono_ms() < deadline)
		sleep_ms(10);
	if (p->pid != 0) {
		CHECK(false, "pierd did not exit within %d ms of SIGTERM", HARNESS_STOP_MS);
		pierd_kill9(p);
		ok = false;
	} else {
		describe_status(status, what, sizeof(what));
		if (!CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		           "pierd after SIGTERM: %s, want exit status 0", what))
			ok = false;
	}
	if (!pierd_exit_clean(p))
		ok = false;
	return ok;
}

void pierd_kill9(struct pierd *p)
{
	if (p == NULL || p->pid == 0)
		return;
	kill(p->pid, SIGKILL);
	waitpid(p->pid, NULL, 0);
	live_remove(p->pid);
	p->pid = 0;
}

bool pierd_is_running(struct pierd *p)
{
	int status = 0;
	char what[64];

	if (p == NULL || p->pid == 0)
		return false;
	if (still_running(p, &status))
		return true;
	describe_status(status, what, sizeof(what));
	CHECK(false, "pierd died unexpectedly (%s)", what);
	return false;
}

void pierd_dump_log(struct pierd *p)
{
	size_t len = 0, start;
	char *log;
	int lines = 0;

	if (p == NULL)
		return;
	log = read_file_from(p->log_path, 0, &len);
	start = len;
	while (start > 0) {
		if (log[start - 1] == '\n' && start != len && ++lines > LOG_TAIL)
			break;
		start--;
	}
	fprintf(stderr, "---- last lines of %s ----\n%s", p->log_path, log + start);
	if (len > 0 && log[len - 1] != '\n')
		fputc('\n', stderr);
	fprintf(stderr, "---- end of pierd.log ----\n");
	free(log);
}

bool pierd_log_contains(struct pierd *p, const char *needle)
{
	char *log = read_file_from(p->log_path, 0, NULL);
	bool found = strstr(log, needle) != NULL;

	free(log);
	return found;
}

void pierd_free(struct pierd *p)
{
	if (p == NULL)
		return;
	for (int i = 0; i < MAX_LIVE; i++) {
		if (all_pierds[i] == p)
			all_pierds[i] = NULL;
	}
	pierd_kill9(p);
	if (p->shared_dir) {
		/* the caller's directory: it removes it */
	} else if (getenv("PIER_KEEP_TEST_DATA") != NULL) {
		fprintf(stderr, "harness: kept test data in %s%s%s\n", p->dir,
		        p->pgdb[0] != '\0' ? " and database " : "", p->pgdb);
	} else {
		rundir_remove(p->dir);
		if (p->pgdb[0] != '\0')
			harness_pg_drop_db(p->pgdb);
	}
	for (size_t i = 0; p->extra != NULL && p->extra[i] != NULL; i++)
		free(p->extra[i]);
	free(p->extra);
	free(p);
}

bool pierd_wipe_store(struct pierd *p)
{
	DIR *d;
	struct dirent *e;
	char path[PATH_MAX + 256], *url;

	if (!CHECK(p != NULL && p->pid == 0, "pierd_wipe_store: pierd is stopped"))
		return false;
	if (p->pgdb[0] != '\0') {
		harness_pg_drop_db(p->pgdb);
		url = harness_pg_create_db(p->pgdb);
		free(url);
		return url != NULL;
	}
	d = opendir(p->dir);
	if (!CHECK(d != NULL, "opendir %s", p->dir))
		return false;
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, "pier", 4) != 0 || strcmp(e->d_name, "pierd.log") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", p->dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	return true;
}

int pierd_pid(const struct pierd *p)
{
	return p != NULL ? (int)p->pid : 0;
}

int pierd_port(const struct pierd *p)
{
	return p->port;
}

const char *pierd_port_str(const struct pierd *p)
{
	return p->port_str;
}

int pierd_http_port(const struct pierd *p)
{
	return p->http_port;
}

int pierd_tls_port(const struct pierd *p)
{
	return p->tls_port;
}

const char *pierd_tls_port_str(const struct pierd *p)
{
	return p->tls_port_str;
}

int pierd_https_port(const struct pierd *p)
{
	return p->https_port;
}

int harness_gen_cert(const char *dir)
{
	int status = 0;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		if (null >= 0)
			dup2(null, STDOUT_FILENO);
		execl(PIERD_PATH, PIERD_PATH, "--gen-cert", dir, (char *)NULL);
		_exit(127);
	}
	if (!CHECK(pid > 0, "fork: %s", strerror(errno)))
		return -1;
	waitpid(pid, &status, 0);
	if (!CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "pierd --gen-cert %s failed", dir))
		return -1;
	return 0;
}

struct pier_conn *client_connect_tls(struct pierd *p, const struct pier_tls_options *opt)
{
	char *err = NULL;
	struct pier_conn *c;

	if (p == NULL)
		return NULL;
	c = pier_conn_open_tls(pierd_host(p), pierd_tls_port_str(p), HARNESS_TIMEOUT_MS, opt, &err);
	CHECK(c != NULL, "TLS connect to pierd on port %d: %s", p->tls_port, err != NULL ? err : "?");
	free(err);
	return c;
}

const char *pierd_host(const struct pierd *p)
{
	(void)p;
	return "127.0.0.1";
}

const char *pierd_dir(const struct pierd *p)
{
	return p->dir;
}

/* Appends what f gives to *buf (length *len), NUL-terminated. 0, or -1 out of memory. */
static int append_stream(FILE *f, char **buf, size_t *len)
{
	char chunk[65536];
	size_t n;

	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
		char *grown = realloc(*buf, *len + n + 1);

		if (grown == NULL)
			return -1;
		memcpy(grown + *len, chunk, n);
		*buf = grown;
		*len += n;
		(*buf)[*len] = '\0';
	}
	return 0;
}

char *pierd_store_dump(const struct pierd *p, size_t *len)
{
	char *buf = calloc(1, 1);
	bool read_any = false;

	*len = 0;
	if (buf == NULL)
		return NULL;
	if (p->pgdb[0] != '\0') {
		char *url = harness_pg_url(p->pgdb);
		char cmd[4400];
		FILE *f;
		int status;

		snprintf(cmd, sizeof cmd, "PGGSSENCMODE=disable /usr/lib/postgresql/15/bin/pg_dump "
		         "--data-only --no-owner '%s' 2>&1", url != NULL ? url : "");
		free(url);
		f = popen(cmd, "r");
		if (f != NULL) {
			int rc = append_stream(f, &buf, len);

			status = pclose(f);
			read_any = rc == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
		}
	} else {
		static const char *const files[] = { "pier.db", "pier.db-wal" };

		for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
			char path[PATH_MAX + 16];
			FILE *f;

			snprintf(path, sizeof path, "%s/%s", p->dir, files[i]);
			f = fopen(path, "rb");
			if (f == NULL)
				continue;
			if (append_stream(f, &buf, len) == 0 && i == 0)
				read_any = true;
			fclose(f);
		}
	}
	if (!CHECK(read_any, "the store of %s could be read (%s)", p->dir,
	           p->pgdb[0] != '\0' ? "pg_dump" : "pier.db")) {
		free(buf);
		*len = 0;
		return NULL;
	}
	return buf;
}

int harness_done(void)
{
	int rc = tap_done();

	for (int i = 0; i < MAX_LIVE; i++) {
		struct pierd *p = all_pierds[i];

		if (p == NULL)
			continue;
		if (rc != 0)
			pierd_dump_log(p);
		pierd_free(p);
	}
	return rc;
}

/* ---- Clients ---- */

void harness_user(char out[HARNESS_NAME_MAX], const char *prefix)
{
	int n = atomic_fetch_add(&user_counter, 1);

	snprintf(out, HARNESS_NAME_MAX, "%.16s_%05d_%d", prefix, (int)(getpid() % 100000), n);
}

struct pier_conn *client_connect(struct pierd *p)
{
	return p != NULL ? client_connect_port(p->port) : NULL;
}

struct pier_conn *client_connect_port(int port)
{
	char *err = NULL, port_str[16];
	struct pier_conn *c;

	snprintf(port_str, sizeof(port_str), "%d", port);
	c = pier_conn_open("127.0.0.1", port_str, HARNESS_TIMEOUT_MS, &err);
	CHECK(c != NULL, "connect to 127.0.0.1:%d: %s", port, err != NULL ? err : "?");
	free(err);
	return c;
}

json_t *client_call(struct pier_conn *c, json_t *req)
{
	char what[256];
	json_t *reply;

	if (c == NULL) {
		json_decref(req);
		return NULL;
	}
	snprintf(what, sizeof(what), "%s", jdump(req));
	reply = pier_conn_call(c, req, HARNESS_TIMEOUT_MS);
	CHECK(reply != NULL, "no reply within %d ms to %s (connection %s)", HARNESS_TIMEOUT_MS, what,
	      pier_conn_is_closed(c) ? "closed" : "open");
	return reply;
}

bool client_expect_error(struct pier_conn *c, json_t *req, const char *code)
{
	char what[256];
	json_t *reply;
	bool ok;

	snprintf(what, sizeof(what), "%s", jdump(req));
	reply = client_call(c, req);
	if (reply == NULL)
		return false;
	ok = CHECK(is_error(reply, code), "%s: want error %s, got %s", what, code, jdump(reply));
	if (ok)
		ok = CHECK(jstr(reply, "message") != NULL, "error %s without a message: %s", code,
		           jdump(reply));
	json_decref(reply);
	return ok;
}

int client_register(struct pier_conn *c, const char *user, const char *password)
{
	json_t *reply = client_call(c, pier_req_register(user, password));
	int status = HARNESS_NO_STATUS;

	if (reply != NULL && is_op(reply, "register"))
		status = (int)jint(reply, "status", HARNESS_NO_STATUS);
	json_decref(reply);
	return status;
}

struct pier_conn *client_login(struct pierd *p, const char *user, const char *password)
{
	return p != NULL ? client_login_port(p->port, user, password) : NULL;
}

struct pier_conn *client_login_port(int port, const char *user, const char *password)
{
	struct pier_conn *c = client_connect_port(port);
	json_t *reply, *users;
	bool ok;

	if (c == NULL)
		return NULL;
	reply = client_call(c, pier_req_login(user, password));
	ok = reply != NULL && CHECK(is_op(reply, "login") && jint(reply, "status", -99) == 1,
	                            "login %s: want status 1, got %s", user, jdump(reply));
	json_decref(reply);
	if (ok) {
		users = client_wait_op(c, "users");
		ok = users != NULL;
		json_decref(users);
	}
	if (!ok) {
		pier_conn_close(c);
		return NULL;
	}
	return c;
}

struct pier_conn *client_new_user(struct pierd *p, const char *prefix,
                                  char user_out[HARNESS_NAME_MAX])
{
	struct pier_conn *c = client_connect(p);
	int status;

	if (c == NULL)
		return NULL;
	harness_user(user_out, prefix);
	status = client_register(c, user_out, HARNESS_PASSWORD);
	pier_conn_close(c);
	if (!CHECK(status == PIER_REGISTER_OK, "register %s: status %d, want 3", user_out, status))
		return NULL;
	return client_login(p, user_out, HARNESS_PASSWORD);
}

struct pier_conn *client_new_user_display(struct pierd *p, const char *prefix, const char *display,
                                          char user_out[HARNESS_NAME_MAX])
{
	struct pier_conn *c = client_connect(p);
	json_t *r;
	bool ok;

	if (c == NULL)
		return NULL;
	harness_user(user_out, prefix);
	r = client_call(c, pier_req_register_display(user_out, HARNESS_PASSWORD, display));
	ok = CHECK(r != NULL && jint(r, "status", 0) == PIER_REGISTER_OK && jstr(r, "display") != NULL &&
	           strcmp(jstr(r, "display"), display) == 0, "register with a display name: %s",
	           jdump(r));
	json_decref(r);
	pier_conn_close(c);
	return ok ? client_login(p, user_out, HARNESS_PASSWORD) : NULL;
}

int64_t client_send(struct pier_conn *c, const char *to, const char *text, const char *cid,
                    int64_t *ts_out)
{
	json_t *reply = client_call(c, pier_req_send(to, text, cid));
	int64_t id = -1;

	if (reply != NULL && CHECK(is_op(reply, "sent") && jint(reply, "id", -1) > 0,
	                           "send to %s: want sent, got %s", to, jdump(reply))) {
		id = jint(reply, "id", -1);
		if (ts_out != NULL)
			*ts_out = jint(reply, "ts", -1);
	}
	json_decref(reply);
	return id;
}

json_t *client_wait_op(struct pier_conn *c, const char *op)
{
	json_t *ev;

	if (c == NULL)
		return NULL;
	ev = pier_conn_wait_op(c, op, HARNESS_TIMEOUT_MS);
	CHECK(ev != NULL, "no \"%s\" event within %d ms (connection %s)", op, HARNESS_TIMEOUT_MS,
	      pier_conn_is_closed(c) ? "closed" : "open");
	return ev;
}

json_t *client_wait_msg(struct pier_conn *c, const char *text)
{
	int64_t deadline = pier_mono_ms() + HARNESS_TIMEOUT_MS;
	json_t *found = NULL;

	while (c != NULL && found == NULL && pier_mono_ms() < deadline) {
		json_t *ev = pier_conn_wait_op(c, "msg", (int)(deadline - pier_mono_ms()));
		const char *t = jstr(ev, "text");

		if (ev == NULL)
			break;
		if (t != NULL && strcmp(t, text) == 0)
			found = ev;
		else
			json_decref(ev); /* another message: the caller did not ask for it */
	}
	CHECK(found != NULL, "no msg with text \"%.80s\" within %d ms", text, HARNESS_TIMEOUT_MS);
	return found;
}

json_t *client_history_msg(struct pier_conn *c, const char *with, int64_t id)
{
	json_t *reply = client_call(c, pier_req_history(with, 0, 200)), *m, *found = NULL;
	size_t i;

	json_array_foreach(json_object_get(reply, "messages"), i, m) {
		if (jint(m, "id", -1) == id)
			found = json_incref(m);
	}
	json_decref(reply);
	CHECK(found != NULL, "message %lld is in the history of %s", (long long)id, with);
	return found;
}

json_t *client_events(struct pier_conn *c)
{
	json_t *reply, *events, *ev;

	if (c == NULL)
		return NULL;
	reply = client_call(c, pier_req_ping());
	if (reply == NULL)
		return NULL;
	if (!CHECK(is_op(reply, "pong"), "ping: want pong, got %s", jdump(reply))) {
		json_decref(reply);
		return NULL;
	}
	json_decref(reply);
	events = json_array();
	while ((ev = pier_conn_next(c, 0)) != NULL)
		json_array_append_new(events, ev);
	return events;
}

int client_drain(struct pier_conn *c)
{
	json_t *events = client_events(c);
	int n = events != NULL ? (int)json_array_size(events) : -1;

	json_decref(events);
	return n;
}

json_t *client_read_until_closed(struct pier_conn *c, int timeout_ms, bool *closed)
{
	int64_t deadline = pier_mono_ms() + timeout_ms;
	json_t *events = json_array();

	*closed = false;
	while (c != NULL) {
		int64_t left = deadline - pier_mono_ms();
		json_t *ev;

		if (left <= 0)
			break;
		ev = pier_conn_next(c, (int)(left > 1000 ? 1000 : left));
		if (ev != NULL) {
			json_array_append_new(events, ev);
		} else if (pier_conn_is_closed(c)) {
			*closed = true;
			break;
		}
	}
	return events;
}

/* ---- JSON helpers ---- */

const char *jstr(const json_t *o, const char *key)
{
	const json_t *v = json_is_object(o) ? json_object_get(o, key) : NULL;

	return json_is_string(v) ? json_string_value(v) : NULL;
}

int64_t jint(const json_t *o, const char *key, int64_t dflt)
{
	const json_t *v = json_is_object(o) ? json_object_get(o, key) : NULL;

	return json_is_integer(v) ? (int64_t)json_integer_value(v) : dflt;
}

bool jtrue(const json_t *o, const char *key)
{
	return json_is_object(o) && json_is_true(json_object_get(o, key));
}

bool is_op(const json_t *ev, const char *op)
{
	const char *have = jstr(ev, "op");

	return have != NULL && strcmp(have, op) == 0;
}

bool is_error(const json_t *ev, const char *code)
{
	const char *have = jstr(ev, "error");

	return is_op(ev, "error") && have != NULL && strcmp(have, code) == 0;
}

json_t *jfind(const json_t *o, const char *list, const char *key, const char *value)
{
	json_t *v;
	size_t i;

	json_array_foreach(json_object_get(o, list), i, v) {
		if (jstr(v, key) != NULL && strcmp(jstr(v, key), value) == 0)
			return v;
	}
	return NULL;
}

size_t count_op(const json_t *events, const char *op, const char *field, const char *value)
{
	size_t n = 0, i;
	const json_t *ev;

	json_array_foreach(events, i, ev) {
		const char *v;

		if (!is_op(ev, op))
			continue;
		if (field != NULL) {
			v = jstr(ev, field);
			if (v == NULL || strcmp(v, value) != 0)
				continue;
		}
		n++;
	}
	return n;
}

const char *jdump(const json_t *j)
{
	static _Thread_local char bufs[8][1024];
	static _Thread_local unsigned next;
	char *buf = bufs[next++ % 8];
	char *s;

	if (j == NULL)
		return "(nothing)";
	s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
	if (s == NULL)
		return "(unprintable)";
	snprintf(buf, sizeof(bufs[0]), "%.900s%s", s, strlen(s) > 900 ? "..." : "");
	free(s);
	return buf;
}
