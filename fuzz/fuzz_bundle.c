/* fuzz_bundle.c - libFuzzer harness: the parser of a `keys` reply (src/lib/e2ee/bundle.c) on
 * any text, as the server (or whoever sits in its place) may send it.
 *
 * Checked: a reply that parses has a lower-case user, at most PIER_E2EE_BUNDLE_MAX devices with
 * distinct ids, and a list of at most PIER_DEVLIST_MAX_BYTES (none when the version is 0);
 * the list's bytes then go through the device list parser. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "e2ee/e2ee.h"   /* by its folder: pierd has a chat/e2ee.h */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pier_e2ee_bundle b;
	struct pier_devlist l;
	json_t *j = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);

	if (j == NULL)
		return 0;
	if (pier_e2ee_bundle_parse(j, &b) == PIER_E2EE_OK) {
		char key[PIER_KEY_MAX];

		pier_name_key(b.user, key);
		if (strcmp(key, b.user) != 0 || b.count > PIER_E2EE_BUNDLE_MAX ||
		    b.list_len > sizeof(b.list) || (b.version == 0 && b.list_len != 0))
			abort();
		for (unsigned i = 0; i < b.count; i++)
			for (unsigned k = 0; k < i; k++)
				if (memcmp(b.dev[i].keys.id, b.dev[k].keys.id, PIER_E2EE_ID_LEN) == 0)
					abort();
		(void)pier_devlist_parse(b.list, b.list_len, &l);
	}
	json_decref(j);
	return 0;
}
