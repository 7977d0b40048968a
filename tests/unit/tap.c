/* tap.c - the shared test reporter (see tap.h). Thread-safe. */
#include "tap.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>

static pthread_mutex_t tap_lock = PTHREAD_MUTEX_INITIALIZER;
static int tap_passed, tap_failed;

bool tap_check(bool ok, const char *file, int line, const char *fmt, ...)
{
	pthread_mutex_lock(&tap_lock);
	if (ok) {
		tap_passed++;
	} else {
		va_list ap;

		tap_failed++;
		fprintf(stderr, "FAIL %s:%d: ", file, line);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
	pthread_mutex_unlock(&tap_lock);
	return ok;
}

int tap_done(void)
{
	printf("%d passed, %d failed\n", tap_passed, tap_failed);
	return (tap_failed == 0 && tap_passed > 0) ? 0 : 1;
}
