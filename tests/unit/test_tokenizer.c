/* test_tokenizer.c - the search tokenizer's token output (store_tokenizer.c) and the query
 * side (store_query.c): parsing, the quoted FTS5 expression, the highlighted ranges. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_query.h"
#include "store_tokenizer.h"
#include "tap.h"

struct out {
	char buf[4096];
	size_t len;
	const char *text;
	bool offsets;          /* also write each token's [start,end) */
	int stop_after;        /* > 0: return 7 after this many tokens */
	int n;
};

static int collect(void *ud, int flags, const char *tok, int len, int start, int end)
{
	struct out *o = ud;
	int w;

	w = snprintf(o->buf + o->len, sizeof(o->buf) - o->len, "%s%s%.*s", o->len > 0 ? " " : "",
	             (flags & STORE_TOK_COLOCATED) ? "+" : "", len, tok);
	o->len += (size_t)w;
	if (o->offsets) {
		w = snprintf(o->buf + o->len, sizeof(o->buf) - o->len, "@%d-%d", start, end);
		o->len += (size_t)w;
	}
	/* every token's range is inside the text, start < end */
	CHECK(start >= 0 && start < end && (size_t)end <= strlen(o->text), "range %d-%d of %s",
	      start, end, o->text);
	o->n++;
	return o->stop_after > 0 && o->n == o->stop_after ? 7 : 0;
}

/* The tokens of text in mode, as "tok +colocated tok ...". */
static const char *tokens(const char *text, enum store_tok_mode mode, bool offsets)
{
	static struct out o;

	memset(&o, 0, sizeof(o));
	o.text = text;
	o.offsets = offsets;
	store_tokenize(text, strlen(text), mode, collect, &o);
	return o.buf;
}

#define DOC(text, want) do { \
		const char *got_ = tokens((text), STORE_TOK_DOCUMENT, false); \
		CHECK(strcmp(got_, (want)) == 0, "document %s: got [%s], want [%s]", (text), got_, (want)); \
	} while (0)
#define QUERY(text, want) do { \
		const char *got_ = tokens((text), STORE_TOK_QUERY, false); \
		CHECK(strcmp(got_, (want)) == 0, "query %s: got [%s], want [%s]", (text), got_, (want)); \
	} while (0)

static void test_cjk(void)
{
	/* pairs, each character colocated with the pair it starts, the last on its own */
	DOC("我看电影", "我看 +我 看电 +看 电影 +电 影");
	DOC("你好", "你好 +你 好");
	DOC("猫", "猫");
	/* punctuation ends a run; the runs on both sides are separate */
	DOC("你好，世界！", "你好 +你 好 世界 +世 界");
	DOC("「电影」。", "电影 +电 影");
	/* Japanese: kana and kanji in one run; the middle dot separates; ー is a letter */
	DOC("東京タワー", "東京 +東 京タ +京 タワ +タ ワー +ワ ー");
	DOC("コーヒー・ミルク", "コー +コ ーヒ +ー ヒー +ヒ ー ミル +ミ ルク +ル ク");
	DOC("ひらがな", "ひら +ひ らが +ら がな +が な");
	/* Korean: syllables in pairs, so a stem is found with its particle attached */
	DOC("번역을 했다", "번역 +번 역을 +역 을 했다 +했 다");
	DOC("ㅋㅋㅋ", "ㅋㅋ +ㅋ ㅋㅋ +ㅋ ㅋ");
	/* Extension B (4-byte UTF-8) and 々 */
	DOC("𠮷野家", "𠮷野 +𠮷 野家 +野 家");
	DOC("人々", "人々 +人 々");
	/* a variation selector or ZWJ inside a run does not break it */
	DOC("葛\xef\xb8\x80城", "葛城 +葛 城");
	/* ideographic space and fullwidth punctuation separate */
	DOC("电影\xe3\x80\x80好看", "电影 +电 影 好看 +好 看");
}

static void test_words(void)
{
	DOC("Hello, World!", "hello world");
	DOC("don't stop", "don t stop");
	DOC("pier_test v2.0", "pier test v2 0");
	/* accented Latin folds to its base letter; decomposed marks are left out */
	DOC("Café CRÈME Ångström", "cafe creme angstrom");
	DOC("cafe\xcc\x81", "cafe");
	DOC("Œuvre Ærø straße", "œuvre æro straße");
	DOC("Łódź Ğü", "lodz gu");
	/* Greek and Cyrillic to lower case */
	DOC("ΣΟΦΙΑ σοφός", "σοφια σοφόσ");    /* capitals only: accents stay */
	DOC("Привет МИР", "привет мир");
	/* fullwidth Latin and digits are ASCII */
	DOC("ＰＩＥＲ２０２６", "pier2026");
	/* emoji and symbols separate and are not indexed */
	DOC("ok👍🏽done ★ x²", "ok done x");
	DOC("a\xe2\x80\x8b" "b", "a b");
	/* a long word is cut at STORE_TOKEN_MAX bytes, at a character boundary */
	{
		char longw[200], want[STORE_TOKEN_MAX + 1];

		memset(longw, 'x', 150);
		longw[150] = '\0';
		memset(want, 'x', STORE_TOKEN_MAX);
		want[STORE_TOKEN_MAX] = '\0';
		DOC(longw, want);
		/* 63 ASCII letters then 'é' (folds to e, 1 byte): fits; then 'ж' (2 bytes) does not */
		memset(longw, 'y', 63);
		strcpy(longw + 63, "\xd0\x96zz");
		memset(want, 'y', 63);
		want[63] = '\0';
		DOC(longw, want);
	}
}

