/* cluster_presence.c - per-node online sets, leases and cluster-wide transitions
 * (cluster_presence.h). */
#include "cluster_presence.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <uthash.h>

#include "names.h"
#include "xalloc.h"

/* One user on one node. */
struct cp_member {
	char key[PIER_KEY_MAX];
	UT_hash_handle hh;
};

struct cp_node {
	char name[CLUSTER_NODE_MAX + 1];
	int64_t seen_ms;
	struct cp_member *members;       /* by key */
	size_t nmembers;
	uint64_t digest;                 /* of the members kept here */
	UT_hash_handle hh;
};

/* A user online on at least one other node: on how many. */
struct cp_user {
	char key[PIER_KEY_MAX];
	char name[PIER_NAME_MAX + 1];
	unsigned nodes;
	UT_hash_handle hh;
};

/* A fixed key: every node must compute the same digest of the same set. */
static const unsigned char digest_key[crypto_shorthash_KEYBYTES] = "pier-presence-1";

uint64_t cluster_presence_name_digest(const char *name)
{
	char key[PIER_KEY_MAX];
	unsigned char out[crypto_shorthash_BYTES];
	uint64_t d = 0;

	pier_name_key(name, key);
	crypto_shorthash(out, (const unsigned char *)key, strlen(key), digest_key);
	for (size_t i = 0; i < sizeof(d); i++)
		d = d << 8 | out[i];
	return d;
}

void cluster_presence_init(struct cluster_presence *p, int64_t lease_ms,
                           const struct cluster_presence_ops *ops, void *ud)
{
	memset(p, 0, sizeof(*p));
	p->lease_ms = lease_ms;
	p->ops = ops;
	p->ud = ud;
}

static bool valid_name(const char *name)
{
	return name != NULL && pier_name_check(name) == PIER_NAME_OK;
}

/* A user came online on one more other node. */
static void user_up(struct cluster_presence *p, const char *name, const char *key)
{
	struct cp_user *u;

	HASH_FIND_STR(p->users, key, u);
	if (u == NULL) {
		u = xcalloc(1, sizeof(*u));
		memcpy(u->key, key, strlen(key) + 1);
		memcpy(u->name, name, strlen(name) + 1);
		HASH_ADD_STR(p->users, key, u);
	}
	if (u->nodes++ == 0 && !p->ops->local_online(p->ud, u->name))
		p->ops->transition(p->ud, u->name, true);
}

/* ... went offline on one other node. */
static void user_down(struct cluster_presence *p, const char *key)
{
	struct cp_user *u;

	HASH_FIND_STR(p->users, key, u);
	if (u == NULL)
		return;
	if (--u->nodes > 0)
		return;
	HASH_DEL(p->users, u);
	if (!p->ops->local_online(p->ud, u->name))
		p->ops->transition(p->ud, u->name, false);
	free(u);
}

/* Adds name to n's set (true if it was not there). */
static bool member_add(struct cluster_presence *p, struct cp_node *n, const char *name)
{
	char key[PIER_KEY_MAX];
	struct cp_member *m;

	pier_name_key(name, key);
	HASH_FIND_STR(n->members, key, m);
	if (m != NULL)
		return false;
	if (n->nmembers >= CLUSTER_PRESENCE_NODE_USERS) {
		p->refused++;
		return false;
	}
	m = xcalloc(1, sizeof(*m));
	memcpy(m->key, key, sizeof(key));
	HASH_ADD_STR(n->members, key, m);
	n->nmembers++;
	n->digest ^= cluster_presence_name_digest(name);
	user_up(p, name, key);
	return true;
}

static void member_del(struct cluster_presence *p, struct cp_node *n, struct cp_member *m)
{
	char key[PIER_KEY_MAX];

	HASH_DEL(n->members, m);
	n->nmembers--;
	n->digest ^= cluster_presence_name_digest(m->key);
	memcpy(key, m->key, sizeof(key));
	free(m);
	user_down(p, key);
}

static struct cp_node *node_get(struct cluster_presence *p, const char *node, int64_t now_ms)
{
	struct cp_node *n;

	HASH_FIND_STR(p->nodes, node, n);
	if (n != NULL)
		return n;
	if (!cluster_node_name_ok(node) || p->nnodes >= CLUSTER_PRESENCE_NODES) {
		p->refused++;
		return NULL;
	}
	n = xcalloc(1, sizeof(*n));
	memcpy(n->name, node, strlen(node) + 1);
	n->seen_ms = now_ms;
	HASH_ADD_STR(p->nodes, name, n);
	p->nnodes++;
	return n;
}

