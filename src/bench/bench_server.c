/* bench_server.c - starts and stops the pierd under test and reads its usage from /proc. */

#include "bench_server.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rundir.h"

#define START_MS      10000
#define STOP_MS       15000
#define LOG_TAIL      40
#define LISTEN_NEEDLE "listening on 127.0.0.1:"

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
		/* sleep the rest */
	}
}

/* The whole file (at most cap bytes from its end), NUL-terminated; NULL if unreadable. */
static char *read_tail(const char *path, size_t cap)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long size;
	size_t n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0)
		goto out;
	size = ftell(f);
	if (size < 0)
		goto out;
	if ((size_t)size > cap && fseek(f, size - (long)cap, SEEK_SET) != 0)
		goto out;
	if ((size_t)size <= cap)
		rewind(f);
	buf = malloc(cap + 1);
	if (buf == NULL)
		goto out;
	n = fread(buf, 1, cap, f);
	buf[n] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (buf[i] == '\0')
			buf[i] = ' ';
	}
out:
	fclose(f);
	return buf;
}

/* Whether `pierd --help` lists flag (e.g. "--http "): pierd grows listeners over time, and the
 * bench turns off those it does not measure. */
static bool pierd_has_flag(const char *pierd_path, const char *flag)
{
	char help[65536];
	size_t len = 0;
	int fds[2], status;
	pid_t pid;

	if (pipe(fds) != 0)
		return false;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(fds[1], STDOUT_FILENO);
		if (null >= 0) {
			dup2(null, STDIN_FILENO);
			dup2(null, STDERR_FILENO);
		}
		close(fds[0]);
		close(fds[1]);
		execl(pierd_path, pierd_path, "--help", (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	if (pid < 0) {
		close(fds[0]);
		return false;
	}
	for (;;) {
		ssize_t n = read(fds[0], help + len, sizeof(help) - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len == sizeof(help) - 1)
			break;
	}
	close(fds[0]);
	help[len] = '\0';
	waitpid(pid, &status, 0);
	return strstr(help, flag) != NULL;
}

/* The port of the TCP listener in pierd's log: "listening on 127.0.0.1:PORT" followed by
 * " (tcp)" when pierd names its listeners; 0 when not there yet. */
static int tcp_port(const char *log)
{
	const char *at = log;
	int first = 0;

	while (at != NULL && (at = strstr(at, LISTEN_NEEDLE)) != NULL) {
		char *end;
		long port = strtol(at + strlen(LISTEN_NEEDLE), &end, 10);

		at += strlen(LISTEN_NEEDLE);
		if (port <= 0 || port > 65535)
			continue;
		if (strncmp(end, " (tcp)", 6) == 0)
			return (int)port;
		if (first == 0 && strncmp(end, " (", 2) != 0)
			first = (int)port;
	}
	return first;
}

int bserver_start(struct bserver *s, const char *pierd_path, uint64_t max_output, char *err,
                  size_t errlen)
{
	const char *tmp = getenv("TMPDIR");
	char dir[sizeof(s->dir)];

	if (tmp == NULL || tmp[0] == '\0')
		tmp = "/tmp";
	snprintf(dir, sizeof(dir), "%s/pier-bench-XXXXXX", tmp);
	if (mkdtemp(dir) == NULL) {
		memset(s, 0, sizeof(*s));
		snprintf(err, errlen, "mkdtemp %s: %s", dir, strerror(errno));
		return -1;
	}
	return bserver_start_dir(s, pierd_path, dir, max_output, err, errlen);
}

int bserver_start_dir(struct bserver *s, const char *pierd_path, const char *dir,
                      uint64_t max_output, char *err, size_t errlen)
{
	char max_out[32];
	char *argv[BSERVER_ARGS_MAX];
	int argc = 0;
	int64_t deadline;

	memset(s, 0, sizeof(*s));
	snprintf(s->dir, sizeof(s->dir), "%s", dir);
	snprintf(s->log_path, sizeof(s->log_path), "%s/pierd.log", s->dir);
	snprintf(s->host, sizeof(s->host), "127.0.0.1");
	argv[argc++] = (char *)pierd_path;
	argv[argc++] = "--listen";
	argv[argc++] = "127.0.0.1:0";
	argv[argc++] = "--data-dir";
	argv[argc++] = s->dir;
	argv[argc++] = "--weak-password-hash";
	argv[argc++] = "--no-rate-limits";
	argv[argc++] = "--log-level";
	argv[argc++] = "info";
	snprintf(s->flags, sizeof(s->flags),
	         "--listen 127.0.0.1:0 --data-dir <temporary dir> --weak-password-hash "
	         "--no-rate-limits --log-level info");
	if (pierd_has_flag(pierd_path, "--http ")) {
		/* the bench measures the TCP protocol; no HTTP listener on a shared port */
		argv[argc++] = "--http";
		argv[argc++] = "off";
		snprintf(s->flags + strlen(s->flags), sizeof(s->flags) - strlen(s->flags), " --http off");
	}
	if (max_output != 0) {
		snprintf(max_out, sizeof(max_out), "%llu", (unsigned long long)max_output);
		argv[argc++] = "--max-output";
		argv[argc++] = max_out;
		snprintf(s->flags + strlen(s->flags), sizeof(s->flags) - strlen(s->flags),
		         " --max-output %s", max_out);
	}
	argv[argc] = NULL;

	s->pid = rundir_spawn(argv, s->log_path, "pier-bench");
	if (s->pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		s->pid = 0;
		return -1;
	}
	deadline = mono_ms() + START_MS;
	while (mono_ms() < deadline) {
		char *log = read_tail(s->log_path, 1 << 16);

		s->port = log != NULL ? tcp_port(log) : 0;
		free(log);
		if (s->port > 0) {
			/* A listener is up; a failure of a later start-up step would end pierd now. */
			sleep_ms(50);
			if (bserver_alive(s))
				return 0;
			snprintf(err, errlen, "pierd exited right after it started listening (log: %s)",
			         s->log_path);
			bserver_dump_log(s);
			return -1;
		}
		if (!bserver_alive(s)) {
			snprintf(err, errlen, "pierd exited while starting (log: %s)", s->log_path);
			bserver_dump_log(s);
			return -1;
		}
		sleep_ms(10);
	}
	snprintf(err, errlen, "pierd did not log \"%s<port>\" within %d ms", LISTEN_NEEDLE, START_MS);
	bserver_dump_log(s);
	kill(s->pid, SIGKILL);
	waitpid(s->pid, NULL, 0);
	s->pid = 0;
	return -1;
}

int bserver_target(struct bserver *s, const char *hostport, char *err, size_t errlen)
{
	const char *colon = strrchr(hostport, ':');
	char *end;
	long port;

	memset(s, 0, sizeof(*s));
	if (colon == NULL || colon == hostport || (size_t)(colon - hostport) >= sizeof(s->host)) {
		snprintf(err, errlen, "--target wants HOST:PORT, got '%s'", hostport);
		return -1;
	}
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || port <= 0 || port > 65535) {
		snprintf(err, errlen, "--target: bad port in '%s'", hostport);
		return -1;
	}
	memcpy(s->host, hostport, (size_t)(colon - hostport));
	s->host[colon - hostport] = '\0';
	s->port = (int)port;
	snprintf(s->flags, sizeof(s->flags), "(existing server %s; flags unknown)", hostport);
	return 0;
}

bool bserver_alive(struct bserver *s)
{
	int status;

	if (s->pid == 0)
		return s->dir[0] == '\0';       /* --target: assume it runs */
	if (waitpid(s->pid, &status, WNOHANG) == 0)
		return true;
	s->pid = 0;
	return false;
}

int bserver_stop(struct bserver *s, char *err, size_t errlen)
{
	int status = 0, rc = 0;
	int64_t deadline;

	if (s->pid != 0) {
		kill(s->pid, SIGTERM);
		deadline = mono_ms() + STOP_MS;
		while (waitpid(s->pid, &status, WNOHANG) == 0) {
			if (mono_ms() > deadline) {
				kill(s->pid, SIGKILL);
				waitpid(s->pid, &status, 0);
				snprintf(err, errlen, "pierd did not stop within %d ms of SIGTERM", STOP_MS);
				rc = -1;
				break;
			}
			sleep_ms(10);
		}
		if (rc == 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
			snprintf(err, errlen, "pierd stopped with wait status 0x%x (log: %s)", status,
			         s->log_path);
			bserver_dump_log(s);
			rc = -1;
		}
		s->pid = 0;
	}
	if (s->dir[0] != '\0' && !s->keep_dir && rc == 0)
		rundir_remove(s->dir);
	return rc;
}

/* Sums a "Name:   N kB" line of /proc/PID/status. */
static int64_t status_kib(const char *status, const char *name)
{
	const char *at = strstr(status, name);

	return at != NULL ? strtoll(at + strlen(name), NULL, 10) : -1;
}

/* utime + stime in microseconds from a stat file, or -1. */
static int64_t stat_cpu_us(const char *path)
{
	unsigned long long ut = 0, st = 0;
	long ticks = sysconf(_SC_CLK_TCK);
	char buf[4096];
	const char *p;
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* Fields after the command (which may hold spaces): state is field 3, utime 14, stime 15. */
	p = strrchr(buf, ')');
	if (p == NULL || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
	                        &ut, &st) != 2)
		return -1;
	return (int64_t)((ut + st) * 1000000ULL / (unsigned long long)(ticks > 0 ? ticks : 100));
}

