/* e2ee.h - libpier's end-to-end encryption core: the byte-exact protocol of docs/E2EE.md as a
 * sans-I/O module (no sockets, no files but the FILE * helpers of filecrypt.c). The high-level
 * device manager (src/lib/pier_e2ee*.c: keystore, trust, approval) is built on it.
 *
 * One module per file in src/lib/e2ee/:
 *   rng.c        the randomness source (the system's, or E2EE.md's deterministic one)
 *   b64.c        base64url without padding, to and from JSON
 *   hkdf.c       HKDF-SHA-256 (RFC 5869) on crypto_auth_hmacsha256
 *   device.c     one's own device keys (DSK, DIK, SPK, OPKs) and their JSON state
 *   devsig.c     signatures: device list (AK), signed prekey (DSK), hello proof (DSK)
 *   x3dh.c       the X3DH shared secret and associated data
 *   ratchet.c    the Double Ratchet of one session
 *   envelope.c   the envelope byte codec
 *   sessions.c   sessions per remote device: encrypt for a device, decrypt an envelope
 *   payload.c    payload seal/open and the 64-byte inner
 *   filecrypt.c  files: secretstream in 64 KiB chunks, streaming, bounded memory
 *   safety.c     safety numbers and approval codes
 *   bundle.c     the parser of a `keys` reply into bundles
 *
 * Conventions: functions that can fail return an enum pier_e2ee_status (0 or negative);
 * "pub" is a public key, "priv" an X25519 private key, "seed" an Ed25519 key's 32-byte seed.
 * Every struct that holds private keys has a _release (or _free) that wipes them
 * (sodium_memzero). Call sodium_init() once before anything here. Functions that need
 * randomness take a struct pier_e2ee_rng *; NULL means the system's (randombytes_buf).
 * Nothing here is thread-safe on a shared struct; separate structs are independent.
 * The JSON states hold private keys: jansson does not wipe its strings, so keep them short-lived.
 * Include it as "e2ee/e2ee.h" (src/lib is on libpier's include path; pierd has a chat/e2ee.h).
 */
#ifndef PIER_E2EE_H
#define PIER_E2EE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>
#include <sodium.h>

#include "devlist.h"

#define PIER_E2EE_ID_LEN        PIER_DEVICE_ID_LEN  /* 16: a device id */
#define PIER_E2EE_KEY_LEN       32                  /* X25519/Ed25519 public keys, seeds */
#define PIER_E2EE_SIG_LEN       64
#define PIER_E2EE_AD_LEN        (10 + 2 * (PIER_E2EE_ID_LEN + 2 * PIER_E2EE_KEY_LEN)) /* 170 */
#define PIER_E2EE_INNER_LEN     64      /* pk(32) || BLAKE2b-256(payload) */
#define PIER_E2EE_MAX_SKIP      1000    /* message keys skipped by one message */
#define PIER_E2EE_MAX_SKIPPED   2000    /* skipped keys kept per session */
#define PIER_E2EE_MAX_SESSIONS  4       /* sessions kept per remote device */
#define PIER_E2EE_MAX_SEEN_EK   128     /* pre-key EKs remembered per remote device */
#define PIER_E2EE_MAX_OPKS      200     /* one-time prekeys a device keeps (published or not) */
#define PIER_E2EE_MAX_PEERS     1024    /* remote devices one device keeps sessions with */
#define PIER_E2EE_CT_MIN        16      /* envelope ciphertext bounds (E2EE.md) */
#define PIER_E2EE_CT_MAX        256
#define PIER_E2EE_PREFIX_MAX    (2 + 32 + 4 + 1 + 4 + 32 + 4 + 4)  /* 83 */
#define PIER_E2EE_ENVELOPE_MAX  (PIER_E2EE_PREFIX_MAX + PIER_E2EE_CT_MAX)
#define PIER_E2EE_PAYLOAD_NONCE 24
#define PIER_E2EE_PAYLOAD_OVERHEAD (PIER_E2EE_PAYLOAD_NONCE + 16)   /* nonce + tag */
#define PIER_E2EE_FILE_CHUNK    65536   /* plaintext bytes per secretstream chunk */
#define PIER_E2EE_FILE_CHUNK_CT (PIER_E2EE_FILE_CHUNK + 17)         /* + ABYTES */
#define PIER_E2EE_FILE_HEADER   24
#define PIER_E2EE_SEED_MAX      64      /* bytes of a deterministic rng's seed */
#define PIER_E2EE_BUNDLE_MAX    64      /* devices in one `keys` reply (listed or not) */
#define PIER_E2EE_CHALLENGE_LEN 32      /* the login challenge */

