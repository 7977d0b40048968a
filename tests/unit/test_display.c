/* test_display.c - display names and topics (display.c): NFC, the characters allowed, the
 * UTS #39 checks and the login names a display name may not look like. */
#include <string.h>

#include "display.h"
#include "tap.h"

static enum display_verdict name(struct display_rules *dr, const char *in, const char *self,
                                 char *out)
{
	return display_name_clean(dr, in, strlen(in), self, out);
}

static enum display_verdict topic(struct display_rules *dr, const char *in, char *out)
{
	return display_topic_clean(dr, in, strlen(in), out);
}

int main(void)
{
	struct display_rules *dr = display_rules_new();
	char out[DISPLAY_TOPIC_BYTES + 1], big[DISPLAY_INPUT_MAX + 64];
	enum display_verdict v;

	if (!CHECK(dr != NULL, "ICU's spoof checker opens"))
		return tap_done();
	display_rules_add_user(dr, "bob_22");
	display_rules_add_user(dr, "wang_xm");
	display_rules_add_user(dr, "Ian_Smith");

	{
		/* Login names' skeletons come from a per-character table (display.c): ICU's own for
		 * every pair of name characters and a few longer names (0/O, l/I/1, rn/m, cases). */
		static const char alpha[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		                            "0123456789_-.";
		static const char *const longer[] = { "bob_22", "Ian_Smith", "rnoderator", "I1lOo0",
		                                      "wang.xm-9", "MMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMM" };
		size_t bad = 0, n = strlen(alpha);
		char two[3] = "";

		for (size_t i = 0; i < n; i++) {
			for (size_t j = 0; j < n; j++) {
				two[0] = alpha[i];
				two[1] = alpha[j];
				bad += !display_name_keys_agree(dr, two);
			}
		}
		for (size_t i = 0; i < sizeof(longer) / sizeof(longer[0]); i++)
			bad += !display_name_keys_agree(dr, longer[i]);
		CHECK(bad == 0, "login-name skeletons by table match ICU's (%zu differ)", bad);
	}

	CHECK(name(dr, "王小明", "wang_xm", out) == DISPLAY_OK && strcmp(out, "王小明") == 0, "Chinese");
	CHECK(name(dr, "Ana María", NULL, out) == DISPLAY_OK, "Latin with an accent and a space");
	CHECK(name(dr, "山田たろう", NULL, out) == DISPLAY_OK, "Han with Hiragana");
	CHECK(name(dr, "김민수", NULL, out) == DISPLAY_OK, "Hangul");
	CHECK(name(dr, "Андрей", NULL, out) == DISPLAY_OK, "Cyrillic alone");
	CHECK(name(dr, "王小明 Wang", NULL, out) == DISPLAY_OK, "Latin with Han");
	CHECK(name(dr, "玛丽·居里", NULL, out) == DISPLAY_OK, "a middle dot in a transliterated name");
	CHECK(name(dr, "  Zoë  ", NULL, out) == DISPLAY_OK && strcmp(out, "Zoë") == 0,
	      "spaces at the ends are trimmed: '%s'", out);

	/* Not NFC: e + U+0301 becomes U+00E9. */
	v = name(dr, "Rene\xcc\x81", NULL, out);
	CHECK(v == DISPLAY_OK && strcmp(out, "Ren\xc3\xa9") == 0, "NFC: '%s' (%s)", out,
	      display_reason(v));
	/* Hangul jamo compose. */
	v = name(dr, "\xe1\x84\x80\xe1\x85\xa1", NULL, out);
	CHECK(v == DISPLAY_OK && strcmp(out, "가") == 0, "jamo compose under NFC (%s)", display_reason(v));

	CHECK(name(dr, "", NULL, out) == DISPLAY_EMPTY, "empty");
	CHECK(name(dr, " \xe3\x80\x80 ", NULL, out) == DISPLAY_EMPTY, "only spaces");
	CHECK(name(dr, "abcdefghijabcdefghijabcdefghij12", NULL, out) == DISPLAY_OK, "32 characters");
	CHECK(name(dr, "abcdefghijabcdefghijabcdefghij123", NULL, out) == DISPLAY_TOO_LONG, "33 characters");
	CHECK(name(dr, "一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二", NULL, out) ==
	      DISPLAY_OK, "32 Han characters (96 bytes)");
	CHECK(name(dr, "一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三", NULL, out) ==
	      DISPLAY_TOO_LONG, "33 Han characters");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK(name(dr, big, NULL, out) == DISPLAY_TOO_LONG, "a long input is refused unread");

	CHECK(name(dr, "ab\tcd", NULL, out) == DISPLAY_CONTROL, "tab");
	CHECK(name(dr, "ab\ncd", NULL, out) == DISPLAY_CONTROL, "newline");
	CHECK(name(dr, "ab\xc2\x85" "cd", NULL, out) == DISPLAY_CONTROL, "C1 control (NEL)");
	CHECK(display_name_clean(dr, "ab\0cd", 5, NULL, out) == DISPLAY_BAD_UTF8, "NUL");
	CHECK(name(dr, "ab\xff", NULL, out) == DISPLAY_BAD_UTF8, "not UTF-8");
	CHECK(name(dr, "\xe2\x80\xae" "cba", NULL, out) == DISPLAY_FORMAT, "RLO (U+202E)");
	CHECK(name(dr, "ab\xe2\x81\xa6" "cd", NULL, out) == DISPLAY_FORMAT, "LRI (U+2066)");
	CHECK(name(dr, "ab\xe2\x80\x8b" "cd", NULL, out) == DISPLAY_FORMAT, "zero width space");
	CHECK(name(dr, "ab\xe2\x80\x8d" "cd", NULL, out) == DISPLAY_FORMAT, "zero width joiner");
	CHECK(name(dr, "ab\xd8\x9c" "cd", NULL, out) == DISPLAY_FORMAT, "Arabic letter mark");
	CHECK(name(dr, "\xe3\x85\xa4", NULL, out) == DISPLAY_FORMAT, "Hangul filler (invisible)");
	CHECK(name(dr, "alice 😀", NULL, out) == DISPLAY_CHAR, "emoji");
	CHECK(name(dr, "a<b>", NULL, out) == DISPLAY_CHAR, "markup");
	CHECK(name(dr, "two  spaces", NULL, out) == DISPLAY_SPACES, "two spaces");

	CHECK(name(dr, "p\xd0\xb0ypal", NULL, out) == DISPLAY_MIXED_SCRIPT, "Cyrillic a in Latin");
	CHECK(name(dr, "Андрей Smith", NULL, out) == DISPLAY_MIXED_SCRIPT, "Cyrillic with Latin");
	CHECK(name(dr, "a8\xe0\xa7\xaa", NULL, out) == DISPLAY_MIXED_NUMBERS, "8 with a Bengali four");
	CHECK(name(dr, "a\xcc\x81\xcc\x81", NULL, out) == DISPLAY_INVISIBLE, "a mark twice");

	CHECK(name(dr, "bob_22", NULL, out) == DISPLAY_LOOKS_LIKE_USER, "another user's login name");
	CHECK(name(dr, "BOB_22", NULL, out) == DISPLAY_LOOKS_LIKE_USER, "in another case");
	CHECK(name(dr, "b\xd0\xbe\xd0\xac_22", NULL, out) != DISPLAY_OK, "with Cyrillic letters");
	CHECK(name(dr, "lan_Smith", NULL, out) == DISPLAY_LOOKS_LIKE_USER, "l for I (confusable)");
	CHECK(name(dr, "b0b_22", NULL, out) == DISPLAY_LOOKS_LIKE_USER, "0 for o (confusable)");
	CHECK(name(dr, "wang_xrn", NULL, out) == DISPLAY_LOOKS_LIKE_USER, "rn for m (confusable)");
	CHECK(name(dr, "wang_xm", "wang_xm", out) == DISPLAY_OK, "one's own login name is fine");
	CHECK(name(dr, "bob_23", NULL, out) == DISPLAY_OK, "a name nobody has");
	CHECK(strcmp(display_reason(DISPLAY_FORMAT), "bidi") == 0, "reasons have names");

	CHECK(topic(dr, "Release 2.0 🚀 发布", out) == DISPLAY_OK, "a topic with an emoji and Chinese");
	CHECK(topic(dr, "family 👨\xe2\x80\x8d👩\xe2\x80\x8d👧", out) == DISPLAY_OK, "ZWJ sequence");
	CHECK(topic(dr, "", out) == DISPLAY_OK && out[0] == '\0', "empty: no topic");
	CHECK(topic(dr, "a\nb", out) == DISPLAY_CONTROL, "newline in a topic");
	CHECK(topic(dr, "a\xe2\x80\xae" "b", out) == DISPLAY_FORMAT, "RLO in a topic");
	CHECK(topic(dr, "a\xee\x80\x80", out) == DISPLAY_CHAR, "private use in a topic");
	memset(big, 'x', DISPLAY_TOPIC_BYTES + 1);
	big[DISPLAY_TOPIC_BYTES + 1] = '\0';
	CHECK(topic(dr, big, out) == DISPLAY_TOO_LONG, "a topic over %d bytes", DISPLAY_TOPIC_BYTES);
	big[DISPLAY_TOPIC_BYTES] = '\0';
	CHECK(topic(dr, big, out) == DISPLAY_OK, "a topic of %d bytes", DISPLAY_TOPIC_BYTES);
	display_rules_free(dr);
	return tap_done();
}
