/* bench_setup.h - the users of a scenario: names, fast registration, logins (one connection
 * each, a bounded number in progress) and room membership, plus a barrier (bsetup_sync).
 *
 * pierd checks at most --max-hash-jobs (64) passwords at once and answers "busy" past that,
 * so registration and login keep fewer than that many hashing requests in flight. */
#ifndef BENCH_SETUP_H
#define BENCH_SETUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bench_net.h"

#define BSETUP_PASSWORD  "bench-pw-1"
#define BSETUP_WINDOW    48      /* hashing requests in flight, below pierd's 64 */
#define BSETUP_NAME_MAX  33

struct buser {
	char name[BSETUP_NAME_MAX];
	uint32_t idx;
	struct bconn *c;          /* its session, after bsetup_login */
	char challenge[48];       /* the login reply's challenge (base64url, 43 characters; a
	                             device proves itself with it), "" when there was none */
	int step;                 /* setup progress (bench_setup.c) */
	void *scen;               /* the scenario's data */
};

struct bsetup_stats {
	int64_t login_ns;         /* from the first login sent to the last one answered */
	uint64_t logins;
	uint64_t presence, member, users;   /* events received meanwhile */
};

/* n users named "<tag>_<scen><i>" (at most 32 characters), idx = position. Never NULL. */
struct buser *bsetup_users(const char *tag, const char *scen, size_t n);

/* Registers every user, pipelined over nconns connections that are closed afterwards. */
int bsetup_register(struct bnet *net, struct buser *u, size_t n, int nconns, int64_t deadline_ns,
                    char *err, size_t errlen);

/* Opens one connection per user (u[i].c), at most window in setup at once: registers it first
 * when do_register, logs it in, then joins room unless room is NULL. st may be NULL. */
int bsetup_login(struct bnet *net, struct buser *u, size_t n, bool do_register, const char *room,
                 int window, int64_t deadline_ns, struct bsetup_stats *st, char *err,
                 size_t errlen);

/* ev as compact JSON for an error message, at most 299 characters ("?" when it cannot be
 * written). The text lives in a static buffer until the next call: use it at once. */
const char *bsetup_describe(json_t *ev);

/* Pings every user's connection and waits for all the pongs: whatever pierd queued for them
 * before (presence, member events) has then arrived. */
int bsetup_sync(struct bnet *net, struct buser *u, size_t n, int64_t deadline_ns, char *err,
                size_t errlen);
/* Like bsetup_sync, and counts into st (when not NULL) the events every connection got
 * meanwhile (st->login_ns and st->logins stay 0). */
int bsetup_sync_counted(struct bnet *net, struct buser *u, size_t n, int64_t deadline_ns,
                        struct bsetup_stats *st, char *err, size_t errlen);

#endif