enum pier_e2ee_status {
	PIER_E2EE_OK            =  0,
	PIER_E2EE_ERR_FORMAT    = -1,  /* malformed bytes or JSON (a parser's refusal) */
	PIER_E2EE_ERR_AUTH      = -2,  /* authentication failed: tampered, or not for us */
	PIER_E2EE_ERR_REPLAY    = -3,  /* a message key already used, a pre-key EK already seen */
	PIER_E2EE_ERR_NO_SESSION = -4, /* no session with that device and no bundle to start one */
	PIER_E2EE_ERR_TOO_FAR   = -5,  /* over PIER_E2EE_MAX_SKIP keys to skip */
	PIER_E2EE_ERR_KEY       = -6,  /* a bad public key (all-zero DH), unknown SPK/OPK id */
	PIER_E2EE_ERR_SIGNATURE = -7,  /* a signature does not verify */
	PIER_E2EE_ERR_LIMIT     = -8,  /* a bound of this header would be passed */
	PIER_E2EE_ERR_MISMATCH  = -9   /* keys differ from the trusted ones (bundle vs list) */
};

/* A short English text for a status (logs and tests). */
const char *pier_e2ee_strerror(int status);
/* A status's name as the vector files spell it: "ok", "format", "auth", "replay",
 * "no_session", "too_far", "key", "signature", "limit", "mismatch". */
const char *pier_e2ee_status_name(int status);

/* ---- rng.c: randomness ------------------------------------------------------------------ */

/* The system's (deterministic = false) or E2EE.md's: draw number i (from 0) of n bytes is
 * randombytes_buf_deterministic(n, BLAKE2b-256(seed || u32(i))). */
struct pier_e2ee_rng {
	bool     deterministic;
	uint8_t  seed[PIER_E2EE_SEED_MAX];
	size_t   seed_len;
	uint32_t draws;                    /* draws made so far */
};

void pier_e2ee_rng_init_system(struct pier_e2ee_rng *rng);
/* seed_len at most PIER_E2EE_SEED_MAX (else ERR_LIMIT). */
int  pier_e2ee_rng_init_deterministic(struct pier_e2ee_rng *rng, const uint8_t *seed,
                                      size_t seed_len);
/* Fills buf with n bytes: one draw. rng NULL: randombytes_buf. */
void pier_e2ee_rng_fill(struct pier_e2ee_rng *rng, void *buf, size_t n);

/* ---- b64.c: base64url without padding --------------------------------------------------- */

/* A new JSON string of bin (NULL when out of memory). */
json_t *pier_e2ee_b64_json(const uint8_t *bin, size_t len);
/* Decodes s into out (cap bytes); *len gets the length. ERR_FORMAT if s is NULL or not base64url
 * without padding or decodes to more than cap bytes. */
int pier_e2ee_b64_decode(const char *s, uint8_t *out, size_t cap, size_t *len);
/* Decodes s, which must be exactly n bytes. */
int pier_e2ee_b64_decode_exact(const char *s, uint8_t *out, size_t n);
/* Decodes the string member key of obj, exactly n bytes (ERR_FORMAT when absent or wrong). */
int pier_e2ee_json_bytes(const json_t *obj, const char *key, uint8_t *out, size_t n);
/* obj[key] = base64url(bin); 0 or ERR_LIMIT (out of memory). */
int pier_e2ee_json_set_bytes(json_t *obj, const char *key, const uint8_t *bin, size_t len);

