/* pg_e2ee.h - end-to-end encrypted private chats in pier-gtk, on libpier's device manager
 * (pier_e2ee.h), with the same devices, lists, codes and safety numbers as the terminal and
 * the browser (docs/E2EE.md). This installation is one device of the user's: its keys live in
 * DATA_DIR/e2ee/HOST_PORT/USER/ (device.json and messages.json, 0600 in 0700 directories;
 * sealed with $PIER_PASSPHRASE when it is set, as the terminal does).
 *
 * At each login it loads or makes the device and speaks for it (device_register or
 * device_hello). The user's first device publishes the first list; a further one is pending
 * and shows its approval code until an existing device approves it. Private sends from the
 * outbox are encrypted for every device of both people (keys fetched as the device manager
 * asks; a send refused with devices_changed is encrypted again for the new set, same cid);
 * envelopes are opened in order, kept in the local store, shown, and acknowledged only after
 * the state was saved (on an idle turn of the main loop).
 *
 * The session (pg_session.c) lends it a way to send requests and to show things (struct
 * pg_e2ee_host), hands it every event first (pg_e2ee_event) and routes private sends through
 * it (pg_e2ee_private, pg_e2ee_send). The windows read its state and call the device
 * operations (pg_e2ee_ui.c).
 */
#ifndef PG_E2EE_H
#define PG_E2EE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "pier.h"

#define PG_E2EE_JOBS_MAX   200     /* encrypted sends in progress (the outbox's size) */
#define PG_E2EE_HELD_MAX   4096    /* envelopes held while a sender's list is fetched */
#define PG_E2EE_FILES_MAX  64      /* encrypted uploads waiting for their send */

struct pg_e2ee_host {
	void *ctx;
	/* Sends req (taken) with a fresh ref into ref; -1 when offline. */
	int (*request)(void *ctx, json_t *req, char ref[PIER_REF_MAX]);
	/* Something to tell the user (translated). */
	void (*notice)(void *ctx, const char *text);
	/* A message decrypted here (an envelope, or one's own send once stored): shown as a
	 * message of its conversation; replaces a placeholder with the same id. live: it just
	 * arrived (not one's own send). */
	void (*show)(void *ctx, const json_t *msg, bool live);
	/* The `sent` reply of an encrypted send (with its cid). */
	void (*sent)(void *ctx, const json_t *reply);
	/* An encrypted send of cid to `to` was refused (reply: the error) or could not be made
	 * (reply NULL; text says why). */
	void (*send_failed)(void *ctx, const char *to, const char *cid, const json_t *reply,
	                    const char *text);
	/* The peer has no device list: the outbox entry cid goes as plaintext. */
	void (*send_plain)(void *ctx, const char *cid);
	/* The device's state, its list, a pending device or a contact's key changed. */
	void (*changed)(void *ctx);
	/* History transfer (docs/E2EE.md "History for a new device"), both may be NULL:
	 * upload: the file at path encrypted and uploaded; done gets the payload's "file" or
	 * NULL, later, on the main loop. download: an encrypted file (a "media" object with its
	 * key) decrypted in memory; done gets the bytes or NULL. imported: the local store took
	 * earlier messages (the conversations shown are filled again). */
	void (*upload)(void *ctx, const char *path, void (*done)(const json_t *file, void *ud),
	               void *ud);
	void (*download)(void *ctx, const json_t *media, void (*done)(const void *data,
	                 size_t len, void *ud), void *ud);
	void (*imported)(void *ctx);
};

enum pg_e2ee_state {
	PG_E2EE_OFF,          /* logged out, a server without e2ee, or the keys cannot be used */
	PG_E2EE_SETTING_UP,   /* from the login until the device's state is known */
	PG_E2EE_PENDING,      /* a new device waiting for approval (pg_e2ee_code) */
	PG_E2EE_ACTIVE,       /* an approved device */
	PG_E2EE_REVOKED       /* removed from the list: log in again to make a new device */
};

struct pg_e2ee;

struct pg_e2ee *pg_e2ee_new(const struct pg_e2ee_host *host);
void pg_e2ee_free(struct pg_e2ee *e);

/* The device directory of user on host:port under data_dir: a new string, or NULL when the
 * user name does not fit. */
char *pg_e2ee_dir(const char *data_dir, const char *host, const char *port, const char *user);

/* Logged in (first time or again) as user with that login's challenge (NULL or "": the server
 * has no e2ee). dir: the device directory (pg_e2ee_dir). Another user than before: the
 * previous device state is put away first. */
void pg_e2ee_login(struct pg_e2ee *e, const char *dir, const char *user, const char *challenge);
/* Logged out: the device state is saved and put away. */
void pg_e2ee_logout(struct pg_e2ee *e);
/* The connection dropped: replies awaited will not come; sends in progress are forgotten (the
 * outbox sends them again, with the same cid, after the next login). */