static void test_mixed(void)
{
	DOC("iPhone15很好用", "iphone15 很好 +很 好用 +好 用");
	DOC("用pier聊天", "用 pier 聊天 +聊 天");
	DOC("今天看了Inception电影", "今天 +今 天看 +天 看了 +看 了 inception 电影 +电 影");
	DOC("2026年3月", "2026 年 3 月");
	DOC("", "");
	DOC("，。！？", "");
	/* invalid UTF-8 separates like punctuation */
	DOC("ab\xff" "cd\xe4\xbd", "ab cd");
	DOC("\xc0\xaf" "x", "x");
}

static void test_query_mode(void)
{
	/* no single characters beside pairs; the last character only before another token */
	QUERY("电影", "电影");
	QUERY("电影院", "电影 影院");
	QUERY("猫", "猫");
	QUERY("电影abc", "电影 影 abc");
	QUERY("abc电影", "abc 电影");
	QUERY("电影！", "电影");
	QUERY("番茄 炒蛋", "番茄 茄 炒蛋");
	QUERY("번역을", "번역 역을");
	QUERY("Hello", "hello");
}

static void test_offsets_and_stop(void)
{
	const char *got = tokens("a 你好", STORE_TOK_DOCUMENT, true);
	struct out o;

	CHECK(strcmp(got, "a@0-1 你好@2-8 +你@2-5 好@5-8") == 0, "offsets: %s", got);
	got = tokens("Café!", STORE_TOK_DOCUMENT, true);
	CHECK(strcmp(got, "cafe@0-5") == 0, "a folded word covers its bytes: %s", got);
	got = tokens("葛\xef\xb8\x80城", STORE_TOK_DOCUMENT, true);
	CHECK(strcmp(got, "葛城@0-9 +葛@0-3 城@6-9") == 0, "a pair across a selector: %s", got);

	memset(&o, 0, sizeof(o));
	o.text = "one two three";
	o.stop_after = 2;
	CHECK(store_tokenize(o.text, strlen(o.text), STORE_TOK_DOCUMENT, collect, &o) == 7 &&
	      o.n == 2, "a callback's nonzero return stops the tokenizer and is returned");
}

/* ---- queries ---- */

static void test_parse(void)
{
	struct store_query q;
	char big[STORE_QUERY_MAX + 2];

	CHECK(store_query_parse(&q, "电影", 6) == STORE_QUERY_OK && q.nterms == 1 &&
	      strcmp(q.match, "\"电影\"") == 0, "one term: %s", q.match);
	CHECK(store_query_parse(&q, "猫", 3) == STORE_QUERY_OK, "one CJK character is a query");
	CHECK(store_query_parse(&q, "a", 1) == STORE_QUERY_TOO_SHORT, "one letter is too short");
	CHECK(store_query_parse(&q, "a b ж", 6) == STORE_QUERY_TOO_SHORT, "single letters only");
	CHECK(store_query_parse(&q, "a 猫", 5) == STORE_QUERY_OK && q.nterms == 2,
	      "a letter beside a real term is kept");
	CHECK(store_query_parse(&q, "", 0) == STORE_QUERY_TOO_SHORT, "empty");
	CHECK(store_query_parse(&q, "  \xe3\x80\x80 ", 6) == STORE_QUERY_TOO_SHORT, "white space");
	CHECK(store_query_parse(&q, "!!! ？？ 👍", strlen("!!! ？？ 👍")) == STORE_QUERY_TOO_SHORT,
	      "punctuation and emoji only");

	/* FTS5 syntax is only text: every term quoted */
	{
		const char *evil = "a OR b NOT c* NEAR(x y) col:z ^start )(";

		CHECK(store_query_parse(&q, evil, strlen(evil)) == STORE_QUERY_OK, "operators parse");
		CHECK(strcmp(q.match, "\"a\" \"OR\" \"b\" \"NOT\" \"c*\" \"NEAR(x\" \"y)\" "
		                      "\"col:z\" \"^start\"") == 0, "every term quoted: %s", q.match);
		CHECK(q.nterms == 9, "the term ')(' has no token and is left out: %d terms", q.nterms);
	}
	/* quotes: a phrase with spaces; an unterminated quote runs to the end */
	CHECK(store_query_parse(&q, "\"new york\" pizza", 16) == STORE_QUERY_OK && q.nterms == 2 &&
	      strcmp(q.match, "\"new york\" \"pizza\"") == 0, "quoted phrase: %s", q.match);
	CHECK(store_query_parse(&q, "say \"hi there", 13) == STORE_QUERY_OK && q.nterms == 2 &&
	      strcmp(q.match, "\"say\" \"hi there\"") == 0, "open quote: %s", q.match);
	CHECK(store_query_parse(&q, "x\"\"y", 4) == STORE_QUERY_TOO_SHORT,
	      "quotes split terms: x and y, single letters");
	/* limits */
	memset(big, 'a', sizeof(big));
	CHECK(store_query_parse(&q, big, STORE_QUERY_MAX + 1) == STORE_QUERY_TOO_LONG, "over 256 bytes");
	CHECK(store_query_parse(&q, big, STORE_QUERY_MAX) == STORE_QUERY_OK, "256 bytes");
	{
		char many[200] = "";

		for (int i = 0; i <= STORE_QUERY_TERMS_MAX; i++)
			strcat(many, "ab ");
		CHECK(store_query_parse(&q, many, strlen(many)) == STORE_QUERY_TOO_LONG,
		      "more than %d terms", STORE_QUERY_TERMS_MAX);
	}
	{
		/* 85 Han characters (255 bytes): one phrase of 84 pairs */
		char han[STORE_QUERY_MAX + 1] = "";

		for (int i = 0; i < 85; i++)
			strcat(han, i % 2 ? "电" : "影");
		CHECK(store_query_parse(&q, han, strlen(han)) == STORE_QUERY_OK && q.ntokens == 84 &&
		      q.ndistinct == 2, "a long CJK phrase: %d tokens, %d distinct", q.ntokens, q.ndistinct);
	}
}