/* ---- hkdf.c ----------------------------------------------------------------------------- */

/* HKDF-SHA-256 (RFC 5869): out = L bytes of HKDF(salt, ikm, info). salt_len 0 means 32 zero
 * bytes. L at most 255 * 32 (else ERR_LIMIT). */
int pier_e2ee_hkdf(uint8_t *out, size_t L, const uint8_t *salt, size_t salt_len,
                   const uint8_t *ikm, size_t ikm_len, const uint8_t *info, size_t info_len);

/* ---- device.c: one's own device --------------------------------------------------------- */

struct pier_e2ee_spk {
	uint32_t id;
	uint8_t  priv[PIER_E2EE_KEY_LEN];
	uint8_t  pub[PIER_E2EE_KEY_LEN];
	uint8_t  sig[PIER_E2EE_SIG_LEN];   /* pier_e2ee_spk_sign over (device id, id, pub) */
};

struct pier_e2ee_opk {
	uint32_t id;
	uint8_t  priv[PIER_E2EE_KEY_LEN];
	uint8_t  pub[PIER_E2EE_KEY_LEN];
};

/* The public keys of a device: what a device list names. */
struct pier_e2ee_peer_keys {
	uint8_t id[PIER_E2EE_ID_LEN];
	uint8_t sign_pub[PIER_E2EE_KEY_LEN];   /* DSK_pub */
	uint8_t dh_pub[PIER_E2EE_KEY_LEN];     /* DIK_pub */
};

struct pier_e2ee_device {
	struct pier_e2ee_peer_keys pub;        /* id, DSK_pub, DIK_pub */
	uint8_t  sign_seed[PIER_E2EE_KEY_LEN]; /* DSK */
	uint8_t  dh_priv[PIER_E2EE_KEY_LEN];   /* DIK */
	uint64_t created_ms;
	struct pier_e2ee_spk spk;              /* the current signed prekey */
	struct pier_e2ee_spk prev_spk;         /* the one before (envelopes still in flight) */
	bool     has_prev_spk;
	struct pier_e2ee_opk *opks;            /* owned; opk_count of them, oldest first */
	size_t   opk_count;
	uint32_t next_opk_id;                  /* the id the next new OPK gets */
};

/* Makes a new device. Draws, in order: id (16), DSK seed (32), DIK (32), SPK (32); the SPK
 * has id 1. No OPKs yet (pier_e2ee_device_add_opks). */
int  pier_e2ee_device_create(struct pier_e2ee_device *d, uint64_t created_ms,
                             struct pier_e2ee_rng *rng);
/* Adds n new OPKs (one 32-byte draw each), ids next_opk_id onwards; *first gets the index of
 * the first new one in d->opks. ERR_LIMIT past PIER_E2EE_MAX_OPKS (nothing added). */
int  pier_e2ee_device_add_opks(struct pier_e2ee_device *d, size_t n, struct pier_e2ee_rng *rng,
                               size_t *first);
/* A new SPK (one 32-byte draw, id + 1); the current one becomes prev_spk (the older is wiped). */
void pier_e2ee_device_rotate_spk(struct pier_e2ee_device *d, struct pier_e2ee_rng *rng);
const struct pier_e2ee_spk *pier_e2ee_device_find_spk(const struct pier_e2ee_device *d,
                                                      uint32_t id);
const struct pier_e2ee_opk *pier_e2ee_device_find_opk(const struct pier_e2ee_device *d,
                                                      uint32_t id);
/* Deletes (wipes) the OPK of that id, if any. */
void pier_e2ee_device_remove_opk(struct pier_e2ee_device *d, uint32_t id);
/* Wipes the keys and frees the OPKs. */
void pier_e2ee_device_release(struct pier_e2ee_device *d);
/* The whole device (private keys too: keep the result secret) as a new JSON object:
 * {"v":1,"id","sign_seed","dh_priv","created","spk":{id,priv,sig},"prev_spk":…,
 *  "opks":[{id,priv}],"next_opk_id"} (public keys are derived again when read). */
