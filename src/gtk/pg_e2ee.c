/* pg_e2ee.c - pier-gtk's device: its life at each login, encrypted sends of the outbox,
 * envelopes opened in order and acknowledged after the state was saved, and the device and
 * trust operations of the windows (see pg_e2ee.h). It follows the terminal's cli_e2ee.c step
 * by step on the same device manager, so that both clients behave alike. */
#include "pg_e2ee.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <sodium.h>

#include "pg_e2ee_file.h"
#include "pg_e2ee_internal.h"
#include "pg_i18n.h"
#include "pier_e2ee.h"

#define JOB_TRIES  5     /* encryptions of one message (keys fetched between) */

struct xfer {
	struct life *life;
	unsigned gen;
	char id[PIER_E2EE_ID_B64];          /* the device a grant goes to */
	char *path;                         /* the plaintext export, removed once uploaded */
};

static struct xfer *xfer_new(struct pg_e2ee *e, const char *id)
{
	struct xfer *x = g_new0(struct xfer, 1);

	x->life = e->life;
	x->life->refs++;
	x->gen = e->life->gen;
	g_strlcpy(x->id, id != NULL ? id : "", sizeof x->id);
	return x;
}

/* The manager x was made for, or NULL when it is gone or unloaded since; frees x. */
static struct pg_e2ee *xfer_end(struct xfer *x)
{
	struct pg_e2ee *e = x->life->e != NULL && x->life->gen == x->gen ? x->life->e : NULL;

	if (--x->life->refs == 0)
		g_free(x->life);
	if (x->path != NULL)
		g_unlink(x->path);
	g_free(x->path);
	g_free(x);
	return e;
}

