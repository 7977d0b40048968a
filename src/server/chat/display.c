/* display.c - display names and topics checked with ICU (display.h): NFC with unorm2,
 * categories with u_charType, UTS #39 with uspoof (restriction level, mixed numbers,
 * invisible characters, hidden overlays, skeletons of login names).
 *
 * Why ICU (docs/DESIGN.md): it is the one library in Debian that implements UTS #39 (the
 * confusables data and the restriction levels); libunistring normalizes and classifies but
 * knows nothing of confusables, and a table of our own would age with every Unicode release.
 */
#include "display.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/uspoof.h>
#include <unicode/ustring.h>
#include <uthash.h>

#include "xalloc.h"

#define U16_MAX  (DISPLAY_TOPIC_INPUT + 16)   /* UTF-16 units of any input we read */
#define SKEL_MAX 256                          /* bytes of a login name's skeleton */
#define SKEL_KEYS 3                           /* as it is, lower case, upper case */

/* A skeleton some login name has, with how many names have it. */
struct skel {
	UT_hash_handle hh;
	unsigned count;
	char key[];
};

/* The skeleton of each ASCII character, when every character a login name may hold maps to
 * ASCII (then a login name's skeleton is its characters' skeletons end to end: UTS #39 maps
 * code point by code point and NFD leaves ASCII alone), or ascii_ok false and ICU does all. */
#define ASCII_SKEL_MAX 8

struct display_rules {
	USpoofChecker *spoof;
	const UNormalizer2 *nfc;
	struct skel *skels;
	bool ascii_ok;
	char ascii_skel[128][ASCII_SKEL_MAX];   /* "" for characters login names do not hold */
};

static int name_keys_icu(struct display_rules *dr, const char *name,
                         char keys[SKEL_KEYS][SKEL_MAX]);
static void ascii_table_init(struct display_rules *dr);

struct display_rules *display_rules_new(void)
{
	UErrorCode st = U_ZERO_ERROR;
	struct display_rules *dr = xcalloc(1, sizeof(*dr));

	dr->nfc = unorm2_getNFCInstance(&st);
	dr->spoof = uspoof_open(&st);
	uspoof_setChecks(dr->spoof, USPOOF_RESTRICTION_LEVEL | USPOOF_MIXED_NUMBERS |
	                 USPOOF_INVISIBLE | USPOOF_HIDDEN_OVERLAY | USPOOF_AUX_INFO, &st);
	uspoof_setRestrictionLevel(dr->spoof, USPOOF_MODERATELY_RESTRICTIVE);
	if (U_FAILURE(st)) {
		display_rules_free(dr);
		return NULL;
	}
	ascii_table_init(dr);
	return dr;
}

void display_rules_free(struct display_rules *dr)
{
	struct skel *s, *tmp;

	if (dr == NULL)
		return;
	HASH_ITER(hh, dr->skels, s, tmp) {
		HASH_DEL(dr->skels, s);
		free(s);
	}
	if (dr->spoof != NULL)
		uspoof_close(dr->spoof);
	free(dr);
}

const char *display_reason(enum display_verdict v)
{
	static const char *const names[] = {
		[DISPLAY_OK] = "ok", [DISPLAY_EMPTY] = "empty", [DISPLAY_TOO_LONG] = "too_long",
		[DISPLAY_BAD_UTF8] = "bad_utf8", [DISPLAY_CONTROL] = "control",
		[DISPLAY_FORMAT] = "bidi", [DISPLAY_CHAR] = "character", [DISPLAY_SPACES] = "spaces",
		[DISPLAY_MIXED_SCRIPT] = "mixed_script", [DISPLAY_MIXED_NUMBERS] = "mixed_numbers",
		[DISPLAY_INVISIBLE] = "invisible", [DISPLAY_LOOKS_LIKE_USER] = "looks_like_user",
	};

	return (size_t)v < sizeof(names) / sizeof(names[0]) ? names[v] : "invalid";
}