json_t *pier_e2ee_device_to_json(const struct pier_e2ee_device *d);
int  pier_e2ee_device_from_json(const json_t *j, struct pier_e2ee_device *d);

/* ---- devsig.c: signatures --------------------------------------------------------------- */

/* The Ed25519 public key of a seed (AK or DSK). */
void pier_e2ee_sign_pub(const uint8_t seed[PIER_E2EE_KEY_LEN], uint8_t pub[PIER_E2EE_KEY_LEN]);
/* sig = Ed25519(AK, "pier-devlist-v1" || list). */
void pier_e2ee_devlist_sign(const uint8_t ak_seed[PIER_E2EE_KEY_LEN], const uint8_t *list,
                            size_t len, uint8_t sig[PIER_E2EE_SIG_LEN]);
bool pier_e2ee_devlist_verify(const uint8_t ak_pub[PIER_E2EE_KEY_LEN], const uint8_t *list,
                              size_t len, const uint8_t sig[PIER_E2EE_SIG_LEN]);
/* Parses list, checks its signature with its own AK_pub and that its user is user (compared
 * in lower case). ERR_FORMAT (bytes; *err, if not NULL, says which rule), ERR_SIGNATURE, or
 * ERR_MISMATCH (another user's list). Trust (TOFU, versions, resets) is the caller's. */
int pier_e2ee_devlist_open(const uint8_t *list, size_t len, const uint8_t sig[PIER_E2EE_SIG_LEN],
                           const char *user, struct pier_devlist *out,
                           enum pier_devlist_err *err);
/* sig = Ed25519(DSK, "pier-spk-v1" || device_id || u32(spk_id) || spk_pub). */
void pier_e2ee_spk_sign(const uint8_t sign_seed[PIER_E2EE_KEY_LEN],
                        const uint8_t id[PIER_E2EE_ID_LEN], uint32_t spk_id,
                        const uint8_t spk_pub[PIER_E2EE_KEY_LEN], uint8_t sig[PIER_E2EE_SIG_LEN]);
bool pier_e2ee_spk_verify(const uint8_t sign_pub[PIER_E2EE_KEY_LEN],
                          const uint8_t id[PIER_E2EE_ID_LEN], uint32_t spk_id,
                          const uint8_t spk_pub[PIER_E2EE_KEY_LEN],
                          const uint8_t sig[PIER_E2EE_SIG_LEN]);
/* proof = Ed25519(DSK, "pier-hello-v1" || challenge). */
void pier_e2ee_hello_proof(const uint8_t sign_seed[PIER_E2EE_KEY_LEN], const uint8_t *challenge,
                           size_t len, uint8_t sig[PIER_E2EE_SIG_LEN]);
bool pier_e2ee_hello_verify(const uint8_t sign_pub[PIER_E2EE_KEY_LEN], const uint8_t *challenge,
                            size_t len, const uint8_t sig[PIER_E2EE_SIG_LEN]);

/* ---- x3dh.c ----------------------------------------------------------------------------- */

/* SK for initiator A: DH1 = X25519(dik_a, spk_b), DH2 = X25519(ek_a, dik_b), DH3 =
 * X25519(ek_a, spk_b), DH4 = X25519(ek_a, opk_b) when opk_b is not NULL. ERR_KEY on an
 * all-zero DH output. */
int pier_e2ee_x3dh_initiator(const uint8_t dik_a_priv[32], const uint8_t ek_a_priv[32],
                             const uint8_t dik_b_pub[32], const uint8_t spk_b_pub[32],
                             const uint8_t *opk_b_pub, uint8_t sk[32]);
