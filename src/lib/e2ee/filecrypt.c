/* filecrypt.c - files of private chats, encrypted by the client before upload
 * (docs/E2EE.md): crypto_secretstream_xchacha20poly1305 over 64 KiB chunks, the last one
 * tagged FINAL, so a file of any size goes through two chunk buffers and a truncated or
 * extended file is refused. */
#include "e2ee.h"

#include <string.h>

#include <stdlib.h>

#define TAG_FINAL crypto_secretstream_xchacha20poly1305_TAG_FINAL
#define ABYTES    crypto_secretstream_xchacha20poly1305_ABYTES

void pier_e2ee_file_push_init(struct pier_e2ee_file *f, struct pier_e2ee_rng *rng,
                              uint8_t key[32], uint8_t header[PIER_E2EE_FILE_HEADER])
{
	memset(f, 0, sizeof(*f));
	pier_e2ee_rng_fill(rng, key, 32);
	crypto_secretstream_xchacha20poly1305_init_push(&f->st, header, key);
}

int pier_e2ee_file_push(struct pier_e2ee_file *f, const uint8_t *in, size_t len, bool last,
                        uint8_t *out)
{
	if (f->done || len > PIER_E2EE_FILE_CHUNK || (!last && len != PIER_E2EE_FILE_CHUNK))
		return PIER_E2EE_ERR_FORMAT;
	crypto_secretstream_xchacha20poly1305_push(&f->st, out, NULL, in, len, NULL, 0,
	                                           last ? TAG_FINAL : 0);
	f->done = last;
	return PIER_E2EE_OK;
}

int pier_e2ee_file_pull_init(struct pier_e2ee_file *f, const uint8_t key[32],
                             const uint8_t header[PIER_E2EE_FILE_HEADER])
{
	memset(f, 0, sizeof(*f));
	if (crypto_secretstream_xchacha20poly1305_init_pull(&f->st, header, key) != 0)
		return PIER_E2EE_ERR_FORMAT;
	return PIER_E2EE_OK;
}

int pier_e2ee_file_pull(struct pier_e2ee_file *f, const uint8_t *in, size_t len, uint8_t *out,
                        size_t *out_len, bool *last)
{
	unsigned long long n;
	unsigned char tag;

	if (f->done || len < ABYTES || len > PIER_E2EE_FILE_CHUNK_CT)
		return PIER_E2EE_ERR_FORMAT;
	if (crypto_secretstream_xchacha20poly1305_pull(&f->st, out, &n, &tag, in, len, NULL, 0) != 0)
		return PIER_E2EE_ERR_AUTH;
	if (tag != 0 && tag != TAG_FINAL)
		return PIER_E2EE_ERR_FORMAT;
	*out_len = (size_t)n;
	*last = tag == TAG_FINAL;
	if (!*last && n != PIER_E2EE_FILE_CHUNK)
		return PIER_E2EE_ERR_FORMAT;   /* only the last chunk may be short */
	f->done = *last;
	return PIER_E2EE_OK;
}

void pier_e2ee_file_release(struct pier_e2ee_file *f)
{
	sodium_memzero(f, sizeof(*f));
}

/* Reads up to n bytes (fewer only at the end of the stream); -1 on an I/O error. */
static long read_full(FILE *in, uint8_t *buf, size_t n)
{
	size_t got = fread(buf, 1, n, in);

	return ferror(in) ? -1 : (long)got;
}

int pier_e2ee_file_encrypt_stream(FILE *in, FILE *out, struct pier_e2ee_rng *rng,
                                  uint8_t key[32], uint8_t header[PIER_E2EE_FILE_HEADER])
{
	uint8_t *a = malloc(PIER_E2EE_FILE_CHUNK), *b = malloc(PIER_E2EE_FILE_CHUNK),
	        *ct = malloc(PIER_E2EE_FILE_CHUNK_CT);
	struct pier_e2ee_file f;
	long n, next;
	int rc = PIER_E2EE_ERR_LIMIT;

	pier_e2ee_file_push_init(&f, rng, key, header);
	if (a == NULL || b == NULL || ct == NULL)
		goto out;
	/* One chunk ahead: a full chunk is the last only if nothing follows it. */
	n = read_full(in, a, PIER_E2EE_FILE_CHUNK);
	while (n >= 0) {
		uint8_t *t;
		bool last;

		next = n == PIER_E2EE_FILE_CHUNK ? read_full(in, b, PIER_E2EE_FILE_CHUNK) : 0;
		if (next < 0)
			goto out;
		last = next == 0;
		pier_e2ee_file_push(&f, a, (size_t)n, last, ct);
		if (fwrite(ct, 1, (size_t)n + ABYTES, out) != (size_t)n + ABYTES)
			goto out;
		if (last) {
			rc = PIER_E2EE_OK;
			goto out;
		}
		t = a;
		a = b;
		b = t;
		n = next;
	}
out:
	pier_e2ee_file_release(&f);
	if (a != NULL)
		sodium_memzero(a, PIER_E2EE_FILE_CHUNK);
	if (b != NULL)
		sodium_memzero(b, PIER_E2EE_FILE_CHUNK);
	free(a);
	free(b);
	free(ct);
	return rc;
}

int pier_e2ee_file_decrypt_stream(FILE *in, FILE *out, const uint8_t key[32],
                                  const uint8_t header[PIER_E2EE_FILE_HEADER])
{
	uint8_t *ct = malloc(PIER_E2EE_FILE_CHUNK_CT), *pt = malloc(PIER_E2EE_FILE_CHUNK);
	struct pier_e2ee_file f;
	bool last = false;
	int rc = PIER_E2EE_ERR_LIMIT;

	memset(&f, 0, sizeof(f));
	if (ct == NULL || pt == NULL)
		goto out;
	rc = pier_e2ee_file_pull_init(&f, key, header);
	while (rc == PIER_E2EE_OK && !last) {
		long n = read_full(in, ct, PIER_E2EE_FILE_CHUNK_CT);
		size_t m;

		if (n < 0) {
			rc = PIER_E2EE_ERR_LIMIT;
			break;
		}
		if (n == 0) {
			rc = PIER_E2EE_ERR_FORMAT;   /* truncated: no FINAL chunk */
			break;
		}
		rc = pier_e2ee_file_pull(&f, ct, (size_t)n, pt, &m, &last);
		if (rc == PIER_E2EE_OK && fwrite(pt, 1, m, out) != m)
			rc = PIER_E2EE_ERR_LIMIT;
	}
	if (rc == PIER_E2EE_OK && fgetc(in) != EOF)
		rc = PIER_E2EE_ERR_FORMAT;       /* bytes after FINAL */
out:
	pier_e2ee_file_release(&f);
	if (pt != NULL)
		sodium_memzero(pt, PIER_E2EE_FILE_CHUNK);
	free(ct);
	free(pt);
	return rc;
}
