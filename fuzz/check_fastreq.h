/* check_fastreq.h - the one property of fastreq.c, for fuzz_fastreq.c and test_fastreq.c:
 * whenever fastreq_decode accepts a line, json_loadb (flags 0, as dispatch.c) accepts it too
 * and finds the same request - the same op, the same members and no other, every string the
 * same bytes, reply_to and media the same integers, e2ee the same object (payload, and keys
 * the same array of the same envelopes). Header only (static functions). */
#ifndef PIER_CHECK_FASTREQ_H
#define PIER_CHECK_FASTREQ_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include <jansson.h>

#include "fastreq.h"

/* Whether member key of req (NULL when absent) is what fastreq decoded into s. */
static bool fastreq_same_string(const json_t *req, const char *key, const struct fastreq_str *s)
{
	const json_t *v = json_object_get(req, key);

	if (s->s == NULL)
		return v == NULL;
	return json_is_string(v) && json_string_length(v) == s->len && s->s[s->len] == '\0' &&
	       memchr(s->s, '\0', s->len) == NULL && memcmp(json_string_value(v), s->s, s->len) == 0;
}

/* Whether member key of req (NULL when absent) is the positive integer fastreq decoded into v
 * (0: absent); counts it in *members. */
static bool fastreq_same_count(const json_t *req, const char *key, int64_t v, size_t *members)
{
	const json_t *j = json_object_get(req, key);

	if (v == 0)
		return j == NULL;
	++*members;
	return v > 0 && json_is_integer(j) && json_integer_value(j) == v;
}

/* Whether string member key of o is s, counting it in *members when present. */
static bool fastreq_same_counted(const json_t *o, const char *key, const struct fastreq_str *s,
                                 size_t *members)
{
	*members += s->s != NULL;
	return fastreq_same_string(o, key, s);
}

/* Whether the e2ee member of req is what fastreq decoded into fr (absent when !fr->e2ee). */
static bool fastreq_same_e2ee(const json_t *req, const struct fastreq *fr)
{
	const json_t *e = json_object_get(req, "e2ee"), *keys;
	size_t members = 0;

	if (!fr->e2ee)
		return e == NULL && fr->payload.s == NULL && fr->nkeys == 0;
	if (!json_is_object(e) || !fastreq_same_counted(e, "payload", &fr->payload, &members))
		return false;
	keys = json_object_get(e, "keys");
	if (fr->nkeys == 0) {
		if (keys != NULL)
			return false;
	} else {
		members++;
		if (!json_is_array(keys) || json_array_size(keys) != fr->nkeys ||
		    fr->nkeys > FASTREQ_KEYS_MAX)
			return false;
		for (size_t i = 0; i < fr->nkeys; i++) {
			const json_t *k = json_array_get(keys, i);
			size_t n = 0;

			if (!json_is_object(k) ||
			    !fastreq_same_counted(k, "device", &fr->keys[i].device, &n) ||
			    !fastreq_same_counted(k, "body", &fr->keys[i].body, &n) ||
			    json_object_size(k) != n)
				return false;
		}
	}
	return json_object_size(e) == members;
}

/* Decodes line with fastreq; *accepted says whether it took it. NULL when it declined or
 * agrees with jansson, else what differs. */
static const char *fastreq_vs_jansson(const char *line, size_t len, bool *accepted)
{
	static struct fastreq fr;   /* 8 KiB: not on a fuzzer's stack */
	json_error_t err;
	json_t *req;
	const char *diff = NULL;
	size_t members = 0;

	*accepted = fastreq_decode(line, len, &fr);
	if (!*accepted)
		return NULL;
	req = json_loadb(line, len, 0, &err);
	if (req == NULL)
		return "fastreq accepted what jansson refuses";
	if (!json_is_object(req)) {
		diff = "fastreq accepted what is no object";
		goto out;
	}
	if (fr.op != PIER_OP_SEND && fr.op != PIER_OP_PING) {
		diff = "an op other than send or ping";
		goto out;
	}
	if (!json_is_string(json_object_get(req, "op")) ||
	    strcmp(json_string_value(json_object_get(req, "op")), pier_op_name(fr.op)) != 0) {
		diff = "op differs";
		goto out;
	}
	members = 1;
	if (!fastreq_same_string(req, "ref", &fr.ref) || !fastreq_same_string(req, "to", &fr.to) ||
	    !fastreq_same_string(req, "text", &fr.text) ||
	    !fastreq_same_string(req, "cid", &fr.cid)) {
		diff = "a string member differs";
		goto out;
	}
	members += (fr.ref.s != NULL) + (fr.to.s != NULL) + (fr.text.s != NULL) + (fr.cid.s != NULL);
	if (!fastreq_same_count(req, "reply_to", fr.reply_to, &members) ||
	    !fastreq_same_count(req, "media", fr.media, &members)) {
		diff = "reply_to or media differs";
		goto out;
	}
	if (!fastreq_same_e2ee(req, &fr)) {
		diff = "e2ee differs";
		goto out;
	}
	members += fr.e2ee;
	if (fr.e2ee && fr.text.s != NULL) {
		diff = "an encrypted send with text";
		goto out;
	}
	if (fr.op == PIER_OP_PING && members != 1 + (fr.ref.s != NULL)) {
		diff = "a ping with a send's members";
		goto out;
	}
	if (json_object_size(req) != members)
		diff = "jansson found members fastreq did not";
out:
	json_decref(req);
	return diff;
}

#endif