/* The same SK, computed by responder B. */
int pier_e2ee_x3dh_responder(const uint8_t dik_b_priv[32], const uint8_t spk_b_priv[32],
                             const uint8_t *opk_b_priv, const uint8_t dik_a_pub[32],
                             const uint8_t ek_a_pub[32], uint8_t sk[32]);
/* AD = "pier-ad-v1" || A.id || A.DSK_pub || A.DIK_pub || B.id || B.DSK_pub || B.DIK_pub. */
void pier_e2ee_x3dh_ad(const struct pier_e2ee_peer_keys *a, const struct pier_e2ee_peer_keys *b,
                       uint8_t ad[PIER_E2EE_AD_LEN]);

/* ---- ratchet.c: the Double Ratchet of one session ---------------------------------------- */

struct pier_e2ee_header {
	uint8_t  dh[PIER_E2EE_KEY_LEN];
	uint32_t pn;
	uint32_t n;
};

struct pier_e2ee_skipped {
	uint8_t  dh[PIER_E2EE_KEY_LEN];
	uint32_t n;
	uint8_t  mk[PIER_E2EE_KEY_LEN];
};

struct pier_e2ee_ratchet {
	uint8_t  rk[32];
	uint8_t  dhs_priv[32], dhs_pub[32];
	uint8_t  dhr[32];
	uint8_t  cks[32], ckr[32];
	bool     has_dhr, has_cks, has_ckr;
	uint32_t ns, nr, pn;
	struct pier_e2ee_skipped *skipped;     /* owned; oldest first, at most MAX_SKIPPED */
	size_t   nskipped;
};

/* Initiator after X3DH: DHs = a new key pair (one 32-byte draw), DHr = the responder's SPK,
 * RK, CKs = KDF_RK(SK, X25519(DHs, DHr)). ERR_KEY on an all-zero DH. */
int  pier_e2ee_ratchet_init_initiator(struct pier_e2ee_ratchet *r, const uint8_t sk[32],
                                      const uint8_t spk_pub[32], struct pier_e2ee_rng *rng);
/* Responder: DHs = its SPK, RK = SK, no chains yet. */
void pier_e2ee_ratchet_init_responder(struct pier_e2ee_ratchet *r, const uint8_t sk[32],
                                      const uint8_t spk_priv[32], const uint8_t spk_pub[32]);
/* The next sending message: fills *h and mk, advances CKs and Ns. ERR_NO_SESSION when there
 * is no sending chain yet (a responder that has received nothing). */
int  pier_e2ee_ratchet_next(struct pier_e2ee_ratchet *r, struct pier_e2ee_header *h,
                            uint8_t mk[32]);
/* out = XChaCha20-Poly1305(MSGKEY(mk), ad, pt): len + 16 bytes. */
void pier_e2ee_msg_seal(const uint8_t mk[32], const uint8_t *ad, size_t ad_len,
                        const uint8_t *pt, size_t len, uint8_t *out);
/* Decrypts ct (ct_len >= 16) of the message with header *h and associated data ad into out
 * (ct_len - 16 bytes). On success the state moves on (skipped keys stored, the used key
 * deleted, a DH ratchet step made: one 32-byte draw for the new DHs); on any failure the
 * state is unchanged: ERR_AUTH, ERR_REPLAY (a key already used), ERR_TOO_FAR, ERR_KEY. */
int  pier_e2ee_ratchet_decrypt(struct pier_e2ee_ratchet *r, const struct pier_e2ee_header *h,
                               const uint8_t *ad, size_t ad_len, const uint8_t *ct,
                               size_t ct_len, uint8_t *out, struct pier_e2ee_rng *rng);
/* A deep copy (ERR_LIMIT when out of memory); release both. */
int  pier_e2ee_ratchet_copy(struct pier_e2ee_ratchet *dst, const struct pier_e2ee_ratchet *src);
void pier_e2ee_ratchet_release(struct pier_e2ee_ratchet *r);
json_t *pier_e2ee_ratchet_to_json(const struct pier_e2ee_ratchet *r);
int  pier_e2ee_ratchet_from_json(const json_t *j, struct pier_e2ee_ratchet *r);

