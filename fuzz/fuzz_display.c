/* fuzz_display.c - libFuzzer harness: display names and topics (display.c, ICU) on arbitrary
 * bytes. What the rules accept must be accepted again unchanged (NFC and trimming are
 * idempotent) and fit its byte limit. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "display.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct display_rules *dr;
	char name[DISPLAY_BYTES_MAX + 1], again[DISPLAY_TOPIC_BYTES + 1];
	char topic[DISPLAY_TOPIC_BYTES + 1];

	if (dr == NULL) {
		dr = display_rules_new();
		if (dr == NULL)
			abort();
		display_rules_add_user(dr, "bob_22");
	}
	if (display_name_clean(dr, (const char *)data, size, "alice_1", name) == DISPLAY_OK) {
		if (strlen(name) > DISPLAY_BYTES_MAX ||
		    display_name_clean(dr, name, strlen(name), "alice_1", again) != DISPLAY_OK ||
		    strcmp(name, again) != 0)
			abort();
	}
	if (display_topic_clean(dr, (const char *)data, size, topic) == DISPLAY_OK) {
		if (strlen(topic) > DISPLAY_TOPIC_BYTES ||
		    display_topic_clean(dr, topic, strlen(topic), again) != DISPLAY_OK ||
		    strcmp(topic, again) != 0)
			abort();
	}
	return 0;
}
