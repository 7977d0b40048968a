/* cli_e2ee.h - end-to-end encrypted private chats in `pier`, on libpier's device manager
 * (pier_e2ee.h): this installation is a device of the user's. At the first login it makes its
 * keys (named after the host) and registers; the user's first device publishes the first
 * list, a further one shows its approval code and waits until an existing device approves it
 * (/approve CODE there). Private messages are encrypted for every device of both people;
 * envelopes are opened, kept in the local store (messages.json beside device.json) and shown
 * with a lock mark; the device state is saved before every `ack`. Commands: /devices,
 * /approve, /rename-device, /remove-device, /reset, /safety, /verify.
 *
 * The chat (interactive.c) lends it a way to send requests and to print (struct
 * cli_e2ee_host) and hands it every event first (cli_e2ee_event), then calls cli_e2ee_flush
 * once per loop turn (save, then acknowledge).
 */
#ifndef PIER_CLI_E2EE_H
#define PIER_CLI_E2EE_H

#include <stdbool.h>
#include <stdint.h>

#include "cli.h"
#include "pier.h"
#include "pier_e2ee.h"

#define CLI_E2EE_HELD_MAX   4096    /* envelopes held while a sender's list is fetched */
#define CLI_E2EE_JOBS_MAX   100     /* encrypted sends waiting for keys or their `sent` */

struct cli_e2ee_host {
	void *ctx;
	/* Queues req (taken) with a fresh ref; -1 when it cannot go (offline). */
	int (*request)(void *ctx, json_t *req, char ref_out[PIER_REF_MAX]);
	void (*info)(void *ctx, const char *text);
	void (*error)(void *ctx, const char *text);
	void (*show)(void *ctx, const json_t *msg);   /* a chat message, as others are shown */
	/* History transfer (media_e2ee.h): uploads hist for a grant (the grant's "history" file
	 * in *file; -1 on failure), and takes a grant's history file into hist (the number of
	 * messages, or -1). Blocking. */
	int64_t (*upload_history)(void *ctx, const struct pier_e2ee_history *hist, json_t **file);
	long (*fetch_history)(void *ctx, const json_t *file, struct pier_e2ee_history *hist);
	/* A plaintext send through the chat's outbox (a peer without devices). */
	void (*send_plain)(void *ctx, const char *to, const char *text, int64_t reply_to);
};

struct cli_e2ee_req;
struct cli_e2ee_job;

struct cli_e2ee {
	const struct cli_options *o;
	struct cli_e2ee_host host;
	bool usable;                    /* the device state could be read (or was made) */
	bool loaded;                    /* ... and is held in m */
	int lock;                       /* the device directory's lock (e2ee_oneshot.h), or -1 */
	struct pier_e2ee_mgr m;
	char challenge[64];             /* the last login's */
	struct cli_e2ee_req *reqs;      /* requests awaiting replies */
	struct cli_e2ee_job *jobs;      /* sends in progress, oldest first */
	size_t njobs;
	json_t *held;                   /* envelopes waiting (in order) */
	bool held_waiting;              /* the first held one waits for a `devices` reply */
	int64_t ack_upto;               /* the highest qid opened and not yet acknowledged */
	json_t *own_reply;              /* the last `devices` reply about oneself (/approve) */
	bool announced;                 /* "this device is approved/active" said */
	char code_shown[10];            /* the approval code last shown (said once) */
	bool setting_up;                /* from a login until the device's state is known:
	                                 * sends wait for it */
	int64_t cid_seq;
	char cid_base[24];
};

void cli_e2ee_init(struct cli_e2ee *e, const struct cli_options *o,
                   const struct cli_e2ee_host *host);
void cli_e2ee_release(struct cli_e2ee *e);

/* The directory of user's device state: $XDG_DATA_HOME/pier/HOST_PORT/USER (or
 * ~/.local/share/...). False when there is no home. */
bool cli_e2ee_dir(const struct cli_options *o, const char *user, char *out, size_t size);

/* Logged in (first time or again) with that login's challenge (NULL or "": a server without
 * end-to-end encryption): loads or makes the device and speaks for it (device_register or
 * device_hello). */
void cli_e2ee_login(struct cli_e2ee *e, const char *user, const char *challenge);

/* The connection dropped: replies awaited will not come. Sends in progress are encrypted
 * and sent again (with the same cid) after the next login. */
void cli_e2ee_offline(struct cli_e2ee *e);

/* An event or reply: true when it was the device manager's (nothing else to do). */
bool cli_e2ee_event(struct cli_e2ee *e, const json_t *ev);

/* Saves what changed, then acknowledges what was opened. Call once per loop turn. */
void cli_e2ee_flush(struct cli_e2ee *e);

/* Something is under way that a script's end should wait for: sends, the device's setup. */
bool cli_e2ee_busy(const struct cli_e2ee *e);
/* Encrypted sends not stored yet. */
size_t cli_e2ee_unsent(const struct cli_e2ee *e);

/* True when messages to `to` ("@user") go encrypted: private, and this device is usable. */
bool cli_e2ee_private(const struct cli_e2ee *e, const char *to);

/* Sends text to "@user" encrypted (reply_to: 0 or the quoted message). file: a payload "file"
 * object (media.h) or NULL, with media (the upload's id, 0 without). Says why when it
 * cannot. */
void cli_e2ee_send(struct cli_e2ee *e, const char *to, const char *text, int64_t reply_to,
                   const json_t *file, int64_t media);
/* An encrypted edit of one's message id in the conversation with to. */
void cli_e2ee_edit(struct cli_e2ee *e, const char *to, int64_t id, const char *text);

/* msg as the server has it (history, sync: "e2ee" and no text) filled from the local store:
 * a new reference, or NULL (not encrypted, or no copy here). *hidden: an encrypted edit,
 * which is not shown as a message. */
json_t *cli_e2ee_fill(const struct cli_e2ee *e, const json_t *msg, bool *hidden);

/* A message from the local store (quotes), or NULL. */
const json_t *cli_e2ee_find(const struct cli_e2ee *e, int64_t id);
/* /devices, /approve, /rename-device, /remove-device, /reset, /safety, /verify: true when
 * name was one of them. */
bool cli_e2ee_command(struct cli_e2ee *e, const char *name, char *args);

#endif