void pg_e2ee_offline(struct pg_e2ee *e);
/* An event or reply: true when it was the device manager's (nothing else to do). */
bool pg_e2ee_event(struct pg_e2ee *e, const json_t *ev);

enum pg_e2ee_state pg_e2ee_state(const struct pg_e2ee *e);
/* True when a message to `to` goes through pg_e2ee_send: private, and a device is loaded. */
bool pg_e2ee_private(const struct pg_e2ee *e, const char *to);
/* Encrypts and sends an outbox entry (cid) to "@user": text, kind (NULL: text), media
 * (0: none; an encrypted upload registered by pg_e2ee_add_file) and reply_to (0: none; the
 * quote comes from the local store). Failures come back through the host's send_failed,
 * success through sent. */
void pg_e2ee_send(struct pg_e2ee *e, const char *to, const char *cid, const char *text,
                  const char *kind, int64_t media, int64_t reply_to);
/* An encrypted edit (edit_of: one's own message whose text it replaces) to "@user", from
 * the window's edit mode (not through the outbox: offline, nothing is sent); reply_to > 0
 * instead sends a reply the same way. The result shows as messages do. */
void pg_e2ee_send_change(struct pg_e2ee *e, const char *to, const char *text, int64_t reply_to,
                         int64_t edit_of);
/* Whether an encrypted message this device shows (its text, its "media" or NULL) may be
 * answered or edited now: this device is approved and read it. */
bool pg_e2ee_can_change(const struct pg_e2ee *e, const char *text, const json_t *media);
/* An encrypted upload (its payload "file": media, key, header, name, type, size) to go with
 * the send of its media id (copied). */
void pg_e2ee_add_file(struct pg_e2ee *e, const json_t *file);

/* msg as the server has it (history, sync, msg: "e2ee" and no text) filled from the local
 * store: a new reference, or NULL (not encrypted, or not on this device). *hidden: an
 * encrypted edit, which is no message of its own. */
json_t *pg_e2ee_fill(const struct pg_e2ee *e, const json_t *msg, bool *hidden);
/* Whether this device may hold messages older than it (false: it got no history). */
bool pg_e2ee_history_complete(const struct pg_e2ee *e);

/* ---- the device operations (the devices and safety windows) ---- */

/* This device's name and id (base64url), "" when there is none. */
const char *pg_e2ee_device_name(const struct pg_e2ee *e);
void pg_e2ee_device_id(const struct pg_e2ee *e, char out[24]);
/* A pending device's code ("1234 5678"): true, or false when it has none (yet). */
bool pg_e2ee_code(const struct pg_e2ee *e, char out[10]);
/* Asks the server for one's devices; changed() runs when they are known. */
void pg_e2ee_refresh(struct pg_e2ee *e);
/* One's devices as last known: a new array of {"id","name","state","code"?,"this"?}. */
json_t *pg_e2ee_devices(const struct pg_e2ee *e);
/* Pending devices (not this one) waiting for approval, as last known. */
unsigned pg_e2ee_pending_count(const struct pg_e2ee *e);
/* Approves the pending device that shows code (8 digits, spaces allowed). False (and a
 * notice) when it cannot be asked now. */
bool pg_e2ee_approve(struct pg_e2ee *e, const char *code);
bool pg_e2ee_rename(struct pg_e2ee *e, const char *id, const char *name);
bool pg_e2ee_remove(struct pg_e2ee *e, const char *id);
/* A new identity from this (not approved) device: needs a password login. */
bool pg_e2ee_reset(struct pg_e2ee *e);

/* Fetches user's list (changed() when it came); then pg_e2ee_safety gives the number. */
void pg_e2ee_ask_safety(struct pg_e2ee *e, const char *user);
/* The safety number with user as shown ("12345 67890 ..." 12 groups) into out: true, or false
 * when it is not known (no list of theirs, or this device is not approved). */
bool pg_e2ee_safety(const struct pg_e2ee *e, const char *user, char out[80], bool *verified);
/* Marks user verified or not: false when no key of theirs is known. */
bool pg_e2ee_verify(struct pg_e2ee *e, const char *user, bool verified);
/* Whether user's safety number changed since it was last looked at (a reset); seen: the
 * user looked at it (the warning goes). */
bool pg_e2ee_safety_changed(const struct pg_e2ee *e, const char *user);
void pg_e2ee_safety_seen(struct pg_e2ee *e, const char *user);

/* Tests: saves and acknowledges now what an idle turn would. */
void pg_e2ee_flush(struct pg_e2ee *e);
/* Tests: encrypted sends in progress. */
size_t pg_e2ee_jobs(const struct pg_e2ee *e);

#endif
