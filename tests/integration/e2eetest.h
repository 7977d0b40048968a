/* e2eetest.h - what the end-to-end encryption integration tests share: test devices with real
 * keys (libsodium), their registration and device_hello with proofs signed over the session's
 * challenge, signed device lists (the devlist codec of src/common), and encrypted sends with
 * stand-in ciphertext (random bytes: the server neither can nor may tell the difference).
 * Every helper records a failed check itself when the server's answer is not the expected. */
#ifndef PIER_E2EETEST_H
#define PIER_E2EETEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "harness.h"

#define T_ID_TEXT  23                /* a device id as base64url, with its NUL */
#define T_KEY_TEXT 44
#define T_SIG_TEXT 87

/* A session: a logged-in connection with its login challenge. */
struct tsession {
	struct pier_conn *c;
	unsigned char challenge[32];
	char token[128];
};

/* A device: its keys (secret ones too: the test is its client) and the session speaking for
 * it (NULL when offline). */
struct tdev {
	char user[HARNESS_NAME_MAX];
	unsigned char id[16];
	char id64[T_ID_TEXT];
	unsigned char sign_pk[32], sign_sk[64];
	unsigned char dh_pk[32], dh_sk[32];
	unsigned char spk_pk[32], spk_sk[32];
	uint32_t spk_id;
	char name[32];
	struct tsession s;
};

/* An account key (the user's identity epoch) and the version of its last list. */
struct tacct {
	char user[HARNESS_NAME_MAX];
	unsigned char ak_pk[32], ak_sk[64];
	uint32_t version;
};

/* a and b are both strings and equal (NULL, e.g. a missing field, equals nothing). */
bool t_streq(const char *a, const char *b);
/* Calls req (taken) on c and checks the reply is the error code; what names the step in the
 * failed check. */
void t_expect(struct pier_conn *c, json_t *req, const char *code, const char *what);

/* base64url without padding of n bytes into out (at least n * 4 / 3 + 3). */
void t_b64(char *out, size_t outlen, const unsigned char *bin, size_t n);
/* n random bytes as base64url (malloc'd). */
char *t_random_b64(size_t n);

/* Logs user in with the password (or with token when not NULL) on a new connection, keeping
 * the challenge (and the token); consumes the users event. false with a failed check. */
bool t_login(struct pierd *p, const char *user, const char *token, struct tsession *s);
/* Registers user (HARNESS_PASSWORD); false with a failed check. */
bool t_register(struct pierd *p, const char *user);

/* New keys for a device of user named name. */
void t_dev_init(struct tdev *d, const char *user, const char *name);
/* A new account key for user. */
void t_acct_init(struct tacct *a, const char *user);
/* proof = Ed25519(DSK, "pier-hello-v1" || challenge) as base64url. */
void t_proof(const struct tdev *d, const unsigned char challenge[32], char out[T_SIG_TEXT]);
/* The device_register request of d with nopks one-time prekeys (ids opk_base..), its proof
 * over challenge (new reference). */
json_t *t_register_req(const struct tdev *d, const unsigned char challenge[32], int nopks,
                       int opk_base);
/* Logs d's user in (d->s) and registers d on that session: the reply must say pending. */
bool t_dev_register(struct pierd *p, struct tdev *d, int nopks);
/* Logs d's user in (d->s, unless it is open) and says device_hello for d: the reply (new
 * reference; NULL with a failed check when there is none). */
json_t *t_dev_hello(struct pierd *p, struct tdev *d);
/* Closes d's session. */
void t_dev_close(struct tdev *d);

/* A devices_publish request of a's next version (a->version + 1 unless version > 0) naming
 * devs (n of them, sorted here), flags (1: reset), signed by a. */
json_t *t_publish_req(const struct tacct *a, struct tdev *const *devs, size_t n,
                      uint32_t version, uint8_t flags);
/* Publishes a's next list with devs from c; checks the reply and bumps a->version. */
bool t_publish(struct pier_conn *c, struct tacct *a, struct tdev *const *devs, size_t n);

/* An encrypted send to "@to" with payload (base64url) and one random envelope for each of
 * ids (n device ids, base64url) (new reference). cid may be NULL. */
json_t *t_send_req(const char *to, const char *payload, const char *const *ids, size_t n,
                   const char *cid);

/* Reads events from c until n "envelope" events came (others are dropped), each appended to
 * out; false with a failed check when they did not come in time. */
bool t_collect_envelopes(struct pier_conn *c, size_t n, json_t *out);

#endif