static void say(struct pg_e2ee *e, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static void say(struct pg_e2ee *e, const char *fmt, ...)
{
	va_list ap;
	char *text;

	va_start(ap, fmt);
	text = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	if (e->host.notice != NULL)
		e->host.notice(e->host.ctx, text);
	g_free(text);
}

static void changed(struct pg_e2ee *e)
{
	if (e->host.changed != NULL)
		e->host.changed(e->host.ctx);
}

static void set_state(struct pg_e2ee *e, enum pg_e2ee_state st)
{
	if (e->state == st)
		return;
	e->state = st;
	changed(e);
}

struct pg_e2ee *pg_e2ee_new(const struct pg_e2ee_host *host)
{
	struct pg_e2ee *e = g_new0(struct pg_e2ee, 1);

	e->host = *host;
	e->lock = -1;
	e->life = g_new0(struct life, 1);
	e->life->refs = 1;
	e->life->e = e;
	e->held = json_array();
	e->files = json_object();
	return e;
}

static void job_free(struct job *j)
{
	if (j == NULL)
		return;
	json_decref(j->plain);
	g_free(j);
}

static void drop_requests(struct pg_e2ee *e)
{
	while (e->reqs != NULL) {
		struct req *r = e->reqs;

		e->reqs = r->next;
		g_free(r);
	}
}

static void drop_jobs(struct pg_e2ee *e)
{
	while (e->jobs != NULL) {
		struct job *j = e->jobs;

		e->jobs = j->next;
		job_free(j);
	}
	e->njobs = 0;
}

/* Puts the device state away (saved when it can be). */
static void unload(struct pg_e2ee *e)
{
	drop_requests(e);
	drop_jobs(e);
	json_array_clear(e->held);
	e->held_waiting = false;
	e->ack_upto = 0;
	if (e->loaded) {
		if (e->usable)
			pier_e2ee_mgr_save(&e->m, NULL);
		pier_e2ee_mgr_release(&e->m);
	}
	e->loaded = e->usable = false;
	if (e->lock >= 0)
		close(e->lock);
	e->lock = -1;
	g_clear_pointer(&e->own_reply, json_decref);
	e->has_own = false;
	json_object_clear(e->files);
	e->life->gen++;
	set_state(e, PG_E2EE_OFF);
}

void pg_e2ee_free(struct pg_e2ee *e)
{
	if (e == NULL)
		return;
	if (e->flush_idle != 0)
		g_source_remove(e->flush_idle);
	e->host.changed = NULL;
	unload(e);
	json_decref(e->held);
	json_decref(e->files);
	e->life->e = NULL;
	if (--e->life->refs == 0)
		g_free(e->life);
	g_free(e);
}

char *pg_e2ee_dir(const char *data_dir, const char *host, const char *port, const char *user)
{
	char key[PIER_NAME_MAX + 1], *server, *dir;

	if (!pier_e2ee_user_key(user, key, sizeof key))
		return NULL;
	server = g_strdup_printf("%s_%s", host, port);
	g_strdelimit(server, "/\\", '_');
	dir = g_build_filename(data_dir, "e2ee", server, key, NULL);
	g_free(server);
	return dir;
}

/* ---- requests ---- */

static struct req *request(struct pg_e2ee *e, json_t *req, enum req_kind kind, const char *arg)
{
	struct req *r;

	if (req == NULL)
		return NULL;
	r = g_new0(struct req, 1);
	if (e->host.request(e->host.ctx, req, r->ref) != 0) {
		g_free(r);
		return NULL;
	}
	r->kind = kind;
	g_strlcpy(r->arg, arg != NULL ? arg : "", sizeof r->arg);
	r->next = e->reqs;
	e->reqs = r;
	return r;
}

static struct req *take_req(struct pg_e2ee *e, const char *ref)
{
	if (ref == NULL)
		return NULL;
	for (struct req **p = &e->reqs; *p != NULL; p = &(*p)->next) {
		struct req *r = *p;

		if (strcmp(r->ref, ref) == 0) {
			*p = r->next;
			return r;
		}
	}
	return NULL;
}

/* Saves the device state: 0, or -1 after saying why (nothing that relies on it may go). */
static int save(struct pg_e2ee *e)
{
	char *err = NULL;

	if (pier_e2ee_mgr_save(&e->m, &err) == 0)
		return 0;
	say(e, _("Could not save the device keys: %s"), err != NULL ? err : "?");
	free(err);
	return -1;
}

/* The keys of encrypted uploads whose send is still in the outbox: kept beside device.json
 * (uploads.json, the same protection), so that a restart of the app loses no file typed
 * offline. */
static char *files_path(const struct pg_e2ee *e)
{
	return g_build_filename(e->m.dir, "uploads.json", NULL);
}

static void files_save(struct pg_e2ee *e)
{
	char *path, *err = NULL;

	if (!e->loaded || !e->usable)
		return;
	path = files_path(e);
	if (pier_e2ee_save_json(path, e->files, &e->m.seal, &err) != 0)
		g_warning("pier-gtk: %s: %s", path, err != NULL ? err : "?");
	free(err);
	g_free(path);
}

static void files_load(struct pg_e2ee *e)
{
	char *path = files_path(e), *err = NULL;
	json_t *j = NULL;

	json_object_clear(e->files);
	if (pier_e2ee_load_json(path, &e->m.seal, 1u << 20, &j, &err) == 0 && json_is_object(j))
		json_object_update(e->files, j);
	json_decref(j);
	free(err);
	g_free(path);
}

static void files_forget(struct pg_e2ee *e, int64_t media)
{
	char key[24];

	snprintf(key, sizeof key, "%lld", (long long)media);
	if (media > 0 && json_object_del(e->files, key) == 0)
		files_save(e);
}

/* ---- what the device manager says ---- */

static void say_notices(struct pg_e2ee *e)
{
	json_t *n = pier_e2ee_take_notices(&e->m), *o;
	size_t i;
	bool any = false;

	json_array_foreach(n, i, o) {
		const char *kind = json_string_value(json_object_get(o, "notice"));
		const char *user = json_string_value(json_object_get(o, "user"));
		const char *dev = json_string_value(json_object_get(o, "device"));
		const char *why = json_string_value(json_object_get(o, "why"));

		user = user != NULL ? user : "?";
		dev = dev != NULL ? dev : "?";
		why = why != NULL ? why : "?";
		any = true;
		if (kind == NULL)
			continue;
		if (strcmp(kind, "safety_changed") == 0)
			say(e, json_is_true(json_object_get(o, "was_verified"))
			    ? _("%s's safety number changed: they reset their identity, or someone offered "
			        "a new key for them. It was verified; it is not any more. Compare it again.")
			    : _("%s's safety number changed: they reset their identity, or someone offered "
			        "a new key for them. Compare it again."), user);
		else if (strcmp(kind, "unsigned_device") == 0)
			say(e, _("Unsigned device offered by the server: %s did not approve device %s. "
			         "Refused: nothing is encrypted to it or shown from it."), user, dev);
		else if (strcmp(kind, "list_refused") == 0)
			say(e, _("%s's device list was refused (%s): nothing is sent to them until it "
			         "checks out."), user, why);
		else if (strcmp(kind, "refused_message") == 0)
			say(e, _("A message from %s (device %s) was refused and not shown: %s"), user, dev,
			    why);
		else if (strcmp(kind, "refused_device") == 0)
			say(e, _("%s's device %s cannot be encrypted to: %s"), user, dev, why);
		else if (strcmp(kind, "revoked") == 0)
			say(e, "%s", _("This device was removed from your account (or your identity was "
			               "reset elsewhere). It reads no new encrypted messages."));
	}
	json_decref(n);
	if (any)
		changed(e);
}

/* ---- the device's life ---- */

static void new_device(struct pg_e2ee *e)
{
	char name[PIER_E2EE_NAME_MAX + 1];
	const char *host = g_get_host_name();

	snprintf(name, sizeof name, "pier-gtk@%.54s", host != NULL ? host : "desktop");
	pier_e2ee_mgr_create(&e->m, name, (uint64_t)(g_get_real_time() / 1000));
	if (save(e) != 0) {
		e->usable = false;
		set_state(e, PG_E2EE_OFF);
		return;
	}
	request(e, pier_e2ee_req_device_register(&e->m, e->challenge), R_REGISTER, NULL);
}

void pg_e2ee_login(struct pg_e2ee *e, const char *dir, const char *user, const char *ch)
{
	const char *pass = g_getenv("PIER_PASSPHRASE");
	char *err = NULL, key[PIER_NAME_MAX + 1];

	if (e->loaded && (!pier_e2ee_user_key(user, key, sizeof key) || strcmp(key, e->m.user) != 0))
		unload(e);
	if (ch == NULL || ch[0] == '\0' || dir == NULL) {
		if (!e->loaded)
			say(e, "%s", _("This server has no end-to-end encryption: private messages are "
			               "not encrypted."));
		return;
	}
	g_strlcpy(e->challenge, ch, sizeof e->challenge);
	if (!e->loaded) {
		e->lock = pier_e2ee_lock_dir(dir);
		if (e->lock < 0) {
			say(e, "%s", e->lock == -2
			    ? _("Another pier-gtk uses this device's keys right now: end-to-end encryption "
			        "is off in this one.")
			    : _("Cannot lock the device keys: end-to-end encryption is off."));
			return;
		}
		pier_e2ee_mgr_init(&e->m, dir, user, pass != NULL && pass[0] != '\0' ? pass : NULL);
		e->loaded = true;
		switch (pier_e2ee_mgr_load(&e->m, &err)) {
		case 0:
			e->usable = true;
			files_load(e);
			break;
		case 1:
			e->usable = true;
			set_state(e, PG_E2EE_SETTING_UP);
			new_device(e);
			return;
		default:
			/* never replaced silently: the user decides (a wrong passphrase, a file others
			 * could read) */
			say(e, _("End-to-end encryption is off: %s"), err != NULL ? err : "?");
			free(err);
			e->usable = false;
			return;
		}
	}
	if (!e->usable)
		return;
	set_state(e, PG_E2EE_SETTING_UP);
	switch (pier_e2ee_mgr_start(&e->m)) {
	case PIER_E2EE_START_NEW_DEVICE:
		new_device(e);
		break;
	case PIER_E2EE_START_REGISTER:
		request(e, pier_e2ee_req_device_register(&e->m, e->challenge), R_REGISTER, NULL);
		break;
	case PIER_E2EE_START_HELLO:
		request(e, pier_e2ee_req_device_hello(&e->m, e->challenge), R_HELLO, NULL);
		break;
	}
}

void pg_e2ee_logout(struct pg_e2ee *e)
{
	unload(e);
}

static void run_job(struct pg_e2ee *e, struct job *j);

/* The device's state is known after a login: the sends waiting for it go. */
static void set_up(struct pg_e2ee *e)
{
	struct job *j, *next;

	set_state(e, e->m.state == PIER_E2EE_ACTIVE ? PG_E2EE_ACTIVE
	             : e->m.state == PIER_E2EE_REVOKED ? PG_E2EE_REVOKED : PG_E2EE_PENDING);
	for (j = e->jobs; j != NULL; j = next) {
		next = j->next;
		if (j->waiting == -1) {
			j->waiting = 0;
			run_job(e, j);
		}
	}
}

static void own_reply(struct pg_e2ee *e, const json_t *ev)
{
	if (pier_e2ee_own_devices(&e->m, ev, &e->own) != 0)
		return;
	e->has_own = true;
	json_decref(e->own_reply);
	e->own_reply = json_incref((json_t *)ev);
	say_notices(e);
	if (e->own.refused) {
		set_up(e);
		return;
	}
	if (e->own.version == 0 && e->m.state != PIER_E2EE_ACTIVE) {
		/* the user's first device: it makes the account key */
		json_t *req = pier_e2ee_req_first_list(&e->m);
		struct req *r;

		if (save(e) != 0) {
			json_decref(req);
			return;
		}
		r = request(e, req, R_PUBLISH, NULL);
		if (r != NULL)
			r->pkind = P_FIRST;
		return;
	}
	if (e->m.state == PIER_E2EE_ACTIVE) {
		/* no notice when all is well: the lock and the devices window say it */
		for (unsigned i = 0; i < e->own.npending; i++)
			say(e, _("Device \"%s\" waits for approval. Its code here: %s. If it shows the same "
			         "code, approve it in Devices."), e->own.pending[i].name,
			    e->own.pending[i].code);
		set_up(e);
		changed(e);
		return;
	}
	set_up(e);
	changed(e);
	/* the banner shows the code (pg_e2ee_ui.c); nothing more to say here */
}

/* ---- sending ---- */

static void job_unlink(struct pg_e2ee *e, struct job *j)
{
	for (struct job **p = &e->jobs; *p != NULL; p = &(*p)->next) {
		if (*p == j) {
			*p = j->next;
			e->njobs--;
			break;
		}
	}
	for (struct req *r = e->reqs; r != NULL; r = r->next)
		if (r->job == j)
			r->job = NULL;
}

/* The job failed: the session shows its message as failed (text: why). */
static void job_fail(struct pg_e2ee *e, struct job *j, const json_t *reply, const char *text)
{
	job_unlink(e, j);
	files_forget(e, j->media);
	if (e->host.send_failed != NULL)
		e->host.send_failed(e->host.ctx, j->to, j->cid, reply, text);
	job_free(j);
}

static void run_job(struct pg_e2ee *e, struct job *j)
{
	char need[PIER_NAME_MAX + 1], *text;
	json_t *e2ee = NULL, *req;
	struct req *r;
	enum pier_e2ee_result res;

	if (e->state == PG_E2EE_SETTING_UP) {
		j->waiting = -1;           /* runs once the device is set up */
		return;
	}
	if (++j->tries > JOB_TRIES) {
		job_fail(e, j, NULL, _("Not sent: the devices kept changing."));
		return;
	}
	res = pier_e2ee_encrypt_msg(&e->m, j->to, j->plain, (uint64_t)(g_get_real_time() / 1000),
	                            &e2ee, need);
	say_notices(e);
	switch (res) {
	case PIER_E2EE_R_OK:
		break;
	case PIER_E2EE_R_NEED_KEYS:
		r = request(e, pier_req_keys(need), R_KEYS, need);
		if (r == NULL) {
			j->waiting = -1;       /* offline: the outbox sends it again */
			job_unlink(e, j);
			job_free(j);
			return;
		}
		r->job = j;
		j->waiting = 1;
		return;
	case PIER_E2EE_R_PLAIN:
		if (j->media != 0 || j->reply_to != 0 || j->edit_of != 0) {
			text = g_strdup_printf(_("%s has no device: an encrypted file cannot be sent to "
			                         "them."), j->to);
			job_fail(e, j, NULL, text);
			g_free(text);
			return;
		}
		job_unlink(e, j);
		if (e->host.send_plain != NULL)
			e->host.send_plain(e->host.ctx, j->cid);
		job_free(j);
		return;
	case PIER_E2EE_R_REFUSED:
		job_fail(e, j, NULL, _("Not sent: the keys did not check out."));
		return;
	case PIER_E2EE_R_ERROR:
	default:
		job_fail(e, j, NULL, _("Not sent: this device is not approved yet."));
		return;
	}
	/* The ratchet moved: the state is on disk before the envelopes leave. */
	if (save(e) != 0) {
		json_decref(e2ee);
		job_fail(e, j, NULL, _("Not sent: the device keys could not be saved."));
		return;
	}
	req = pier_req_send_e2ee(j->to, json_string_value(json_object_get(e2ee, "payload")),
	                         json_incref(json_object_get(e2ee, "keys")), j->cid, j->media,
	                         j->reply_to);
	json_decref(e2ee);
	r = request(e, req, R_SEND, NULL);
	if (r == NULL) {
		job_unlink(e, j);          /* offline: the outbox sends it again */
		job_free(j);
		return;
	}
	r->job = j;
}

bool pg_e2ee_private(const struct pg_e2ee *e, const char *to)
{
	return e->loaded && e->usable && e->state != PG_E2EE_OFF && to != NULL && to[0] == '@';
}

void pg_e2ee_add_file(struct pg_e2ee *e, const json_t *file)
{
	json_int_t id = json_integer_value(json_object_get(file, "media"));
	char key[24];

	if (id <= 0)
		return;
	if (json_object_size(e->files) >= PG_E2EE_FILES_MAX)
		json_object_clear(e->files);
	snprintf(key, sizeof key, "%lld", (long long)id);
	json_object_set_new(e->files, key, json_deep_copy(file));
	files_save(e);
}

void pg_e2ee_send(struct pg_e2ee *e, const char *to, const char *cid, const char *text,
                  const char *kind, int64_t media, int64_t reply_to)
{
	struct job *j, **p;

	for (j = e->jobs; j != NULL; j = j->next)
		if (strcmp(j->cid, cid) == 0)
			return;                /* under way already */
	j = g_new0(struct job, 1);
	g_strlcpy(j->to, to, sizeof j->to);
	g_strlcpy(j->cid, cid, sizeof j->cid);
	j->plain = json_object();
	json_object_set_new(j->plain, "text", json_string(text != NULL ? text : ""));
	json_object_set_new(j->plain, "kind", json_string(kind != NULL ? kind : "text"));
	j->media = media;
	if (reply_to > 0)
		json_object_set_new(j->plain, "reply_to", json_integer(reply_to));
	j->reply_to = reply_to;
	if (e->njobs >= PG_E2EE_JOBS_MAX) {
		if (e->host.send_failed != NULL)
			e->host.send_failed(e->host.ctx, j->to, j->cid, NULL,
			                    _("Not sent: too many messages are waiting already."));
		job_free(j);
		return;
	}
	if (media != 0) {
		char key[24];
		json_t *file;

		snprintf(key, sizeof key, "%lld", (long long)media);
		file = json_object_get(e->files, key);
		if (file == NULL) {
			if (e->host.send_failed != NULL)
				e->host.send_failed(e->host.ctx, j->to, j->cid, NULL,
				                    _("Not sent: the file's key is gone (the app was "
				                      "restarted). Send the file again."));
			job_free(j);
			return;
		}
		file = json_deep_copy(file);
		json_object_del(file, "kind");
		json_object_set_new(j->plain, "file", file);
	}
	for (p = &e->jobs; *p != NULL; p = &(*p)->next)
		;
	*p = j;
	e->njobs++;
	run_job(e, j);
}

static void show_opened(struct pg_e2ee *e, const json_t *msg, bool live);
static void schedule_flush(struct pg_e2ee *e);

/* An encrypted edit was stored (a message of its own on the server, kept hidden here): the
 * edited message shows its new text. */
static void sent_edit(struct pg_e2ee *e, struct job *j, const json_t *ev)
{
	const char *text = json_string_value(json_object_get(j->plain, "text"));
	const json_t *orig;
	json_t *msg;

	job_unlink(e, j);
	pier_e2ee_history_edit(&e->m.hist, j->edit_of, text);
	msg = json_pack("{s:O, s:s, s:s, s:O, s:b, s:I, s:s}", "id", json_object_get(ev, "id"),
	                "from", e->m.user, "to", j->to, "ts", json_object_get(ev, "ts"), "hidden", 1,
	                "edit_of", (json_int_t)j->edit_of, "text", text != NULL ? text : "");
	if (msg != NULL)
		pier_e2ee_history_add(&e->m.hist, j->to, msg);
	json_decref(msg);
	schedule_flush(e);
	orig = pier_e2ee_history_find(&e->m.hist, j->edit_of);
	if (orig != NULL) {
		json_t *copy = json_deep_copy(orig);

		json_object_set_new(copy, "edited", json_integer(1));
		show_opened(e, copy, false);
		json_decref(copy);
	}
	job_free(j);
}

/* The reply to an encrypted send. */
static void sent_reply(struct pg_e2ee *e, struct job *j, const json_t *ev)
{
	const char *code = json_string_value(json_object_get(ev, "error"));

	if (j == NULL)
		return;
	if (strcmp(pier_event_op(ev), "sent") == 0 && j->edit_of != 0) {
		sent_edit(e, j, ev);
		return;
	}
	if (strcmp(pier_event_op(ev), "sent") == 0) {
		static const char *const keys[] = { "text", "kind", "file", "reply_to" };
		json_t *msg = json_pack("{s:O, s:s, s:s, s:O, s:b}", "id", json_object_get(ev, "id"),
		                        "from", e->m.user, "to", j->to, "ts", json_object_get(ev, "ts"),
		                        "e2ee", 1);

		job_unlink(e, j);
		files_forget(e, j->media);
		if (msg != NULL) {
			for (size_t i = 0; i < G_N_ELEMENTS(keys); i++)
				if (json_object_get(j->plain, keys[i]) != NULL)
					json_object_set(msg, keys[i], json_object_get(j->plain, keys[i]));
			pier_e2ee_history_add(&e->m.hist, j->to, msg);
		}
		if (e->host.sent != NULL)
			e->host.sent(e->host.ctx, ev);
		if (msg != NULL) {
			json_t *shown = pg_e2ee_fill(e, msg, &(bool){ false });

			if (shown != NULL && e->host.show != NULL)
				e->host.show(e->host.ctx, shown, false);
			json_decref(shown);
		}
		json_decref(msg);
		job_free(j);
		return;
	}
	if (code != NULL && strcmp(code, "devices_changed") == 0) {
		/* a device was added or removed meanwhile: fetch the keys and encrypt again */
		const json_t *devs = json_object_get(ev, "devices");
		const char *user;
		json_t *ids;

		g_debug("pier-gtk: %s to %s: devices_changed, encrypting again", j->cid, j->to);
		j->waiting = 0;
		json_object_foreach((json_t *)devs, user, ids) {
			struct req *r = request(e, pier_req_keys(user), R_KEYS, user);

			(void)ids;
			if (r != NULL) {
				r->job = j;
				j->waiting++;
			}
		}
		if (j->waiting == 0) {
			struct req *r = request(e, pier_req_keys(j->to + 1), R_KEYS, j->to + 1);

			if (r != NULL) {
				r->job = j;
				j->waiting++;
			}
		}
		if (j->waiting == 0) {
			job_unlink(e, j);      /* offline: the outbox sends it again */
			job_free(j);
		}
		return;
	}
	job_fail(e, j, ev, NULL);
}

void pg_e2ee_send_change(struct pg_e2ee *e, const char *to, const char *text, int64_t reply_to,
                         int64_t edit_of)
{
	struct job *j, **p;
	unsigned char r[9];
	char *hex;

	if (e->njobs >= PG_E2EE_JOBS_MAX) {
		say(e, "%s", _("Not sent: too many messages are waiting already."));
		return;
	}
	j = g_new0(struct job, 1);
	g_strlcpy(j->to, to, sizeof j->to);
	randombytes_buf(r, sizeof r);
	hex = g_strdup_printf("e2%02x%02x%02x%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3],
	                      r[4], r[5], r[6], r[7], r[8]);
	g_strlcpy(j->cid, hex, sizeof j->cid);
	g_free(hex);
	j->plain = json_object();
	json_object_set_new(j->plain, "text", json_string(text != NULL ? text : ""));
	if (edit_of > 0) {
		json_object_set_new(j->plain, "type", json_string("edit"));
		json_object_set_new(j->plain, "edit_of", json_integer(edit_of));
		j->edit_of = edit_of;
	} else {
		json_object_set_new(j->plain, "kind", json_string("text"));
		if (reply_to > 0)
			json_object_set_new(j->plain, "reply_to", json_integer(reply_to));
		j->reply_to = reply_to;
	}
	for (p = &e->jobs; *p != NULL; p = &(*p)->next)
		;
	*p = j;
	e->njobs++;
	run_job(e, j);
}

bool pg_e2ee_can_change(const struct pg_e2ee *e, const char *text, const json_t *media)
{
	return e != NULL && e->state == PG_E2EE_ACTIVE &&
	       ((text != NULL && text[0] != '\0') || json_is_string(json_object_get(media, "key")));
}

size_t pg_e2ee_jobs(const struct pg_e2ee *e)
{
	return e->njobs;
}

/* ---- receiving ---- */

static gboolean on_flush_idle(gpointer data)
{
	struct pg_e2ee *e = data;

	e->flush_idle = 0;
	pg_e2ee_flush(e);
	return G_SOURCE_REMOVE;
}

static void schedule_flush(struct pg_e2ee *e)
{
	if (e->flush_idle == 0)
		e->flush_idle = g_idle_add(on_flush_idle, e);
}

static void show_opened(struct pg_e2ee *e, const json_t *msg, bool live)
{
	json_t *shown = pg_e2ee_fill(e, msg, &(bool){ false });

	if (shown != NULL && e->host.show != NULL)
		e->host.show(e->host.ctx, shown, live);
	json_decref(shown);
}

static void take_history(struct pg_e2ee *e, const json_t *file);

static void process_held(struct pg_e2ee *e)
{
	while (!e->held_waiting && json_array_size(e->held) > 0) {
		json_t *ev = json_array_get(e->held, 0), *out = NULL;
		int64_t qid = json_integer_value(json_object_get(ev, "qid"));
		bool live = e->replay_left <= 0;
		enum pier_e2ee_opened r;

		if (pier_e2ee_was_opened(&e->m, ev)) {
			/* opened before a drop, not acknowledged yet: its keys are used up */
			json_array_remove(e->held, 0);
			e->replay_left--;
			if (qid > e->ack_upto)
				e->ack_upto = qid;
			continue;
		}
		r = pier_e2ee_open(&e->m, ev, &out);
		if (r == PIER_E2EE_GOT_NEED_LIST) {
			const char *user = json_string_value(json_object_get(out, "user"));

			json_object_set_new(ev, "_relisted", json_true());
			if (request(e, pier_req_devices(user), R_HELD_DEVICES, user) != NULL)
				e->held_waiting = true;
			json_decref(out);
			return;                /* offline: it comes again after the next hello */
		}
		say_notices(e);
		switch (r) {
		case PIER_E2EE_GOT_MESSAGE:
			show_opened(e, out, live);
			break;
		case PIER_E2EE_GOT_EDIT: {
			int64_t id = json_integer_value(json_object_get(out, "id"));
			const json_t *m = pier_e2ee_history_find(&e->m.hist, id);

			if (m != NULL) {
				json_t *copy = json_deep_copy(m);

				json_object_set_new(copy, "edited", json_integer(1));
				show_opened(e, copy, live);
				json_decref(copy);
			}
			break;
		}
		case PIER_E2EE_GOT_GRANT:
			if (out != NULL)
				say(e, "%s", _("This device was approved and received your account key; "
				               "earlier private messages are being copied."));
			else
				say(e, "%s", _("This device was approved and received your account key. "
				               "Earlier private messages stay on your other devices."));
			if (out != NULL)
				take_history(e, out);
			request(e, pier_req_devices(NULL), R_OWN, NULL);
			break;
		default:
			break;
		}
		json_decref(out);
		if (qid > e->ack_upto)
			e->ack_upto = qid;
		pier_e2ee_mark_opened(&e->m, qid);
		json_array_remove(e->held, 0);
		e->replay_left--;
	}
	schedule_flush(e);
}

void pg_e2ee_flush(struct pg_e2ee *e)
{
	if (!e->loaded || !e->usable)
		return;
	if (!e->m.dirty && !e->m.hist.dirty && e->ack_upto == 0)
		return;
	if (save(e) != 0)
		return;                    /* not acknowledged: the envelopes come again */
	if (e->ack_upto > 0 && request(e, pier_req_ack(e->ack_upto), R_ACK, NULL) != NULL)
		e->ack_upto = 0;
}

void pg_e2ee_offline(struct pg_e2ee *e)
{
	drop_requests(e);
	drop_jobs(e);                  /* the outbox sends them again after the login */
	json_array_clear(e->held);     /* not acknowledged: they come again */
	e->held_waiting = false;
	e->ack_upto = 0;
	e->replay_left = 0;
}

json_t *pg_e2ee_fill(const struct pg_e2ee *e, const json_t *msg, bool *hidden)
{
	const json_t *local;
	json_t *copy, *media;

	*hidden = false;
	if (!e->loaded || !json_is_true(json_object_get(msg, "e2ee")))
		return NULL;
	if (json_object_get(msg, "text") != NULL)
		local = msg;               /* decrypted here already */
	else
		local = pier_e2ee_history_find(&e->m.hist, json_integer_value(json_object_get(msg, "id")));
	if (local == NULL)
		return NULL;
	if (json_is_true(json_object_get(local, "hidden"))) {
		*hidden = true;
		return NULL;
	}
	copy = json_deep_copy(local);
	json_object_set_new(copy, "e2ee", json_true());
	/* an encrypted file: the message's "media" holds what opens it (pg_media decrypts) */
	media = pier_e2ee_file_media(json_object_get(local, "file"));
	if (media != NULL)
		json_object_set_new(copy, "media", media);
	/* a reply's quote, from what this device decrypted (the server has none) */
	if (json_integer_value(json_object_get(local, "reply_to")) > 0) {
		const json_t *q = pier_e2ee_history_find(&e->m.hist, json_integer_value(
			json_object_get(local, "reply_to")));

		if (q != NULL)
			json_object_set_new(copy, "quote", json_pack("{s:O?, s:O?}", "from",
			                    json_object_get(q, "from"), "text", json_object_get(q, "text")));
		else
			json_object_set_new(copy, "quote", json_pack("{s:s, s:s}", "from", "?",
			                    "text", "…"));
	}
	/* what the server knows better: reactions, recalls */
	if (json_object_get(msg, "reactions") != NULL)
		json_object_set(copy, "reactions", json_object_get(msg, "reactions"));
	if (json_is_true(json_object_get(msg, "recalled")))
		json_object_set_new(copy, "recalled", json_true());
	return copy;
}

bool pg_e2ee_history_complete(const struct pg_e2ee *e)
{
	return e->loaded && e->m.history_complete;
}

/* ---- replies ---- */

static void publish_reply(struct pg_e2ee *e, const struct req *r, const json_t *ev)
{
	if (strcmp(pier_event_op(ev), "error") == 0) {
		const char *code = json_string_value(json_object_get(ev, "error"));
		const char *text = pier_error_text(code != NULL ? code : "", pg_i18n_lang());

		say(e, _("The device list was not changed: %s"),
		    text != NULL ? text : code != NULL ? code : "?");
		request(e, pier_req_devices(NULL), R_OWN, NULL);
		return;
	}
	pier_e2ee_own_published(&e->m, ev);
	request(e, pier_req_devices(NULL), R_OWN, NULL);
	if (r->pkind == P_APPROVE) {
		/* the new device is listed now: its keys, then the grant */
		struct req *k = request(e, pier_req_keys(e->m.user), R_KEYS, r->arg);

		if (k != NULL)
			k->pkind = P_APPROVE;
	} else if (r->pkind == P_RESET) {
		say(e, "%s", _("Your identity was reset: this device is your only one; your contacts "
		               "will see that your safety number changed."));
	}
	changed(e);
}

/* The grant (the account key, the contacts, the history's file or NULL) to device id. */
static void finish_grant(struct pg_e2ee *e, const char *id, const json_t *history)
{
	json_t *grant = pier_e2ee_grant_payload(&e->m, history), *req = NULL;
	enum pier_e2ee_result res = pier_e2ee_encrypt_to_own(&e->m, id, grant, &req);

	json_decref(grant);
	say_notices(e);
	if (res != PIER_E2EE_R_OK || save(e) != 0) {
		json_decref(req);
		say(e, "%s", _("The approved device could not be sent the account key."));
		return;
	}
	if (request(e, req, R_DEVICE_SEND, id) != NULL)
		say(e, _("Device %s approved."), id);
}

static void history_uploaded(const json_t *file, void *ud)
{
	struct xfer *x = ud;
	char id[PIER_E2EE_ID_B64];
	struct pg_e2ee *e;

	g_strlcpy(id, x->id, sizeof id);
	e = xfer_end(x);
	if (e == NULL)
		return;
	if (file == NULL)
		say(e, "%s", _("The history could not be sent: the new device starts without it."));
	finish_grant(e, id, file);
}

/* keys(self) after an approval: the private history this device holds goes along,
 * encrypted (the server keeps only ciphertext; the new device would start empty), then the
 * grant. The export is written into the device directory (0600) and removed once uploaded. */
static void send_grant(struct pg_e2ee *e, const char *id)
{
	json_t *ex;
	char *text;
	struct xfer *x;

	if (e->m.hist.count == 0 || e->host.upload == NULL) {
		finish_grant(e, id, NULL);
		return;
	}
	ex = pier_e2ee_history_export(&e->m.hist, PIER_E2EE_HISTORY_MAX);
	text = json_dumps(ex, JSON_COMPACT);
	json_decref(ex);
	x = xfer_new(e, id);
	x->path = g_build_filename(e->m.dir, "history-out.json", NULL);
	if (text == NULL || !g_file_set_contents_full(x->path, text, -1,
	                                              G_FILE_SET_CONTENTS_CONSISTENT, 0600, NULL)) {
		if (text != NULL)
			sodium_memzero(text, strlen(text));
		free(text);
		xfer_end(x);
		finish_grant(e, id, NULL);
		return;
	}
	sodium_memzero(text, strlen(text));
	free(text);
	e->host.upload(e->host.ctx, x->path, history_uploaded, x);
}

/* A grant's history file arrived, decrypted: merged into the local store. */
static void history_downloaded(const void *data, size_t len, void *ud)
{
	struct pg_e2ee *e = xfer_end(ud);
	json_t *j = data != NULL ? json_loadb(data, len, 0, NULL) : NULL;
	size_t before;

	if (e == NULL) {
		json_decref(j);
		return;
	}
	before = e->m.hist.count;
	if (j == NULL || pier_e2ee_history_import(&e->m.hist, j, NULL) != 0) {
		say(e, "%s", _("The earlier messages could not be copied: they stay on your other "
		               "devices."));
	} else {
		e->m.history_complete = true;
		e->m.dirty = true;
		schedule_flush(e);
		say(e, ngettext("%zu earlier private message was copied from your other device.",
		                "%zu earlier private messages were copied from your other device.",
		                e->m.hist.count - before), e->m.hist.count - before);
		if (e->host.imported != NULL)
			e->host.imported(e->host.ctx);
	}
	json_decref(j);
}

/* Fetches a grant's history (its "file" object). */
static void take_history(struct pg_e2ee *e, const json_t *file)
{
	json_t *msg = json_pack("{s:i, s:b, s:s, s:O}", "id", 1, "e2ee", 1, "text", "",
	                        "file", file);
	bool hidden = false;
	json_t *filled = msg != NULL ? pg_e2ee_fill(e, msg, &hidden) : NULL;
	json_t *media = json_object_get(filled, "media");

	if (media != NULL && pg_e2ee_file_is_encrypted(media) && e->host.download != NULL)
		e->host.download(e->host.ctx, media, history_downloaded, xfer_new(e, NULL));
	json_decref(filled);
	json_decref(msg);
}

static void approve_reply(struct pg_e2ee *e, const char *code, const json_t *ev)
{
	const char *id;
	struct req *r;
	json_t *req;

	if (pier_e2ee_own_devices(&e->m, ev, &e->own) != 0)
		return;
	e->has_own = true;
	say_notices(e);
	id = pier_e2ee_own_pending_by_code(&e->own, code);
	if (id != NULL) {
		req = pier_e2ee_req_approve(&e->m, ev, id);
		if (req == NULL || save(e) != 0) {
			json_decref(req);
			say(e, "%s", _("Could not approve that device."));
			return;
		}
		r = request(e, req, R_PUBLISH, id);
		if (r != NULL)
			r->pkind = P_APPROVE;
		return;
	}
	say(e, _("No device waiting for approval shows the code %s. Do not approve a device whose "
	         "code differs."), code);
}

static void event_other(struct pg_e2ee *e, const char *op, const json_t *ev)
{
	if (strcmp(op, "envelope") == 0) {
		if (json_array_size(e->held) >= PG_E2EE_HELD_MAX)
			return;                /* not acknowledged: it comes again at the next hello */
		json_array_append_new(e->held, json_deep_copy(ev));
		process_held(e);
	} else if (strcmp(op, "devices_changed") == 0) {
		const char *user = json_string_value(json_object_get(ev, "user"));
		char key[PIER_NAME_MAX + 1];

		pier_e2ee_user_key(user, key, sizeof key);
		if (user == NULL || strcmp(key, e->m.user) == 0)
			request(e, pier_req_devices(NULL), R_OWN, NULL);
		else
			request(e, pier_req_keys(user), R_KEYS, user);
	} else if (strcmp(op, "prekeys_low") == 0) {
		json_t *req = pier_e2ee_req_prekeys(&e->m,
		                                    (int)json_integer_value(json_object_get(ev, "count")),
		                                    false);

		if (req != NULL && save(e) == 0)
			request(e, req, R_PREKEYS, NULL);
		else
			json_decref(req);
	} else if (strcmp(op, "device_revoked") == 0) {
		e->m.state = PIER_E2EE_REVOKED;
		e->m.dirty = true;
		set_state(e, PG_E2EE_REVOKED);
		say(e, "%s", _("This device was removed from your account: it reads no new encrypted "
		               "messages. Log in again to set it up as a new device."));
	} else if (strcmp(op, "device_moved") == 0) {
		say(e, "%s", _("This device's keys are now used by another session of yours."));
	}
}

/* A contact's trusted list: its version (0: none yet) and device count. */
static uint32_t list_of(struct pg_e2ee *e, const char *user, unsigned *count)
{
	const struct pier_e2ee_contact *k = pier_e2ee_contact_find(&e->m.contacts, user);

	*count = k != NULL && k->list != NULL ? k->list->count : 0;
	return k != NULL && k->list != NULL ? k->list->version : 0;
}

/* Says when a contact's device list changed under the same identity (a reset has its own
 * "safety number changed" notice): a device added or removed is worth knowing. */
static void note_list_change(struct pg_e2ee *e, const char *user, uint32_t before,
                             unsigned count_before)
{
	char key[PIER_NAME_MAX + 1];
	const struct pier_e2ee_contact *k;
	unsigned count;
	uint32_t now;

	if (!pier_e2ee_user_key(user, key, sizeof key) || strcmp(key, e->m.user) == 0 ||
	    before == 0)
		return;
	now = list_of(e, key, &count);
	k = pier_e2ee_contact_find(&e->m.contacts, key);
	if (now <= before || k == NULL || k->changed)
		return;
	if (count > count_before)
		say(e, _("%s added a device (now %u). Messages to them are encrypted for it too; "
		         "their safety number is the same."), key, count);
	else if (count < count_before)
		say(e, _("%s removed a device (now %u)."), key, count);
	else
		say(e, _("%s's device list changed (a device was renamed or replaced; now %u)."), key,
		    count);
}

static void registered(struct pg_e2ee *e, const json_t *ev)
{
	int count = (int)json_integer_value(json_object_get(ev, "opk_count"));
	json_t *req;

	pier_e2ee_mgr_registered(&e->m, ev);
	e->replay_left = json_integer_value(json_object_get(ev, "queued"));
	save(e);
	request(e, pier_req_devices(NULL), R_OWN, NULL);
	req = json_object_get(ev, "opk_count") != NULL && count < 20
	      ? pier_e2ee_req_prekeys(&e->m, count, false) : NULL;
	if (req != NULL && save(e) == 0)
		request(e, req, R_PREKEYS, NULL);
	else
		json_decref(req);
}

bool pg_e2ee_event(struct pg_e2ee *e, const json_t *ev)
{
	const char *op = pier_event_op(ev);
	const char *code = json_string_value(json_object_get(ev, "error"));
	struct req *r;
	bool err;
	uint32_t list_before = 0;
	unsigned count_before = 0;

	if (!e->loaded || !e->usable)
		return false;
	r = take_req(e, json_string_value(json_object_get(ev, "ref")));
	if (r == NULL) {
		if (!pier_e2ee_is_event(op))
			return false;
		event_other(e, op, ev);
		return true;
	}
	err = strcmp(op, "error") == 0;
	if (!err && (r->kind == R_SAFETY || r->kind == R_HELD_DEVICES ||
	             (r->kind == R_KEYS && r->pkind != P_APPROVE)))
		list_before = list_of(e, r->arg, &count_before);
	switch (r->kind) {
	case R_REGISTER:
	case R_HELLO:
		if (!err) {
			registered(e, ev);
		} else if (code != NULL && (strcmp(code, "device_revoked") == 0 ||
		                            strcmp(code, "no_such_device") == 0)) {
			say(e, "%s", _("This device is no longer one of your account's: it becomes a new "
			               "device."));
			pier_e2ee_mgr_forget_device(&e->m);
			new_device(e);
		} else {
			say(e, _("The device was refused: %s"), code != NULL ? code : "?");
			set_up(e);
		}
		break;
	case R_OWN:
		if (!err)
			own_reply(e, ev);
		break;
	case R_PUBLISH:
		publish_reply(e, r, ev);
		break;
	case R_KEYS:
		if (!err)
			pier_e2ee_take_keys(&e->m, ev);
		say_notices(e);
		if (!err && r->pkind != P_APPROVE)
			note_list_change(e, r->arg, list_before, count_before);
		if (r->pkind == P_APPROVE) {
			send_grant(e, r->arg);
		} else if (r->job != NULL && --r->job->waiting <= 0) {
			r->job->waiting = 0;
			run_job(e, r->job);
		}
		changed(e);
		break;
	case R_SEND:
		sent_reply(e, r->job, ev);
		break;
	case R_HELD_DEVICES:
		if (!err)
			pier_e2ee_take_devices(&e->m, ev);
		if (!err)
			note_list_change(e, r->arg, list_before, count_before);
		e->held_waiting = false;
		process_held(e);
		break;
	case R_APPROVE:
		if (!err)
			approve_reply(e, r->arg, ev);
		break;
	case R_SAFETY:
		if (!err)
			pier_e2ee_take_devices(&e->m, ev);
		say_notices(e);
		if (!err)
			note_list_change(e, r->arg, list_before, count_before);
		changed(e);
		break;
	case R_RESET: {
		json_t *req;
		struct req *p;

		if (err)
			break;
		req = pier_e2ee_req_reset(&e->m,
		                          (uint32_t)json_integer_value(json_object_get(ev, "version")));
		if (req == NULL || save(e) != 0) {
			json_decref(req);
			break;
		}
		p = request(e, req, R_PUBLISH, NULL);
		if (p != NULL)
			p->pkind = P_RESET;
		break;
	}
	case R_DEVICE_SEND:
	case R_PREKEYS:
	case R_ACK:
		if (err)
			g_warning("pier-gtk: %s: %s", r->kind == R_ACK ? "ack"
			          : r->kind == R_PREKEYS ? "prekeys" : "device_send",
			          code != NULL ? code : "?");
		break;
	}
	g_free(r);
	return true;
}

/* ---- for pg_e2ee_ops.c (pg_e2ee_internal.h) ---- */

struct req *pg_e2ee__request(struct pg_e2ee *e, json_t *req, enum req_kind kind,
                             const char *arg)
{
	return request(e, req, kind, arg);
}

void pg_e2ee__say(struct pg_e2ee *e, const char *fmt, ...)
{
	va_list ap;
	char *text;

	va_start(ap, fmt);
	text = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	say(e, "%s", text);
	g_free(text);
}

int pg_e2ee__save(struct pg_e2ee *e)
{
	return save(e);
}

void pg_e2ee__changed(struct pg_e2ee *e)
{
	changed(e);
}

void pg_e2ee__schedule_flush(struct pg_e2ee *e)
{
	schedule_flush(e);
}
