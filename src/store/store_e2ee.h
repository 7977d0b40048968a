/* store_e2ee.h - what the store's end-to-end encryption jobs take and give (store.h's
 * STORE_E2EE_* ops and the encrypted STORE_APPEND; store_e2ee.c runs them).
 *
 * The store keeps devices, their prekeys, each user's signed device list and each device's
 * queue of envelopes; keys, signatures, payloads and envelope bodies are kept as the
 * base64url text the wire carries (the loop has checked their form and lengths): the server
 * compares and relays them, it opens none. docs/E2EE.md, "The server's part".
 *
 * Memory: struct store_device and struct store_prekey are fixed-size (no owners). Inputs
 * (the const pointers, the caller's arrays) are borrowed until done runs; the outputs
 * (devices, envs, list_out, sig_out) belong to the job and store_job_release frees them.
 */
#ifndef PIER_STORE_E2EE_H
#define PIER_STORE_E2EE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "names.h"

#define STORE_DEVICE_ID_TEXT  22   /* a device id: 16 bytes as base64url */
#define STORE_KEY_TEXT        43   /* a 32-byte key as base64url */
#define STORE_SIG_TEXT        86   /* a 64-byte signature as base64url */
#define STORE_DEVICE_NAME_MAX 64   /* bytes of a device's name */

enum store_device_state {
	STORE_DEVICE_PENDING = 0,   /* registered, in no signed list yet (expires) */
	STORE_DEVICE_ACTIVE = 1,    /* in the user's current list */
	STORE_DEVICE_REVOKED = 2    /* left out of a list, or reset away: its id stays taken */
};

struct store_prekey {
	int64_t id;                             /* the client's 32-bit id */
	char key[STORE_KEY_TEXT + 1];
};

/* A device as the store has it. */
struct store_device {
	int64_t rid;                            /* the store's row id (0: none) */
	char id[STORE_DEVICE_ID_TEXT + 1];
	char user[PIER_NAME_MAX + 1];           /* whose (out: DEVICES, KEYS, the changed set) */
	char sign_key[STORE_KEY_TEXT + 1];      /* DSK_pub */
	char dh_key[STORE_KEY_TEXT + 1];        /* DIK_pub */
	char name[STORE_DEVICE_NAME_MAX + 1];
	int state;                              /* enum store_device_state */
	bool listed;                            /* KEYS: named by the user's current list */
	int64_t created;                        /* ms, the server's clock */
	int64_t spk_id;                         /* the signed prekey (REGISTER in, KEYS out;
	                                         * PREKEYS in: 0 keeps the current one) */
	char spk_key[STORE_KEY_TEXT + 1];
	char spk_sig[STORE_SIG_TEXT + 1];
	bool has_opk;                           /* KEYS: a one-time prekey was claimed */
	struct store_prekey opk;
	int64_t opk_count;                      /* one-time prekeys left */
	int64_t queued;                         /* envelopes in its queue */
};

/* One envelope. For an encrypted APPEND (in): device (the recipient device's id) and
 * body_in; out: qid and device_rid. For QUEUE (out, owned by the job): the rest. */
struct store_envelope {
	int64_t qid;
	int64_t device_rid;                     /* the device whose queue it is in */
	char device[STORE_DEVICE_ID_TEXT + 1];  /* APPEND in: the recipient device */
	const char *body_in;
	char from_device[STORE_DEVICE_ID_TEXT + 1];
	char *from;                             /* the sending user */
	char *to;                               /* "@recipient" of a message; NULL for device_send */
	char *payload;                          /* the message's (or device_send's own) */
	char *body;
	int64_t msg_id;                         /* 0: a device_send */
	int64_t ts;
	int64_t reply_to;
	int64_t media_id, media_size;
	char *media_name, *media_type;
};

struct store_e2ee {
	/* inputs */
	struct store_device dev;                /* REGISTER: the new device (id, keys, name, spk);
	                                         * PREKEYS: spk (spk_id 0: unchanged);
	                                         * HELLO out: the device as stored */
	const struct store_prekey *opks;        /* REGISTER, PREKEYS: one-time prekeys to add */
	size_t nopks;
	const char *device_id;                  /* HELLO: the device; DEVICE_SEND: the target */
	int64_t device_rid;                     /* the session's device: PREKEYS, KEYS (left out
	                                         * of one's own), APPEND, DEVICE_SEND, QUEUE, ACK */
	int64_t peer_id;                        /* DEVICES, KEYS: whose (the job's user_id asks) */
	int max_devices;                        /* REGISTER, PUBLISH: --e2ee-max-devices */
	int max_prekeys;                        /* REGISTER, PREKEYS: --e2ee-max-prekeys */
	int64_t max_queue;                      /* APPEND, DEVICE_SEND: --e2ee-max-queue */
	int64_t pending_cutoff;                 /* ms: pending devices created before it are gone */
	const char *payload;                    /* APPEND (non-NULL: an encrypted message),
	                                         * DEVICE_SEND */
	const char *body;                       /* DEVICE_SEND */
	struct store_envelope *envs_in;         /* APPEND: the caller's array (qid, device_rid
	                                         * filled) */
	size_t nenvs_in;
	/* PUBLISH: the list (its text, signature, account key, version, reset flag) and the
	 * devices it names (id, sign_key, dh_key); reset_allowed: the session logged in with
	 * the password */
	const char *list, *sig, *ak;
	int64_t version;
	bool reset, reset_allowed;
	const struct store_device *listed;
	size_t nlisted;
	bool include_pending;                   /* DEVICES: one's own pending devices too */
	int64_t after;                          /* QUEUE: qids after this */
	int64_t upto;                           /* ACK: qids up to this */
	int limit;                              /* QUEUE: at most this many */

	/* outputs */
	int64_t rid;                            /* REGISTER, HELLO, DEVICE_SEND: the device's */
	int state;                              /* HELLO */
	int64_t qid;                            /* DEVICE_SEND */
	int64_t opk_count;                      /* REGISTER, HELLO, PREKEYS */
	int64_t queued;                         /* HELLO: envelopes waiting */
	int64_t count;                          /* ACK: envelopes deleted */
	int64_t version_out;                    /* DEVICES, KEYS, PUBLISH (also on STORE_STALE) */
	char *list_out, *sig_out;               /* DEVICES, KEYS: NULL when the user has none */
	struct store_device *devices;           /* DEVICES, KEYS; APPEND STORE_CHANGED: the
	                                         * current set; PUBLISH: the revoked ones */
	size_t ndevices;
	struct store_envelope *envs;            /* QUEUE, oldest first */
	size_t nenvs;
	bool more;                              /* QUEUE: more wait past limit */
};

#endif
