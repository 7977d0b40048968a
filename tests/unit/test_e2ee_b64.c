/* test_e2ee_b64.c - pierd's one-pass base64url form check (src/server/chat/e2ee_b64.c)
 * against libsodium's decoder, which defines what pierd accepts: every text of up to 4
 * characters over an alphabet that holds each kind of character (the 64, padding, bytes
 * around them, NUL, bytes past 127), and random texts of many lengths, some made valid and
 * then broken in one place. The one difference on purpose: a byte past ASCII is refused
 * (libsodium 1.0.18 reads each as '_'; such a text is no base64url, and a client could not
 * decode what pierd stored). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "e2ee_chat.h"
#include "tap.h"

/* What pierd accepted before e2ee_b64.c: libsodium, whole texts, nothing ignored. */
static bool sodium_form(const char *s, size_t len)
{
	unsigned char *buf = malloc(len + 1);
	size_t out = 0;
	bool ok = sodium_base642bin(buf, len + 1, s, len, NULL, &out, NULL,
	                            sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0;

	free(buf);
	return ok;
}

static unsigned long mismatches;

/* Whether s has a byte past ASCII: libsodium 1.0.18 (Debian 12) takes every such byte for
 * '_' in the URL-safe variant (a signed char compared); pierd refuses them. */
static bool has_high_byte(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)s[i] > 0x7f)
			return true;
	}
	return false;
}

static void compare(const char *s, size_t len)
{
	bool want = has_high_byte(s, len) ? false : sodium_form(s, len);

	if (e2ee_b64_form(s, len) != want && mismatches++ < 10) {
		char hex[64] = "";

		for (size_t i = 0; i < len && i < 20; i++)
			snprintf(hex + 2 * i, 3, "%02x", (unsigned char)s[i]);
		CHECK(false, "e2ee_b64_form and libsodium differ on %zu bytes %s", len, hex);
	}
}

static void test_short_texts(void)
{
	/* the alphabet's edges and every character of the last position's low bits */
	static const char chars[] = "AQgwBCDPZaz09-_+/=.@`{\x7f\x80\xff\n";
	size_t n = sizeof(chars) - 1 + 1;   /* with NUL */
	char s[4];

	for (size_t a = 0; a < n; a++) {
		s[0] = chars[a];
		compare(s, 1);
		for (size_t b = 0; b < n; b++) {
			s[1] = chars[b];
			compare(s, 2);
			for (size_t c = 0; c < n; c++) {
				s[2] = chars[c];
				compare(s, 3);
				for (size_t d = 0; d < n; d++) {
					s[3] = chars[d];
					compare(s, 4);
				}
			}
		}
	}
	compare("", 0);
	/* Every base64url character last, for each leftover: the zero-bits rule. */
	for (int c = 0; c < 256; c++) {
		char t[3] = { 'A', 'A', (char)c };

		compare(t + 1, 2);
		compare(t, 3);
	}
	CHECK(mismatches == 0, "short texts: %lu mismatches", mismatches);
}

static void test_random_texts(void)
{
	static const char alpha[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	unsigned long before = mismatches;
	char s[700];
	unsigned char bytes[520];

	for (int round = 0; round < 20000; round++) {
		size_t len = randombytes_uniform(sizeof(s));

		/* a valid text of random bytes, then (most rounds) one character changed */
		randombytes_buf(bytes, sizeof(bytes));
		if (round % 2 == 0) {
			size_t nb = len * 3 / 4;

			if (nb > sizeof(bytes))
				nb = sizeof(bytes);
			sodium_bin2base64(s, sizeof(s), bytes, nb, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
			len = strlen(s);
		} else {
			for (size_t i = 0; i < len; i++)
				s[i] = alpha[randombytes_uniform(64)];
		}
		compare(s, len);
		if (len > 0 && round % 3 != 0) {
			s[randombytes_uniform((uint32_t)len)] = (char)randombytes_uniform(256);
			compare(s, len);
		}
	}
	CHECK(mismatches == before, "random texts: %lu mismatches", mismatches - before);
}

static void test_valid_limits(void)
{
	CHECK(!e2ee_b64_valid("", 0, 10), "the empty text is refused");
	CHECK(e2ee_b64_valid("AAAA", 4, 4), "4 characters at a limit of 4");
	CHECK(!e2ee_b64_valid("AAAAAA", 6, 4), "6 characters over a limit of 4");
	CHECK(!e2ee_b64_valid("AB", 2, 4), "nonzero bits past the last byte");
	CHECK(e2ee_b64_valid("AQ", 2, 4), "one byte");
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	test_short_texts();
	test_random_texts();
	test_valid_limits();
	return tap_done();
}
