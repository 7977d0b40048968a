/* pier_e2ee.h - libpier's end-to-end encryption device manager: what one client installation
 * (a device) keeps and decides, above the crypto core (src/lib/e2ee/). The terminal client
 * uses it, and so will the desktop client. docs/E2EE.md is the design; docs/PROTOCOL.md
 * section "End-to-end encryption" the wire ops.
 *
 * Sans I/O: the state lives in memory (struct pier_e2ee); requests are built as JSON objects
 * for the caller to send; replies and events are fed back as JSON objects. Only the saving
 * functions touch the disk (a path the caller chooses).
 *
 * Modules, one concern each:
 *   pier_e2ee_file.c     keys at rest: 0600 files in 0700 directories, atomic writes,
 *                        passphrase sealing (argon2id), refusing files others may read
 *   pier_e2ee_b64.c      base64url without padding (libsodium's codec)
 *   pier_e2ee_device.c   the device's own keys (DSK, DIK, SPK, OPKs), the requests that
 *                        publish them and prove them (device_register, device_hello, prekeys)
 *   pier_e2ee_trust.c    contacts: their account keys, list versions, verified marks, the
 *                        "safety number changed" notices (trust on first use, resets)
 *   pier_e2ee_history.c  the local store of decrypted messages of encrypted chats (bounded)
 */
#ifndef PIER_E2EE_H
#define PIER_E2EE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define PIER_E2EE_PATH_MAX        4096
#define PIER_E2EE_ID_LEN          16      /* a device id, bytes */
#define PIER_E2EE_ID_B64          23      /* ... as base64url, with its NUL */
#define PIER_E2EE_NAME_MAX        64      /* a device name, bytes */
#define PIER_E2EE_USER_MAX        64      /* a user name, bytes (pier's names are shorter) */
#define PIER_E2EE_CONTACTS_MAX    10000   /* contacts remembered */
#define PIER_E2EE_STATE_FILE_MAX  (16u << 20)   /* device.json: sessions make it grow */
#define PIER_E2EE_HISTORY_MAX     10000   /* decrypted messages kept (the newest) */
#define PIER_E2EE_HISTORY_FILE_MAX (256u << 20)

/* ---- base64url without padding (pier_e2ee_b64.c) ---- */

/* A new NUL-terminated string, never NULL. */
char *pier_b64_encode(const void *bin, size_t len);
/* Decodes s (NULL allowed: an error) into a new buffer (*len bytes); NULL if s is not
 * base64url without padding. */
unsigned char *pier_b64_decode(const char *s, size_t *len);
/* Decodes s into exactly len bytes of out: 0, or -1 (not base64url, or another length). */
int pier_b64_decode_fixed(const char *s, void *out, size_t len);

/* ---- keys at rest (pier_e2ee_file.c) ---- */

/* Makes dir and its missing parents (0700); dir itself ends 0700. 0 or -1 (*err set). */
int pier_e2ee_mkdirs(const char *dir, char **err);

/* Writes len bytes of data to path atomically: path.tmp (0600), fsync, rename, fsync of the
 * directory (made 0700 when missing). With passphrase (not NULL) the file is sealed. 0, or -1
 * with *err a malloc'd message (err may be NULL; a previous *err is freed). */
int pier_e2ee_file_write(const char *path, const char *data, size_t len, const char *passphrase,
                         char **err);

/* Reads path (at most max bytes), unsealing it with passphrase when it is sealed. Refuses a
 * file that is not the user's own or that group or others may read (mode & 077). 0 with *data
 * (malloc'd, NUL-terminated, *len bytes; the caller wipes and frees it); 1 when the file does
 * not exist; -1 with *err. */
int pier_e2ee_file_read(const char *path, const char *passphrase, size_t max, char **data,
                        size_t *len, char **err);

/* The same for a JSON object (the text is wiped after use). load: *out a new reference. */
int pier_e2ee_save_json(const char *path, const json_t *j, const char *passphrase, char **err);
int pier_e2ee_load_json(const char *path, const char *passphrase, size_t max, json_t **out,
                        char **err);

/* ---- the device's own keys (pier_e2ee_device.c) ---- */