/* ---- envelope.c: the envelope codec ----------------------------------------------------- */

enum { PIER_E2EE_ENV_VERSION = 1, PIER_E2EE_ENV_PREKEY = 1, PIER_E2EE_ENV_RATCHET = 2 };

struct pier_e2ee_envelope {
	uint8_t  type;                        /* PIER_E2EE_ENV_PREKEY or _RATCHET */
	uint8_t  ek[PIER_E2EE_KEY_LEN];       /* pre-key only */
	uint32_t spk_id;                      /* pre-key only */
	bool     has_opk;                     /* pre-key only */
	uint32_t opk_id;                      /* pre-key with has_opk only */
	struct pier_e2ee_header h;
	const uint8_t *ct;                    /* parse: points into the parsed bytes */
	size_t   ct_len;                      /* PIER_E2EE_CT_MIN .. PIER_E2EE_CT_MAX */
};

/* Parses len bytes; e->ct points into buf. ERR_FORMAT on any deviation (version, type,
 * has_opk not 0/1, lengths). The prefix is buf[0 .. len - e->ct_len]. */
int    pier_e2ee_envelope_parse(const uint8_t *buf, size_t len, struct pier_e2ee_envelope *e);
/* Writes the bytes before the ciphertext (at most PIER_E2EE_PREFIX_MAX); returns the length. */
size_t pier_e2ee_envelope_prefix(const struct pier_e2ee_envelope *e,
                                 uint8_t out[PIER_E2EE_PREFIX_MAX]);

/* ---- sessions.c: sessions per remote device ---------------------------------------------- */

struct pier_e2ee_session {
	struct pier_e2ee_ratchet r;
	uint8_t  ad[PIER_E2EE_AD_LEN];        /* X3DH associated data, initiator first */
	bool     send_prekey;                 /* initiator whose first message is not sent yet */
	uint8_t  ek_pub[PIER_E2EE_KEY_LEN];   /* the session's EK (either side) */
	uint32_t spk_id;
	bool     has_opk;
	uint32_t opk_id;
};

struct pier_e2ee_peer {
	struct pier_e2ee_peer_keys keys;      /* the remote device as trusted when the first
	                                         session was made */
	struct pier_e2ee_session *sess[PIER_E2EE_MAX_SESSIONS];  /* owned, newest first */
	unsigned nsess;
	uint8_t  (*seen_ek)[PIER_E2EE_KEY_LEN];  /* owned, oldest first */
	unsigned nseen;
};

struct pier_e2ee_sessions {
	struct pier_e2ee_peer *peers;         /* owned */
	size_t npeers, cap;
};

/* A bundle device: what `keys` gives to start a session (bundle.c parses it). */
struct pier_e2ee_bundle_device {
	struct pier_e2ee_peer_keys keys;
	uint32_t spk_id;
	uint8_t  spk_pub[PIER_E2EE_KEY_LEN];
	uint8_t  spk_sig[PIER_E2EE_SIG_LEN];
	bool     has_opk;
	uint32_t opk_id;
	uint8_t  opk_pub[PIER_E2EE_KEY_LEN];
	bool     listed;                      /* false: the server says the list does not name it */
};

void pier_e2ee_sessions_init(struct pier_e2ee_sessions *s);
void pier_e2ee_sessions_release(struct pier_e2ee_sessions *s);
/* True if there is a session with device id (to encrypt without a bundle). */
bool pier_e2ee_sessions_has(const struct pier_e2ee_sessions *s, const uint8_t id[PIER_E2EE_ID_LEN]);
/* Forgets every session with device id (a revoked device). */
void pier_e2ee_sessions_forget(struct pier_e2ee_sessions *s, const uint8_t id[PIER_E2EE_ID_LEN]);

