/* cli_e2ee.c - end-to-end encryption in the terminal chat: the device's life (register or
 * hello at each login, first list, approval by code, grant, reset), encrypted sends (keys
 * fetched as the device manager asks, devices_changed answered by fetching again),
 * envelopes opened in order and acknowledged only after the state was saved, and the
 * commands that show and change devices and trust. cli_e2ee.h says how the chat drives it. */
#include "cli_e2ee.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "clock.h"
#include "e2ee_oneshot.h"
#include "media_e2ee.h"
#include "xalloc.h"

#define TR(e, en, zh)   ((e)->o->lang == PIER_LANG_ZH ? (zh) : (en))
#define JOB_TRIES       5       /* encryptions of one message (keys fetched between) */

enum req_kind {
	R_REGISTER, R_HELLO, R_OWN, R_PUBLISH, R_KEYS, R_SEND, R_DEVICE_SEND, R_PREKEYS, R_ACK,
	R_HELD_DEVICES, R_USER_DEVICES, R_APPROVE, R_LIST, R_SAFETY, R_RESET
};

enum publish_kind { P_FIRST, P_APPROVE, P_CHANGE, P_RESET };

struct cli_e2ee_job {
	char to[PIER_NAME_MAX + 2];         /* "@user" */
	char cid[48];                       /* the same for every try: stored once */
	json_t *plain;                      /* the payload fields */
	int64_t reply_to, media, edit_of;
	int tries;
	int waiting;                        /* keys replies awaited */
	struct cli_e2ee_job *next;
};

struct cli_e2ee_req {
	char ref[PIER_REF_MAX];
	enum req_kind kind;
	int pkind;                          /* R_PUBLISH: enum publish_kind */
	char arg[PIER_E2EE_ID_B64 + PIER_NAME_MAX + 2];  /* a device id, a user, a code */
	struct cli_e2ee_job *job;
	struct cli_e2ee_req *next;
};

