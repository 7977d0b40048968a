/* fuzz_client_feed.c - libFuzzer harness: arbitrary server bytes into libpier's protocol core.
 * The input is split at a byte chosen from its first byte, to exercise lines cut across
 * feeds. Nothing may crash, leak or read out of bounds; every event is an object. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "pier.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pier_client *c = pier_client_new(1024);
	size_t cut = size ? data[0] % (size + 1) : 0;
	json_t *ev;

	if (pier_client_feed(c, data, cut) == 0)
		pier_client_feed(c, data + cut, size - cut);
	while ((ev = pier_client_next(c)) != NULL) {
		if (!json_is_object(ev))
			abort();
		(void)pier_event_op(ev);
		json_decref(ev);
	}
	pier_client_free(c);
	return 0;
}
