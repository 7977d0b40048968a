/* e2ee_b64.c - the base64url form checks of pierd's e2ee requests, in one pass over the
 * text: every key, signature, payload and envelope body is checked before any work, and a
 * payload is checked on every encrypted send, so the check is a table look-up a character.
 *
 * What passes is what libsodium's sodium_base642bin accepts for
 * sodium_base64_VARIANT_URLSAFE_NO_PADDING with no characters to ignore (test_e2ee_b64
 * compares the two): the 64 characters A-Z a-z 0-9 - _, no padding, a length that is not
 * 1 modulo 4, and the bits past the last whole byte zero (so each byte string has one text).
 * One difference, on purpose: libsodium 1.0.18 (Debian 12) reads any byte past ASCII as '_'
 * (it compares a signed char), so "AAé" passed its check and was stored, a text no client
 * decodes; here such bytes are refused (bad_envelope / bad_request, as for any text that is
 * not base64url). */
#include "e2ee_chat.h"

#include <string.h>

/* 1 for the 64 characters of base64url; the value of each does not matter here, only the
 * low bits of the last one (below). */
static const unsigned char b64url[256] = {
	['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1,
	['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1,
	['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
	['Y'] = 1, ['Z'] = 1,
	['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1,
	['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1,
	['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
	['y'] = 1, ['z'] = 1,
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
	['8'] = 1, ['9'] = 1, ['-'] = 1, ['_'] = 1,
};

/* The 6-bit value of base64url character c (c is one of the 64). */
static unsigned b64url_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return (unsigned)(c - 'A');
	if (c >= 'a' && c <= 'z')
		return (unsigned)(c - 'a') + 26;
	if (c >= '0' && c <= '9')
		return (unsigned)(c - '0') + 52;
	return c == '-' ? 62 : 63;
}

bool e2ee_b64_form(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned bad = 0;

	if (len % 4 == 1)
		return false;               /* 6 bits left over: no byte */
	for (size_t i = 0; i < len; i++)
		bad |= b64url[p[i]] ^ 1u;
	if (bad != 0)
		return false;
	/* The last character's bits past the last whole byte: 4 of them when 2 are left over
	 * (len % 4 == 2), 2 when 3 are. */
	if (len % 4 == 2)
		return (b64url_value(p[len - 1]) & 0x0f) == 0;
	if (len % 4 == 3)
		return (b64url_value(p[len - 1]) & 0x03) == 0;
	return true;
}

bool e2ee_b64_valid(const char *s, size_t len, size_t max)
{
	return len != 0 && len <= max && e2ee_b64_form(s, len);
}