static void info(struct cli_e2ee *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct cli_e2ee *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void info(struct cli_e2ee *e, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	e->host.info(e->host.ctx, buf);
}

static void fail(struct cli_e2ee *e, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	e->host.error(e->host.ctx, buf);
}

void cli_e2ee_init(struct cli_e2ee *e, const struct cli_options *o,
                   const struct cli_e2ee_host *host)
{
	unsigned char r[8];

	memset(e, 0, sizeof *e);
	e->o = o;
	e->host = *host;
	e->lock = -1;
	e->held = json_array();
	randombytes_buf(r, sizeof r);
	snprintf(e->cid_base, sizeof e->cid_base, "e%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3],
	         r[4], r[5]);
}

static void job_free(struct cli_e2ee_job *j)
{
	if (j == NULL)
		return;
	json_decref(j->plain);
	free(j);
}

void cli_e2ee_release(struct cli_e2ee *e)
{
	while (e->reqs != NULL) {
		struct cli_e2ee_req *r = e->reqs;

		e->reqs = r->next;
		free(r);
	}
	while (e->jobs != NULL) {
		struct cli_e2ee_job *j = e->jobs;

		e->jobs = j->next;
		job_free(j);
	}
	if (e->loaded)
		pier_e2ee_mgr_release(&e->m);
	json_decref(e->held);
	json_decref(e->own_reply);
	if (e->lock >= 0)
		close(e->lock);
	memset(e, 0, sizeof *e);
	e->lock = -1;
}

bool cli_e2ee_dir(const struct cli_options *o, const char *user, char *out, size_t size)
{
	const char *data = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
	char key[PIER_NAME_MAX + 1];

	if (!pier_e2ee_user_key(user, key, sizeof key))
		return false;
	if (data != NULL && data[0] == '/')
		snprintf(out, size, "%s/pier/%s_%s/%s", data, o->host, o->port, key);
	else if (home != NULL && home[0] == '/')
		snprintf(out, size, "%s/.local/share/pier/%s_%s/%s", home, o->host, o->port, key);
	else
		return false;
	return true;
}

/* ---- requests ---- */

static struct cli_e2ee_req *request(struct cli_e2ee *e, json_t *req, enum req_kind kind,
                                    const char *arg)
{
	struct cli_e2ee_req *r;

	if (req == NULL)
		return NULL;
	r = xcalloc(1, sizeof *r);
	if (e->host.request(e->host.ctx, req, r->ref) != 0) {
		free(r);
		return NULL;
	}
	r->kind = kind;
	snprintf(r->arg, sizeof r->arg, "%s", arg != NULL ? arg : "");
	r->next = e->reqs;
	e->reqs = r;
	return r;
}

static struct cli_e2ee_req *take_req(struct cli_e2ee *e, const char *ref)
{
	struct cli_e2ee_req **p;

	if (ref == NULL)
		return NULL;
	for (p = &e->reqs; *p != NULL; p = &(*p)->next) {
		struct cli_e2ee_req *r = *p;

		if (strcmp(r->ref, ref) == 0) {
			*p = r->next;
			return r;
		}
	}
	return NULL;
}

static json_t *req_devices(const char *user)
{
	return pier_req_devices(user);
}

static json_t *req_keys(const char *user)
{
	return pier_req_keys(user);
}

/* Saves the device state: 0, or -1 after saying why (nothing may be sent that relies on it). */
static int save(struct cli_e2ee *e)
{
	char *err = NULL;

	if (pier_e2ee_mgr_save(&e->m, &err) == 0)
		return 0;
	fail(e, TR(e, "Could not save the device keys: %s", "无法保存设备密钥：%s"),
	     err != NULL ? err : "?");
	free(err);
	return -1;
}

/* ---- what the device manager says ---- */

static void say_notices(struct cli_e2ee *e)
{
	json_t *n = pier_e2ee_take_notices(&e->m), *o;
	size_t i;

	json_array_foreach(n, i, o) {
		const char *kind = json_string_value(json_object_get(o, "notice"));
		const char *user = json_string_value(json_object_get(o, "user"));
		const char *dev = json_string_value(json_object_get(o, "device"));
		const char *why = json_string_value(json_object_get(o, "why"));

		user = user != NULL ? user : "?";
		dev = dev != NULL ? dev : "?";
		why = why != NULL ? why : "?";
		if (strcmp(kind, "safety_changed") == 0) {
			fail(e, TR(e, "%s's safety number changed: they reset their identity, or someone "
			              "offered a new key for them.%s Compare it again: /safety %s",
			           "%s 的安全码已更改：对方重置了身份，或有人为其提供了新密钥。%s请重新核对：/safety %s"),
			     user, json_is_true(json_object_get(o, "was_verified"))
			           ? TR(e, " (It was verified; it is not any more.)", "（此前已验证，现已失效。）")
			           : "", user);
		} else if (strcmp(kind, "unsigned_device") == 0) {
			fail(e, TR(e, "Unsigned device offered by the server: %s did not approve device "
			              "%s. Refused: nothing is encrypted to it or shown from it.",
			           "服务器提供了未签名的设备：%s 未批准设备 %s。已拒绝：不会向其加密，也不显示其消息。"),
			     user, dev);
		} else if (strcmp(kind, "list_refused") == 0) {
			fail(e, TR(e, "%s's device list was refused (%s): nothing is sent to %s until it "
			              "checks out.", "%s 的设备列表被拒绝（%s）：在核实之前不会向 %s 发送。"),
			     user, why, user);
		} else if (strcmp(kind, "refused_message") == 0) {
			fail(e, TR(e, "A message from %s (device %s) was refused and not shown: %s",
			           "来自 %s（设备 %s）的一条消息被拒绝，未显示：%s"), user, dev, why);
		} else if (strcmp(kind, "refused_device") == 0) {
			fail(e, TR(e, "%s's device %s cannot be encrypted to: %s",
			           "无法向 %s 的设备 %s 加密：%s"), user, dev, why);
		} else if (strcmp(kind, "revoked") == 0) {
			fail(e, "%s", TR(e, "This device was removed from your account (or your identity "
			                    "was reset elsewhere). It reads no new encrypted messages.",
			                 "此设备已从您的账户中移除（或身份已在别处重置），将不再收到新的加密消息。"));
		}
	}
	json_decref(n);
}

/* ---- the device's life ---- */

static void device_name(char *out, size_t size)
{
	char host[128] = "";

	if (gethostname(host, sizeof host - 1) != 0 || host[0] == '\0')
		snprintf(host, sizeof host, "terminal");
	host[sizeof host - 1] = '\0';
	snprintf(out, size, "pier@%.56s", host);
}

static void new_device(struct cli_e2ee *e)
{
	char name[PIER_E2EE_NAME_MAX + 1];

	device_name(name, sizeof name);
	pier_e2ee_mgr_create(&e->m, name, (uint64_t)pier_now_ms());
	e->announced = false;
	if (save(e) != 0) {
		e->usable = false;
		return;
	}
	request(e, pier_e2ee_req_device_register(&e->m, e->challenge), R_REGISTER, NULL);
}

void cli_e2ee_login(struct cli_e2ee *e, const char *user, const char *ch)
{	char dir[PIER_E2EE_PATH_MAX], *err = NULL;
	const char *pass = e->o->passphrase;

	if (e->o->no_e2ee)
		return;
	if (ch == NULL || ch[0] == '\0') {
		if (!e->loaded)
			info(e, "%s", TR(e, "This server has no end-to-end encryption: private messages "
			                    "are not encrypted.", "该服务器不支持端到端加密：私聊消息未加密。"));
		return;
	}
	snprintf(e->challenge, sizeof e->challenge, "%s", ch);
	e->setting_up = true;
	if (!e->loaded) {
		if (!cli_e2ee_dir(e->o, user, dir, sizeof dir)) {
			fail(e, "%s", TR(e, "No home directory: no place for the device keys; private "
			                    "messages cannot be encrypted.",
			                 "没有主目录，无法保存设备密钥；私聊消息无法加密。"));
			return;
		}
		e->lock = pier_e2ee_lock_dir(dir);
		if (e->lock < 0) {
			fail(e, "%s", e->lock == -2
			     ? TR(e, "Another pier uses this device's keys right now: end-to-end "
			             "encryption is off in this one", "另一个 pier 正在使用此设备的密钥：本窗口的端到端加密已关闭")
			     : TR(e, "Cannot lock the device keys: end-to-end encryption is off",
			          "无法锁定设备密钥：端到端加密已关闭"));
			return;
		}
		pier_e2ee_mgr_init(&e->m, dir, user, pass != NULL && pass[0] != '\0' ? pass : NULL);
		e->loaded = true;
		switch (pier_e2ee_mgr_load(&e->m, &err)) {
		case 0:
			e->usable = true;
			break;
		case 1:
			e->usable = true;
			new_device(e);
			return;
		default:
			/* Never replaced silently: the user decides (a wrong passphrase, a file others
			 * could read). */
			fail(e, TR(e, "End-to-end encryption is off: %s", "端到端加密已关闭：%s"),
			     err != NULL ? err : "?");
			free(err);
			e->usable = false;
			return;
		}
	}
	if (!e->usable)
		return;
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

static void show_pending(struct cli_e2ee *e, const struct pier_e2ee_own *own)
{
	for (unsigned i = 0; i < own->npending; i++)
		info(e, TR(e, "Device \"%s\" (%s) waits for approval. Its code here: %s. If it shows "
		              "the same code, type /approve %s",
		           "设备“%s”（%s）等待批准，本机显示的验证码：%s。若该设备显示相同的验证码，请输入 /approve %s"),
		     own->pending[i].name, own->pending[i].id, own->pending[i].code, own->pending[i].code);
}

static void rerun_jobs(struct cli_e2ee *e);

/* The device's state is known after a login: sends waiting for it go (or fail, saying why). */
static void set_up(struct cli_e2ee *e)
{
	e->setting_up = false;
	rerun_jobs(e);
}

static void own_reply(struct cli_e2ee *e, const json_t *ev)
{
	struct pier_e2ee_own own;
	char code[10];

	if (pier_e2ee_own_devices(&e->m, ev, &own) != 0)
		return;
	json_decref(e->own_reply);
	e->own_reply = json_incref((json_t *)ev);
	say_notices(e);
	if (own.refused) {
		set_up(e);
		return;
	}
	if (own.version == 0 && e->m.state != PIER_E2EE_ACTIVE) {
		struct cli_e2ee_req *r;
		json_t *req = pier_e2ee_req_first_list(&e->m);

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
		if (!e->announced) {
			info(e, TR(e, "End-to-end encryption is on: this device (\"%s\") is one of your "
			              "approved devices. /devices lists them.",
			           "端到端加密已开启：此设备（“%s”）是您已批准的设备之一。/devices 可列出所有设备。"),
			     e->m.name);
			e->announced = true;
		}
		show_pending(e, &own);
		set_up(e);
		return;
	}
	set_up(e);
	if (e->m.state == PIER_E2EE_REVOKED || pier_e2ee_own_code(&e->m, code) != 0)
		return;
	if (e->m.has_ak) {
		info(e, "%s", TR(e, "Approved: waiting for the device list to name this device.",
		                 "已批准：等待设备列表包含此设备。"));
		return;
	}
	if (strcmp(e->code_shown, code) == 0)
		return;                    /* said already (a devices_changed brings it again) */
	snprintf(e->code_shown, sizeof e->code_shown, "%s", code);
	info(e, TR(e, "This is a new device of yours. Its code: %s. On one of your other devices, "
	              "check that it shows the same code and type /approve %s there. Until then "
	              "this device cannot read or send private messages; earlier messages stay on "
	              "your other devices. (Lost them all? /reset starts a new identity.)",
	           "这是您的新设备，验证码：%s。请在您的另一台设备上核对显示相同的验证码，并在那里输入 "
	           "/approve %s。在此之前，此设备无法收发私聊消息；以前的消息保存在您的其他设备上。"
	           "（其他设备都丢失了？/reset 可重新建立身份。）"), code, code);
}

/* Shows msg, with the quote of what it answers from the local store (the server has none). */
static void show_msg(struct cli_e2ee *e, const json_t *msg)
{
	int64_t reply_to = json_integer_value(json_object_get(msg, "reply_to"));
	const json_t *q = reply_to > 0 ? pier_e2ee_history_find(&e->m.hist, reply_to) : NULL;
	json_t *copy = json_deep_copy(msg);
	json_t *media = pier_e2ee_file_media(json_object_get(msg, "file"));

	if (media != NULL)
		json_object_set_new(copy, "media", media);
	if (q != NULL)
		json_object_set_new(copy, "quote", json_pack("{s:O, s:O?, s:O?}", "from",
		                    json_object_get(q, "from"), "text", json_object_get(q, "text"),
		                    "kind", json_object_get(q, "kind")));
	else if (reply_to > 0)
		json_object_set_new(copy, "quote", json_pack("{s:s, s:s}", "from", "?", "text", "..."));
	e->host.show(e->host.ctx, copy);
	json_decref(copy);
}

json_t *cli_e2ee_fill(const struct cli_e2ee *e, const json_t *msg, bool *hidden)
{
	const json_t *local;
	json_t *copy, *media;

	*hidden = false;
	if (!e->loaded || !json_is_true(json_object_get(msg, "e2ee")) ||
	    json_object_get(msg, "text") != NULL)
		return NULL;
	local = pier_e2ee_history_find(&e->m.hist, json_integer_value(json_object_get(msg, "id")));
	if (local == NULL)
		return NULL;
	if (json_is_true(json_object_get(local, "hidden"))) {
		*hidden = true;
		return NULL;
	}
	copy = json_deep_copy(local);
	media = pier_e2ee_file_media(json_object_get(local, "file"));
	if (media != NULL)
		json_object_set_new(copy, "media", media);
	/* what the server knows better: reactions, recalls */
	if (json_object_get(msg, "reactions") != NULL)
		json_object_set(copy, "reactions", json_object_get(msg, "reactions"));
	if (json_is_true(json_object_get(msg, "recalled")))
		json_object_set_new(copy, "recalled", json_true());
	return copy;
}

/* ---- sending ---- */

static void job_unlink(struct cli_e2ee *e, struct cli_e2ee_job *j)
{
	struct cli_e2ee_job **p;

	for (p = &e->jobs; *p != NULL; p = &(*p)->next) {
		if (*p == j) {
			*p = j->next;
			e->njobs--;
			break;
		}
	}
	/* requests that still point at it forget it */
	for (struct cli_e2ee_req *r = e->reqs; r != NULL; r = r->next)
		if (r->job == j)
			r->job = NULL;
}

static void job_drop(struct cli_e2ee *e, struct cli_e2ee_job *j)
{
	job_unlink(e, j);
	job_free(j);
}

static void run_job(struct cli_e2ee *e, struct cli_e2ee_job *j)
{
	char need[PIER_NAME_MAX + 1];
	json_t *e2ee = NULL, *req;
	struct cli_e2ee_req *r;
	enum pier_e2ee_result res;

	if (e->setting_up && e->m.state != PIER_E2EE_ACTIVE) {
		j->waiting = -1;           /* runs once the device is set up */
		return;
	}
	if (++j->tries > JOB_TRIES) {
		fail(e, TR(e, "Not sent to %s: the devices kept changing", "未能发送到 %s：设备不断变化"),
		     j->to);
		job_drop(e, j);
		return;
	}
	res = pier_e2ee_encrypt_msg(&e->m, j->to, j->plain, (uint64_t)pier_now_ms(), &e2ee, need);
	say_notices(e);
	switch (res) {
	case PIER_E2EE_R_OK:
		break;
	case PIER_E2EE_R_NEED_KEYS:
		r = request(e, req_keys(need), R_KEYS, need);
		if (r == NULL) {
			fail(e, TR(e, "Not sent to %s: offline", "未能发送到 %s：离线"), j->to);
			job_drop(e, j);
			return;
		}
		r->job = j;
		j->waiting = 1;
		return;
	case PIER_E2EE_R_PLAIN: {
		const char *text = json_string_value(json_object_get(j->plain, "text"));

		if (j->media != 0 || j->edit_of != 0) {
			fail(e, TR(e, "%s has no device: files and edits to them are not sent",
			           "%s 没有设备：不向其发送文件和编辑"), j->to);
		} else {
			info(e, TR(e, "(not encrypted: %s has no device yet)", "（未加密：%s 还没有设备）"),
			     j->to);
			e->host.send_plain(e->host.ctx, j->to, text != NULL ? text : "", j->reply_to);
		}
		job_drop(e, j);
		return;
	}
	case PIER_E2EE_R_REFUSED:
		fail(e, TR(e, "Not sent to %s: the keys did not check out (see above)",
		           "未能发送到 %s：密钥未通过验证（见上）"), j->to);
		job_drop(e, j);
		return;
	case PIER_E2EE_R_ERROR:
	default:
		fail(e, TR(e, "Not sent to %s: this device is not approved yet",
		           "未能发送到 %s：此设备尚未获批准"), j->to);
		job_drop(e, j);
		return;
	}
	/* The ratchet moved: the state is on disk before the envelopes leave. */
	if (save(e) != 0) {
		json_decref(e2ee);
		job_drop(e, j);
		return;
	}
	req = pier_req_send_e2ee(j->to, json_string_value(json_object_get(e2ee, "payload")),
	                         json_incref(json_object_get(e2ee, "keys")), j->cid, j->media,
	                         j->reply_to);
	json_decref(e2ee);
	r = request(e, req, R_SEND, NULL);
	if (r == NULL) {
		fail(e, TR(e, "Not sent to %s: offline", "未能发送到 %s：离线"), j->to);
		job_drop(e, j);
		return;
	}
	r->job = j;
}

static struct cli_e2ee_job *new_job(struct cli_e2ee *e, const char *to)
{
	struct cli_e2ee_job *j, **p;

	if (e->njobs >= CLI_E2EE_JOBS_MAX) {
		fail(e, "%s", TR(e, "Not sent: too many messages are waiting already",
		                 "未发送：等待中的消息过多"));
		return NULL;
	}
	j = xcalloc(1, sizeof *j);
	snprintf(j->to, sizeof j->to, "%s", to);
	snprintf(j->cid, sizeof j->cid, "%s-%lld", e->cid_base, (long long)++e->cid_seq);
	j->plain = json_object();
	for (p = &e->jobs; *p != NULL; p = &(*p)->next)
		;
	*p = j;
	e->njobs++;
	return j;
}

bool cli_e2ee_busy(const struct cli_e2ee *e)
{
	if (e->njobs > 0 || e->held_waiting)
		return true;
	for (const struct cli_e2ee_req *r = e->reqs; r != NULL; r = r->next)
		if (r->kind != R_ACK && r->kind != R_PREKEYS)
			return true;
	return false;
}

size_t cli_e2ee_unsent(const struct cli_e2ee *e)
{
	return e->njobs;
}

bool cli_e2ee_private(const struct cli_e2ee *e, const char *to)
{
	return e->usable && e->loaded && to != NULL && to[0] == '@';
}

void cli_e2ee_send(struct cli_e2ee *e, const char *to, const char *text, int64_t reply_to,
                   const json_t *file, int64_t media)
{
	struct cli_e2ee_job *j = new_job(e, to);

	if (j == NULL)
		return;
	json_object_set_new(j->plain, "text", json_string(text != NULL ? text : ""));
	json_object_set_new(j->plain, "kind", json_string(file != NULL
		? (json_string_value(json_object_get(file, "kind")) != NULL
		   ? json_string_value(json_object_get(file, "kind")) : "file") : "text"));
	if (file != NULL) {
		json_t *f = json_deep_copy(file);

		json_object_del(f, "kind");
		json_object_set_new(j->plain, "file", f);
	}
	if (reply_to > 0)
		json_object_set_new(j->plain, "reply_to", json_integer(reply_to));
	j->reply_to = reply_to;
	j->media = media;
	run_job(e, j);
}

void cli_e2ee_edit(struct cli_e2ee *e, const char *to, int64_t id, const char *text)
{
	struct cli_e2ee_job *j = new_job(e, to);

	if (j == NULL)
		return;
	json_object_set_new(j->plain, "type", json_string("edit"));
	json_object_set_new(j->plain, "edit_of", json_integer(id));
	json_object_set_new(j->plain, "text", json_string(text));
	j->edit_of = id;
	run_job(e, j);
}

/* The reply to an encrypted send. */
static void sent_reply(struct cli_e2ee *e, struct cli_e2ee_job *j, const json_t *ev)
{
	const char *op = pier_event_op(ev);
	const char *code = json_string_value(json_object_get(ev, "error"));

	if (j == NULL)
		return;
	if (strcmp(op, "sent") == 0) {
		const char *self = e->m.user;
		json_t *msg;

		if (j->edit_of != 0) {
			const char *text = json_string_value(json_object_get(j->plain, "text"));
			const json_t *orig;

			pier_e2ee_history_edit(&e->m.hist, j->edit_of, text);
			msg = json_pack("{s:O, s:s, s:s, s:O, s:b, s:I, s:s}", "id",
			                json_object_get(ev, "id"), "from", e->m.user, "to", j->to,
			                "ts", json_object_get(ev, "ts"), "hidden", 1,
			                "edit_of", (json_int_t)j->edit_of, "text", text);
			if (msg != NULL)
				pier_e2ee_history_add(&e->m.hist, j->to, msg);
			json_decref(msg);
			orig = pier_e2ee_history_find(&e->m.hist, j->edit_of);
			if (orig != NULL) {
				msg = json_deep_copy(orig);
				json_object_set_new(msg, "edited", json_integer(1));
				e->host.show(e->host.ctx, msg);
				json_decref(msg);
			}
			job_drop(e, j);
			return;
		}
		msg = json_pack("{s:O, s:s, s:s, s:O, s:b}", "id", json_object_get(ev, "id"),
		                "from", self, "to", j->to, "ts", json_object_get(ev, "ts"), "e2ee", 1);
		if (msg != NULL) {
			static const char *const keys[] = { "text", "kind", "file", "reply_to" };

			for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
				if (json_object_get(j->plain, keys[i]) != NULL)
					json_object_set(msg, keys[i], json_object_get(j->plain, keys[i]));
			pier_e2ee_history_add(&e->m.hist, j->to, msg);
			show_msg(e, msg);
			json_decref(msg);
		}
		job_drop(e, j);
		return;
	}
	if (code != NULL && strcmp(code, "devices_changed") == 0) {
		/* Someone added or removed a device meanwhile: fetch and encrypt again. */
		const json_t *devs = json_object_get(ev, "devices");
		const char *user;
		json_t *ids;

		j->waiting = 0;
		json_object_foreach((json_t *)devs, user, ids) {
			struct cli_e2ee_req *r = request(e, req_keys(user), R_KEYS, user);

			(void)ids;
			if (r != NULL) {
				r->job = j;
				j->waiting++;
			}
		}
		if (j->waiting == 0) {
			struct cli_e2ee_req *r = request(e, req_keys(j->to + 1), R_KEYS, j->to + 1);

			if (r != NULL) {
				r->job = j;
				j->waiting++;
			}
		}
		if (j->waiting == 0)
			job_drop(e, j);
		return;
	}
	{
		const char *text = pier_error_text(code != NULL ? code : "", e->o->lang);

		fail(e, TR(e, "Not sent to %s: %s", "未能发送到 %s：%s"), j->to,
		     text != NULL ? text : code != NULL ? code : "?");
	}
	job_drop(e, j);
}

/* ---- receiving ---- */

static void process_held(struct cli_e2ee *e)
{
	while (!e->held_waiting && json_array_size(e->held) > 0) {
		json_t *ev = json_array_get(e->held, 0), *out = NULL;
		int64_t qid = json_integer_value(json_object_get(ev, "qid"));
		enum pier_e2ee_opened r;

		if (pier_e2ee_was_opened(&e->m, ev)) {
			/* opened before a drop, not acknowledged yet: its keys are used up */
			json_array_remove(e->held, 0);
			if (qid > e->ack_upto)
				e->ack_upto = qid;
			continue;
		}
		r = pier_e2ee_open(&e->m, ev, &out);

		if (r == PIER_E2EE_GOT_NEED_LIST) {
			const char *user = json_string_value(json_object_get(out, "user"));

			json_object_set_new(ev, "_relisted", json_true());
			if (request(e, req_devices(user), R_HELD_DEVICES, user) != NULL) {
				e->held_waiting = true;
				json_decref(out);
				return;
			}
			json_decref(out);
			return;            /* offline: it comes again after the next hello */
		}
		say_notices(e);
		switch (r) {
		case PIER_E2EE_GOT_MESSAGE:
			show_msg(e, out);
			break;
		case PIER_E2EE_GOT_EDIT: {
			const json_t *m = pier_e2ee_history_find(&e->m.hist,
			                                         json_integer_value(json_object_get(out, "id")));

			if (m != NULL) {
				json_t *copy = json_deep_copy(m);

				json_object_set_new(copy, "edited", json_integer(1));
				e->host.show(e->host.ctx, copy);
				json_decref(copy);
			}
			break;
		}
		case PIER_E2EE_GOT_GRANT:
			info(e, "%s", TR(e, "This device was approved and received your account key.",
			                 "此设备已获批准，并收到了您的账户密钥。"));
			if (out != NULL && e->host.fetch_history != NULL) {
				long n = e->host.fetch_history(e->host.ctx, out, &e->m.hist);

				if (n >= 0) {
					e->m.history_complete = true;
					info(e, TR(e, "%ld earlier private messages were copied from your other "
					              "device.", "已从您的其他设备复制 %ld 条以前的私聊消息。"), n);
				} else {
					fail(e, "%s", TR(e, "The earlier messages could not be copied: they stay "
					                    "on your other devices", "无法复制以前的消息：它们仍在您的其他设备上"));
				}
			}
			request(e, req_devices(NULL), R_OWN, NULL);
			break;
		default:
			break;
		}
		json_decref(out);
		if (qid > e->ack_upto)
			e->ack_upto = qid;
		pier_e2ee_mark_opened(&e->m, qid);
		json_array_remove(e->held, 0);
	}
}

void cli_e2ee_flush(struct cli_e2ee *e)
{
	if (!e->loaded || !e->usable)
		return;
	if (!e->m.dirty && !e->m.hist.dirty && e->ack_upto == 0)
		return;
	if (save(e) != 0)
		return;                /* not acknowledged: the envelopes come again */
	if (e->ack_upto > 0 &&
	    request(e, pier_req_ack(e->ack_upto), R_ACK, NULL) != NULL)
		e->ack_upto = 0;
}

void cli_e2ee_offline(struct cli_e2ee *e)
{
	while (e->reqs != NULL) {
		struct cli_e2ee_req *r = e->reqs;

		e->reqs = r->next;
		free(r);
	}
	for (struct cli_e2ee_job *j = e->jobs; j != NULL; j = j->next)
		j->waiting = -1;           /* to run again after the login */
	json_array_clear(e->held);     /* not acknowledged: they come again */
	e->held_waiting = false;
}

/* After a login: the sends cut by a drop go again. */
static void rerun_jobs(struct cli_e2ee *e)
{
	struct cli_e2ee_job *j = e->jobs, *next;

	for (; j != NULL; j = next) {
		next = j->next;
		if (j->waiting == -1) {
			j->waiting = 0;
			run_job(e, j);
		}
	}
}

/* ---- replies ---- */

static void publish_reply(struct cli_e2ee *e, const struct cli_e2ee_req *r, const json_t *ev)
{
	if (strcmp(pier_event_op(ev), "error") == 0) {
		const char *code = json_string_value(json_object_get(ev, "error"));
		const char *text = pier_error_text(code != NULL ? code : "", e->o->lang);

		fail(e, TR(e, "The device list was not changed: %s", "设备列表未更改：%s"),
		     text != NULL ? text : code != NULL ? code : "?");
		request(e, req_devices(NULL), R_OWN, NULL);
		return;
	}
	pier_e2ee_own_published(&e->m, ev);
	request(e, req_devices(NULL), R_OWN, NULL);
	if (r->pkind == P_APPROVE) {
		/* The new device is listed now: its keys, then the grant. */
		struct cli_e2ee_req *k = request(e, req_keys(e->m.user), R_KEYS, r->arg);

		if (k != NULL)
			k->pkind = P_APPROVE;
	} else if (r->pkind == P_RESET) {
		info(e, "%s", TR(e, "Your identity was reset: this device is your only one; your "
		                    "contacts will see that your safety number changed.",
		                 "您的身份已重置：此设备是您唯一的设备；您的联系人会看到您的安全码已更改。"));
	}
}

/* keys(self) after an approval: the grant to the device r->arg. */
static void send_grant(struct cli_e2ee *e, const char *id)
{
	json_t *history = NULL, *grant, *req = NULL;
	enum pier_e2ee_result res;

	/* The private history this device holds goes along, encrypted (the server keeps only
	 * ciphertext; the new device would otherwise start empty). */
	if (e->m.hist.count > 0 && e->host.upload_history != NULL &&
	    e->host.upload_history(e->host.ctx, &e->m.hist, &history) <= 0)
		fail(e, "%s", TR(e, "The history could not be sent: the new device starts without it",
		                 "无法发送历史消息：新设备将没有以前的消息"));
	grant = pier_e2ee_grant_payload(&e->m, history);
	json_decref(history);
	res = pier_e2ee_encrypt_to_own(&e->m, id, grant, &req);
	json_decref(grant);
	say_notices(e);
	if (res != PIER_E2EE_R_OK || save(e) != 0) {
		json_decref(req);
		fail(e, "%s", TR(e, "The approved device could not be sent the account key",
		                 "无法向已批准的设备发送账户密钥"));
		return;
	}
	if (request(e, req, R_DEVICE_SEND, id) != NULL)
		info(e, TR(e, "Device %s approved.", "设备 %s 已批准。"), id);
}

static void list_devices(struct cli_e2ee *e, const json_t *ev)
{
	struct pier_e2ee_own own;
	const json_t *devs = json_object_get(ev, "devices"), *d;
	char self[PIER_E2EE_ID_B64];
	size_t i;

	const struct pier_e2ee_contact *mine;
	const struct pier_devlist *l;

	if (pier_e2ee_own_devices(&e->m, ev, &own) != 0)
		return;
	say_notices(e);
	mine = pier_e2ee_contact_find(&e->m.contacts, e->m.user);
	l = mine != NULL ? mine->list : NULL;
	pier_e2ee_mgr_device_id(&e->m, self);
	info(e, TR(e, "Your devices (list version %u):", "您的设备（列表版本 %u）："), own.version);
	json_array_foreach(devs, i, d) {
		const char *id = json_string_value(json_object_get(d, "id"));
		const char *name = json_string_value(json_object_get(d, "name"));
		const char *state = json_string_value(json_object_get(d, "state"));
		const char *code = "";

		for (unsigned k = 0; k < own.npending; k++)
			if (id != NULL && strcmp(own.pending[k].id, id) == 0)
				code = own.pending[k].code;
		/* the signed list's name, not the one the server keeps from the registration */
		if (l != NULL && id != NULL) {
			uint8_t bin[PIER_E2EE_ID_LEN];
			int at;

			if (pier_e2ee_b64_decode_exact(id, bin, sizeof bin) == PIER_E2EE_OK &&
			    (at = pier_devlist_find(l, bin)) >= 0)
				name = l->dev[at].name;
		}
		info(e, "  %s  %-24s %s%s%s%s", id != NULL ? id : "?", name != NULL ? name : "",
		     state != NULL ? state : "?", code[0] != '\0' ? TR(e, ", code ", "，验证码 ") : "",
		     code, id != NULL && strcmp(id, self) == 0 ? TR(e, "  (this device)", "（本机）") : "");
	}
	json_decref(e->own_reply);
	e->own_reply = json_incref((json_t *)ev);
}

static void approve_reply(struct cli_e2ee *e, const char *code, const json_t *ev)
{
	struct pier_e2ee_own own;
	const char *id;
	struct cli_e2ee_req *r;
	json_t *req;

	if (pier_e2ee_own_devices(&e->m, ev, &own) != 0)
		return;
	say_notices(e);
	id = pier_e2ee_own_pending_by_code(&own, code);
	if (id != NULL) {
		req = pier_e2ee_req_approve(&e->m, ev, id);
		if (req == NULL || save(e) != 0) {
			json_decref(req);
			fail(e, "%s", TR(e, "Could not approve that device", "无法批准该设备"));
			return;
		}
		r = request(e, req, R_PUBLISH, id);
		if (r != NULL)
			r->pkind = P_APPROVE;
		return;
	}
	fail(e, TR(e, "No device waiting for approval shows the code %s. Do not approve a device "
	              "whose code differs: /devices lists the waiting ones.",
	           "没有等待批准的设备显示验证码 %s。验证码不同的设备请勿批准：/devices 可列出等待中的设备。"),
	     code);
}

static void show_safety(struct cli_e2ee *e, const char *user)
{
	struct pier_e2ee_contact *k = pier_e2ee_contact_find(&e->m.contacts, user);
	char digits60[PIER_E2EE_SAFETY_DIGITS + 1], shown[PIER_E2EE_SAFETY_SHOWN + 1];

	if (k == NULL || !e->m.has_ak) {
		fail(e, TR(e, "No safety number with %s: %s has no device yet (or this device is not "
		              "approved)", "无法获取与 %s 的安全码：%s 还没有设备（或此设备尚未获批准）"),
		     user, user);
		return;
	}
	if (pier_e2ee_safety_number(e->m.user, e->m.ak_pub, k->user, k->ak, digits60) !=
	    PIER_E2EE_OK)
		return;
	pier_e2ee_safety_format(digits60, shown);
	info(e, TR(e, "Safety number with %s (the same on both sides; compare it in person or on "
	              "a call):", "与 %s 的安全码（双方相同；请当面或通话核对）："), k->user);
	info(e, "  %.35s", shown);
	info(e, "  %s", shown + 36);
	if (k->verified)
		info(e, TR(e, "%s is verified.", "%s 已验证。"), k->user);
	else
		info(e, TR(e, "Not verified. When the numbers match: /verify %s",
		           "尚未验证。号码一致时：/verify %s"), k->user);
}

static void event_other(struct cli_e2ee *e, const char *op, const json_t *ev)
{
	if (strcmp(op, "envelope") == 0) {
		if (json_array_size(e->held) >= CLI_E2EE_HELD_MAX)
			return;            /* not acknowledged: it comes again at the next hello */
		json_array_append_new(e->held, json_deep_copy(ev));
		process_held(e);
	} else if (strcmp(op, "devices_changed") == 0) {
		const char *user = json_string_value(json_object_get(ev, "user"));
		char key[PIER_NAME_MAX + 1];

		pier_e2ee_user_key(user, key, sizeof key);
		if (user == NULL || strcmp(key, e->m.user) == 0)
			request(e, req_devices(NULL), R_OWN, NULL);
		else
			request(e, req_keys(user), R_KEYS, user);
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
		fail(e, "%s", TR(e, "This device was removed from your account: it reads no new "
		                    "encrypted messages. Log in again to set it up as a new device.",
		                 "此设备已从您的账户中移除，将不再收到新的加密消息。重新登录可将其设为新设备。"));
	} else if (strcmp(op, "device_moved") == 0) {
		info(e, "%s", TR(e, "This device's keys are now used by another session of yours.",
		                 "此设备的密钥现由您的另一个会话使用。"));
	}
}

bool cli_e2ee_event(struct cli_e2ee *e, const json_t *ev)
{
	const char *op = pier_event_op(ev);
	struct cli_e2ee_req *r;
	bool err;

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
	switch (r->kind) {
	case R_REGISTER:
	case R_HELLO:
		if (err) {
			const char *code = json_string_value(json_object_get(ev, "error"));

			if (code != NULL && (strcmp(code, "device_revoked") == 0 ||
			                     strcmp(code, "no_such_device") == 0)) {
				info(e, "%s", TR(e, "This device is no longer one of your account's: it "
				                    "becomes a new device.",
				                 "此设备已不属于您的账户：将作为新设备重新设置。"));
				pier_e2ee_mgr_forget_device(&e->m);
				new_device(e);
			} else {
				fail(e, TR(e, "The device was refused: %s", "设备被拒绝：%s"),
				     code != NULL ? code : "?");
				set_up(e);
			}
			break;
		}
		pier_e2ee_mgr_registered(&e->m, ev);
		save(e);
		request(e, req_devices(NULL), R_OWN, NULL);
		{
			int count = (int)json_integer_value(json_object_get(ev, "opk_count"));
			json_t *req = json_object_get(ev, "opk_count") != NULL && count < 20
			            ? pier_e2ee_req_prekeys(&e->m, count, false) : NULL;

			if (req != NULL && save(e) == 0)
				request(e, req, R_PREKEYS, NULL);
			else
				json_decref(req);
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
		if (r->pkind == P_APPROVE) {
			send_grant(e, r->arg);
		} else if (r->job != NULL && --r->job->waiting <= 0) {
			r->job->waiting = 0;
			run_job(e, r->job);
		}
		break;
	case R_SEND:
		sent_reply(e, r->job, ev);
		break;
	case R_HELD_DEVICES:
		if (!err)
			pier_e2ee_take_devices(&e->m, ev);
		e->held_waiting = false;
		process_held(e);
		break;
	case R_APPROVE:
		if (!err)
			approve_reply(e, r->arg, ev);
		break;
	case R_LIST:
		if (!err)
			list_devices(e, ev);
		break;
	case R_SAFETY:
		if (!err)
			pier_e2ee_take_devices(&e->m, ev);
		say_notices(e);
		show_safety(e, r->arg);
		break;
	case R_RESET: {
		json_t *req;
		struct cli_e2ee_req *p;

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
	case R_USER_DEVICES:
		if (!err)
			pier_e2ee_take_devices(&e->m, ev);
		say_notices(e);
		break;
	case R_DEVICE_SEND:
	case R_PREKEYS:
	case R_ACK:
		if (err) {
			const char *code = json_string_value(json_object_get(ev, "error"));

			fail(e, "%s: %s", r->kind == R_ACK ? "ack" : r->kind == R_PREKEYS ? "prekeys"
			     : "device_send", code != NULL ? code : "?");
		}
		break;
	}
	free(r);
	return true;
}

/* ---- the local store ---- */

const json_t *cli_e2ee_find(const struct cli_e2ee *e, int64_t id)
{
	if (!e->loaded)
		return NULL;
	return pier_e2ee_history_find(&e->m.hist, id);
}

/* ---- commands ---- */

static void usage(struct cli_e2ee *e, const char *en, const char *zh)
{
	fail(e, "%s", TR(e, en, zh));
}

bool cli_e2ee_command(struct cli_e2ee *e, const char *name, char *args)
{
	static const char *const names[] = { "devices", "approve", "rename-device",
	                                     "remove-device", "reset", "safety", "verify",
	                                     "unverify" };
	bool known = false;

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(name, names[i]) == 0)
			known = true;
	if (!known)
		return false;
	if (!e->loaded || !e->usable) {
		fail(e, "%s", TR(e, "End-to-end encryption is off on this device (see above)",
		                 "此设备的端到端加密已关闭（见上文）"));
		return true;
	}
	if (strcmp(name, "devices") == 0) {
		request(e, req_devices(NULL), R_LIST, NULL);
	} else if (strcmp(name, "approve") == 0) {
		char d[9];

		if (pier_e2ee_code_digits(args, d) != 8)
			usage(e, "Usage: /approve CODE (the 8 digits the new device shows)",
			      "用法：/approve 验证码（新设备显示的 8 位数字）");
		else if (e->m.state != PIER_E2EE_ACTIVE)
			usage(e, "Only an approved device can approve another",
			      "只有已获批准的设备才能批准其他设备");
		else
			request(e, req_devices(NULL), R_APPROVE, d);
	} else if (strcmp(name, "remove-device") == 0 || strcmp(name, "rename-device") == 0) {
		char *id = args, *rest = args;
		json_t *req;
		struct cli_e2ee_req *r;

		while (*rest != '\0' && *rest != ' ')
			rest++;
		if (*rest != '\0')
			*rest++ = '\0';
		while (*rest == ' ')
			rest++;
		if (strcmp(id, "this") == 0) {
			static char self[PIER_E2EE_ID_B64];

			pier_e2ee_mgr_device_id(&e->m, self);
			id = self;
		}
		if (id[0] == '\0' || (name[1] == 'e' && name[2] == 'n' && rest[0] == '\0')) {
			if (name[2] == 'n')
				usage(e, "Usage: /rename-device ID|this NAME", "用法：/rename-device 设备ID|this 名称");
			else
				usage(e, "Usage: /remove-device ID (from /devices)",
				      "用法：/remove-device 设备ID（见 /devices）");
			return true;
		}
		req = name[2] == 'n' ? pier_e2ee_req_rename(&e->m, id, rest)
		                     : pier_e2ee_req_remove(&e->m, id);
		if (req == NULL) {
			usage(e, "No such device in your list (or this device cannot change it)",
			      "您的设备列表中没有该设备（或此设备无法更改列表）");
			return true;
		}
		if (save(e) != 0) {
			json_decref(req);
			return true;
		}
		r = request(e, req, R_PUBLISH, NULL);
		if (r != NULL)
			r->pkind = P_CHANGE;
	} else if (strcmp(name, "reset") == 0) {
		if (e->m.state == PIER_E2EE_ACTIVE) {
			usage(e, "This device is approved: /reset is for a new device when every other "
			         "device of yours is lost", "此设备已获批准：/reset 仅用于其他设备全部丢失时的新设备");
		} else if (strcmp(args, "yes") != 0) {
			usage(e, "/reset makes a new identity: your other devices stop working and your "
			         "contacts see that your safety number changed. Type /reset yes to go on "
			         "(it needs a login with the password).",
			      "/reset 会建立新的身份：您的其他设备将失效，联系人会看到您的安全码已更改。"
			      "输入 /reset yes 继续（需要用密码登录）。");
		} else {
			request(e, req_devices(NULL), R_RESET, NULL);
		}
	} else {
		char user[PIER_NAME_MAX + 1];
		const char *a = args[0] == '@' ? args + 1 : args;

		snprintf(user, sizeof user, "%s", a);
		if (user[0] == '\0') {
			usage(e, "Usage: /safety USER, /verify USER", "用法：/safety 用户名，/verify 用户名");
		} else if (strcmp(name, "safety") == 0) {
			request(e, req_devices(user), R_SAFETY, user);
		} else if (pier_e2ee_contact_verify(&e->m.contacts, user,
		                                    strcmp(name, "verify") == 0) != 0) {
			fail(e, TR(e, "No key of %s's is known yet: /safety %s first",
			           "尚不知道 %s 的密钥：请先 /safety %s"), user, user);
		} else {
			e->m.dirty = true;
			if (strcmp(name, "verify") == 0)
				info(e, TR(e, "%s is marked verified.", "%s 已标记为已验证。"), user);
			else
				info(e, TR(e, "%s is no longer marked verified.", "%s 已取消验证标记。"), user);
		}
	}
	return true;
}
