/* fuzz_fastreq.c - libFuzzer harness: fastreq.c (send, plain or encrypted, and ping decoded
 * without a tree) against jansson on any bytes (check_fastreq.h: whatever fastreq accepts,
 * json_loadb accepts with equal values). Each input is tried three times: as a whole request
 * line, as the body of the text string of a send, so that random bytes exercise the string
 * decoder (escapes, UTF-8) where a whole random line would almost never be a request, and as
 * what follows "keys":[ in an encrypted send (the nested objects and arrays). */
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
	static const char e2ee_head[] = "{\"op\":\"send\",\"to\":\"@bob_01\",\"e2ee\":{"
	                                "\"payload\":\"UEFZ\",\"keys\":[";
	char *line = malloc(size + 1), *wrapped = malloc(sizeof(e2ee_head) + size + sizeof(tail));

	if (line == NULL || wrapped == NULL)
		abort();
	/* Exactly size bytes, so that ASan sees a read past the end. */
	memcpy(line, data, size);
	check(line, size);
	memcpy(wrapped, head, sizeof(head) - 1);
	memcpy(wrapped + sizeof(head) - 1, data, size);
	memcpy(wrapped + sizeof(head) - 1 + size, tail, sizeof(tail) - 1);
	check(wrapped, sizeof(head) - 1 + size + sizeof(tail) - 1);
	memcpy(wrapped, e2ee_head, sizeof(e2ee_head) - 1);
	memcpy(wrapped + sizeof(e2ee_head) - 1, data, size);
	check(wrapped, sizeof(e2ee_head) - 1 + size);
	free(line);
	free(wrapped);
	return 0;
}