struct bserver_usage bserver_usage(const struct bserver *s)
{
	struct bserver_usage u = { 0, 0, -1, -1, false };
	char path[64], buf[4096];
	FILE *f;
	size_t n;

	if (s->pid == 0)
		return u;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)s->pid);
	u.cpu_us = stat_cpu_us(path);
	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)s->pid, (int)s->pid);
	u.main_cpu_us = stat_cpu_us(path);
	if (u.cpu_us < 0 || u.main_cpu_us < 0)
		return u;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)s->pid);
	f = fopen(path, "r");
	if (f == NULL)
		return u;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	u.rss_kib = status_kib(buf, "VmRSS:");
	u.hwm_kib = status_kib(buf, "VmHWM:");
	u.ok = u.rss_kib >= 0 && u.hwm_kib >= 0;
	return u;
}

/* The utime + stime of every kernel thread (PF_KTHREAD), microseconds. */
static int64_t kernel_threads_us(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int64_t total = 0;
	long ticks = sysconf(_SC_CLK_TCK);

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		char path[300], buf[1024];
		unsigned long long flags = 0, ut = 0, st = 0;
		const char *p;
		FILE *f;
		size_t n;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		f = fopen(path, "r");
		if (f == NULL)
			continue;
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = '\0';
		p = strrchr(buf, ')');
		/* state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
		if (p == NULL || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %llu %*u %*u %*u %*u %llu %llu",
		                        &flags, &ut, &st) != 3)
			continue;
		if (flags & 0x00200000ULL)         /* PF_KTHREAD */
			total += (int64_t)((ut + st) * 1000000ULL /
			                   (unsigned long long)(ticks > 0 ? ticks : 100));
	}
	closedir(d);
	return total;
}