/* The spans of query in text as "s-e s-e" (code points). */
static const char *spans(const char *query, const char *text)
{
	static char buf[512];
	struct store_query q;
	struct store_span v[STORE_SPANS_MAX];
	size_t len = 0;
	int n;

	buf[0] = '\0';
	if (store_query_parse(&q, query, strlen(query)) != STORE_QUERY_OK)
		return "(bad query)";
	n = store_query_spans(&q, text, strlen(text), v, STORE_SPANS_MAX);
	for (int i = 0; i < n; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%d-%d", i ? " " : "",
		                        v[i].start, v[i].end);
	return buf;
}

#define SPANS(query, text, want) do { \
		const char *got_ = spans((query), (text)); \
		CHECK(strcmp(got_, (want)) == 0, "spans of %s in %s: got [%s], want [%s]", (query), \
		      (text), got_, (want)); \
	} while (0)

static void test_spans(void)
{
	SPANS("电影", "我昨天看了一部电影，电影很好看", "7-9 10-12");
	SPANS("影", "我看电影", "3-4");
	SPANS("电影院", "电影院和电影", "0-3");
	SPANS("电影院", "电影和影院", "");
	SPANS("你好", "你好你好", "0-4");               /* adjacent ones merge */
	SPANS("번역", "번역을 했어요", "0-2");
	SPANS("cafe", "Un Café, s'il vous plaît", "3-7");
	SPANS("hello world", "world, hello!", "0-5 7-12");
	SPANS("\"hello world\"", "world, hello! hello world", "14-25");
	SPANS("pier 聊天", "用pier聊天", "1-7");
	SPANS("电影abc", "电影abc", "0-5");
	SPANS("タワー", "東京タワーへ", "2-5");
	SPANS("猫", "", "");
	{
		/* many matches: at most STORE_SPANS_MAX ranges, the first ones */
		char text[2048] = "";
		struct store_query q;
		struct store_span v[4];

		for (int i = 0; i < 100; i++)
			strcat(text, "猫 ");
		store_query_parse(&q, "猫", 3);
		CHECK(store_query_spans(&q, text, strlen(text), v, 4) == 4 && v[3].start == 6 &&
		      v[3].end == 7, "spans are capped, the first ones kept");
	}
}

/* store_query_spans_dup: what a search result carries (both back ends use it). */
static void test_spans_dup(void)
{
	char text[2048] = "";
	struct store_query q;
	struct store_span *v = (struct store_span *)&q;   /* must be reset */
	int n = -1;

	store_query_parse(&q, "电影", strlen("电影"));
	CHECK(store_query_spans_dup(&q, "我看书", &v, &n) == 0 && v == NULL && n == 0,
	      "no match: NULL and 0");
	CHECK(store_query_spans_dup(&q, "我昨天看了一部电影，电影很好看", &v, &n) == 0 && n == 2 &&
	      v != NULL && v[0].start == 7 && v[0].end == 9 && v[1].start == 10 && v[1].end == 12,
	      "two matches copied out");
	free(v);
	for (int i = 0; i < 100; i++)
		strcat(text, "电影 ");
	CHECK(store_query_spans_dup(&q, text, &v, &n) == 0 && n == STORE_SPANS_MAX &&
	      v[STORE_SPANS_MAX - 1].start == 3 * (STORE_SPANS_MAX - 1),
	      "capped at STORE_SPANS_MAX, the first ones");
	free(v);
}

int main(void)
{
	test_cjk();
	test_words();
	test_mixed();
	test_query_mode();
	test_offsets_and_stop();
	test_parse();
	test_spans();
	test_spans_dup();
	return tap_done();
}
