/* harness.h - integration-test harness: runs a real pierd on loopback and drives clients.
 *
 * A test program starts one pierd (pierd_start) in a fresh temporary data directory, talks to
 * it through libpier's blocking pier_conn, and ends with pierd_stop (SIGTERM, exit status 0,
 * no sanitizer report in the log) and `return harness_done();`.
 *
 * Every wait is bounded: replies by HARNESS_TIMEOUT_MS, the server's start and stop by
 * HARNESS_START_MS / HARNESS_STOP_MS, the whole program by harness_watchdog().
 * Failed checks go through tap.h (CHECK/REQUIRE); helpers that fail record a failed check
 * themselves and return NULL / -1 / false so a test can stop early.
 */
#ifndef PIER_HARNESS_H
#define PIER_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "pier.h"
#include "tap.h"

#define HARNESS_TIMEOUT_MS  10000    /* one reply or event (the ASan build is slow) */
#define HARNESS_QUIET_MS    300      /* "nothing more arrives" windows */
#define HARNESS_START_MS    10000    /* until pierd logs "listening on" */
#define HARNESS_STOP_MS     10000    /* from SIGTERM until pierd exits */
#define HARNESS_NAME_MAX    33       /* a user name (at most 32 characters) plus NUL */
#define HARNESS_PASSWORD    "pw-secret-42"
#define HARNESS_NO_STATUS   (-1000)  /* client_register: no reply, or a reply without status */

struct pierd;

/* ---- The server ---- */

/* Bounds the whole test program: after seconds, prints a message, SIGKILLs every pierd the
 * harness started and exits with status 2. Call once at the top of main(). */
void harness_watchdog(unsigned seconds);

/* Creates a temporary data directory (under $TMPDIR or /tmp) and starts PIERD_PATH with
 * `--listen 127.0.0.1:P --http 127.0.0.1:Q --data-dir DIR --weak-password-hash --log-level
 * info` (P and Q from harness_free_port) plus extra_args (a NULL-terminated list, copied; may be NULL). stderr and stdout go
 * to DIR/pierd.log. Waits until the log says "listening on 127.0.0.1:PORT (tcp)" and the
 * HTTP line (and, when extra_args has --tls-cert, the TLS lines: pass --tls-listen
 * 127.0.0.1:0 --https 127.0.0.1:0 then). NULL (and a failed check, and the log printed) if
 * pierd did not come up. */
struct pierd *pierd_start(const char *const *extra_args);

/* A TCP port on 127.0.0.1 that nothing was bound to a moment ago, not one of taken[0..n),
 * drawn at random below the kernel's ephemeral range (ip_local_port_range). pierd_start and
 * the cluster's NATS servers and HAProxy listen on such ports because they are stopped and
 * started again on the same port (pierd_restart_same_port, the outage tests): a port of the
 * ephemeral range may meanwhile become another process's (any connect() of a test running
 * beside; seen: a restarted server could not bind), while ports below it are only ever
 * taken by explicit binds. 0 on failure. */
int harness_free_port(const int *taken, size_t n);

/* PostgreSQL mode: when the environment has PIER_TEST_STORE (a postgresql:// URL of a
 * database the harness may CREATE DATABASE from, e.g. scripts/pg-test.sh's), pierd_start
 * creates a fresh database named after the data directory, adds `--store URL-of-it` (unless
 * extra_args has a --store of its own) and pierd_free drops it; a pierd started with the
 * --data-dir of a running harness pierd (two nodes on one store) gets that one's database.
 * Without it pierd runs on its default SQLite file. */

/* PIER_TEST_STORE, or NULL when unset or empty. */
const char *harness_store_url(void);
/* PIER_TEST_STORE's URL with its database replaced by name (malloc'd), or NULL. */
char *harness_pg_url(const char *name);
/* CREATE DATABASE name (letters, digits, '-', '_'; at most 63); its URL (malloc'd), or NULL
 * with a failed check. */
char *harness_pg_create_db(const char *name);
/* DROP DATABASE IF EXISTS name WITH (FORCE); errors only printed. */
void harness_pg_drop_db(const char *name);