#define PIER_E2EE_OPK_BATCH   100    /* one-time prekeys published at a time (the server's
                                      * per-request maximum) */
#define PIER_E2EE_OPK_MAX     300    /* secrets of one-time prekeys kept (published ones the
                                      * server may still give out); the oldest go first */

struct pier_e2ee_dh {               /* an X25519 key pair */
	unsigned char secret[32];
	unsigned char pub[32];
};

struct pier_e2ee_opk {
	uint32_t id;
	struct pier_e2ee_dh key;
};

struct pier_e2ee_device {
	unsigned char id[PIER_E2EE_ID_LEN];
	unsigned char sign_seed[32];        /* DSK as its Ed25519 seed */
	unsigned char sign_pk[32], sign_sk[64];
	struct pier_e2ee_dh dik;
	uint32_t spk_id;
	struct pier_e2ee_dh spk;
	unsigned char spk_sig[64];
	bool has_prev_spk;                  /* the signed prekey before the last rotation, kept
	                                     * for pre-key envelopes made from it meanwhile */
	uint32_t prev_spk_id;
	struct pier_e2ee_dh prev_spk;
	struct pier_e2ee_opk *opks;         /* oldest first */
	size_t nopks;
	uint32_t next_opk;
	int64_t created_ms;
	char name[PIER_E2EE_NAME_MAX + 1];
};

/* New keys for a new device called name (cut to 64 bytes at a character). */
void pier_e2ee_device_create(struct pier_e2ee_device *d, const char *name, int64_t now_ms);
/* Wipes d's keys and frees its prekeys. */
void pier_e2ee_device_release(struct pier_e2ee_device *d);
void pier_e2ee_device_set_name(struct pier_e2ee_device *d, const char *name);
void pier_e2ee_device_id_b64(const struct pier_e2ee_device *d, char out[PIER_E2EE_ID_B64]);
/* The one-time prekey id's secret, or NULL. forget: deletes it once a session used it. */
const struct pier_e2ee_opk *pier_e2ee_device_opk(const struct pier_e2ee_device *d, uint32_t id);
void pier_e2ee_device_forget_opk(struct pier_e2ee_device *d, uint32_t id);

/* device_register with the keys and PIER_E2EE_OPK_BATCH one-time prekeys (made now when d
 * has none), proving the session with challenge (the login reply's, base64url). New
 * reference, or NULL when challenge is not 32 bytes of base64url. */
json_t *pier_e2ee_req_device_register(struct pier_e2ee_device *d, const char *challenge);
/* device_hello proving the session with challenge; NULL as above. */
json_t *pier_e2ee_req_device_hello(const struct pier_e2ee_device *d, const char *challenge);
/* prekeys refilling the server's one-time prekeys up to PIER_E2EE_OPK_BATCH (server_count:
 * how many it has, from opk_count or prekeys_low) and, with new_spk, a new signed prekey.
 * NULL when there is nothing to send. Save d before sending it. */
json_t *pier_e2ee_req_prekeys(struct pier_e2ee_device *d, int server_count, bool new_spk);

/* device.json's "device" object: the secrets, base64url (new reference). from_json replaces
 * d (0) or refuses a malformed object (-1, d unchanged). */
json_t *pier_e2ee_device_to_json(const struct pier_e2ee_device *d);
int pier_e2ee_device_from_json(struct pier_e2ee_device *d, const json_t *o);

/* ---- contacts and trust (pier_e2ee_trust.c) ---- */

/* What a contact's signed device list did to what the device knew of them. */
enum pier_e2ee_trust {
	PIER_E2EE_TRUST_FIRST,     /* trust on first use: the AK is remembered */
	PIER_E2EE_TRUST_SAME,      /* the remembered AK, the same or a newer version */
	PIER_E2EE_TRUST_RESET,     /* a new AK with the reset flag: "safety number changed" */
	PIER_E2EE_TRUST_OLD,       /* refused: a lower version than the last seen */
	PIER_E2EE_TRUST_SWAPPED    /* refused: a new AK without the reset flag */
};