int64_t bserver_machine_busy_us(void)
{
	unsigned long long v[3] = { 0 };
	long ticks = sysconf(_SC_CLK_TCK);
	FILE *f = fopen("/proc/stat", "r");
	int n;

	if (f == NULL)
		return -1;
	/* cpu  user nice system ...: interrupts, softirqs and steal are left out on purpose */
	n = fscanf(f, "cpu %llu %llu %llu", &v[0], &v[1], &v[2]);
	fclose(f);
	if (n != 3)
		return -1;
	return (int64_t)((v[0] + v[1] + v[2]) * 1000000ULL /
	                 (unsigned long long)(ticks > 0 ? ticks : 100)) - kernel_threads_us();
}

int64_t bserver_bench_cpu_us(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (int64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 + ru.ru_utime.tv_usec +
	       ru.ru_stime.tv_usec;
}

pid_t bserver_count_syncs_begin(const struct bserver *s, char *path, size_t pathlen)
{
	char pidstr[24];
	pid_t pid;
	int64_t deadline;

	if (s->pid == 0 || s->dir[0] == '\0')
		return -1;
	snprintf(path, pathlen, "%s/perf-syncs.txt", s->dir);
	snprintf(pidstr, sizeof(pidstr), "%d", (int)s->pid);
	unlink(path);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (null >= 0) {
			dup2(null, STDIN_FILENO);
			dup2(null, STDOUT_FILENO);
			dup2(null, STDERR_FILENO);
		}
		execlp("perf", "perf", "stat", "-x", ",", "-o", path, "-e",
		       "syscalls:sys_enter_fdatasync,syscalls:sys_enter_fsync", "-p", pidstr,
		       (char *)NULL);
		_exit(127);
	}
	if (pid < 0)
		return -1;
	/* perf needs a moment to attach; its output file appears once it counts. */
	deadline = mono_ms() + 2000;
	while (mono_ms() < deadline) {
		int status;

		if (waitpid(pid, &status, WNOHANG) == pid)
			return -1;          /* perf gave up: missing, or not allowed */
		if (access(path, F_OK) == 0) {
			sleep_ms(100);
			return pid;
		}
		sleep_ms(10);
	}
	return pid;
}