/* Starts a pierd like pierd_start but in dir, a data directory the caller made and removes
 * (several pierds may share one: the nodes of a cluster), logging to dir/NAME.log. No
 * database is made for it: extra_args carries its --store. */
struct pierd *pierd_start_in(const char *dir, const char *name, const char *const *extra_args);

/* Starts pierd again on the same data directory with the same arguments (on a new port) after
 * pierd_stop or pierd_kill9. 0, or -1 with a failed check. */
int pierd_restart(struct pierd *p);

/* Like pierd_restart, but on the ports (JSON and HTTP) of the last run, so that clients (and a
 * load balancer) reconnecting to the address they know find it again (SO_REUSEADDR lets it
 * bind at once). */
int pierd_restart_same_port(struct pierd *p);

/* SIGTERM, waits up to HARNESS_STOP_MS (then SIGKILL), checks exit status 0 and a clean log
 * (pierd_exit_clean). Returns true if all of that held. A server that is not running: true. */
bool pierd_stop(struct pierd *p);

/* SIGKILL and reap (a crash; no checks). */
void pierd_kill9(struct pierd *p);

/* Checks that the log holds no sanitizer report ("ERROR: AddressSanitizer", "runtime error:",
 * "LeakSanitizer", "WARNING: ThreadSanitizer"). Returns true if clean. */
bool pierd_exit_clean(struct pierd *p);

/* True while the pierd process is alive (reaps it if it died; an unexpected death is a failed
 * check). */
bool pierd_is_running(struct pierd *p);

/* Prints the last lines of pierd.log to stderr. */
void pierd_dump_log(struct pierd *p);

/* True if pierd.log (all runs so far) contains needle. */
bool pierd_log_contains(struct pierd *p, const char *needle);

/* Stops pierd if it still runs (SIGKILL, no checks) and frees p; removes the data directory
 * unless the environment has PIER_KEEP_TEST_DATA. NULL is fine. Tests normally leave this to
 * harness_done. */
void pierd_free(struct pierd *p);

/* Makes a stopped pierd forget everything it stored (a server that lost its data): removes
 * its pier.db files, or in PostgreSQL mode drops and re-creates its database. True if done. */
bool pierd_wipe_store(struct pierd *p);

/* The pid of the running pierd (0 when none), for tests that signal it themselves (SIGSTOP
 * freezes it with its connections open). */
int pierd_pid(const struct pierd *p);
int pierd_port(const struct pierd *p);
/* The HTTP, TLS (JSON protocol) and HTTPS ports; 0 when that listener is not open. */
int pierd_http_port(const struct pierd *p);
int pierd_tls_port(const struct pierd *p);
const char *pierd_tls_port_str(const struct pierd *p);
int pierd_https_port(const struct pierd *p);

/* Runs `pierd --gen-cert dir` (dir/cert.pem, dir/key.pem). 0, or -1 with a failed check. */
int harness_gen_cert(const char *dir);
const char *pierd_port_str(const struct pierd *p);
const char *pierd_host(const struct pierd *p);
const char *pierd_dir(const struct pierd *p);

/* Everything the server's store holds, as bytes a test can search for what must not be there
 * (a recalled text, an end-to-end encrypted message's plaintext): on SQLite the files pier.db
 * and pier.db-wal as they are on disk (old page versions included); on PostgreSQL
 * (PIER_TEST_STORE) `pg_dump --data-only` of its database: every live row and index entry,
 * but not the dead row versions a table keeps until VACUUM (docs/SECURITY.md). malloc'd,
 * NUL-terminated, *len its length; NULL with a failed check when nothing could be read. */
char *pierd_store_dump(const struct pierd *p, size_t *len);

/* The end of a test's main(): tap_done(); then, for every pierd not yet freed, prints its log
 * tail if a check failed, and pierd_free. Returns tap_done's status. */
int harness_done(void);

/* ---- Clients ---- */

/* A user name unique to this program run: prefix (cut to 16 characters), pid, counter. */
void harness_user(char out[HARNESS_NAME_MAX], const char *prefix);

