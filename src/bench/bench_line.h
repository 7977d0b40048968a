/* bench_line.h - a fast, allocation-free reader for the lines pierd sends most often.
 *
 * At millions of deliveries per second, parsing every line into a jansson tree (what libpier's
 * core does) would make the generator the bottleneck. bline_parse reads one flat JSON object in
 * place and fills the fields the bench needs; anything it is not sure about (an op it does not
 * handle, an escaped string, a malformed line) it declines, and the caller hands the line to
 * libpier's core instead. `pier-bench --check-parser` cross-checks every line it reads against
 * jansson.
 */
#ifndef BENCH_LINE_H
#define BENCH_LINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The ops read here; every other op goes to libpier. */
enum bline_op {
	BLINE_MSG,        /* {"op":"msg","id":..,"from":..,"to":..,"ts":..,"text":..} */
	BLINE_SENT,       /* {"op":"sent","id":..,"ts":..,"to":..,"ref":..} */
	BLINE_PRESENCE,   /* {"op":"presence","user":..,"online":..} */
	BLINE_MEMBER,     /* {"op":"member","room":..,"user":..,"joined":..} */
	BLINE_USERS,      /* {"op":"users","online":[...]} (the list is skipped, not read) */
	BLINE_PONG        /* {"op":"pong"} */
};

/* A string value as it is on the line: never escaped (lines with escapes are declined). */
struct bline_str {
	const char *p;    /* NULL when the field is missing */
	size_t len;
};

struct bline {
	enum bline_op op;
	int64_t id, ts;           /* -1 when missing */
	struct bline_str from, to, text, ref, user;
	bool duplicate;           /* "duplicate":true */
	bool offline;             /* "offline":true */
	bool flag;                /* "online" (presence) or "joined" (member) */
};

/* Reads line[0, len) (no newline). Returns 0 when the line is one of the ops above and every
 * field was read; -1 when the caller should parse the line with libpier instead. */
int bline_parse(const char *line, size_t len, struct bline *out);

/* The fast part of bline_parse alone: pierd's plain msg lines in the key order its writer
 * (wire_msg.c) uses. Returns 0 or -1 like bline_parse. For the unit test that keeps the two in
 * step (tests/unit/test_wire_msg.c): a writer that changes its order sends every delivery
 * through the general reader, which costs the bench about twice as much per line. */
int bline_parse_msg(const char *line, size_t len, struct bline *out);

/* True if s equals the NUL-terminated z. */
bool bline_eq(struct bline_str s, const char *z);

#endif
