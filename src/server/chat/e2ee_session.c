/* e2ee_session.c - what one session holds for end-to-end encryption: the random challenge of
 * its login (a device proves it holds its signing key by signing it, so a proof made for one
 * session is worth nothing in another) and the device it speaks for. */
#include "e2ee_chat.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "clock.h"
#include "conn.h"
#include "hub.h"
#include "server.h"
#include "xalloc.h"

void e2ee_session_start(struct conn *c, json_t *r, bool password_login)
{
	char text[E2EE_CHALLENGE_LEN * 4 / 3 + 4];

	if (c->e2ee == NULL)
		c->e2ee = xcalloc(1, sizeof(*c->e2ee));
	c->e2ee->password_login = password_login;
	randombytes_buf(c->e2ee->challenge, sizeof(c->e2ee->challenge));
	sodium_bin2base64(text, sizeof(text), c->e2ee->challenge, sizeof(c->e2ee->challenge),
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	json_object_set_new(r, "challenge", json_string(text));
}

void e2ee_session_end(struct conn *c)
{
	free(c->e2ee);
	c->e2ee = NULL;
}

const struct e2ee_session *e2ee_session_of(const struct conn *c)
{
	return c->e2ee != NULL && c->e2ee->rid != 0 ? c->e2ee : NULL;
}

bool e2ee_session_has_active_device(const struct conn *c)
{
	return c->e2ee != NULL && c->e2ee->rid != 0 && c->e2ee->active;
}

struct conn *e2ee_session_for_device(struct user *u, int64_t rid)
{
	for (size_t i = 0; i < u->nsessions; i++) {
		struct conn *c = u->sessions[i];

		if (!c->closing && c->e2ee != NULL && c->e2ee->rid == rid)
			return c;
	}
	return NULL;
}

void e2ee_session_unbind(struct conn *c)
{
	struct e2ee_session *s = c->e2ee;

	if (s == NULL)
		return;
	s->rid = 0;
	s->id[0] = '\0';
	s->active = false;
	s->paging = false;
	s->reading = false;
	s->after = 0;
	s->gen++;                       /* a page read in flight is stale now */
}

int e2ee_b64_decode(const char *text, size_t n, unsigned char *out)
{
	unsigned char buf[128];
	size_t len = 0, tlen = strlen(text);

	/* Exactly the characters n bytes take: nothing else decodes to n bytes canonically. The
	 * form first: libsodium alone takes bytes past ASCII for '_' (e2ee_b64.c). */
	if (n > sizeof(buf) || tlen != (n * 4 + 2) / 3 || !e2ee_b64_form(text, tlen))
		return -1;
	if (sodium_base642bin(buf, sizeof(buf), text, tlen, NULL, &len, NULL,
	                      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 || len != n)
		return -1;
	if (out != NULL)
		memcpy(out, buf, n);
	return 0;
}

int e2ee_b64_field(const json_t *o, const char *key, size_t n, unsigned char *out, char *text)
{
	const json_t *v = json_object_get(o, key);
	unsigned char buf[128];

	if (!json_is_string(v) || n > sizeof(buf) ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return -1;
	if (out == NULL) {
		/* Only the form: the canonical text of n bytes is the text itself (e2ee_b64.c). */
		if (json_string_length(v) != (n * 4 + 2) / 3 ||
		    !e2ee_b64_form(json_string_value(v), json_string_length(v)))
			return -1;
		if (text != NULL)
			memcpy(text, json_string_value(v), json_string_length(v) + 1);
		return 0;
	}
	if (e2ee_b64_decode(json_string_value(v), n, buf) != 0)
		return -1;
	if (out != NULL)
		memcpy(out, buf, n);
	if (text != NULL)
		sodium_bin2base64(text, sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING),
		                  buf, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return 0;
}

int64_t e2ee_pending_cutoff(const struct server *srv)
{
	return pier_now_ms() - (int64_t)(srv->cfg.e2ee_pending_expiry * 1000.0);
}
