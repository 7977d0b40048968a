/* tap.h - a tiny test reporter shared by every pier test program.
 *
 * CHECK(cond, fmt, ...) records one check; a failing check prints where and why and the test
 * goes on. tap_done() prints "N passed, N failed" and returns the exit status (0 only if
 * nothing failed and at least one check ran).
 */
#ifndef PIER_TAP_H
#define PIER_TAP_H

#include <stdbool.h>

bool tap_check(bool ok, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
int tap_done(void);

#define CHECK(cond, ...) tap_check((cond), __FILE__, __LINE__, __VA_ARGS__)
/* Like CHECK, but returns from the calling function (value r) when cond fails. */
#define REQUIRE(cond, r, ...) do { if (!CHECK(cond, __VA_ARGS__)) return r; } while (0)

#endif