/* in (len bytes) as NFC UTF-16 in out (U16_MAX units): its length, or a verdict < 0. */
static int32_t to_nfc(struct display_rules *dr, const char *in, size_t len, UChar *out)
{
	UChar raw[U16_MAX];
	UErrorCode st = U_ZERO_ERROR;
	int32_t n = 0, m;

	if (memchr(in, '\0', len) != NULL)
		return -DISPLAY_BAD_UTF8;
	u_strFromUTF8(raw, U16_MAX, &n, in, (int32_t)len, &st);
	if (st == U_BUFFER_OVERFLOW_ERROR || st == U_STRING_NOT_TERMINATED_WARNING)
		return -DISPLAY_TOO_LONG;
	if (U_FAILURE(st))
		return -DISPLAY_BAD_UTF8;
	st = U_ZERO_ERROR;
	m = unorm2_normalize(dr->nfc, raw, n, out, U16_MAX, &st);
	if (st == U_BUFFER_OVERFLOW_ERROR || st == U_STRING_NOT_TERMINATED_WARNING)
		return -DISPLAY_TOO_LONG;
	return U_FAILURE(st) ? -DISPLAY_BAD_UTF8 : m;
}

static bool is_space(UChar32 c)
{
	return c == 0x20 || c == 0x3000;
}

/* Drops the spaces at both ends of s (n units); returns the new length (s is moved down). */
static int32_t trim(UChar *s, int32_t n)
{
	int32_t a = 0;

	while (a < n && is_space(s[a]))
		a++;
	while (n > a && is_space(s[n - 1]))
		n--;
	memmove(s, s + a, (size_t)(n - a) * sizeof(UChar));
	return n - a;
}

/* The class of c for both rules: control, format/bidi, or 0 when neither. */
static enum display_verdict control_or_format(UChar32 c)
{
	int8_t t = u_charType(c);

	if (t == U_CONTROL_CHAR || t == U_LINE_SEPARATOR || t == U_PARAGRAPH_SEPARATOR)
		return DISPLAY_CONTROL;
	if (t == U_FORMAT_CHAR || u_hasBinaryProperty(c, UCHAR_BIDI_CONTROL) ||
	    u_hasBinaryProperty(c, UCHAR_DEFAULT_IGNORABLE_CODE_POINT))
		return DISPLAY_FORMAT;
	return DISPLAY_OK;
}

static bool name_char(UChar32 c)
{
	switch (u_charType(c)) {
	case U_UPPERCASE_LETTER: case U_LOWERCASE_LETTER: case U_TITLECASE_LETTER:
	case U_MODIFIER_LETTER: case U_OTHER_LETTER:
	case U_NON_SPACING_MARK: case U_COMBINING_SPACING_MARK:
	case U_DECIMAL_DIGIT_NUMBER:
		return true;
	default:
		return c == '-' || c == '_' || c == '.' || c == '\'' || c == 0xb7 || c == 0x30fb;
	}
}

/* UTF-16 s (n units) into UTF-8 out (cap bytes with the NUL); false when it does not fit. */
static bool to_utf8(const UChar *s, int32_t n, char *out, size_t cap)
{
	UErrorCode st = U_ZERO_ERROR;
	int32_t len = 0;

	u_strToUTF8(out, (int32_t)cap, &len, s, n, &st);
	return U_SUCCESS(st) && st != U_STRING_NOT_TERMINATED_WARNING && (size_t)len < cap;
}

/* The skeleton of s (n units) as UTF-8 in out (SKEL_MAX); false when it cannot be made. */
static bool skeleton(struct display_rules *dr, const UChar *s, int32_t n, char *out)
{
	UChar sk[U16_MAX];
	UErrorCode st = U_ZERO_ERROR;
	int32_t len = uspoof_getSkeleton(dr->spoof, 0, s, n, sk, U16_MAX, &st);

	return U_SUCCESS(st) && len < U16_MAX && to_utf8(sk, len, out, SKEL_MAX);
}

/* The skeletons of s (n units) as it is, in lower and in upper case (login names are
 * case-blind, and some look-alikes are only confusable in one case: 0 and O, l and I): how
 * many distinct ones were made into keys. */
