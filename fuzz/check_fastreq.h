/* check_fastreq.h - the one property of fastreq.c, for fuzz_fastreq.c and test_fastreq.c:
 * whenever fastreq_decode accepts a line, json_loadb (flags 0, as dispatch.c) accepts it too
 * and finds the same request - the same op, the same members and no other, every string the
 * same bytes, reply_to the same integer. Header only (one static function). */
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

/* Decodes line with fastreq; *accepted says whether it took it. NULL when it declined or
 * agrees with jansson, else what differs. */
static const char *fastreq_vs_jansson(const char *line, size_t len, bool *accepted)
{
	static struct fastreq fr;   /* 8 KiB: not on a fuzzer's stack */
	json_error_t err;
	json_t *req, *reply_to;
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
	reply_to = json_object_get(req, "reply_to");
	if (fr.reply_to != 0) {
		members++;
		if (!json_is_integer(reply_to) || json_integer_value(reply_to) != fr.reply_to) {
			diff = "reply_to differs";
			goto out;
		}
	} else if (reply_to != NULL || fr.reply_to < 0) {
		diff = "reply_to differs";
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
