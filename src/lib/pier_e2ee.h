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
 *   pier_e2ee_keyfile.c     keys at rest: 0600 files in 0700 directories, atomic writes,
 *                        passphrase sealing (argon2id), refusing files others may read
 *   pier_e2ee_b64.c      base64url without padding (libsodium's codec)
 *   pier_e2ee_device.c   struct pier_e2ee_mgr: the device (core keys + its name and
 *                        state), device.json, and the requests that publish and prove its
 *                        keys (device_register, device_hello, prekeys)
 *   pier_e2ee_account.c  the user's own list: the first list, approving a pending device
 *                        (codes, the new list, the grant), reset, rename and remove
 *   pier_e2ee_msg.c      encrypting a message for a conversation from `keys` replies and
 *                        opening `envelope` events (sender checks, `peer`, grants)
 *   pier_e2ee_trust.c    contacts: their account keys, list versions, verified marks, the
 *                        "safety number changed" notices (trust on first use, resets)
 *   pier_e2ee_history.c  the local store of decrypted messages of encrypted chats (bounded)
 */
#ifndef PIER_E2EE_MGR_H
#define PIER_E2EE_MGR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "e2ee/e2ee.h"     /* the core's (pierd has a src/server/chat/e2ee.h too) */

#define PIER_E2EE_PATH_MAX        4096
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

/* s, or a string no base64 decoder takes when s is NULL (a missing JSON field). */
static inline const char *pier_e2ee_str(const char *s)
{
	return s != NULL ? s : "!";
}

/* ---- keys at rest (pier_e2ee_keyfile.c) ---- */

/* A passphrase and the key argon2id derived from it with a salt: derived once (on the first
 * load or save), then reused with a fresh nonce at each save, since a key file is saved
 * before every acknowledgement. passphrase NULL: files are not sealed. */
struct pier_e2ee_seal {
	char *passphrase;                 /* owned */
	bool derived;
	unsigned char salt[16];
	unsigned char key[32];
	unsigned long long ops;
	size_t mem;
};

/* passphrase may be NULL (no sealing). release wipes it. */
void pier_e2ee_seal_init(struct pier_e2ee_seal *seal, const char *passphrase);
void pier_e2ee_seal_release(struct pier_e2ee_seal *seal);

/* Makes dir and its missing parents (0700); dir itself ends 0700. 0 or -1 (*err set). */
int pier_e2ee_mkdirs(const char *dir, char **err);
/* Takes the device directory's lock (dir/lock, made with dir when missing): one running
 * client per device, so a chat and a one-shot command never use the same keys at once. The
 * lock's fd (close it to let go), -2 when another process holds it, -1 on an error. */
int pier_e2ee_lock_dir(const char *dir);

/* Writes len bytes of data to path atomically: path.tmp (0600), fsync, rename, fsync of the
 * directory (made 0700 when missing). With passphrase (not NULL) the file is sealed. 0, or -1
 * with *err a malloc'd message (err may be NULL; a previous *err is freed). */
int pier_e2ee_keyfile_write(const char *path, const char *data, size_t len,
                            struct pier_e2ee_seal *seal, char **err);

/* Reads path (at most max bytes), unsealing it with passphrase when it is sealed. Refuses a
 * file that is not the user's own or that group or others may read (mode & 077). 0 with *data
 * (malloc'd, NUL-terminated, *len bytes; the caller wipes and frees it); 1 when the file does
 * not exist; -1 with *err. */
int pier_e2ee_keyfile_read(const char *path, struct pier_e2ee_seal *seal, size_t max,
                           char **data, size_t *len, char **err);

/* The same for a JSON object (the text is wiped after use). load: *out a new reference. */
int pier_e2ee_save_json(const char *path, const json_t *j, struct pier_e2ee_seal *seal,
                        char **err);
int pier_e2ee_load_json(const char *path, struct pier_e2ee_seal *seal, size_t max, json_t **out,
                        char **err);

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
	struct pier_devlist *list;                /* the last trusted list (owned), or NULL */
	char *list_b64, *sig_b64;                 /* ... as received (owned), to keep it */
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

/* The lower-case key of user name user (a leading '@' is skipped) into out (cap bytes, NUL
 * included): true, or false with out "" when user is NULL, empty or does not fit. Every user
 * name the device manager and the terminal compare or file by goes through here. */
bool pier_e2ee_user_key(const char *user, char *out, size_t cap);

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

/* Keeps list (verified by the caller, trusted by pier_e2ee_trust_list) as the contact's
 * current list, with its bytes and signature as received (base64url). -1: no such contact. */
int pier_e2ee_contact_set_list(struct pier_e2ee_contacts *c, const char *user,
                               const struct pier_devlist *list, const char *list_b64,
                               const char *sig_b64);

/* Marks user verified (true) or not; -1 when the user is no contact. */
int pier_e2ee_contact_verify(struct pier_e2ee_contacts *c, const char *user, bool verified);

/* JSON: [{"user","ak","version","verified","changed","was_verified"[,"list","sig"]}].
 * from_json replaces c's contacts (checking each kept list's signature again) and refuses
 * (-1, c unchanged) what is malformed. to_json: a new reference. */
json_t *pier_e2ee_contacts_to_json(const struct pier_e2ee_contacts *c);
int pier_e2ee_contacts_from_json(struct pier_e2ee_contacts *c, const json_t *j);

/* ---- the local store of decrypted messages (pier_e2ee_history.c) ---- */

/* Messages as the client shows them: {"id","from","to","ts","text"[,"kind","file",
 * "reply_to","edited"]}, keyed by id, at most PIER_E2EE_HISTORY_MAX (the oldest ids go). An
 * encrypted edit is a message of its own on the server: it is kept as {"id",...,"hidden":true}
 * so that a client showing the server's history knows to leave it out. */
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

int pier_e2ee_history_save(struct pier_e2ee_history *h, const char *path,
                           struct pier_e2ee_seal *seal, char **err);
/* 0 (1 when there was no file: h empty), or -1 with *err. */
int pier_e2ee_history_load(struct pier_e2ee_history *h, const char *path,
                           struct pier_e2ee_seal *seal, char **err);

/* ---- the device manager (pier_e2ee_device.c) ---- */

enum pier_e2ee_dstate {
	PIER_E2EE_NEW,        /* keys made, not registered yet */
	PIER_E2EE_PENDING,    /* registered, waiting for approval (a grant and a list naming it) */
	PIER_E2EE_ACTIVE,     /* in the user's signed list, holding the account key */
	PIER_E2EE_REVOKED     /* removed from the list or reset away: useless, start again */
};

/* A bundle kept from a `keys` reply until a session is made with its device. */
struct pier_e2ee_kept_bundle {
	char user[PIER_NAME_MAX + 1];
	struct pier_e2ee_bundle_device dev;
};

#define PIER_E2EE_KEPT_MAX  256

struct pier_e2ee_mgr {
	char user[PIER_NAME_MAX + 1];             /* lower case */
	char name[PIER_E2EE_NAME_MAX + 1];        /* this device's name */
	char dir[PIER_E2EE_PATH_MAX];             /* where device.json and messages.json live */
	bool has_device;
	struct pier_e2ee_device dev;
	enum pier_e2ee_dstate state;
	bool has_ak;
	unsigned char ak_seed[32], ak_pub[32];
	bool history_complete;                    /* false on a device that got no history: the
	                                           * client says earlier messages are elsewhere */
	struct pier_e2ee_contacts contacts;       /* the user's own list is among them */
	struct pier_e2ee_sessions sess;
	struct pier_e2ee_history hist;
	struct pier_e2ee_seal seal;
	struct pier_e2ee_kept_bundle kept[PIER_E2EE_KEPT_MAX];
	size_t nkept;
	json_t *notices;                          /* what to tell the user (take_notices) */
	json_t *plain_users;                      /* users the server said have no list */
	bool dirty;                               /* device.json changed since the last save */
	int64_t opened_qid;                       /* the highest queue id opened: an envelope
	                                           * that comes again (saved, then cut before its
	                                           * ack) is acknowledged, not opened twice */
};

/* Fills m for user's device state in dir (passphrase may be NULL). Nothing is read yet. */
void pier_e2ee_mgr_init(struct pier_e2ee_mgr *m, const char *dir, const char *user,
                        const char *passphrase);
void pier_e2ee_mgr_release(struct pier_e2ee_mgr *m);
/* Reads dir/device.json and dir/messages.json: 0, 1 (no device yet), -1 with *err (a damaged
 * file, a file others may read, a wrong passphrase: never silently replaced). */
int pier_e2ee_mgr_load(struct pier_e2ee_mgr *m, char **err);
/* Makes this device's keys (state NEW), named name. */
void pier_e2ee_mgr_create(struct pier_e2ee_mgr *m, const char *name, uint64_t now_ms);
/* Writes device.json (always) and messages.json (when changed). 0 or -1 with *err. Save before
 * acknowledging envelopes and before sending requests that publish keys. */
int pier_e2ee_mgr_save(struct pier_e2ee_mgr *m, char **err);
/* Forgets the device (a revoked one, or a reset): keys, sessions and account key go; the
 * contacts and the message store stay. */
void pier_e2ee_mgr_forget_device(struct pier_e2ee_mgr *m);

void pier_e2ee_mgr_device_id(const struct pier_e2ee_mgr *m, char out[PIER_E2EE_ID_B64]);

/* device_register (PIER_E2EE_OPK_BATCH one-time prekeys made now) proving the session with
 * challenge (the login reply's, base64url). NULL when challenge is not 32 bytes. */
#define PIER_E2EE_OPK_BATCH  100
json_t *pier_e2ee_req_device_register(struct pier_e2ee_mgr *m, const char *challenge);
json_t *pier_e2ee_req_device_hello(const struct pier_e2ee_mgr *m, const char *challenge);
/* prekeys: one-time prekeys up to PIER_E2EE_OPK_BATCH on the server (server_count: what it has)
 * and, with new_spk, a new signed prekey. NULL when there is nothing to send. Save first. */
json_t *pier_e2ee_req_prekeys(struct pier_e2ee_mgr *m, int server_count, bool new_spk);
/* The reply to device_register or device_hello: "state" sets m->state. */
void pier_e2ee_mgr_registered(struct pier_e2ee_mgr *m, const json_t *reply);

/* What a device does after a login, by what m holds (loaded, or none): */
enum pier_e2ee_start {
	PIER_E2EE_START_NEW_DEVICE,    /* make keys (none yet, or this device was removed) */
	PIER_E2EE_START_REGISTER,      /* device_register of the keys made, not registered yet */
	PIER_E2EE_START_HELLO          /* device_hello: the server knows the device */
};
enum pier_e2ee_start pier_e2ee_mgr_start(const struct pier_e2ee_mgr *m);

/* Whether envelope ev came again after being opened (its "qid" at most m->opened_qid: saved,
 * then cut before its ack): its keys are used up; acknowledge it, do not open it. */
bool pier_e2ee_was_opened(const struct pier_e2ee_mgr *m, const json_t *ev);
/* An envelope of queue id qid was handled (opened or refused): the highest opened (m dirty). */
void pier_e2ee_mark_opened(struct pier_e2ee_mgr *m, int64_t qid);

/* Notices for the user, oldest first, as a new array (m's is emptied):
 *   {"notice":"safety_changed","user":U,"was_verified":B}  a contact's identity was reset
 *   {"notice":"unsigned_device","user":U,"device":ID}      the server offered a device the
 *                                                          user's list does not name
 *   {"notice":"list_refused","user":U,"why":"old|swapped|signature|format"}
 *   {"notice":"refused_message","user":U,"device":ID,"why":TEXT}  an envelope not shown
 *   {"notice":"revoked"}                                   this device was removed
 */
json_t *pier_e2ee_take_notices(struct pier_e2ee_mgr *m);
/* Whether op is an event the client passes to its device manager rather than to the chat:
 * envelope, devices_changed, prekeys_low, device_revoked, device_moved. */
bool pier_e2ee_is_event(const char *op);

/* ---- the user's own list (pier_e2ee_account.c) ---- */

/* Checks the list of a `devices` or `keys` reply about user (its signature, its user) and
 * trusts it by pier_e2ee_trust_list's rules; a trusted one becomes the contact's list and the
 * sessions with devices it no longer names are forgotten. 0, or -1 (a notice says why). */
int pier_e2ee_trust_reply(struct pier_e2ee_mgr *m, const char *user, const json_t *reply);

/* What a `devices` reply about oneself says. */
struct pier_e2ee_own {
	uint32_t version;              /* 0: the user has no list yet (this is the first device) */
	bool listed;                   /* this device is in the (trusted) list */
	bool refused;                  /* the list did not verify or was not trusted (a notice) */
	unsigned npending;             /* pending devices the server has (not this one) */
	struct {
		char id[PIER_E2EE_ID_B64];
		char name[PIER_E2EE_NAME_MAX + 1];
		char code[10];             /* "1234 5678" */
	} pending[8];
};

/* Reads the reply to {"op":"devices"} (oneself) into *out: checks the list (its signature,
 * the account key this device holds, or trusts it on first use on a new device), keeps it,
 * and for each pending device its approval code. 0, or -1 (malformed). */
int pier_e2ee_own_devices(struct pier_e2ee_mgr *m, const json_t *reply, struct pier_e2ee_own *out);
/* The approval code this (pending) device shows: "1234 5678"; -1 when the user's list is not
 * known yet. */
int pier_e2ee_own_code(const struct pier_e2ee_mgr *m, char out[10]);
/* devices_publish of a first list: makes the account key; this device alone, version 1. */
json_t *pier_e2ee_req_first_list(struct pier_e2ee_mgr *m);
/* devices_publish adding the pending device id (as the last `devices` reply gave it). */
json_t *pier_e2ee_req_approve(struct pier_e2ee_mgr *m, const json_t *devices_reply,
                              const char *id);
/* devices_publish without device id (not this one), or with it renamed to name. */
json_t *pier_e2ee_req_remove(struct pier_e2ee_mgr *m, const char *id);
json_t *pier_e2ee_req_rename(struct pier_e2ee_mgr *m, const char *id, const char *name);
/* devices_publish of a reset: a new account key, this device alone, the reset flag, version
 * current + 1 (current: the user's list version, 0 when none). */
json_t *pier_e2ee_req_reset(struct pier_e2ee_mgr *m, uint32_t current);
/* The digits of an approval code as typed ("1234 5678", "1234-5678"), at most 8, in out;
 * their count (8 for a code the user may approve). s may be NULL. */
size_t pier_e2ee_code_digits(const char *s, char out[9]);
/* The id of own's pending device whose approval code has the digits of code, or NULL. */
const char *pier_e2ee_own_pending_by_code(const struct pier_e2ee_own *own, const char *code);
/* The reply to devices_publish: m's own list is the one just published. */
void pier_e2ee_own_published(struct pier_e2ee_mgr *m, const json_t *reply);

/* ---- messages (pier_e2ee_msg.c) ---- */

enum pier_e2ee_result {
	PIER_E2EE_R_OK = 0,
	PIER_E2EE_R_NEED_KEYS,     /* ask `keys` for the user named, then try again */
	PIER_E2EE_R_REFUSED,       /* not usable (a notice says why) */
	PIER_E2EE_R_PLAIN,         /* the peer has no device list: a plaintext send it is */
	PIER_E2EE_R_ERROR          /* malformed input, or no active device */
};

/* Reads a `keys` reply: opens and trusts the list (notices for resets, refusals), keeps the
 * bundles of its devices, reports unsigned ones. */
enum pier_e2ee_result pier_e2ee_take_keys(struct pier_e2ee_mgr *m, const json_t *reply);
/* Reads a `devices` reply about another user (the list only; no bundles). */
enum pier_e2ee_result pier_e2ee_take_devices(struct pier_e2ee_mgr *m, const json_t *reply);

/* Encrypts plain (the payload object: "text", "kind", "file", "reply_to"...; "v", "type",
 * "peer" and "ts" are set here) for the conversation with peer: the "e2ee" object of a send
 * ({"payload","keys":[{"device","body"}]}) in *out. NEED_KEYS names the user whose keys are
 * missing in need (peer or oneself). Save m before sending. */
enum pier_e2ee_result pier_e2ee_encrypt_msg(struct pier_e2ee_mgr *m, const char *peer,
                                            const json_t *plain, uint64_t now_ms, json_t **out,
                                            char need[PIER_NAME_MAX + 1]);
/* A device_send of plain (a grant, a history transfer) to one's own device id. NEED_KEYS:
 * ask `keys` for oneself. */
enum pier_e2ee_result pier_e2ee_encrypt_to_own(struct pier_e2ee_mgr *m, const char *id,
                                               const json_t *plain, json_t **req);
/* The grant for a device just approved: the AK seed, the contacts trusted; history (a
 * "file" object, may be NULL). A new payload object. */
json_t *pier_e2ee_grant_payload(const struct pier_e2ee_mgr *m, const json_t *history);
/* A message's "media" object for an encrypted file (its payload's "file", whose "media" id
 * may be a number or, as the browser writes it, a string of digits): {"id","name","type",
 * "size","key","header"}, what a client downloads and decrypts. A new reference, or NULL
 * when file is not an object with an id > 0. */
json_t *pier_e2ee_file_media(const json_t *file);

enum pier_e2ee_opened {
	PIER_E2EE_GOT_MESSAGE,     /* *out: the message to show and keep ({"id","from","to","ts",
	                            * "text","kind","file","reply_to","e2ee":true}) */
	PIER_E2EE_GOT_EDIT,        /* *out: {"id","text"} for an edit of one's message id */
	PIER_E2EE_GOT_GRANT,       /* the account key was taken: the device is active once the
	                            * list names it; *out: the grant's "history" file or NULL */
	PIER_E2EE_GOT_NEED_LIST,   /* *out: {"user"}: ask `devices` for that user, then again */
	PIER_E2EE_GOT_NOTHING      /* refused (a notice says why) or nothing to show: ack it */
};

/* Opens an `envelope` event. The message is also kept in m's store. Save m, then ack.
 * NEED_LIST also comes once for a sender device the kept list does not name (it may be new):
 * after taking the `devices` reply, call again with "_relisted":true added to a copy of ev;
 * then such a device is refused (an "unsigned_device" notice). */
enum pier_e2ee_opened pier_e2ee_open(struct pier_e2ee_mgr *m, const json_t *ev, json_t **out);

#endif
