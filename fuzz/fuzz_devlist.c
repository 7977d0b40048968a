/* fuzz_devlist.c - libFuzzer harness: the device list codec (src/common/devlist.c) on any
 * bytes, and pier_e2ee_devlist_open on top of it.
 *
 * Checked: a list that parses passes pier_devlist_check, has 1..32 devices with sorted ids
 * and terminated names, and encodes back to exactly the input (one encoding per list); the
 * signature check of random bytes never passes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "devlist.h"
#include "e2ee/e2ee.h"   /* by its folder: pierd has a chat/e2ee.h */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[PIER_DEVLIST_MAX_BYTES];
	static const uint8_t sig[64];
	struct pier_devlist l;
	size_t n;

	if (pier_devlist_parse(data, size, &l) != PIER_DEVLIST_OK)
		return 0;
	if (pier_devlist_check(&l) != PIER_DEVLIST_OK || l.count < 1 ||
	    l.count > PIER_DEVLIST_MAX_DEVICES || size > PIER_DEVLIST_MAX_BYTES)
		abort();
	for (unsigned i = 0; i < l.count; i++)
		if (memchr(l.dev[i].name, '\0', sizeof(l.dev[i].name)) == NULL ||
		    pier_devlist_find(&l, l.dev[i].id) != (int)i)
			abort();
	n = pier_devlist_encode(&l, out, sizeof(out));
	if (n != size || memcmp(out, data, size) != 0)
		abort();
	if (sodium_init() < 0 || pier_e2ee_devlist_open(data, size, sig, l.user, &l, NULL) == 0)
		abort();
	return 0;
}
