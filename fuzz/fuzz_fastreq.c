/* fuzz_fastreq.c - libFuzzer harness: fastreq.c (send and ping decoded without a tree)
 * against jansson on any bytes (check_fastreq.h: whatever fastreq accepts, json_loadb accepts
 * with equal values). Each input is tried twice: as a whole request line, and as the body
 * of the text string of a send, so that random bytes exercise the string decoder (escapes,
 * UTF-8) where a whole random line would almost never be a request. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_fastreq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const char *line, size_t len)
{
	bool accepted;
	const char *diff = fastreq_vs_jansson(line, len, &accepted);

	if (diff != NULL) {
		fprintf(stderr, "fastreq: %s: %.*s\n", diff, (int)(len > 400 ? 400 : len), line);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char head[] = "{\"op\":\"send\",\"to\":\"@bob_01\",\"text\":\"";
	static const char tail[] = "\",\"ref\":\"r1\"}";
	char *line = malloc(size + 1), *wrapped = malloc(sizeof(head) + size + sizeof(tail));

	if (line == NULL || wrapped == NULL)
		abort();
	/* Exactly size bytes, so that ASan sees a read past the end. */
	memcpy(line, data, size);
	check(line, size);
	memcpy(wrapped, head, sizeof(head) - 1);
	memcpy(wrapped + sizeof(head) - 1, data, size);
	memcpy(wrapped + sizeof(head) - 1 + size, tail, sizeof(tail) - 1);
	check(wrapped, sizeof(head) - 1 + size + sizeof(tail) - 1);
	free(line);
	free(wrapped);
	return 0;
}
