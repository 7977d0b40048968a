/* e2ee_oneshot.c - `pier send --to @user` end-to-end encrypted: the one-shot command loads
 * this installation's device (the chat's, or makes it when there is none and it can be the
 * user's first device), proves it, encrypts for every device of both people (fetching keys
 * as the device manager asks), saves the state and sends; all blocking on one connection. A
 * device lock keeps the chat and a one-shot command from using the same keys at once. */
#include "e2ee_oneshot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_e2ee.h"
#include "clock.h"
#include "media.h"
#include "media_e2ee.h"
#include "xalloc.h"

#define TRIES 5

/* A macro, so that printf formats stay literals the compiler checks. */
#define TR(o, en, zh)  ((o)->lang == PIER_LANG_ZH ? (zh) : (en))

static const char *tr(const struct cli_options *o, const char *en, const char *zh)
{
	return TR(o, en, zh);
}

/* Calls req (taken); the reply with op, or NULL after printing why. */
static json_t *call(struct pier_conn *conn, const struct cli_options *o, json_t *req,
                    const char *op)
{
	json_t *r = req != NULL ? pier_conn_call(conn, req, CLI_REPLY_TIMEOUT_MS) : NULL;
	const char *code;

	if (r != NULL && strcmp(pier_event_op(r), op) == 0)
		return r;
	code = json_string_value(json_object_get(r, "error"));
	fprintf(stderr, "pier: %s: %s\n", op, r == NULL ? tr(o, "no reply", "没有回复")
	        : pier_error_text(code != NULL ? code : "", o->lang) != NULL
	          ? pier_error_text(code, o->lang) : code != NULL ? code : "?");
	json_decref(r);
	return NULL;
}

static void say_notices(struct pier_e2ee_mgr *m)
{
	json_t *n = pier_e2ee_take_notices(m), *x;
	size_t i;

	json_array_foreach(n, i, x) {
		char *s = json_dumps(x, JSON_COMPACT);

		fprintf(stderr, "pier: warning: %s\n", s != NULL ? s : "?");
		free(s);
	}
	json_decref(n);
}

/* Opens the envelopes queued for the device (hello's "queued": how many), keeping what they
 * carry (a grant, messages for the chat's /history), then saves and acknowledges them. */
static void drain_queue(struct pier_conn *conn, const struct cli_options *o,
                        struct pier_e2ee_mgr *m, json_int_t queued, const char *token)
{
	int64_t upto = 0;

	for (json_int_t i = 0; i < queued; i++) {
		json_t *ev = pier_conn_wait_op(conn, "envelope", CLI_REPLY_TIMEOUT_MS), *out = NULL;
		enum pier_e2ee_opened r;

		if (ev == NULL)
			break;
		if (pier_e2ee_was_opened(m, ev)) {
			/* opened before, not acknowledged: acknowledge it now */
			if (json_integer_value(json_object_get(ev, "qid")) > upto)
				upto = json_integer_value(json_object_get(ev, "qid"));
			json_decref(ev);
			continue;
		}
		r = pier_e2ee_open(m, ev, &out);
		if (r == PIER_E2EE_GOT_NEED_LIST) {
			json_t *d = call(conn, o, pier_req_devices(json_string_value(
			                                    json_object_get(out, "user"))), "devices");

			if (d != NULL)
				pier_e2ee_take_devices(m, d);
			json_decref(d);
			json_decref(out);
			out = NULL;
			json_object_set_new(ev, "_relisted", json_true());
			r = pier_e2ee_open(m, ev, &out);
		}
		if (r == PIER_E2EE_GOT_GRANT && out != NULL) {
			/* the earlier private messages, from the approving device */
			struct cli_media md;
			char err[512] = "";

			cli_media_init(&md, o, NULL);
			if (media_e2ee_take_history(&md, token, out, &m->hist, err, sizeof err) >= 0)
				m->history_complete = true;
			else
				fprintf(stderr, "pier: %s\n", err);
			cli_media_release(&md);
		}
		say_notices(m);
		json_decref(out);
		if (json_integer_value(json_object_get(ev, "qid")) > upto)
			upto = json_integer_value(json_object_get(ev, "qid"));
		pier_e2ee_mark_opened(m, upto);
		json_decref(ev);
	}
	if (upto > 0 && pier_e2ee_mgr_save(m, NULL) == 0)
		json_decref(call(conn, o, pier_req_ack(upto), "ack"));
}

