/* bench_server.h - the pierd under test: started by the bench on loopback in a fresh data
 * directory (or an existing one named by --target), and its CPU time and memory from /proc. */
#ifndef BENCH_SERVER_H
#define BENCH_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "bench_stats.h"

#define BSERVER_ARGS_MAX 24

struct bserver {
	pid_t pid;                 /* 0: not ours (--target) or not running */
	char host[64];
	int port;
	char dir[512];             /* the data directory we created, "" with --target */
	char log_path[600];
	char flags[512];           /* the flags pierd runs with, for the report */
	bool keep_dir;             /* leave the data directory behind */
};

/* CPU time and memory of the server process. */
struct bserver_usage {
	int64_t cpu_us;            /* utime + stime of every thread, microseconds */
	int64_t main_cpu_us;       /* of the main thread alone (pierd's event loop) */
	int64_t rss_kib;           /* VmRSS */
	int64_t hwm_kib;           /* VmHWM, the peak RSS */
	bool ok;                   /* false: /proc could not be read */
};

/* Starts pierd_path with `--listen 127.0.0.1:0 --data-dir DIR --weak-password-hash
 * --no-rate-limits --log-level info` and, when max_output is not 0, `--max-output N`; DIR is a
 * fresh directory under $TMPDIR or /tmp. Waits (at most 10 s) for its "listening on" line.
 * Returns 0, or -1 with a message in err (and the log's tail on stderr). */
int bserver_start(struct bserver *s, const char *pierd_path, uint64_t max_output, char *err,
                  size_t errlen);

/* The same in dir, an existing directory the bench made (a database prepared in it); it is
 * removed by bserver_stop like a fresh one. */
int bserver_start_dir(struct bserver *s, const char *pierd_path, const char *dir,
                      uint64_t max_output, char *err, size_t errlen);

/* An existing server at "HOST:PORT" (no process of ours; usage is not available). */
int bserver_target(struct bserver *s, const char *hostport, char *err, size_t errlen);

/* SIGTERM and wait (at most 15 s, then SIGKILL); removes the data directory unless keep_dir.
 * Returns 0 if pierd exited with status 0 (or was not ours), -1 otherwise (message in err). */
int bserver_stop(struct bserver *s, char *err, size_t errlen);

/* True while our pierd runs (reaps it when it died). Always true with --target. */
bool bserver_alive(struct bserver *s);

/* Reads /proc/PID/stat and /proc/PID/status. ok is false with --target. */
struct bserver_usage bserver_usage(const struct bserver *s);

/* CPU time that processes (not kernel threads, not interrupts) on the whole machine spent since
 * boot, in microseconds (/proc/stat user + nice + system, less every kernel thread's time); -1
 * if unreadable. Over a window, minus pierd's and the bench's own, it is what other processes
 * took meanwhile (short-lived ones such as compilers included). */
int64_t bserver_machine_busy_us(void);

/* CPU time of the bench's own process (every thread, user + system), in microseconds: over a
 * window, the bench's share next to pierd's and the machine's. */
int64_t bserver_bench_cpu_us(void);

/* Counts pierd's fdatasync and fsync calls with `perf stat` (tracepoints) from now until
 * bserver_count_syncs_end. Returns a handle (a pid) or -1 when perf is missing or not allowed. */
pid_t bserver_count_syncs_begin(const struct bserver *s, char *path, size_t pathlen);
/* Stops the counter and returns the number of sync calls seen, or -1. */
int64_t bserver_count_syncs_end(pid_t handle, const char *path);

/* The disk under dir: n appends of 4 KiB, each followed by fdatasync (what a commit costs at
 * least). Fills the quantiles in ms (all -1 when the probe could not run); returns 0 or -1. */
struct bfsync {
	double p50_ms, p99_ms, p999_ms, max_ms;   /* per fdatasync */
	/* As a message sees them: one arriving at a uniform random time during the back-to-back
	 * fdatasyncs waits the rest of the one in flight, then the next (its own commit). A long
	 * stall delays every message that arrives during it, so this weighs fdatasyncs by their
	 * length: the floor of a group-committing store's per-message latency on this disk. */
	double msg_p50_ms, msg_p99_ms, msg_p999_ms;
	int n;
};
int bserver_probe_fsync(const char *dir, int n, struct bfsync *out);

/* Prints the last lines of the server's log to stderr. */
void bserver_dump_log(const struct bserver *s);

#endif
