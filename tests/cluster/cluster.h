/* cluster.h - a pier cluster on loopback for the cluster tests (docs/CLUSTER.md): three pierd
 * nodes on one PostgreSQL database and one shared --data-dir, a 3-node nats-server cluster,
 * and HAProxy in front (TCP mode for the JSON port, HTTP mode for /ws and media), all on free
 * ports.
 *
 * PostgreSQL comes from the environment, as for the harness's PostgreSQL mode: PIER_TEST_STORE
 * (ctest's pg fixture, scripts/pg-test.sh) names a server where a database is made for the
 * cluster. nats-server and haproxy are children of the test (killed with it: rundir_spawn).
 * Every wait is bounded; failures are failed checks (tap.h) and return NULL / -1 / false.
 * The nodes are harness pierds (harness.h): harness_done dumps their logs when a check
 * failed. A test ends with `return cluster_done(c);`.
 */
#ifndef PIER_TEST_CLUSTER_H
#define PIER_TEST_CLUSTER_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "harness.h"

#define CLUSTER_NODES 3

struct cluster;

/* Starts the whole cluster: database, NATS (waits for its routes), the three nodes with
 * `--store URL --nats URLS --node-name nodeN --presence-lease lease_s` plus extra_args
 * (NULL-terminated, may be NULL), then HAProxy (waits until both of its ports answer). NULL
 * with a failed check if any part did not come up. */
struct cluster *cluster_start(int lease_s, const char *const *extra_args);

/* Node i (0..2), or NULL. */
struct pierd *cluster_node(struct cluster *c, int i);
/* HAProxy's JSON (TCP) and HTTP ports. */
int cluster_lb_port(const struct cluster *c);
int cluster_lb_http_port(const struct cluster *c);

/* SIGKILL node i (a crash). */
void cluster_kill9(struct cluster *c, int i);
/* Starts node i again on its old ports (HAProxy's checks take it back). 0 or -1. */
int cluster_restart(struct cluster *c, int i);

/* Stops every nats-server (TERM; a bus outage) / starts them again on the same ports and
 * waits for their routes. 0 or -1 with a failed check. */
int cluster_nats_stop(struct cluster *c);
int cluster_nats_start(struct cluster *c);

/* Stops the nodes (checking each exits 0 with a clean log, as pierd_stop), HAProxy and NATS.
 * True if every node stopped cleanly. */
bool cluster_stop(struct cluster *c);

/* harness_done(), then frees everything (drops the database, removes the directory unless
 * PIER_KEEP_TEST_DATA); prints the NATS and HAProxy logs' tails when a check failed. */
int cluster_done(struct cluster *c);

/* ---- clients ---- */

/* node 0..2: straight to that node; CLUSTER_LB: through HAProxy. */
#define CLUSTER_LB (-1)

/* The JSON port of node (or of HAProxy). */
int cluster_port(struct cluster *c, int node);
/* Logs user in (HARNESS_PASSWORD) at node; consumes the users event. NULL with a failed check. */
struct pier_conn *cluster_login(struct cluster *c, int node, const char *user);
/* Like cluster_login, but a "no such user" answer (a registration on another node that has
 * not reached this one yet) is retried for up to HARNESS_TIMEOUT_MS. */
struct pier_conn *cluster_login_known(struct cluster *c, int node, const char *user);
/* harness_user(prefix), registers it through node, logs in there (through HAProxy with
 * cluster_login_known: the two may land on different nodes). */
struct pier_conn *cluster_new_user(struct cluster *c, int node, const char *prefix,
                                   char user_out[HARNESS_NAME_MAX]);
/* Joins room (checks the reply is "join"). */
bool cluster_join(struct pier_conn *conn, const char *room);

/* Reads msg events of conversation `to` until n have arrived (others dropped; events of other
 * ops kept), within timeout_ms. Returns a new array of them (possibly short, with a failed
 * check). */
json_t *cluster_collect(struct pier_conn *conn, const char *to, size_t n, int timeout_ms);

/* Every message of conversation `with` as conn's history gives it, oldest first, paging
 * back; at most max. A new array, or NULL with a failed check. */
json_t *cluster_history(struct pier_conn *conn, const char *with, size_t max);

/* Every message sync after `after` gives conn, paging on while more; at most max. A new
 * array, or NULL. */
json_t *cluster_sync(struct pier_conn *conn, int64_t after, size_t max);

#endif
