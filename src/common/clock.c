/* clock.c - wall-clock and monotonic time. */
#include "clock.h"

#include <time.h>

static int64_t to_ms(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000 + ts->tv_nsec / 1000000;
}

int64_t pier_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return to_ms(&ts);
}

int64_t pier_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return to_ms(&ts);
}
