/* fastreq.h - the hot requests (send, plain or encrypted, and ping) decoded without a tree.
 *
 * A purpose-built decoder for the shapes clients send most. It is exact or it declines: it
 * accepts only lines that json_loadb (flags 0) accepts too and then yields the values jansson
 * would (strings byte for byte, escapes decoded, UTF-8 checked as jansson checks it). Anything
 * it is not sure of - another op, an unknown or repeated key, a key written with an escape, a
 * value of another type, a number other than a positive integer that fits, \u0000, strings
 * over the buffer, any syntax error - it declines, and the caller takes the jansson path,
 * which stays the one source of error messages. It never rejects a request.
 * Pure: no allocation, no server state (fuzz/fuzz_fastreq.c checks it against jansson). */
#ifndef PIER_FASTREQ_H
#define PIER_FASTREQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol.h"

/* Bytes of decoded strings (each NUL-terminated) one request may hold; a request with more
 * declines (a long message takes the jansson path). */
#define FASTREQ_BUF 8192

/* Envelopes an encrypted send may carry here: the handler's limit (e2ee_send.c); a send with
 * more declines (the JSON path answers it). */
#define FASTREQ_KEYS_MAX 64

/* A decoded string member: s is NULL when the key was absent; else s[len] == '\0' and s lies in
 * the struct fastreq's buffer (it holds no NUL: jansson refuses \u0000). */
struct fastreq_str {
	const char *s;
	size_t len;
};

/* One envelope of an encrypted send: "keys":[{"device","body"}] (s NULL when absent). */
struct fastreq_key {
	struct fastreq_str device, body;
};

/* One decoded request. The members other than op's own are absent (s NULL, reply_to 0) when
 * the line did not have them. */
struct fastreq {
	enum pier_op op;             /* PIER_OP_SEND or PIER_OP_PING */
	struct fastreq_str ref;      /* both ops */
	struct fastreq_str to, text, cid;   /* send only */
	int64_t reply_to;            /* send only: > 0 when given (only such values are taken) */
	int64_t media;               /* send only: the same */
	bool e2ee;                   /* send only: "e2ee":{...} was given (then text was not) */
	struct fastreq_str payload;  /* e2ee.payload */
	size_t nkeys;                /* e2ee.keys: 1..FASTREQ_KEYS_MAX entries, 0 when absent */
	struct fastreq_key keys[FASTREQ_KEYS_MAX];
	size_t used;                 /* bytes of buf in use */
	char buf[FASTREQ_BUF];
};

/* Decodes line (len bytes, no newline needed) into *fr. True when it is one of the shapes
 * above, every value decoded exactly as json_loadb would; false (fr's contents then
 * meaningless) when the caller must parse it with jansson. Keys may come in any order:
 *   ping: op, ref
 *   send: op, to, text, ref, cid (strings), reply_to, media (integers 1..10^18-1)
 *   encrypted send: the same but text, and e2ee: an object of payload (a string) and keys
 *         (an array of 1..FASTREQ_KEYS_MAX objects of device and body, strings), each member
 *         optional, none repeated (the handler answers what is missing). */
bool fastreq_decode(const char *line, size_t len, struct fastreq *fr);

#endif