static int skeletons(struct display_rules *dr, const UChar *s, int32_t n,
                     char keys[SKEL_KEYS][SKEL_MAX])
{
	UChar cased[U16_MAX];
	int k = 0;

	for (int v = 0; v < SKEL_KEYS; v++) {
		UErrorCode st = U_ZERO_ERROR;
		int32_t m = n;
		bool dup = false;

		if (v == 0)
			memcpy(cased, s, (size_t)n * sizeof(UChar));
		else if (v == 1)
			m = u_strToLower(cased, U16_MAX, s, n, "", &st);
		else
			m = u_strToUpper(cased, U16_MAX, s, n, "", &st);
		if (U_FAILURE(st) || m >= U16_MAX || !skeleton(dr, cased, m, keys[k]))
			continue;
		for (int j = 0; j < k; j++)
			dup |= strcmp(keys[j], keys[k]) == 0;
		if (!dup)
			k++;
	}
	return k;
}

static bool login_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-' || c == '.';
}

/* The ICU skeleton of each login-name character alone; ascii_ok when all are ASCII. */
static void ascii_table_init(struct display_rules *dr)
{
	dr->ascii_ok = true;
	for (int c = 1; c < 128; c++) {
		char sk[SKEL_MAX];
		UChar u = (UChar)c;

		if (!login_name_char((char)c))
			continue;
		if (!skeleton(dr, &u, 1, sk) || sk[0] == '\0' || strlen(sk) >= ASCII_SKEL_MAX) {
			dr->ascii_ok = false;
			return;
		}
		for (const char *k = sk; *k != '\0'; k++)
			if ((unsigned char)*k >= 128)
				dr->ascii_ok = false;
		memcpy(dr->ascii_skel[c], sk, strlen(sk) + 1);
	}
}

/* The keys of login name by the table (as it is, lower case, upper case): how many, or -1
 * when the table cannot say (not a login name, or too long). */
static int name_keys_ascii(struct display_rules *dr, const char *name,
                           char keys[SKEL_KEYS][SKEL_MAX])
{
	int k = 0;

	if (!dr->ascii_ok)
		return -1;
	for (int v = 0; v < SKEL_KEYS; v++) {
		size_t len = 0;
		bool dup = false;

		for (const char *p = name; *p != '\0'; p++) {
			char c = *p;
			const char *sk;
			size_t n;

			if (!login_name_char(c))
				return -1;
			if (v == 1 && c >= 'A' && c <= 'Z')
				c = (char)(c - 'A' + 'a');
			else if (v == 2 && c >= 'a' && c <= 'z')
				c = (char)(c - 'a' + 'A');
			sk = dr->ascii_skel[(unsigned char)c];
			n = strlen(sk);
			if (len + n >= SKEL_MAX)
				return -1;
			memcpy(keys[k] + len, sk, n);
			len += n;
		}
		keys[k][len] = '\0';
		for (int j = 0; j < k; j++)
			dup |= strcmp(keys[j], keys[k]) == 0;
		if (!dup)
			k++;
	}
	return k;
}

/* The keys of login name (ASCII): into keys, how many. The table's answer is ICU's (a unit
 * test compares them, display_name_keys_agree) at a tenth of the cost, which registrations
 * and the start (every user's name) pay. */
static int name_keys(struct display_rules *dr, const char *name, char keys[SKEL_KEYS][SKEL_MAX])
{
	int n = name_keys_ascii(dr, name, keys);

	return n >= 0 ? n : name_keys_icu(dr, name, keys);
}

bool display_name_keys_agree(struct display_rules *dr, const char *name)
{
	char a[SKEL_KEYS][SKEL_MAX], b[SKEL_KEYS][SKEL_MAX];
	int na = name_keys_ascii(dr, name, a), nb = name_keys_icu(dr, name, b);

	if (na < 0)
		return false;
	if (na != nb)
		return false;
	for (int i = 0; i < na; i++)
		if (strcmp(a[i], b[i]) != 0)
			return false;
	return true;
}

/* The keys of login name (ASCII) by ICU: into keys, how many. */
static int name_keys_icu(struct display_rules *dr, const char *name,
                         char keys[SKEL_KEYS][SKEL_MAX])
{
	UChar u[U16_MAX];
	UErrorCode st = U_ZERO_ERROR;
	int32_t n = 0;

	u_strFromUTF8(u, U16_MAX, &n, name, -1, &st);
	if (U_FAILURE(st) || n >= U16_MAX)
		return 0;
	return skeletons(dr, u, n, keys);
}

