/* cluster_codec.h - the bus's payloads (docs/CLUSTER.md, "The bus") to and from JSON bytes.
 *
 * A node trusts another node's bytes no more than a client's: every decoder takes the bytes
 * as they came from NATS, refuses anything over its size bound, checks every field (names by
 * the name rules, targets, lengths, ranges, kinds) and fills a struct only when all of it is
 * valid. Unknown fields are ignored (a newer node may add some); missing or mistyped ones
 * refuse the payload. Nothing decoded here is ever trusted as a permission: the receiving
 * node still resolves names in its own directory and reads what matters from the store.
 *
 * Ownership: encoders return malloc'd bytes (the caller frees them) and *len; decoders fill
 * a caller-owned struct whose strings they malloc, freed by the matching *_release (which
 * also zeroes it, and is safe on a struct a failed decode left). Pure: no I/O, no globals.
 */
#ifndef PIER_CLUSTER_CODEC_H
#define PIER_CLUSTER_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "names.h"
#include "store.h"

#define CLUSTER_NODE_MAX      64            /* bytes of a node name: [A-Za-z0-9_.-] */
#define CLUSTER_PAYLOAD_MAX   (1024 * 1024) /* bytes of any payload (NATS' default max) */
#define CLUSTER_HELLO_MAX     20000         /* names in one hello reply */
#define CLUSTER_TEXT_MAX      (64 * 1024)   /* bytes of a message text, topic, display name */
#define CLUSTER_REACTIONS_MAX 64            /* reactions listed on one message */

/* The limits a decoder holds payloads to (a node's own settings: its --max-text). */
struct cluster_limits {
	size_t max_text;     /* bytes of message text; 0 means CLUSTER_TEXT_MAX */
};

/* Checks a node name: 1-CLUSTER_NODE_MAX of [A-Za-z0-9_.-]. */
bool cluster_node_name_ok(const char *name);
/* Checks a cluster name (a NATS subject token): 1-32 of [A-Za-z0-9_-]. */
bool cluster_name_ok(const char *name);

/* ---- CLUSTER.msg: {"node","msg":{...}} a stored message ---- */

/* Encodes m (its reader-specific fields, mentioned and the search spans, are left out). */
char *cluster_encode_msg(const char *node, const struct store_msg *m, size_t *len);
/* 0 and *m filled (strings malloc'd, node copied; store_msg_release frees them), or -1. */
int cluster_decode_msg(const char *data, size_t len, const struct cluster_limits *lim,
                       char node[CLUSTER_NODE_MAX + 1], struct store_msg *m);
/* Deep copy of src's wire fields into dst (malloc'd strings, freed by store_msg_release; spans
 * are not copied). */
void cluster_msg_copy(struct store_msg *dst, const struct store_msg *src);

/* ---- CLUSTER.change: {"node","ev":{"op","msg",...}} ---- */

enum cluster_change_op { CLUSTER_EDITED, CLUSTER_RECALLED, CLUSTER_REACTION };

struct cluster_change {
	enum cluster_change_op op;
	struct store_msg msg;                /* the message's new state */
	char user[PIER_NAME_MAX + 1];        /* REACTION: who reacted */
	char emoji[64];                      /* REACTION */
	bool on;                             /* REACTION: added */
	int64_t count;                       /* REACTION: the emoji's count now */
};

char *cluster_encode_change(const char *node, const struct cluster_change *ch, size_t *len);
int cluster_decode_change(const char *data, size_t len, const struct cluster_limits *lim,
                          char node[CLUSTER_NODE_MAX + 1], struct cluster_change *ch);
void cluster_change_release(struct cluster_change *ch);

/* ---- CLUSTER.env: {"node","user"[,"peer"],"device","qid"} ---- */

struct cluster_env {
	char user[PIER_NAME_MAX + 1];        /* whose device it may be: the node looks for the
	                                      * device's session among this user's sessions */
	char peer[PIER_NAME_MAX + 1];        /* and this one's ("" if none): an encrypted
	                                      * message's envelopes are for both parties' devices */
	int64_t device;                      /* the device's row id (> 0) */
	int64_t qid;                         /* the new envelope's queue id (> 0) */
};

char *cluster_encode_env(const char *node, const struct cluster_env *e, size_t *len);
int cluster_decode_env(const char *data, size_t len, char node[CLUSTER_NODE_MAX + 1],
                       struct cluster_env *e);

/* ---- CLUSTER.event: {"node","ev":{"op",...}} state that is not a stored message ---- */

enum cluster_event_op {
	CLUSTER_EV_MEMBER,          /* user joined (flag) or left room */
	CLUSTER_EV_TOPIC,           /* room's topic is text (NULL: cleared), set by user at ts */
	CLUSTER_EV_READ,            /* user read target up to id (its other sessions hear it) */
	CLUSTER_EV_PROFILE,         /* user's display name is text (NULL: none) */
	CLUSTER_EV_TYPING,          /* user is typing to target */
	CLUSTER_EV_DEVICES,         /* user's device list changed (version id; pending text) */
	CLUSTER_EV_USER             /* user registered, with id */
};

struct cluster_event {
	enum cluster_event_op op;
	char user[PIER_NAME_MAX + 1];        /* every op */
	char target[PIER_KEY_MAX + 1];       /* MEMBER, TOPIC: "#room"; READ, TYPING: "#room" or
	                                      * "@name"; "" otherwise */
	char *text;                          /* TOPIC, PROFILE, DEVICES (pending id): may be NULL */
	int64_t id;                          /* READ: message id; USER: user id; DEVICES: version */
	int64_t ts;                          /* TOPIC */
	bool flag;                           /* MEMBER: joined */
};

char *cluster_encode_event(const char *node, const struct cluster_event *ev, size_t *len);
int cluster_decode_event(const char *data, size_t len, const struct cluster_limits *lim,
                         char node[CLUSTER_NODE_MAX + 1], struct cluster_event *ev);
void cluster_event_release(struct cluster_event *ev);

/* ---- CLUSTER.presence: {"node","user","online"} ---- */

struct cluster_presence_msg {
	char user[PIER_NAME_MAX + 1];
	bool online;
};

char *cluster_encode_presence(const char *node, const struct cluster_presence_msg *p, size_t *len);
int cluster_decode_presence(const char *data, size_t len, char node[CLUSTER_NODE_MAX + 1],
                            struct cluster_presence_msg *p);

/* ---- CLUSTER.hb: {"node","seq","users","digest"} ---- */

struct cluster_hb {
	uint64_t seq;                        /* counts the node's heartbeats */
	int64_t users;                       /* its online users */
	uint64_t digest;                     /* cluster_presence.h's digest of their names */
};

char *cluster_encode_hb(const char *node, const struct cluster_hb *hb, size_t *len);
int cluster_decode_hb(const char *data, size_t len, char node[CLUSTER_NODE_MAX + 1],
                      struct cluster_hb *hb);

/* ---- CLUSTER.hello's reply: {"node","online":[names]} ---- */

/* names: n user names (n <= CLUSTER_HELLO_MAX, else NULL is returned). */
char *cluster_encode_hello(const char *node, const char *const *names, size_t n, size_t *len);
/* *names: a malloc'd array of *n malloc'd valid names; free with cluster_names_free. */
int cluster_decode_hello(const char *data, size_t len, char node[CLUSTER_NODE_MAX + 1],
                         char ***names, size_t *n);
void cluster_names_free(char **names, size_t n);

#endif
