/* pier_e2ee_device.c - the device manager's state (struct pier_e2ee_mgr): this device's keys
 * (the crypto core's struct pier_e2ee_device), its name and state, the account key once it
 * has one, contacts, sessions and the message store; device.json; and the requests that
 * publish and prove the device's keys (device_register, device_hello, prekeys).
 *
 * device.json: {"v":1,"user","name","state":"new|pending|active|revoked","device":{core},
 *               "ak":SEED (once granted or created),"contacts":[...],"sessions":{core},
 *               "history_complete":B}
 */
#include "pier_e2ee.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "pier.h"
#include "xalloc.h"

#define STATE_VERSION 1

static const char *const state_names[] = { "new", "pending", "active", "revoked" };

void pier_e2ee_mgr_init(struct pier_e2ee_mgr *m, const char *dir, const char *user,
                        const char *passphrase)
{
	memset(m, 0, sizeof *m);
	snprintf(m->dir, sizeof m->dir, "%s", dir);
	pier_e2ee_user_key(user, m->user, sizeof m->user);
	pier_e2ee_contacts_init(&m->contacts);
	pier_e2ee_sessions_init(&m->sess);
	pier_e2ee_history_init(&m->hist);
	pier_e2ee_seal_init(&m->seal, passphrase);
	m->notices = json_array();
}

void pier_e2ee_mgr_forget_device(struct pier_e2ee_mgr *m)
{
	if (m->has_device)
		pier_e2ee_device_release(&m->dev);
	m->has_device = false;
	pier_e2ee_sessions_release(&m->sess);
	pier_e2ee_sessions_init(&m->sess);
	sodium_memzero(m->ak_seed, sizeof m->ak_seed);
	m->has_ak = false;
	m->state = PIER_E2EE_NEW;
	m->opened_qid = 0;
	sodium_memzero(m->kept, sizeof m->kept);
	m->nkept = 0;
	m->dirty = true;
}

void pier_e2ee_mgr_release(struct pier_e2ee_mgr *m)
{
	pier_e2ee_mgr_forget_device(m);
	pier_e2ee_sessions_release(&m->sess);
	pier_e2ee_contacts_release(&m->contacts);
	pier_e2ee_history_release(&m->hist);
	pier_e2ee_seal_release(&m->seal);
	json_decref(m->notices);
	json_decref(m->plain_users);
	m->notices = m->plain_users = NULL;
}

static void path_of(const struct pier_e2ee_mgr *m, const char *file, char *out, size_t size)
{
	snprintf(out, size, "%s/%s", m->dir, file);
}

int pier_e2ee_mgr_load(struct pier_e2ee_mgr *m, char **err)
{
	char path[PIER_E2EE_PATH_MAX + 32];
	json_t *j = NULL;
	const char *state, *name;
	int rc;

	path_of(m, "device.json", path, sizeof path);
	rc = pier_e2ee_load_json(path, &m->seal, PIER_E2EE_STATE_FILE_MAX, &j, err);
	if (rc != 0)
		return rc;
	rc = -1;
	state = json_string_value(json_object_get(j, "state"));
	name = json_string_value(json_object_get(j, "name"));
	if (json_integer_value(json_object_get(j, "v")) != STATE_VERSION || state == NULL ||
	    name == NULL || strcmp(json_string_value(json_object_get(j, "user")) != NULL
	                           ? json_string_value(json_object_get(j, "user")) : "",
	                           m->user) != 0)
		goto bad;
	m->state = PIER_E2EE_REVOKED + 1;
	for (int i = 0; i <= PIER_E2EE_REVOKED; i++)
		if (strcmp(state, state_names[i]) == 0)
			m->state = (enum pier_e2ee_dstate)i;
	if (m->state > PIER_E2EE_REVOKED)
		goto bad;
	if (json_object_get(j, "device") != NULL) {
		if (pier_e2ee_device_from_json(json_object_get(j, "device"), &m->dev) != PIER_E2EE_OK)
			goto bad;
		m->has_device = true;
	}
	if (json_object_get(j, "ak") != NULL) {
		if (pier_b64_decode_fixed(json_string_value(json_object_get(j, "ak")), m->ak_seed,
		                          32) != 0)
			goto bad;
		pier_e2ee_sign_pub(m->ak_seed, m->ak_pub);
		m->has_ak = true;
	}
	if (pier_e2ee_contacts_from_json(&m->contacts, json_object_get(j, "contacts")) != 0)
		goto bad;
	if (json_object_get(j, "sessions") != NULL &&
	    pier_e2ee_sessions_from_json(json_object_get(j, "sessions"), &m->sess) != PIER_E2EE_OK)
		goto bad;
	snprintf(m->name, sizeof m->name, "%s", name);
	m->history_complete = json_is_true(json_object_get(j, "history_complete"));
	m->opened_qid = json_integer_value(json_object_get(j, "opened_qid"));
	json_decref(j);
	path_of(m, "messages.json", path, sizeof path);
	rc = pier_e2ee_history_load(&m->hist, path, &m->seal, err);
	return rc < 0 ? -1 : 0;
bad:
	json_decref(j);
	if (err != NULL) {
		free(*err);
		*err = xstrdup("the device file is damaged (device.json)");
	}
	return -1;
}