/* Makes m's device usable on conn: 0, or -1 after saying why. */
static int set_up(struct pier_conn *conn, const struct cli_options *o, struct pier_e2ee_mgr *m,
                  const char *challenge, const char *token)
{
	json_t *r, *req;
	struct pier_e2ee_own own;
	char *err = NULL;
	char code[10];

	if (m->has_device && m->state != PIER_E2EE_NEW && m->state != PIER_E2EE_REVOKED) {
		r = call(conn, o, pier_e2ee_req_device_hello(m, challenge), "device_hello");
	} else {
		char host[64] = "terminal", name[PIER_E2EE_NAME_MAX + 1];

		if (gethostname(host, sizeof host - 1) != 0)
			snprintf(host, sizeof host, "terminal");
		host[sizeof host - 1] = '\0';
		snprintf(name, sizeof name, "pier@%.56s", host);
		if (!m->has_device || m->state == PIER_E2EE_REVOKED)
			pier_e2ee_mgr_create(m, name, (uint64_t)pier_now_ms());
		req = pier_e2ee_req_device_register(m, challenge);
		if (pier_e2ee_mgr_save(m, &err) != 0)
			goto save_failed;
		r = call(conn, o, req, "device_register");
	}
	if (r == NULL)
		return -1;
	pier_e2ee_mgr_registered(m, r);
	drain_queue(conn, o, m, json_integer_value(json_object_get(r, "queued")), token);
	json_decref(r);
	r = call(conn, o, pier_req_devices(NULL), "devices");
	if (r == NULL || pier_e2ee_own_devices(m, r, &own) != 0) {
		json_decref(r);
		return -1;
	}
	json_decref(r);
	say_notices(m);
	if (own.version == 0 && m->state != PIER_E2EE_ACTIVE) {
		req = pier_e2ee_req_first_list(m);
		if (pier_e2ee_mgr_save(m, &err) != 0) {
			json_decref(req);
			goto save_failed;
		}
		r = call(conn, o, req, "devices_publish");
		if (r == NULL)
			return -1;
		json_decref(r);
		r = call(conn, o, pier_req_devices(NULL), "devices");
		if (r != NULL)
			pier_e2ee_own_devices(m, r, &own);
		json_decref(r);
	}
	if (m->state == PIER_E2EE_ACTIVE)
		return pier_e2ee_mgr_save(m, &err) == 0 ? 0 : (free(err), -1);
	if (pier_e2ee_own_code(m, code) == 0)
		fprintf(stderr, TR(o, "pier: this installation is a new device of %s's, not approved "
		                      "yet: its code is %s. Approve it on another device (/approve %s) "
		                      "and send again.\n",
		                   "pier：此安装是 %s 的新设备，尚未获批准，验证码：%s。请在另一台设备上批准"
		                   "（/approve %s）后再发送。\n"), m->user, code, code);
	else
		fprintf(stderr, "%s", tr(o, "pier: this device is not approved\n",
		                         "pier：此设备尚未获批准\n"));
	pier_e2ee_mgr_save(m, NULL);
	return -1;
save_failed:
	fprintf(stderr, TR(o, "pier: cannot save the device keys: %s\n", "pier：无法保存设备密钥：%s\n"),
	        err != NULL ? err : "?");
	free(err);
	return -1;
}

