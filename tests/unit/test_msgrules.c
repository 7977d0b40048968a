/* test_msgrules.c - @mention tokens and the reaction rule (src/common/msgrules.c). */
#include <stdio.h>
#include <string.h>

#include "msgrules.h"
#include "tap.h"

/* The tokens found, as "name|alt " pairs (alt empty when there is none). */
struct found {
	char text[512];
	size_t len;
};

static bool collect(void *ud, const char *name, size_t len, size_t alt_len)
{
	struct found *f = ud;
	int n = snprintf(f->text + f->len, sizeof f->text - f->len, "%.*s|%.*s ", (int)len, name,
	                 (int)alt_len, name);

	if (n > 0)
		f->len += (size_t)n;
	return true;
}

/* Scans text (at most max tokens) and checks the tokens are want and their count n. */
static void scan(const char *text, size_t max, const char *want, size_t n)
{
	struct found f = { "", 0 };
	size_t got = pier_mentions_scan(text, max, collect, &f);

	CHECK(got == n && strcmp(f.text, want) == 0, "scan \"%s\": want [%s] (%zu), got [%s] (%zu)",
	      text, want, n, f.text, got);
}

static bool stop_at_first(void *ud, const char *name, size_t len, size_t alt_len)
{
	(void)name;
	(void)len;
	(void)alt_len;
	++*(int *)ud;
	return false;
}

static void test_mentions(void)
{
	int calls = 0;

	scan("hi @bob_22, look", 20, "bob_22| ", 1);
	scan("@alice_1 first", 20, "alice_1| ", 1);
	scan("ask @bob_22.", 20, "bob_22.|bob_22 ", 1);          /* a sentence's full stop */
	scan("ask @dotted.name.", 20, "dotted.name.|dotted.name ", 1);
	scan("mail me@bob_22 or x@bob_22", 20, "", 0);            /* e-mail addresses */
	scan("@abc is too short, @toolongtoolongtoolongtoolongtoolong1 too long", 20, "", 0);
	scan("你好@bob_22你好", 20, "bob_22| ", 1);                /* glued to Chinese text */
	scan("全角＠carol_3 也算", 20, "carol_3| ", 1);            /* U+FF20 */
	scan("(@bob_22) [@carol_3]", 20, "bob_22| carol_3| ", 2);
	scan("@@bob_22", 20, "bob_22| ", 1);                      /* the second @ follows no name */
	scan("@bob_22 @bob_22 @carol_3", 2, "bob_22| bob_22| ", 2); /* at most max */
	scan("trailing @", 20, "", 0);
	scan("\xEF\xBC", 20, "", 0);                              /* a cut U+FF20 */
	/* 33 name characters ending in '.': the 32 before it are a name. */
	scan("@abcdefghijabcdefghijabcdefghij12.", 20, "abcdefghijabcdefghijabcdefghij12| ", 1);
	CHECK(pier_mentions_scan("@bob_22 @carol_3", 20, stop_at_first, &calls) == 1 && calls == 1,
	      "the callback stops the scan");
}

static void test_reactions(void)
{
	static const char *const good[] = {
		"👍", "❤️", "😂", "+1", "ok",
		"👨‍👩‍👧‍👦",                              /* a family: joined with U+200D */
		"🏴\U000E0067\U000E0062\U000E0065\U000E006E\U000E0067\U000E007F", /* England: tags */
		"1️⃣",                                  /* keycap */
		"🇨🇳", "好",
	};
	static const char *const bad[] = {
		"", "a b", "👍 ", "\t", "x\ny", "\x7f", "\xc2\x85",     /* empty, spaces, controls */
		"\xe2\x80\xae👍",                          /* U+202E right-to-left override */
		"\xe2\x80\x8b",                            /* zero-width space */
		"\xe3\x80\x80",                            /* ideographic space */
		"\xff", "\xc0\xaf", "\xed\xa0\x80",        /* not UTF-8: bad byte, overlong, surrogate */
		"123456789012345678901234567890123",       /* 33 bytes */
		"abcdefghijk",                             /* 11 code points */
	};

	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		CHECK(pier_reaction_check(good[i]), "reaction %zu (%s) is fine", i, good[i]);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CHECK(!pier_reaction_check(bad[i]), "reaction %zu is refused", i);
	CHECK(!pier_reaction_check(NULL), "NULL is refused");
}

static void test_media_kinds(void)
{
	static const char *const cases[][2] = {
		{ "image/png", "image" }, { "video/mp4", "video" }, { "audio/ogg", "audio" },
		{ "application/pdf", "file" }, { "text/plain", "file" }, { "image", "file" },
		{ "", "file" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		CHECK(strcmp(pier_media_kind_for_type(cases[i][0]), cases[i][1]) == 0,
		      "type \"%s\" is kind %s", cases[i][0], cases[i][1]);
}

int main(void)
{
	test_mentions();
	test_reactions();
	test_media_kinds();
	return tap_done();
}