void pier_e2ee_mgr_create(struct pier_e2ee_mgr *m, const char *name, uint64_t now_ms)
{
	size_t n = name != NULL ? strlen(name) : 0;

	if (m->has_device)
		pier_e2ee_mgr_forget_device(m);
	pier_e2ee_device_create(&m->dev, now_ms, NULL);
	m->has_device = true;
	m->state = PIER_E2EE_NEW;
	/* Cut at a character, never inside one (a list refuses bad UTF-8). */
	if (n > PIER_E2EE_NAME_MAX)
		n = PIER_E2EE_NAME_MAX;
	while (n > 0 && ((unsigned char)name[n] & 0xC0) == 0x80)
		n--;
	memcpy(m->name, name != NULL ? name : "", n);
	m->name[n] = '\0';
	m->dirty = true;
}

int pier_e2ee_mgr_save(struct pier_e2ee_mgr *m, char **err)
{
	char path[PIER_E2EE_PATH_MAX + 32];
	json_t *j = json_pack("{s:i, s:s, s:s, s:s, s:o, s:o, s:b}", "v", STATE_VERSION,
	                      "user", m->user, "name", m->name, "state", state_names[m->state],
	                      "contacts", pier_e2ee_contacts_to_json(&m->contacts),
	                      "sessions", pier_e2ee_sessions_to_json(&m->sess),
	                      "history_complete", m->history_complete);
	int rc;

	if (j == NULL) {
		if (err != NULL) {
			free(*err);
			*err = xstrdup("cannot encode the device state");
		}
		return -1;
	}
	if (m->has_device)
		json_object_set_new(j, "device", pier_e2ee_device_to_json(&m->dev));
	if (m->has_ak)
		pier_e2ee_json_set_bytes(j, "ak", m->ak_seed, 32);
	json_object_set_new(j, "opened_qid", json_integer(m->opened_qid));
	path_of(m, "device.json", path, sizeof path);
	rc = pier_e2ee_save_json(path, j, &m->seal, err);
	json_decref(j);
	if (rc != 0)
		return -1;
	m->dirty = false;
	if (m->hist.dirty) {
		path_of(m, "messages.json", path, sizeof path);
		rc = pier_e2ee_history_save(&m->hist, path, &m->seal, err);
	}
	return rc;
}