int e2ee_oneshot_send(struct pier_conn *conn, const struct cli_options *o, const json_t *login,
                      const char *to, const json_t *plain, int64_t reply_to, int64_t media,
                      int64_t *id, bool *plaintext)
{
	const char *challenge = json_string_value(json_object_get(login, "challenge"));
	const char *user = json_string_value(json_object_get(login, "user"));
	char dir[PIER_E2EE_PATH_MAX], need[PIER_NAME_MAX + 1], *err = NULL;
	const char *pass = o->passphrase;
	struct pier_e2ee_mgr m;
	json_t *e2ee = NULL, *r;
	int lock = -1, rc = -1;

	*id = 0;
	*plaintext = false;
	if (o->no_e2ee || challenge == NULL || user == NULL) {
		*plaintext = true;
		return 0;
	}
	if (!cli_e2ee_dir(o, user, dir, sizeof dir)) {
		fprintf(stderr, "%s", tr(o, "pier: no home directory for the device keys\n",
		                         "pier：没有保存设备密钥的主目录\n"));
		return -1;
	}
	lock = pier_e2ee_lock_dir(dir);
	if (lock < 0) {
		fprintf(stderr, "%s", lock == -2
		        ? tr(o, "pier: this device is in use by a running chat: send from there\n",
		             "pier：此设备正由运行中的聊天使用，请在那里发送\n")
		        : tr(o, "pier: cannot lock the device keys\n", "pier：无法锁定设备密钥\n"));
		return -1;
	}
	pier_e2ee_mgr_init(&m, dir, user, pass != NULL && pass[0] != '\0' ? pass : NULL);
	if (pier_e2ee_mgr_load(&m, &err) < 0) {
		fprintf(stderr, TR(o, "pier: end-to-end encryption is off: %s\n",
		                   "pier：端到端加密已关闭：%s\n"), err != NULL ? err : "?");
		goto out;
	}
	if (set_up(conn, o, &m, challenge, json_string_value(json_object_get(login, "token"))) != 0)
		goto out;
	for (int tries = 0; tries < TRIES * 3; tries++) {
		enum pier_e2ee_result res = pier_e2ee_encrypt_msg(&m, to, plain,
		                                                  (uint64_t)pier_now_ms(), &e2ee, need);
		json_t *req;

		say_notices(&m);
		if (res == PIER_E2EE_R_NEED_KEYS) {
			r = call(conn, o, pier_req_keys(need), "keys");
			if (r == NULL)
				goto out;
			pier_e2ee_take_keys(&m, r);
			json_decref(r);
			continue;
		}
		if (res == PIER_E2EE_R_PLAIN) {
			*plaintext = true;
			rc = 0;
			goto out;
		}
		if (res != PIER_E2EE_R_OK) {
			fprintf(stderr, "%s", tr(o, "pier: not sent: the keys did not check out\n",
			                         "pier：未发送：密钥未通过验证\n"));
			goto out;
		}
		if (pier_e2ee_mgr_save(&m, &err) != 0) {
			fprintf(stderr, "pier: %s\n", err != NULL ? err : "?");
			goto out;
		}
		req = pier_req_send_e2ee(to, json_string_value(json_object_get(e2ee, "payload")),
		                         json_incref(json_object_get(e2ee, "keys")), NULL, media,
		                         reply_to);
		json_decref(e2ee);
		e2ee = NULL;
		r = pier_conn_call(conn, req, CLI_REPLY_TIMEOUT_MS);
		if (r != NULL && strcmp(pier_event_op(r), "sent") == 0) {
			json_t *msg = json_deep_copy(plain);

			*id = json_integer_value(json_object_get(r, "id"));
			json_object_set(msg, "id", json_object_get(r, "id"));
			json_object_set(msg, "ts", json_object_get(r, "ts"));
			json_object_set_new(msg, "from", json_string(user));
			json_object_set_new(msg, "to", json_string(to));
			json_object_set_new(msg, "e2ee", json_true());
			pier_e2ee_history_add(&m.hist, to, msg);
			json_decref(msg);
			json_decref(r);
			rc = pier_e2ee_mgr_save(&m, NULL) == 0 ? 0 : -1;
			goto out;
		}
		if (r != NULL && json_is_string(json_object_get(r, "error")) &&
		    strcmp(json_string_value(json_object_get(r, "error")), "devices_changed") == 0) {
			const char *u;
			json_t *ids;

			json_object_foreach(json_object_get(r, "devices"), u, ids) {
				json_t *k = call(conn, o, pier_req_keys(u),
				                 "keys");

				(void)ids;
				if (k != NULL)
					pier_e2ee_take_keys(&m, k);
				json_decref(k);
			}
			json_decref(r);
			continue;
		}
		{
			const char *code = json_string_value(json_object_get(r, "error"));

			fprintf(stderr, "pier: %s: %s\n", to, r == NULL ? "no reply"
			        : pier_error_text(code != NULL ? code : "", o->lang) != NULL
			          ? pier_error_text(code, o->lang) : code != NULL ? code : "?");
		}
		json_decref(r);
		goto out;
	}
	fprintf(stderr, "%s", tr(o, "pier: not sent: the devices kept changing\n",
	                         "pier：未发送：设备不断变化\n"));
out:
	json_decref(e2ee);
	free(err);
	pier_e2ee_mgr_release(&m);
	close(lock);
	return rc;
}

void e2ee_oneshot_fill(const struct cli_options *o, const json_t *login, json_t *messages)
{
	const char *user = json_string_value(json_object_get(login, "user"));
	char dir[PIER_E2EE_PATH_MAX], path[PIER_E2EE_PATH_MAX + 16], *err = NULL;
	struct pier_e2ee_history h;
	struct pier_e2ee_seal seal;
	size_t i = 0;

	if (o->no_e2ee || user == NULL || !json_is_array(messages) ||
	    !cli_e2ee_dir(o, user, dir, sizeof dir))
		return;
	snprintf(path, sizeof path, "%s/messages.json", dir);
	pier_e2ee_history_init(&h);
	pier_e2ee_seal_init(&seal, o->passphrase);
	if (pier_e2ee_history_load(&h, path, &seal, &err) < 0)
		fprintf(stderr, "pier: %s\n", err != NULL ? err : "?");
	while (i < json_array_size(messages)) {
		json_t *msg = json_array_get(messages, i);
		const json_t *local;

		if (!json_is_true(json_object_get(msg, "e2ee")) || json_object_get(msg, "text") != NULL) {
			i++;
			continue;
		}
		local = pier_e2ee_history_find(&h, json_integer_value(json_object_get(msg, "id")));
		if (json_is_true(json_object_get(local, "hidden"))) {
			json_array_remove(messages, i);
			continue;
		}
		if (local != NULL) {
			static const char *const keys[] = { "text", "kind", "file", "edited" };

			json_t *media = pier_e2ee_file_media(json_object_get(local, "file"));

			for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
				if (json_object_get(local, keys[k]) != NULL)
					json_object_set(msg, keys[k], json_object_get(local, keys[k]));
			/* the real name, type and size (not the key: output is for scripts) */
			if (media != NULL) {
				json_object_del(media, "key");
				json_object_del(media, "header");
				json_object_set_new(msg, "media", media);
			}
		} else {
			json_object_set_new(msg, "text", json_string(TR(o, "[encrypted: not on this device]",
			                                                "[已加密：不在此设备上]")));
		}
		i++;
	}
	free(err);
	pier_e2ee_seal_release(&seal);
	pier_e2ee_history_release(&h);
}
