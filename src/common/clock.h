/* clock.h - wall-clock and monotonic time in the units pier uses. */
#ifndef PIER_CLOCK_H
#define PIER_CLOCK_H

#include <stdint.h>

/* Milliseconds since the Unix epoch (message timestamps, "ts" on the wire). */
int64_t pier_now_ms(void);

/* Monotonic milliseconds, for timeouts and rate limits. */
int64_t pier_mono_ms(void);

#endif