int64_t bserver_count_syncs_end(pid_t handle, const char *path)
{
	int status = 0;
	int64_t total = 0;
	int found = 0;
	char line[512];
	FILE *f;

	if (handle <= 0)
		return -1;
	kill(handle, SIGINT);
	for (int i = 0; i < 300 && waitpid(handle, &status, WNOHANG) == 0; i++)
		sleep_ms(10);
	if (waitpid(handle, &status, WNOHANG) == 0) {
		kill(handle, SIGKILL);
		waitpid(handle, &status, 0);
		return -1;
	}
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *end;
		long long v;

		if (strstr(line, "syscalls:sys_enter_f") == NULL)
			continue;
		v = strtoll(line, &end, 10);
		if (end == line || *end != ',')
			continue;          /* "<not supported>" and the like */
		total += v;
		found++;
	}
	fclose(f);
	return found == 2 ? total : -1;
}

/* The message-weighted quantiles of struct bfsync from the probe's durations d[0..n). */
static void fsync_as_messages(const int64_t *d, int n, struct bstats_hist *h, struct bfsync *out)
{
	int64_t total = 0, step;

	for (int i = 0; i + 1 < n; i++)
		total += d[i];
	if (n < 2 || total <= 0)
		return;
	step = total / 200000 > 0 ? total / 200000 : 1;     /* about 200 000 arrivals */
	bstats_init(h);
	for (int i = 0; i + 1 < n; i++) {
		for (int64_t x = 0; x < d[i]; x += step)
			bstats_record(h, d[i] - x + d[i + 1]);
	}
	out->msg_p50_ms = (double)bstats_quantile(h, 0.5) / 1e6;
	out->msg_p99_ms = (double)bstats_quantile(h, 0.99) / 1e6;
	out->msg_p999_ms = (double)bstats_quantile(h, 0.999) / 1e6;
}

int bserver_probe_fsync(const char *dir, int n, struct bfsync *out)
{
	struct bstats_hist *h = malloc(sizeof(*h));
	int64_t *d = calloc(n > 0 ? (size_t)n : 1, sizeof(*d));
	char path[600], block[4096];
	int fd = -1, rc = -1;

	out->p50_ms = out->p99_ms = out->p999_ms = out->max_ms = -1;
	out->msg_p50_ms = out->msg_p99_ms = out->msg_p999_ms = -1;
	out->n = 0;
	if (h == NULL || d == NULL)
		goto out;
	bstats_init(h);
	memset(block, 'x', sizeof(block));
	snprintf(path, sizeof(path), "%s/pier-bench-fsync-XXXXXX", dir);
	fd = mkstemp(path);
	if (fd < 0)
		goto out;
	unlink(path);
	for (int i = 0; i < n; i++) {
		struct timespec a, b;

		if (write(fd, block, sizeof(block)) != (ssize_t)sizeof(block))
			goto out;
		clock_gettime(CLOCK_MONOTONIC, &a);
		if (fdatasync(fd) != 0)
			goto out;
		clock_gettime(CLOCK_MONOTONIC, &b);
		d[i] = (int64_t)(b.tv_sec - a.tv_sec) * 1000000000 + (b.tv_nsec - a.tv_nsec);
		bstats_record(h, d[i]);
	}
	out->p50_ms = (double)bstats_quantile(h, 0.5) / 1e6;
	out->p99_ms = (double)bstats_quantile(h, 0.99) / 1e6;
	out->p999_ms = (double)bstats_quantile(h, 0.999) / 1e6;
	out->max_ms = (double)h->max / 1e6;
	out->n = n;
	fsync_as_messages(d, n, h, out);
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(h);
	free(d);
	return rc;
}

void bserver_dump_log(const struct bserver *s)
{
	char *log, *start;
	int lines = 0;

	if (s->log_path[0] == '\0')
		return;
	log = read_tail(s->log_path, 16384);
	if (log == NULL)
		return;
	start = log + strlen(log);
	while (start > log) {
		if (start[-1] == '\n' && start[0] != '\0' && ++lines > LOG_TAIL)
			break;
		start--;
	}
	fprintf(stderr, "---- last lines of %s ----\n%s---- end of pierd.log ----\n", s->log_path,
	        start);
	free(log);
}