static void node_free(struct cluster_presence *p, struct cp_node *n)
{
	struct cp_member *m, *tmp;

	HASH_DEL(p->nodes, n);
	p->nnodes--;
	HASH_ITER(hh, n->members, m, tmp)
		member_del(p, n, m);
	free(n);
}

void cluster_presence_release(struct cluster_presence *p)
{
	struct cp_node *n, *ntmp;
	struct cp_user *u, *utmp;
	struct cp_member *m, *mtmp;

	/* No transitions while tearing down: free without reporting. */
	HASH_ITER(hh, p->nodes, n, ntmp) {
		HASH_ITER(hh, n->members, m, mtmp) {
			HASH_DEL(n->members, m);
			free(m);
		}
		HASH_DEL(p->nodes, n);
		free(n);
	}
	HASH_ITER(hh, p->users, u, utmp) {
		HASH_DEL(p->users, u);
		free(u);
	}
	memset(p, 0, sizeof(*p));
}

bool cluster_presence_local(struct cluster_presence *p, const char *name, bool online)
{
	if (!valid_name(name))
		return false;
	p->local_digest ^= cluster_presence_name_digest(name);
	p->local_users += online ? 1 : -1;
	return !cluster_presence_remote_online(p, name);
}

void cluster_presence_remote(struct cluster_presence *p, const char *node, const char *name,
                             bool online, int64_t now_ms)
{
	struct cp_node *n;
	struct cp_member *m;
	char key[PIER_KEY_MAX];

	if (!valid_name(name))
		return;
	n = node_get(p, node, now_ms);
	if (n == NULL)
		return;
	n->seen_ms = now_ms;
	if (online) {
		member_add(p, n, name);
		return;
	}
	pier_name_key(name, key);
	HASH_FIND_STR(n->members, key, m);
	if (m != NULL)
		member_del(p, n, m);
}

bool cluster_presence_heartbeat(struct cluster_presence *p, const char *node,
                                const struct cluster_hb *hb, int64_t now_ms)
{
	struct cp_node *n;

	HASH_FIND_STR(p->nodes, node, n);
	if (n == NULL) {
		n = node_get(p, node, now_ms);
		if (n == NULL)
			return false;
		return hb->users > 0;
	}
	n->seen_ms = now_ms;
	return (int64_t)n->nmembers != hb->users || n->digest != hb->digest;
}

void cluster_presence_set(struct cluster_presence *p, const char *node,
                          char *const *names, size_t n, int64_t now_ms)
{
	struct cp_node *nd = node_get(p, node, now_ms);
	struct cp_member *m, *tmp, *keep = NULL;
	char key[PIER_KEY_MAX];

	if (nd == NULL)
		return;
	nd->seen_ms = now_ms;
	/* Add the new ones first, so that a user in both sets never looks offline. */
	for (size_t i = 0; i < n; i++) {
		if (valid_name(names[i]))
			member_add(p, nd, names[i]);
	}
	/* Mark the kept ones (move them aside), then drop the rest. */
	for (size_t i = 0; i < n; i++) {
		if (!valid_name(names[i]))
			continue;
		pier_name_key(names[i], key);
		HASH_FIND_STR(nd->members, key, m);
		if (m != NULL) {
			HASH_DEL(nd->members, m);
			HASH_ADD_STR(keep, key, m);
		}
	}
	HASH_ITER(hh, nd->members, m, tmp)
		member_del(p, nd, m);
	nd->members = keep;
}

size_t cluster_presence_expire(struct cluster_presence *p, int64_t now_ms)
{
	struct cp_node *n, *tmp;
	size_t gone = 0;

	HASH_ITER(hh, p->nodes, n, tmp) {
		if (now_ms - n->seen_ms > p->lease_ms) {
			node_free(p, n);
			gone++;
		}
	}
	return gone;
}

void cluster_presence_drop_node(struct cluster_presence *p, const char *node)
{
	struct cp_node *n;

	HASH_FIND_STR(p->nodes, node, n);
	if (n != NULL)
		node_free(p, n);
}

size_t cluster_presence_each_remote(const struct cluster_presence *p,
                                    void (*fn)(void *ud, const char *name), void *ud)
{
	const struct cp_user *u;
	size_t n = 0;

	for (u = p->users; u != NULL; u = u->hh.next, n++)
		fn(ud, u->name);
	return n;
}

bool cluster_presence_remote_online(const struct cluster_presence *p, const char *name)
{
	char key[PIER_KEY_MAX];
	struct cp_user *u;

	if (!valid_name(name))
		return false;
	pier_name_key(name, key);
	HASH_FIND_STR(p->users, key, u);
	return u != NULL;
}
