/* fuzz_names.c - libFuzzer harness: the name rules on arbitrary strings. A name the rules
 * accept must fold to a key of the same length made only of allowed characters. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), key[PIER_KEY_MAX];

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (pier_name_check(s) == PIER_NAME_OK) {
		pier_name_key(s, key);
		if (strlen(key) != strlen(s) || pier_name_check(key) != PIER_NAME_OK)
			abort();
	}
	if (pier_room_check(s) == PIER_NAME_OK) {
		pier_name_key(s, key);
		if (strlen(key) != strlen(s) || pier_room_check(key) != PIER_NAME_OK)
			abort();
	}
	(void)pier_password_check(s);
	free(s);
	return 0;
}