/* Encrypts inner (at most PIER_E2EE_CT_MAX - 16 bytes) for the remote device *to (its keys
 * from the trusted list) into out (at most PIER_E2EE_ENVELOPE_MAX bytes; *out_len). Uses the
 * newest session with it; without one, bundle (may be NULL) starts one by X3DH: its keys must
 * equal *to (ERR_MISMATCH) and its SPK signature verify (ERR_SIGNATURE). Draws: EK (32) then
 * DHs (32) for a new session. The first message of a session is a pre-key envelope, the
 * following ones ratchet envelopes. */
int pier_e2ee_encrypt(struct pier_e2ee_sessions *s, const struct pier_e2ee_device *self,
                      const struct pier_e2ee_peer_keys *to,
                      const struct pier_e2ee_bundle_device *bundle, const uint8_t *inner,
                      size_t inner_len, struct pier_e2ee_rng *rng, uint8_t *out,
                      size_t *out_len);
/* Decrypts envelope env (len bytes) from the remote device *from (its keys from the trusted
 * list; the id is the one the server reports) into inner (at most PIER_E2EE_CT_MAX - 16
 * bytes; *inner_len). A pre-key envelope makes a new session (its one-time prekey is then
 * removed from *self: save both); a ratchet envelope is tried on the sessions with that
 * device, newest first, and the one that opens it becomes the newest. Nothing changes on a
 * failure: ERR_FORMAT, ERR_AUTH, ERR_REPLAY, ERR_NO_SESSION, ERR_TOO_FAR, ERR_KEY. */
int pier_e2ee_decrypt(struct pier_e2ee_sessions *s, struct pier_e2ee_device *self,
                      const struct pier_e2ee_peer_keys *from, const uint8_t *env, size_t len,
                      struct pier_e2ee_rng *rng, uint8_t *inner, size_t *inner_len);
json_t *pier_e2ee_sessions_to_json(const struct pier_e2ee_sessions *s);
int  pier_e2ee_sessions_from_json(const json_t *j, struct pier_e2ee_sessions *s);

/* ---- payload.c -------------------------------------------------------------------------- */

/* payload = nonce(24) || XChaCha20-Poly1305(pk, nonce, "pier-payload-v1", pt) into out
 * (len + PIER_E2EE_PAYLOAD_OVERHEAD bytes). Draws: pk (32) then nonce (24). */
void pier_e2ee_payload_seal(const uint8_t *pt, size_t len, struct pier_e2ee_rng *rng,
                            uint8_t pk[32], uint8_t *out);
/* inner = pk || BLAKE2b-256(payload). */
void pier_e2ee_inner_make(const uint8_t pk[32], const uint8_t *payload, size_t len,
                          uint8_t inner[PIER_E2EE_INNER_LEN]);
/* Checks the payload's hash against inner, then opens it into pt (len - 40 bytes).
 * ERR_FORMAT (too short), ERR_AUTH (hash or tag). */
int  pier_e2ee_payload_open(const uint8_t inner[PIER_E2EE_INNER_LEN], const uint8_t *payload,
                            size_t len, uint8_t *pt);

/* ---- filecrypt.c ------------------------------------------------------------------------ */

/* secretstream over 64 KiB plaintext chunks: every chunk is PIER_E2EE_FILE_CHUNK bytes but
 * the last, which is shorter or equal (an empty file: one empty chunk) and tagged FINAL. */
struct pier_e2ee_file {
	crypto_secretstream_xchacha20poly1305_state st;
	bool done;                            /* FINAL pushed or pulled */
};

/* A new random key (one 32-byte draw); libsodium draws the header itself. */
void pier_e2ee_file_push_init(struct pier_e2ee_file *f, struct pier_e2ee_rng *rng,
                              uint8_t key[32], uint8_t header[PIER_E2EE_FILE_HEADER]);
/* Encrypts one chunk (len <= PIER_E2EE_FILE_CHUNK; < only when last) into out (len + 17). */
int  pier_e2ee_file_push(struct pier_e2ee_file *f, const uint8_t *in, size_t len, bool last,
                         uint8_t *out);
