/* pg_e2ee_internal.h - what pg_e2ee.c (the device's life, sends, envelopes) shares with
 * pg_e2ee_ops.c (the device operations the windows call): the manager's state and the
 * helpers both use. Not for other modules: they use pg_e2ee.h. */
#ifndef PG_E2EE_INTERNAL_H
#define PG_E2EE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>
#include <jansson.h>

#include "pg_e2ee.h"
#include "pier_e2ee.h"

enum req_kind {
	R_REGISTER, R_HELLO, R_OWN, R_PUBLISH, R_KEYS, R_SEND, R_DEVICE_SEND, R_PREKEYS, R_ACK,
	R_HELD_DEVICES, R_APPROVE, R_SAFETY, R_RESET
};

enum publish_kind { P_FIRST, P_APPROVE, P_CHANGE, P_RESET };

struct job {
	char to[PIER_NAME_MAX + 2];         /* "@user" */
	char cid[48];                       /* the outbox's: stored once whatever the tries */
	json_t *plain;                      /* the payload fields */
	int64_t media;
	int64_t reply_to, edit_of;          /* a reply, an edit (not from the outbox) */
	int tries;
	int waiting;                        /* keys replies awaited; -1: runs after set-up */
	struct job *next;
};

struct req {
	char ref[PIER_REF_MAX];
	enum req_kind kind;
	enum publish_kind pkind;
	char arg[PIER_E2EE_ID_B64 + PIER_NAME_MAX + 2];   /* a device id, a user, a code */
	struct job *job;
	struct req *next;
};

struct pg_e2ee {
	struct pg_e2ee_host host;
	bool loaded;                        /* m holds a device state */
	bool usable;                        /* ... that could be read (or was made) */
	int lock;                           /* the device directory's flock, or -1 */
	struct pier_e2ee_mgr m;
	enum pg_e2ee_state state;
	char challenge[64];
	struct req *reqs;
	struct job *jobs;
	size_t njobs;
	json_t *held;                       /* envelopes waiting, in order */
	bool held_waiting;
	int64_t ack_upto;
	json_t *own_reply;                  /* the last `devices` reply about oneself */
	struct pier_e2ee_own own;
	bool has_own;
	json_t *files;                      /* media id (string) -> payload "file" */
	guint flush_idle;
	struct life *life;                  /* what async transfers come back to */
	int64_t replay_left;                /* envelopes of the queue the hello announced: not
	                                     * new to the user (the unread counts hold them) */
};

/* A history transfer's callback outlives neither the manager nor its device state: it finds
 * e through life (NULL once freed) and checks the generation (bumped at each unload). */
struct life {
	int refs;
	struct pg_e2ee *e;
	unsigned gen;
};

/* Sends req (taken) with a reply awaited as kind (arg: a device id, a user, a code): the
 * request, or NULL when offline. */
struct req *pg_e2ee__request(struct pg_e2ee *e, json_t *req, enum req_kind kind,
                             const char *arg);
/* Tells the user (formatted, translated by the caller). */
void pg_e2ee__say(struct pg_e2ee *e, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* Saves the device state: 0, or -1 after saying why. */
int pg_e2ee__save(struct pg_e2ee *e);
/* The windows learn that something changed. */
void pg_e2ee__changed(struct pg_e2ee *e);
/* Saves and acknowledges on an idle turn. */
void pg_e2ee__schedule_flush(struct pg_e2ee *e);

#endif
