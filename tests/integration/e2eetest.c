/* e2eetest.c - test devices, lists and encrypted sends for the e2ee integration tests
 * (e2eetest.h). */
#include "e2eetest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "devlist.h"

void t_b64(char *out, size_t outlen, const unsigned char *bin, size_t n)
{
	sodium_bin2base64(out, outlen, bin, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

char *t_random_b64(size_t n)
{
	unsigned char *bin = malloc(n);
	size_t len = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	char *out = malloc(len);

	randombytes_buf(bin, n);
	t_b64(out, len, bin, n);
	free(bin);
	return out;
}

bool t_login(struct pierd *p, const char *user, const char *token, struct tsession *s)
{
	json_t *r, *users;
	size_t len = 0;
	bool ok;

	memset(s, 0, sizeof(*s));
	s->c = client_connect(p);
	if (s->c == NULL)
		return false;
	r = client_call(s->c, token != NULL ? pier_req_login_token(token)
	                                    : pier_req_login(user, HARNESS_PASSWORD));
	ok = CHECK(r != NULL && jint(r, "status", 0) == 1 && jstr(r, "challenge") != NULL &&
	           sodium_base642bin(s->challenge, sizeof(s->challenge), jstr(r, "challenge"),
	                             strlen(jstr(r, "challenge")), NULL, &len, NULL,
	                             sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0 && len == 32,
	           "login %s: want status 1 and a 32-byte challenge, got %s", user, jdump(r));
	if (ok && jstr(r, "token") != NULL)
		snprintf(s->token, sizeof(s->token), "%s", jstr(r, "token"));
	json_decref(r);
	if (ok) {
		users = client_wait_op(s->c, "users");
		ok = users != NULL;
		json_decref(users);
	}
	if (!ok) {
		pier_conn_close(s->c);
		s->c = NULL;
	}
	return ok;
}

bool t_register(struct pierd *p, const char *user)
{
	struct pier_conn *c = client_connect(p);
	int status;

	if (c == NULL)
		return false;
	status = client_register(c, user, HARNESS_PASSWORD);
	pier_conn_close(c);
	return CHECK(status == PIER_REGISTER_OK, "register %s: status %d", user, status);
}

void t_dev_init(struct tdev *d, const char *user, const char *name)
{
	memset(d, 0, sizeof(*d));
	snprintf(d->user, sizeof(d->user), "%s", user);
	snprintf(d->name, sizeof(d->name), "%s", name);
	randombytes_buf(d->id, sizeof(d->id));
	t_b64(d->id64, sizeof(d->id64), d->id, sizeof(d->id));
	crypto_sign_keypair(d->sign_pk, d->sign_sk);
	randombytes_buf(d->dh_sk, sizeof(d->dh_sk));
	crypto_scalarmult_base(d->dh_pk, d->dh_sk);
	randombytes_buf(d->spk_sk, sizeof(d->spk_sk));
	crypto_scalarmult_base(d->spk_pk, d->spk_sk);
	d->spk_id = 1;
}

void t_acct_init(struct tacct *a, const char *user)
{
	memset(a, 0, sizeof(*a));
	snprintf(a->user, sizeof(a->user), "%s", user);
	crypto_sign_keypair(a->ak_pk, a->ak_sk);
}

void t_proof(const struct tdev *d, const unsigned char challenge[32], char out[T_SIG_TEXT])
{
	unsigned char msg[13 + 32], sig[64];

	memcpy(msg, "pier-hello-v1", 13);
	memcpy(msg + 13, challenge, 32);
	crypto_sign_detached(sig, NULL, msg, sizeof(msg), d->sign_sk);
	t_b64(out, T_SIG_TEXT, sig, sizeof(sig));
}

json_t *t_register_req(const struct tdev *d, const unsigned char challenge[32], int nopks,
                       int opk_base)
{
	unsigned char msg[11 + 16 + 4 + 32], sig[64], k[32];
	char sk[T_KEY_TEXT], dk[T_KEY_TEXT], spk[T_KEY_TEXT], spksig[T_SIG_TEXT], proof[T_SIG_TEXT];
	char key[T_KEY_TEXT];
	json_t *opks = json_array();

	memcpy(msg, "pier-spk-v1", 11);
	memcpy(msg + 11, d->id, 16);
	msg[27] = (unsigned char)(d->spk_id >> 24);
	msg[28] = (unsigned char)(d->spk_id >> 16);
	msg[29] = (unsigned char)(d->spk_id >> 8);
	msg[30] = (unsigned char)d->spk_id;
	memcpy(msg + 31, d->spk_pk, 32);
	crypto_sign_detached(sig, NULL, msg, sizeof(msg), d->sign_sk);
	t_b64(sk, sizeof(sk), d->sign_pk, 32);
	t_b64(dk, sizeof(dk), d->dh_pk, 32);
	t_b64(spk, sizeof(spk), d->spk_pk, 32);
	t_b64(spksig, sizeof(spksig), sig, 64);
	t_proof(d, challenge, proof);
	for (int i = 0; i < nopks; i++) {
		randombytes_buf(k, sizeof(k));
		t_b64(key, sizeof(key), k, sizeof(k));
		json_array_append_new(opks, json_pack("{s:i, s:s}", "id", opk_base + i, "key", key));
	}
	return pier_req_device_register(d->id64, sk, dk, d->name, d->spk_id, spk, spksig, opks,
	                                proof);
}

bool t_dev_register(struct pierd *p, struct tdev *d, int nopks)
{
	json_t *r;
	bool ok;

	if (d->s.c == NULL && !t_login(p, d->user, NULL, &d->s))
		return false;
	r = client_call(d->s.c, t_register_req(d, d->s.challenge, nopks, 1));
	ok = CHECK(r != NULL && is_op(r, "device_register") && jstr(r, "state") != NULL &&
	           strcmp(jstr(r, "state"), "pending") == 0 && jint(r, "opk_count", -1) == nopks,
	           "register device %s: %s", d->id64, jdump(r));
	json_decref(r);
	return ok;
}

json_t *t_dev_hello(struct pierd *p, struct tdev *d)
{
	char proof[T_SIG_TEXT];

	if (d->s.c == NULL && !t_login(p, d->user, NULL, &d->s))
		return NULL;
	t_proof(d, d->s.challenge, proof);
	return client_call(d->s.c, pier_req_device_hello(d->id64, proof));
}

void t_dev_close(struct tdev *d)
{
	if (d->s.c != NULL)
		pier_conn_close(d->s.c);
	d->s.c = NULL;
}

static int by_id(const void *a, const void *b)
{
	return memcmp((*(struct tdev *const *)a)->id, (*(struct tdev *const *)b)->id, 16);
}

json_t *t_publish_req(const struct tacct *a, struct tdev *const *devs, size_t n,
                      uint32_t version, uint8_t flags)
{
	struct pier_devlist *l = calloc(1, sizeof(*l));
	struct tdev *sorted[PIER_DEVLIST_MAX_DEVICES];
	unsigned char *bytes = malloc(PIER_DEVLIST_MAX_BYTES), *msg, sig[64];
	size_t len, b64len;
	char *list, sigtext[T_SIG_TEXT];
	json_t *req;

	memcpy(sorted, devs, n * sizeof(*devs));
	qsort(sorted, n, sizeof(*sorted), by_id);
	{
		char key[PIER_KEY_MAX];

		pier_name_key(a->user, key);
		memcpy(l->user, key, strnlen(key, sizeof(l->user) - 1));   /* l is zeroed */
	}
	l->version = version > 0 ? version : a->version + 1;
	l->flags = flags;
	memcpy(l->ak, a->ak_pk, 32);
	l->count = (unsigned)n;
	for (size_t i = 0; i < n; i++) {
		memcpy(l->dev[i].id, sorted[i]->id, 16);
		memcpy(l->dev[i].sign_key, sorted[i]->sign_pk, 32);
		memcpy(l->dev[i].dh_key, sorted[i]->dh_pk, 32);
		l->dev[i].created_ms = 1795000000000ull;
		snprintf(l->dev[i].name, sizeof(l->dev[i].name), "%s", sorted[i]->name);
	}
	len = pier_devlist_encode(l, bytes, PIER_DEVLIST_MAX_BYTES);
	CHECK(len > 0, "the test's list encodes");
	msg = malloc(15 + len);
	memcpy(msg, "pier-devlist-v1", 15);
	memcpy(msg + 15, bytes, len);
	crypto_sign_detached(sig, NULL, msg, 15 + len, a->ak_sk);
	b64len = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	list = malloc(b64len);
	t_b64(list, b64len, bytes, len);
	t_b64(sigtext, sizeof(sigtext), sig, sizeof(sig));
	req = pier_req_devices_publish(list, sigtext);
	free(list);
	free(msg);
	free(bytes);
	free(l);
	return req;
}

bool t_publish(struct pier_conn *c, struct tacct *a, struct tdev *const *devs, size_t n)
{
	json_t *r = client_call(c, t_publish_req(a, devs, n, 0, 0));
	bool ok = CHECK(r != NULL && is_op(r, "devices_publish") &&
	                jint(r, "version", -1) == (int64_t)a->version + 1,
	                "publish version %u: %s", a->version + 1, jdump(r));

	if (ok)
		a->version++;
	json_decref(r);
	return ok;
}

json_t *t_send_req(const char *to, const char *payload, const char *const *ids, size_t n,
                   const char *cid)
{
	json_t *keys = json_array();

	for (size_t i = 0; i < n; i++) {
		char *body = t_random_b64(96);

		json_array_append_new(keys, json_pack("{s:s, s:s}", "device", ids[i], "body", body));
		free(body);
	}
	return pier_req_send_e2ee(to, payload, keys, cid, 0, 0);
}

bool t_collect_envelopes(struct pier_conn *c, size_t n, json_t *out)
{
	size_t got = 0;

	while (got < n) {
		json_t *ev = pier_conn_next(c, HARNESS_TIMEOUT_MS);

		if (ev == NULL)
			return CHECK(false, "only %zu of %zu envelopes came", got, n);
		if (is_op(ev, "envelope")) {
			json_array_append(out, ev);
			got++;
		}
		json_decref(ev);
	}
	return true;
}

bool t_streq(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

void t_expect(struct pier_conn *c, json_t *req, const char *code, const char *what)
{
	json_t *r = client_call(c, req);

	CHECK(r != NULL && is_error(r, code), "%s: want %s, got %s", what, code, jdump(r));
	json_decref(r);
}