int  pier_e2ee_file_pull_init(struct pier_e2ee_file *f, const uint8_t key[32],
                              const uint8_t header[PIER_E2EE_FILE_HEADER]);
/* Decrypts one chunk (17 .. PIER_E2EE_FILE_CHUNK_CT bytes) into out; *out_len; *last when it
 * was FINAL. ERR_AUTH (tampered), ERR_FORMAT (after FINAL, a short chunk not FINAL). */
int  pier_e2ee_file_pull(struct pier_e2ee_file *f, const uint8_t *in, size_t len, uint8_t *out,
                         size_t *out_len, bool *last);
void pier_e2ee_file_release(struct pier_e2ee_file *f);
/* Whole streams, 64 KiB at a time (memory bounded by two chunks). decrypt: ERR_FORMAT on a
 * truncated stream (no FINAL) or bytes after FINAL, ERR_AUTH, ERR_LIMIT on an I/O error. */
int  pier_e2ee_file_encrypt_stream(FILE *in, FILE *out, struct pier_e2ee_rng *rng,
                                   uint8_t key[32], uint8_t header[PIER_E2EE_FILE_HEADER]);
int  pier_e2ee_file_decrypt_stream(FILE *in, FILE *out, const uint8_t key[32],
                                   const uint8_t header[PIER_E2EE_FILE_HEADER]);

/* ---- safety.c --------------------------------------------------------------------------- */

#define PIER_E2EE_FP_DIGITS      30
#define PIER_E2EE_SAFETY_DIGITS  60
#define PIER_E2EE_SAFETY_SHOWN   (PIER_E2EE_SAFETY_DIGITS + 11)  /* 12 groups of 5, spaces */

/* The 30 digits of fp(user) (user folded to lower case); out holds 31 bytes. ERR_FORMAT if
 * user is not a valid user name. */
int  pier_e2ee_fingerprint(const char *user, const uint8_t ak_pub[32],
                           char out[PIER_E2EE_FP_DIGITS + 1]);
/* The 60 digits of the safety number of two users (either order). */
int  pier_e2ee_safety_number(const char *user_a, const uint8_t ak_a[32], const char *user_b,
                             const uint8_t ak_b[32], char out[PIER_E2EE_SAFETY_DIGITS + 1]);
/* "12345 67890 ..." (12 groups of 5) from the 60 digits. */
void pier_e2ee_safety_format(const char digits[PIER_E2EE_SAFETY_DIGITS + 1],
                             char out[PIER_E2EE_SAFETY_SHOWN + 1]);
/* code = u32 BE of BLAKE2b-256("pier-approve-v1" || AK_pub || id || DSK_pub || DIK_pub)
 * mod 100000000. */
uint32_t pier_e2ee_approval_code(const uint8_t ak_pub[32], const struct pier_e2ee_peer_keys *dev);
/* "1234 5678". */
void pier_e2ee_approval_format(uint32_t code, char out[10]);

/* ---- bundle.c: a `keys` reply ----------------------------------------------------------- */

struct pier_e2ee_bundle {
	char     user[PIER_KEY_MAX];          /* lower case */
	uint32_t version;                     /* 0: the user has no list (then no list/sig) */
	uint8_t  list[PIER_DEVLIST_MAX_BYTES];
	size_t   list_len;
	uint8_t  sig[PIER_E2EE_SIG_LEN];
	unsigned count;
	struct pier_e2ee_bundle_device dev[PIER_E2EE_BUNDLE_MAX];
};

/* Parses a `keys` reply ({"op":"keys","user","version","list","sig","devices":[...]}) into
 * *out. ERR_FORMAT on a missing or malformed field, over PIER_E2EE_BUNDLE_MAX devices, or a
 * device twice. Checks nothing cryptographic (pier_e2ee_devlist_open, pier_e2ee_encrypt do). */
int pier_e2ee_bundle_parse(const json_t *reply, struct pier_e2ee_bundle *out);

#endif