void pier_e2ee_mgr_device_id(const struct pier_e2ee_mgr *m, char out[PIER_E2EE_ID_B64])
{
	sodium_bin2base64(out, PIER_E2EE_ID_B64, m->dev.pub.id, PIER_E2EE_ID_LEN,
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

json_t *pier_e2ee_take_notices(struct pier_e2ee_mgr *m)
{
	json_t *n = m->notices;

	m->notices = json_array();
	return n;
}

/* ---- requests (built by pier_proto.c's builders from the keys, base64url) ---- */

/* {"id","key"} of a public X25519 key with its id. */
static json_t *pub_json(uint32_t id, const uint8_t pub[32])
{
	json_t *o = json_pack("{s:I}", "id", (json_int_t)id);

	pier_e2ee_json_set_bytes(o, "key", pub, 32);
	return o;
}

/* opks[first ..] as [{"id","key"}]. */
static json_t *opks_json(const struct pier_e2ee_device *d, size_t first)
{
	json_t *a = json_array();

	for (size_t i = first; i < d->opk_count; i++)
		json_array_append_new(a, pub_json(d->opks[i].id, d->opks[i].pub));
	return a;
}

/* The session proof over challenge (base64url of 32 bytes), base64url; NULL if bad. */
static char *proof(const struct pier_e2ee_mgr *m, const char *challenge)
{
	uint8_t ch[PIER_E2EE_CHALLENGE_LEN], sig[PIER_E2EE_SIG_LEN];

	if (pier_e2ee_b64_decode_exact(pier_e2ee_str(challenge), ch, sizeof ch) != PIER_E2EE_OK)
		return NULL;
	pier_e2ee_hello_proof(m->dev.sign_seed, ch, sizeof ch, sig);
	return pier_b64_encode(sig, sizeof sig);
}

json_t *pier_e2ee_req_device_register(struct pier_e2ee_mgr *m, const char *challenge)
{
	char id[PIER_E2EE_ID_B64], *p, *sk, *dk, *spk, *sig;
	size_t first = 0;
	json_t *req;

	if (!m->has_device || (p = proof(m, challenge)) == NULL)
		return NULL;
	if (m->dev.opk_count == 0 &&
	    pier_e2ee_device_add_opks(&m->dev, PIER_E2EE_OPK_BATCH, NULL, &first) == PIER_E2EE_OK)
		m->dirty = true;
	pier_e2ee_mgr_device_id(m, id);
	sk = pier_b64_encode(m->dev.pub.sign_pub, 32);
	dk = pier_b64_encode(m->dev.pub.dh_pub, 32);
	spk = pier_b64_encode(m->dev.spk.pub, 32);
	sig = pier_b64_encode(m->dev.spk.sig, sizeof m->dev.spk.sig);
	req = pier_req_device_register(id, sk, dk, m->name, m->dev.spk.id, spk, sig,
	                               opks_json(&m->dev, 0), p);
	free(p);
	free(sk);
	free(dk);
	free(spk);
	free(sig);
	return req;
}

json_t *pier_e2ee_req_device_hello(const struct pier_e2ee_mgr *m, const char *challenge)
{
	char id[PIER_E2EE_ID_B64], *p;
	json_t *req;

	if (!m->has_device || (p = proof(m, challenge)) == NULL)
		return NULL;
	pier_e2ee_mgr_device_id(m, id);
	req = pier_req_device_hello(id, p);
	free(p);
	return req;
}

json_t *pier_e2ee_req_prekeys(struct pier_e2ee_mgr *m, int server_count, bool new_spk)
{
	size_t want = server_count >= 0 && server_count < PIER_E2EE_OPK_BATCH
	            ? (size_t)(PIER_E2EE_OPK_BATCH - server_count) : 0;
	size_t first = 0;
	json_t *opks = NULL, *req;
	char *spk = NULL, *sig = NULL;

	if (!m->has_device)
		return NULL;
	/* The secrets of prekeys the server gave out stay until a pre-key envelope uses them;
	 * past the core's bound the oldest go (their envelopes, if any ever come, fail). */
	while (want > 0 && m->dev.opk_count + want > PIER_E2EE_MAX_OPKS && m->dev.opk_count > 0)
		pier_e2ee_device_remove_opk(&m->dev, m->dev.opks[0].id);
	if (want > 0 && pier_e2ee_device_add_opks(&m->dev, want, NULL, &first) == PIER_E2EE_OK) {
		opks = opks_json(&m->dev, first);
		m->dirty = true;
	}
	if (new_spk) {
		pier_e2ee_device_rotate_spk(&m->dev, NULL);
		spk = pier_b64_encode(m->dev.spk.pub, 32);
		sig = pier_b64_encode(m->dev.spk.sig, sizeof m->dev.spk.sig);
		m->dirty = true;
	}
	if (opks == NULL && spk == NULL)
		return NULL;
	req = pier_req_prekeys(spk != NULL ? m->dev.spk.id : 0, spk, sig, opks);
	free(spk);
	free(sig);
	return req;
}

void pier_e2ee_mgr_registered(struct pier_e2ee_mgr *m, const json_t *reply)
{
	const char *state = json_string_value(json_object_get(reply, "state"));

	if (state == NULL)
		return;
	if (strcmp(state, "active") == 0 && m->has_ak)
		m->state = PIER_E2EE_ACTIVE;
	else if (strcmp(state, "pending") == 0 || strcmp(state, "active") == 0)
		m->state = PIER_E2EE_PENDING;   /* active without the account key: wait for it */
	m->dirty = true;
}

bool pier_e2ee_is_event(const char *op)
{
	static const char *const ops[] = { "envelope", "devices_changed", "prekeys_low",
	                                   "device_revoked", "device_moved" };

	for (size_t i = 0; op != NULL && i < sizeof ops / sizeof ops[0]; i++)
		if (strcmp(op, ops[i]) == 0)
			return true;
	return false;
}

enum pier_e2ee_start pier_e2ee_mgr_start(const struct pier_e2ee_mgr *m)
{
	if (!m->has_device || m->state == PIER_E2EE_REVOKED)
		return PIER_E2EE_START_NEW_DEVICE;
	if (m->state == PIER_E2EE_NEW)
		return PIER_E2EE_START_REGISTER;
	return PIER_E2EE_START_HELLO;
}

bool pier_e2ee_was_opened(const struct pier_e2ee_mgr *m, const json_t *ev)
{
	json_int_t qid = json_integer_value(json_object_get(ev, "qid"));

	return qid > 0 && qid <= m->opened_qid;
}

void pier_e2ee_mark_opened(struct pier_e2ee_mgr *m, int64_t qid)
{
	if (qid > m->opened_qid) {
		m->opened_qid = qid;
		m->dirty = true;
	}
}