struct pier_e2ee_contact {
	char user[PIER_E2EE_USER_MAX + 1];        /* lower case */
	unsigned char ak[32];                     /* the account key trusted */
	uint32_t version;                         /* the highest list version seen */
	bool verified;                            /* the safety number was compared */
	bool changed;                             /* a reset not yet shown to the user */
	bool was_verified;                        /* ... and the contact had been verified */
};

struct pier_e2ee_contacts {
	struct pier_e2ee_contact *v;
	size_t n, cap;
};

void pier_e2ee_contacts_init(struct pier_e2ee_contacts *c);
void pier_e2ee_contacts_release(struct pier_e2ee_contacts *c);
/* The contact user (any case), or NULL. */
struct pier_e2ee_contact *pier_e2ee_contact_find(struct pier_e2ee_contacts *c, const char *user);

/* Decides about a list of user's whose signature was checked already (the caller verified
 * it with ak): its version, reset flag and AK. FIRST, SAME and RESET update the contact
 * (RESET clears "verified" and sets "changed"); OLD and SWAPPED change nothing. Returns 0
 * with *out, or -1 (nothing changed) for a bad name or a new contact past
 * PIER_E2EE_CONTACTS_MAX. */
int pier_e2ee_trust_list(struct pier_e2ee_contacts *c, const char *user, uint32_t version,
                         bool reset, const unsigned char ak[32], enum pier_e2ee_trust *out);

/* Marks user verified (true) or not; -1 when the user is no contact. */
int pier_e2ee_contact_verify(struct pier_e2ee_contacts *c, const char *user, bool verified);

/* JSON: [{"user","ak","version","verified"[,"changed"]}]. from_json replaces c's contacts
 * and refuses (-1, c unchanged) what is malformed. to_json: a new reference. */
json_t *pier_e2ee_contacts_to_json(const struct pier_e2ee_contacts *c);
int pier_e2ee_contacts_from_json(struct pier_e2ee_contacts *c, const json_t *j);

/* ---- the local store of decrypted messages (pier_e2ee_history.c) ---- */

/* Messages as the client shows them: {"id","from","to","ts","text"[,"kind","file",
 * "reply_to","edited"]}, keyed by id, at most PIER_E2EE_HISTORY_MAX (the oldest ids go). */
struct pier_e2ee_history {
	json_t *msgs;       /* object: conversation key ("@user", lower case) -> array by id */
	size_t count;
	bool dirty;         /* changed since the last save */
};

void pier_e2ee_history_init(struct pier_e2ee_history *h);
void pier_e2ee_history_release(struct pier_e2ee_history *h);
/* Adds msg (borrowed; copied) to the conversation with peer (the other person). A message
 * already there (same id) is replaced. 0, or -1 when msg has no positive "id". */
int pier_e2ee_history_add(struct pier_e2ee_history *h, const char *peer, const json_t *msg);
/* The message id (borrowed; valid until the next change), or NULL. */
const json_t *pier_e2ee_history_find(const struct pier_e2ee_history *h, int64_t id);
/* Applies an edit of message id (its new text): 0, or -1 when there is no such message. */
int pier_e2ee_history_edit(struct pier_e2ee_history *h, int64_t id, const char *text);
/* A page of the conversation with peer: the newest at most limit messages with ids below
 * before (<= 0: from the newest), oldest first (new reference, an array). */
json_t *pier_e2ee_history_page(const struct pier_e2ee_history *h, const char *peer,
                               int64_t before, int limit);
/* The newest at most limit messages of every conversation, oldest first (a history
 * transfer): a new reference. */
json_t *pier_e2ee_history_export(const struct pier_e2ee_history *h, size_t limit);
/* Merges an export (messages already known stay as they are). 0, or -1 if malformed. */
int pier_e2ee_history_import(struct pier_e2ee_history *h, const json_t *export_, const char *self);

int pier_e2ee_history_save(struct pier_e2ee_history *h, const char *path, const char *passphrase,
                           char **err);
/* 0 (1 when there was no file: h empty), or -1 with *err. */
int pier_e2ee_history_load(struct pier_e2ee_history *h, const char *path, const char *passphrase,
                           char **err);

#endif
