/* fuzz_envelope_event.c - libFuzzer harness: pierd's envelope event encoder
 * (src/server/chat/e2ee_event.c) against jansson on any field values.
 *
 * The input is the envelope: six integers from its first 48 bytes (qid, message id, ts,
 * reply_to, media id and size; fewer bytes leave zeros), then up to eight strings separated
 * by NUL (from, from_device, to, payload, body, media name, media type, and which of payload
 * and to are absent). Checked: e2ee_envelope_sbuf writes exactly the bytes sbuf_from_json
 * writes for e2ee_envelope_event. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2ee_chat.h"
#include "sbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int64_t nums[6] = { 0 };
	char *text, *fields[8] = { 0 };
	size_t nfields = 0, n = size < sizeof(nums) ? size : sizeof(nums);
	struct store_envelope v = { 0 };
	struct sbuf *fast, *ref;
	json_t *ev;

	memcpy(nums, data, n);
	text = malloc(size - n + 1);
	memcpy(text, data + n, size - n);
	text[size - n] = '\0';
	for (char *p = text; nfields < 8 && p <= text + size - n; p += strlen(p) + 1)
		fields[nfields++] = p;
	v.qid = nums[0];
	v.msg_id = nums[1];
	v.ts = nums[2];
	v.reply_to = nums[3];
	v.media_id = nums[4];
	v.media_size = nums[5];
	v.from = fields[0];
	if (fields[1] != NULL)
		snprintf(v.from_device, sizeof(v.from_device), "%s", fields[1]);
	v.to = fields[2];
	v.payload = fields[3];
	v.body = fields[4];
	v.media_name = fields[5];
	v.media_type = fields[6];
	if (fields[7] != NULL && strchr(fields[7], 'p') != NULL)
		v.payload = NULL;
	if (fields[7] != NULL && strchr(fields[7], 't') != NULL)
		v.to = NULL;

	fast = e2ee_envelope_sbuf(&v);
	ev = e2ee_envelope_event(&v);
	ref = sbuf_from_json(ev);
	if (fast->len != ref->len || memcmp(fast->data, ref->data, ref->len) != 0)
		abort();
	sbuf_unref(fast);
	sbuf_unref(ref);
	json_decref(ev);
	free(text);
	return 0;
}