/* A connection to p, or NULL with a failed check. */
struct pier_conn *client_connect(struct pierd *p);
/* A TLS connection to p's --tls-listen port, or NULL with a failed check. */
struct pier_conn *client_connect_tls(struct pierd *p, const struct pier_tls_options *opt);

/* A connection to 127.0.0.1:port (a load balancer in front of pierds), or NULL with a failed
 * check. */
struct pier_conn *client_connect_port(int port);

/* Registers user; returns the reply's status (PIER_REGISTER_*) or HARNESS_NO_STATUS. */
int client_register(struct pier_conn *c, const char *user, const char *password);

/* Connects and logs in; checks status 1 and consumes the "users" event that follows.
 * NULL (closed connection) with a failed check otherwise. */
struct pier_conn *client_login(struct pierd *p, const char *user, const char *password);

/* client_login through 127.0.0.1:port. */
struct pier_conn *client_login_port(int port, const char *user, const char *password);

/* harness_user(prefix) + register (checks status 3) + client_login with HARNESS_PASSWORD. */
struct pier_conn *client_new_user(struct pierd *p, const char *prefix,
                                  char user_out[HARNESS_NAME_MAX]);
/* The same, registering with a display name (checks that the reply carries it). */
struct pier_conn *client_new_user_display(struct pierd *p, const char *prefix, const char *display,
                                          char user_out[HARNESS_NAME_MAX]);

/* pier_conn_call with HARNESS_TIMEOUT_MS; a missing reply is a failed check. Takes req. */
json_t *client_call(struct pier_conn *c, json_t *req);

/* Calls req (taken) and checks the reply is {"op":"error","error":code}. */
bool client_expect_error(struct pier_conn *c, json_t *req, const char *code);

/* Sends text to `to` and waits for the reply; checks it is "sent". Returns the id or -1.
 * ts_out (may be NULL) gets the reply's ts. */
int64_t client_send(struct pier_conn *c, const char *to, const char *text, const char *cid,
                    int64_t *ts_out);

/* The first event whose op is op within HARNESS_TIMEOUT_MS (others stay kept), or NULL with a
 * failed check. */
json_t *client_wait_op(struct pier_conn *c, const char *op);

/* The first "msg" event whose text is text, or NULL with a failed check. Events of other ops
 * stay kept; "msg" events with another text before it are dropped. */
json_t *client_wait_msg(struct pier_conn *c, const char *text);

/* The message id as c's history of with ("#room" or "@user"; its newest 200) gives it (new
 * reference), or NULL after a failed check. */
json_t *client_history_msg(struct pier_conn *c, const char *with, int64_t id);

/* A ping round trip: returns a new JSON array of every event that arrived before the pong
 * (kept ones first), so that "nothing else arrived" can be checked. NULL if no pong. */
json_t *client_events(struct pier_conn *c);

/* client_events, discarding them. Returns how many there were (-1 if no pong). */
int client_drain(struct pier_conn *c);

/* Reads until the server closes the connection, up to timeout_ms; returns a new array of the
 * events read meanwhile. *closed says whether the close was seen. */
json_t *client_read_until_closed(struct pier_conn *c, int timeout_ms, bool *closed);

/* ---- JSON helpers ---- */

/* o[key] as a string, or NULL. */
const char *jstr(const json_t *o, const char *key);
/* o[key] as an integer, or dflt when missing or not an integer. */
int64_t jint(const json_t *o, const char *key, int64_t dflt);
/* True if o[key] is JSON true. */
bool jtrue(const json_t *o, const char *key);
/* True if ev is {"op":"error","error":code}. */
bool is_error(const json_t *ev, const char *code);
/* True if ev has op op. */
bool is_op(const json_t *ev, const char *op);
/* The first object in the array o[list] whose key is the string value (borrowed), or NULL. */
json_t *jfind(const json_t *o, const char *list, const char *key, const char *value);
/* How many events in the array have op op (and, when field is not NULL, field == value). */
size_t count_op(const json_t *events, const char *op, const char *field, const char *value);
/* A compact dump of j for messages (a thread-local rotating buffer, cut at ~900 bytes). */
const char *jdump(const json_t *j);

#endif