void display_rules_add_user(struct display_rules *dr, const char *name)
{
	char keys[SKEL_KEYS][SKEL_MAX];
	int n = name_keys(dr, name, keys);

	for (int i = 0; i < n; i++) {
		struct skel *s;

		HASH_FIND_STR(dr->skels, keys[i], s);
		if (s == NULL) {
			size_t len = strlen(keys[i]);

			s = xcalloc(1, sizeof(*s) + len + 1);
			memcpy(s->key, keys[i], len + 1);
			HASH_ADD_KEYPTR(hh, dr->skels, s->key, len, s);
		}
		s->count++;
	}
}

/* Whether the display name (n units) looks like the login name of a user other than self. */
static bool looks_like_other(struct display_rules *dr, const UChar *s, int32_t n,
                             const char *self)
{
	char keys[SKEL_KEYS][SKEL_MAX], own[SKEL_KEYS][SKEL_MAX];
	int nk = skeletons(dr, s, n, keys), no = self != NULL ? name_keys(dr, self, own) : 0;

	for (int i = 0; i < nk; i++) {
		struct skel *sk;
		unsigned mine = 0;

		HASH_FIND_STR(dr->skels, keys[i], sk);
		if (sk == NULL)
			continue;
		for (int j = 0; j < no; j++)
			mine += strcmp(own[j], keys[i]) == 0;
		if (sk->count > mine)
			return true;
	}
	return false;
}

enum display_verdict display_name_clean(struct display_rules *dr, const char *in, size_t len,
                                        const char *self, char *out)
{
	UChar s[U16_MAX];
	UErrorCode st = U_ZERO_ERROR;
	int32_t n, i = 0, chars = 0, checks;
	bool space = false;

	if (len > DISPLAY_INPUT_MAX)
		return DISPLAY_TOO_LONG;
	n = to_nfc(dr, in, len, s);
	if (n < 0)
		return (enum display_verdict)-n;
	n = trim(s, n);
	if (n == 0)
		return DISPLAY_EMPTY;
	while (i < n) {
		UChar32 c;
		enum display_verdict v;

		U16_NEXT(s, i, n, c);
		if (++chars > DISPLAY_CHARS_MAX)
			return DISPLAY_TOO_LONG;
		v = control_or_format(c);
		if (v != DISPLAY_OK)
			return v;
		if (is_space(c)) {
			if (space)
				return DISPLAY_SPACES;
			space = true;
			continue;
		}
		space = false;
		if (!name_char(c))
			return DISPLAY_CHAR;
	}
	checks = uspoof_check2(dr->spoof, s, n, NULL, &st);
	if (U_FAILURE(st))
		return DISPLAY_CHAR;
	if (checks & USPOOF_RESTRICTION_LEVEL)
		return DISPLAY_MIXED_SCRIPT;
	if (checks & USPOOF_MIXED_NUMBERS)
		return DISPLAY_MIXED_NUMBERS;
	if (checks & (USPOOF_INVISIBLE | USPOOF_HIDDEN_OVERLAY))
		return DISPLAY_INVISIBLE;
	if (looks_like_other(dr, s, n, self))
		return DISPLAY_LOOKS_LIKE_USER;
	return to_utf8(s, n, out, DISPLAY_BYTES_MAX + 1) ? DISPLAY_OK : DISPLAY_TOO_LONG;
}

enum display_verdict display_topic_clean(struct display_rules *dr, const char *in, size_t len,
                                         char *out)
{
	UChar s[U16_MAX];
	int32_t n, i = 0;

	if (len > DISPLAY_TOPIC_INPUT)
		return DISPLAY_TOO_LONG;
	n = to_nfc(dr, in, len, s);
	if (n < 0)
		return (enum display_verdict)-n;
	n = trim(s, n);
	while (i < n) {
		UChar32 c;
		int8_t t;

		U16_NEXT(s, i, n, c);
		if (c == 0x200d)
			continue;          /* joins emoji sequences: 👨‍👩‍👧 */
		if (control_or_format(c) != DISPLAY_OK && !u_hasBinaryProperty(c, UCHAR_VARIATION_SELECTOR))
			return control_or_format(c);
		t = u_charType(c);
		if (t == U_UNASSIGNED || t == U_PRIVATE_USE_CHAR || t == U_SURROGATE)
			return DISPLAY_CHAR;
	}
	return to_utf8(s, n, out, DISPLAY_TOPIC_BYTES + 1) ? DISPLAY_OK : DISPLAY_TOO_LONG;
}
