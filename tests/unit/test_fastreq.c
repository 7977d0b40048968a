/* test_fastreq.c - the request decoder without a tree (fastreq.c) against jansson: a table of
 * lines it must take or leave to the JSON path, the values it yields, and a differential run
 * on many mutated lines (check_fastreq.h, the property fuzz_fastreq.c fuzzes). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check_fastreq.h"
#include "tap.h"

#define MUTATIONS 200000

struct row {
	const char *line;
	bool take;                   /* fastreq decodes it (else the JSON path does) */
	const char *why;
};

static const struct row rows[] = {
	{"{\"op\":\"send\",\"to\":\"@bob_01\",\"text\":\"b 3 17 123456789\",\"ref\":\"17\"}", true,
	 "pier-bench's send"},
	{"{\"op\":\"send\",\"to\":\"#lobby\",\"text\":\"hi\",\"cid\":\"c-1\",\"ref\":\"r5\"}", true,
	 "libpier's send with a cid"},
	{"{\"ref\":\"r\",\"cid\":\"c\",\"text\":\"hi\",\"to\":\"@x\",\"reply_to\":7,\"op\":\"send\"}",
	 true, "keys in another order"},
	{" {\t\"op\" : \"send\" ,\r\n \"to\":\"#a\", \"text\" : \"x\" } \t\r\n", true,
	 "whitespace everywhere JSON has it"},
	{"{\"op\":\"send\",\"to\":\"@x\",\"text\":\"你好，世界\"}", true, "Chinese"},
	{"{\"op\":\"send\",\"to\":\"@x\",\"text\":\"😀 👍🏽 🇫🇷 é ü\"}", true, "emoji, accents"},
	{"{\"op\":\"send\",\"to\":\"@x\",\"text\":\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t\"}", true,
	 "every short escape"},
	{"{\"op\":\"send\",\"to\":\"@x\",\"text\":\"\\u00e9\\u4F60\\ud83d\\ude00\\u0001\\u007f\"}", true,
	 "\\u escapes, a surrogate pair, a control character escaped"},
	{"{\"op\":\"send\",\"to\":\"@x\",\"text\":\"\\uDBFF\\uDFFF\\u0800\\uFFFF\"}", true,
	 "the last code point, edges of the 3-byte range"},
	{"{\"op\":\"send\",\"to\":\"@x\",\"text\":\"\x7f\xf4\x8f\xbf\xbf\xef\xbf\xbf\xc2\x80\"}", true,
	 "raw edges: DEL, U+10FFFF, U+FFFF, U+0080"},
	{"{\"op\":\"send\",\"to\":\"@x\",\"text\":\"a\",\"reply_to\":999999999999999999}", true,
	 "an 18-digit reply_to"},
	{"{\"op\":\"send\",\"to\":\"@x\",\"text\":\"\"}", true, "empty text (chat_send answers)"},
	{"{\"op\":\"send\",\"to\":\"@x\"}", true, "no text (chat_send answers)"},
	{"{\"op\":\"send\"}", true, "no target (chat_send answers)"},
	{"{\"op\":\"ping\"}", true, "ping"},
	{"{\"ref\":\"p1\",\"op\":\"ping\"}", true, "ping with a ref"},
	{"{\"op\":\"send\",\"to\":\"@x\",\"text\":\"a\",\"ref\":\"0123456789012345678901234567890123456789012345678901234567890123456789\"}",
	 true, "a ref over 64 bytes (dispatch.c leaves it to the JSON path)"},
	{"{\"op\":\"s\\u0065nd\",\"to\":\"@x\",\"text\":\"a\"}", true, "an escaped op value"},
	{"{\"op\":\"send\",\"to\":\"@x\",\"text\":\"a\",\"media\":4}", true, "media"},
	{"{\"op\":\"send\",\"to\":\"@bob_01\",\"e2ee\":{\"payload\":\"AAECAwQFBgcICQoLDA0ODxAREhM\","
	 "\"keys\":[{\"device\":\"q83vASNFZ4mrze8BI0VniQ\",\"body\":\"EBESExQVFhcYGRobHB0eHyA\"},"
	 "{\"device\":\"ASNFZ4mrze8BI0VniavN7w\",\"body\":\"ICEiIyQlJicoKSorLC0uLzA\"}]},"
	 "\"ref\":\"e17\",\"cid\":\"c-9\"}", true, "pier-bench's encrypted send"},
	{"{\"e2ee\":{\"keys\":[{\"body\":\"QQ\",\"device\":\"ZA\"}],\"payload\":\"UA\"},\"media\":12,"
	 "\"reply_to\":3,\"to\":\"@x\",\"op\":\"send\"}", true, "an encrypted send, keys in another order"},
	{" { \"op\" : \"send\" , \"e2ee\" :\t{ \"payload\" : \"\\/\" ,\r\n\"keys\" : [ { \"device\" : \"\" } ,"
	 " { \"body\" : \"\\u0041\" } ] } } ", true, "an encrypted send with whitespace and escapes"},
	{"{\"op\":\"send\",\"e2ee\":{\"payload\":\"x\"}}", true, "e2ee without keys (the handler answers)"},
	{"{\"op\":\"send\",\"e2ee\":{\"keys\":[{\"device\":\"d\"}]}}", true,
	 "e2ee without a payload, an envelope without a body (the handler answers)"},

	{"{\"op\":\"send\",\"to\":\"@x\",\"text\":\"a\",\"text\":\"b\"}", false, "a repeated key"},
	{"{\"op\":\"send\",\"op\":\"ping\"}", false, "a repeated op"},
	{"{\"op\":\"send\",\"to\":\"@x\",\"text\":\"a\",\"kind\":\"text\"}", false, "kind"},
	{"{\"op\":\"send\",\"to\":\"@x\",\"e2ee\":{\"v\":1}}", false, "e2ee with another key"},
	{"{\"op\":\"send\",\"to\":\"@x\",\"e2ee\":{}}", false, "e2ee empty"},
	{"{\"op\":\"send\",\"to\":\"@x\",\"e2ee\":null}", false, "e2ee null"},
	{"{\"op\":\"send\",\"to\":\"@x\",\"e2ee\":\"x\"}", false, "e2ee a string"},
	{"{\"op\":\"send\",\"to\":\"@x\",\"text\":\"a\",\"e2ee\":{\"payload\":\"QQ\"}}", false,
	 "e2ee and text (the handler's error)"},
	{"{\"op\":\"send\",\"to\":\"@x\",\"e2ee\":{\"payload\":\"QQ\",\"payload\":\"QQ\"}}", false,
	 "a repeated payload"},
	{"{\"op\":\"send\",\"to\":\"@x\",\"e2ee\":{\"keys\":[]}}", false, "keys empty"},
	{"{\"op\":\"send\",\"to\":\"@x\",\"e2ee\":{\"keys\":[{}]}}", false, "an empty envelope"},
	{"{\"op\":\"send\",\"to\":\"@x\",\"e2ee\":{\"keys\":{\"device\":\"d\"}}}", false,
	 "keys an object"},
	{"{\"op\":\"send\",\"to\":\"@x\",\"e2ee\":{\"keys\":[\"d\"]}}", false, "an envelope a string"},
	{"{\"op\":\"send\",\"to\":\"@x\",\"e2ee\":{\"keys\":[{\"device\":\"d\",\"v\":1}]}}", false,
	 "an envelope with another key"},
	{"{\"op\":\"send\",\"to\":\"@x\",\"e2ee\":{\"keys\":[{\"device\":\"d\",\"device\":\"e\"}]}}",
	 false, "an envelope with a repeated key"},
	{"{\"op\":\"send\",\"to\":\"@x\",\"e2ee\":{\"keys\":[{\"device\":1}]}}", false, "a device a number"},
	{"{\"op\":\"send\",\"to\":\"@x\",\"e2ee\":{\"keys\":[{\"body\":null}]}}", false, "a body null"},
	{"{\"op\":\"send\",\"to\":\"@x\",\"e2ee\":{\"keys\":[{\"body\":\"a\"},]}}", false,
	 "a trailing comma in keys"},
	{"{\"op\":\"send\",\"to\":\"@x\",\"e2ee\":{\"keys\":[{\"body\":\"a\"}}}", false, "keys not closed"},
	{"{\"op\":\"send\",\"to\":\"@x\",\"e2ee\":{\"payload\":\"QQ\"}", false, "e2ee not closed"},
	{"{\"op\":\"send\",\"to\":\"@x\",\"e2ee\":{\"payload\":\"QQ\"},\"e2ee\":{\"payload\":\"QQ\"}}",
	 false, "a repeated e2ee"},
	{"{\"op\":\"send\",\"to\":\"@x\",\"e2ee\":{\"payload\":\"QQ\",\"keys\":[{\"device\":\"d\"}]},"
	 "\"kind\":\"file\"}", false, "an encrypted send with kind"},
	{"{\"op\":\"ping\",\"e2ee\":{\"payload\":\"QQ\"}}", false, "a ping with e2ee"},
	{"{\"op\":\"ping\",\"media\":1}", false, "a ping with media"},
	{"{\"op\":\"send\",\"to\":\"@x\",\"text\":\"a\",\"media\":0}", false, "media 0"},
	{"{\"op\":\"send\",\"to\":\"@x\",\"text\":\"a\",\"media\":null}", false, "media null"},
	{"{\"op\":\"send\",\"to\":\"@x\",\"text\":\"a\",\"x\":1}", false, "an unknown key"},
	{"{\"op\":\"send\",\"to\":\"@x\",\"text\":\"a\",\"\":1}", false, "an empty key"},
	{"{\"o\\u0070\":\"ping\"}", false, "a key written with an escape"},
	{"{\"OP\":\"ping\"}", false, "a key in capitals"},
	{"{\"op\":\"join\",\"room\":\"#a\"}", false, "another op"},
	{"{\"op\":\"PING\"}", false, "an op in capitals"},
	{"{\"op\":\"ping\",\"to\":\"@x\"}", false, "a ping with a send's member"},
	{"{\"op\":1}", false, "op a number"},
	{"{\"op\":\"send\",\"to\":1,\"text\":\"a\"}", false, "to a number"},
	{"{\"op\":\"send\",\"to\":\"@x\",\"text\":null}", false, "text null"},
	{"{\"op\":\"send\",\"to\":\"@x\",\"text\":[\"a\"]}", false, "text an array"},
	{"{\"op\":\"send\",\"to\":\"@x\",\"text\":\"a\",\"reply_to\":0}", false, "reply_to 0"},
	{"{\"op\":\"send\",\"to\":\"@x\",\"text\":\"a\",\"reply_to\":-1}", false, "reply_to negative"},
	{"{\"op\":\"send\",\"to\":\"@x\",\"text\":\"a\",\"reply_to\":-0}", false, "reply_to -0"},
	{"{\"op\":\"send\",\"to\":\"@x\",\"text\":\"a\",\"reply_to\":01}", false, "a leading zero"},
	{"{\"op\":\"send\",\"to\":\"@x\",\"text\":\"a\",\"reply_to\":1.0}", false, "a real"},
	{"{\"op\":\"send\",\"to\":\"@x\",\"text\":\"a\",\"reply_to\":1e2}", false, "an exponent"},
	{"{\"op\":\"send\",\"to\":\"@x\",\"text\":\"a\",\"reply_to\":null}", false, "reply_to null"},
	{"{\"op\":\"send\",\"to\":\"@x\",\"text\":\"a\",\"reply_to\":\"5\"}", false, "reply_to a string"},
	{"{\"op\":\"send\",\"to\":\"@x\",\"text\":\"a\",\"reply_to\":1234567890123456789}", false,
	 "a 19-digit reply_to"},
	{"{\"op\":\"send\",\"to\":\"@x\",\"text\":\"a\",\"reply_to\":99999999999999999999}", false,
	 "a reply_to jansson finds too big"},
	{"{\"op\":\"send\",\"to\":\"@x\",\"text\":\"a\",\"reply_to\":5x}", false, "junk after a number"},
	{"{\"op\":\"send\",\"to\":\"@x\",\"text\":\"a\\u0000b\"}", false, "\\u0000"},
	{"{\"op\":\"send\",\"to\":\"@x\",\"text\":\"\\ud800\"}", false, "a lone high surrogate"},
	{"{\"op\":\"send\",\"to\":\"@x\",\"text\":\"\\udc00\"}", false, "a lone low surrogate"},
	{"{\"op\":\"send\",\"to\":\"@x\",\"text\":\"\\ud800\\u0041\"}", false, "a high then not low"},
	{"{\"op\":\"send\",\"to\":\"@x\",\"text\":\"\\ud800x\"}", false, "a high then a letter"},
	{"{\"op\":\"send\",\"to\":\"@x\",\"text\":\"\\ud800\\n\"}", false, "a high then \\n"},
	{"{\"op\":\"send\",\"to\":\"@x\",\"text\":\"\\x41\"}", false, "an unknown escape"},
	{"{\"op\":\"send\",\"to\":\"@x\",\"text\":\"\\u12g4\"}", false, "a bad hex digit"},
	{"{\"op\":\"send\",\"to\":\"@x\",\"text\":\"\\u12\"}", false, "a short \\u"},
	{"{\"op\":\"send\",\"to\":\"@x\",\"text\":\"\\\"}", false, "an escaped closing quote"},
	{"{\"op\":\"send\",\"to\":\"@x\",\"text\":\"a\x01\"}", false, "a raw control character"},
	{"{\"op\":\"send\",\"to\":\"@x\",\"text\":\"a\tb\"}", false, "a raw tab"},
	{"{\"op\":\"send\",\"to\":\"@x\",\"text\":\"a\nb\"}", false, "a raw newline"},
	{"{\"op\":\"send\",\"to\":\"@x\",\"text\":\"\xc0\x80\"}", false, "overlong NUL"},
	{"{\"op\":\"send\",\"to\":\"@x\",\"text\":\"\xc1\xbf\"}", false, "overlong 2-byte"},
	{"{\"op\":\"send\",\"to\":\"@x\",\"text\":\"\xe0\x80\x80\"}", false, "overlong 3-byte"},
	{"{\"op\":\"send\",\"to\":\"@x\",\"text\":\"\xe0\x9f\xbf\"}", false, "overlong U+07FF"},
	{"{\"op\":\"send\",\"to\":\"@x\",\"text\":\"\xf0\x8f\xbf\xbf\"}", false, "overlong 4-byte"},
	{"{\"op\":\"send\",\"to\":\"@x\",\"text\":\"\xed\xa0\x80\"}", false, "an encoded surrogate"},
	{"{\"op\":\"send\",\"to\":\"@x\",\"text\":\"\xf4\x90\x80\x80\"}", false, "above U+10FFFF"},
	{"{\"op\":\"send\",\"to\":\"@x\",\"text\":\"\xf5\x80\x80\x80\"}", false, "0xF5"},
	{"{\"op\":\"send\",\"to\":\"@x\",\"text\":\"\x80\"}", false, "a stray continuation byte"},
	{"{\"op\":\"send\",\"to\":\"@x\",\"text\":\"\xe4\xbd\"}", false, "a cut sequence"},
	{"{\"op\":\"send\",\"to\":\"@x\",\"text\":\"\xe4\xbd\x41\"}", false, "a sequence broken"},
	{"{\"op\":\"send\",\"to\":\"@x\",\"text\":\"\xff\"}", false, "0xFF"},
	{"[\"op\",\"ping\"]", false, "an array"},
	{"\"ping\"", false, "a string"},
	{"", false, "nothing"},
	{"   ", false, "blanks"},
	{"{}", false, "an empty object"},
	{"{\"ref\":\"r\"}", false, "no op"},
	{"{\"op\":\"ping\"} x", false, "junk after the object"},
	{"{\"op\":\"ping\"}}", false, "a brace too many"},
	{"{\"op\":\"ping\",}", false, "a trailing comma"},
	{"{,\"op\":\"ping\"}", false, "a leading comma"},
	{"{\"op\" \"ping\"}", false, "no colon"},
	{"{\"op\":\"ping\"", false, "no closing brace"},
	{"{\"op\":\"ping", false, "a cut string"},
	{"{\"op\":'ping'}", false, "single quotes"},
	{"\xef\xbb\xbf{\"op\":\"ping\"}", false, "a byte order mark"},
	{"{\"op\":\"ping\"}\f", false, "a form feed is no JSON whitespace"},
	{"{\"op\":\"ping\"}\xc2\xa0", false, "nor a no-break space"},
};

/* The decoded string member s equals want (NUL-terminated). */
static bool str_is(const struct fastreq_str *s, const char *want)
{
	return s->s != NULL && s->len == strlen(want) && memcmp(s->s, want, s->len) == 0;
}

static void check_rows(void)
{
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		bool accepted;
		const char *diff = fastreq_vs_jansson(rows[i].line, strlen(rows[i].line), &accepted);

		CHECK(diff == NULL, "%s: %s", rows[i].why, diff);
		CHECK(accepted == rows[i].take, "%s: %s", rows[i].why,
		      rows[i].take ? "declined" : "taken");
	}
}

/* Lines with a NUL byte (strlen cannot tell their length). */
static void check_nul(void)
{
	static const char in_string[] = "{\"op\":\"send\",\"to\":\"@x\",\"text\":\"a\0b\"}";
	static const char after[] = "{\"op\":\"ping\"}\0";
	struct fastreq fr;
	bool accepted;

	CHECK(!fastreq_decode(in_string, sizeof(in_string) - 1, &fr), "a raw NUL in a string");
	CHECK(!fastreq_decode(after, sizeof(after) - 1, &fr), "a NUL after the object");
	CHECK(fastreq_vs_jansson(in_string, sizeof(in_string) - 1, &accepted) == NULL, "NUL: agree");
	CHECK(fastreq_decode(after, sizeof(after) - 2, &fr), "the same without the NUL");
}

static void check_values(void)
{
	static struct fastreq fr;
	const char *line =
		"{\"text\":\"\\u4f60\\u597d \\ud83d\\ude00 \\\"q\\\"\\n\",\"ref\":\"r9\",\"to\":\"#大厅\","
		"\"op\":\"send\",\"cid\":\"c\\/1\",\"reply_to\":1234}";
	char big[FASTREQ_BUF + 64];
	int n;

	REQUIRE(fastreq_decode(line, strlen(line), &fr), , "values: taken");
	CHECK(fr.op == PIER_OP_SEND, "values: op");
	CHECK(str_is(&fr.text, "你好 😀 \"q\"\n"), "values: text %s", fr.text.s);
	CHECK(str_is(&fr.ref, "r9"), "values: ref");
	CHECK(str_is(&fr.to, "#大厅"), "values: to");
	CHECK(str_is(&fr.cid, "c/1"), "values: cid");
	CHECK(fr.reply_to == 1234, "values: reply_to");

	line = "{\"op\":\"ping\"}";
	REQUIRE(fastreq_decode(line, strlen(line), &fr), , "ping: taken");
	CHECK(fr.op == PIER_OP_PING && fr.ref.s == NULL && fr.to.s == NULL && fr.reply_to == 0,
	      "ping: nothing but op");

	line = "{\"op\":\"send\",\"to\":\"@b\",\"media\":5,\"e2ee\":{\"payload\":\"UEFZ\",\"keys\":["
	       "{\"device\":\"ZDE\",\"body\":\"YjE\"},{\"body\":\"Y\\u0032\",\"device\":\"ZDI\"}]}}";
	REQUIRE(fastreq_decode(line, strlen(line), &fr), , "encrypted: taken");
	CHECK(fr.op == PIER_OP_SEND && fr.e2ee && fr.text.s == NULL && fr.media == 5, "encrypted: op");
	CHECK(str_is(&fr.to, "@b") && str_is(&fr.payload, "UEFZ"), "encrypted: to, payload");
	CHECK(fr.nkeys == 2 && str_is(&fr.keys[0].device, "ZDE") && str_is(&fr.keys[0].body, "YjE") &&
	      str_is(&fr.keys[1].device, "ZDI") && str_is(&fr.keys[1].body, "Y2"), "encrypted: keys");

	/* FASTREQ_KEYS_MAX envelopes are taken, one more declines. */
	for (int keys = FASTREQ_KEYS_MAX; keys <= FASTREQ_KEYS_MAX + 1; keys++) {
		bool accepted;

		n = snprintf(big, sizeof(big), "{\"op\":\"send\",\"e2ee\":{\"keys\":[");
		for (int i = 0; i < keys; i++)
			n += snprintf(big + n, sizeof(big) - (size_t)n, "%s{\"device\":\"d%d\",\"body\":\"b\"}",
			              i > 0 ? "," : "", i);
		n += snprintf(big + n, sizeof(big) - (size_t)n, "]}}");
		CHECK(fastreq_decode(big, (size_t)n, &fr) == (keys == FASTREQ_KEYS_MAX),
		      "%d envelopes", keys);
		CHECK(fastreq_vs_jansson(big, (size_t)n, &accepted) == NULL, "%d envelopes: agree", keys);
	}

	/* Text filling the buffer declines; a little shorter is taken. */
	n = snprintf(big, sizeof(big), "{\"op\":\"send\",\"to\":\"@x\",\"text\":\"%0*d\"}",
	             FASTREQ_BUF, 0);
	CHECK(!fastreq_decode(big, (size_t)n, &fr), "text of FASTREQ_BUF bytes declines");
	n = snprintf(big, sizeof(big), "{\"op\":\"send\",\"to\":\"@x\",\"text\":\"%0*d\"}",
	             FASTREQ_BUF - 64, 0);
	CHECK(fastreq_decode(big, (size_t)n, &fr) && fr.text.len == FASTREQ_BUF - 64,
	      "text of FASTREQ_BUF - 64 bytes is taken");
}

/* Whether the table says fastreq takes line (a row of it). */
static bool rows_taken(const char *line)
{
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (rows[i].line == line)
			return rows[i].take;
	return false;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state % n);
}

/* Bytes and fragments that matter to the decoder. */
static const char *const pieces[] = {
	"\"", "\\", "\\u", "\\n", "\\ud83d", "\\ude00", "\\udbff", "\\u0000", "\\u00e9", "d8", "DC",
	"{", "}", ",", ":", " ", "\t", "\r", "0", "1", "9", "-", ".", "e", "a", "f", "g", "null",
	"\"op\"", "\"send\"", "\"ping\"", "\"to\"", "\"text\"", "\"ref\"", "\"cid\"", "\"reply_to\"",
	"\"media\"", "\"e2ee\"", "\"payload\"", "\"keys\"", "\"device\"", "\"body\"", "[", "]", "{}",
	",{\"device\":\"d\",\"body\":\"b\"}",
	"\x01", "\x1f", "\x7f", "\x80", "\xbf", "\xc0", "\xc2", "\xdf", "\xe0", "\xe4\xbd", "\xed",
	"\xed\x9f\xbf", "\xee\x80\x80", "\xf0", "\xf0\x9f\x98\x80", "\xf4", "\xf4\x8f", "\xf5", "\xff",
	"你", "😀",
};

/* One line: a taken table row's with 1..3 edits (a piece inserted or in place of a byte, a
 * byte removed, a span repeated); or every other time, a send whose text is 1..8 pieces. */
static size_t mutate(char *out, size_t cap)
{
	const char *seed;
	size_t len;
	int edits = 1 + (int)rnd(3);

	if (rnd(2) == 0) {
		static const char head[] = "{\"op\":\"send\",\"to\":\"@x\",\"text\":\"";
		int n = 1 + (int)rnd(8);

		len = sizeof(head) - 1;
		memcpy(out, head, len);
		for (int i = 0; i < n; i++) {
			const char *p = pieces[rnd(sizeof(pieces) / sizeof(pieces[0]))];

			memcpy(out + len, p, strlen(p));
			len += strlen(p);
		}
		memcpy(out + len, "\"}", 2);
		return len + 2;
	}
	do
		seed = rows[rnd(sizeof(rows) / sizeof(rows[0]))].line;
	while (!rows_taken(seed));
	len = strlen(seed);

	if (len >= cap)
		len = cap - 1;
	memcpy(out, seed, len);
	for (int e = 0; e < edits; e++) {
		size_t at = len > 0 ? rnd((uint32_t)len + 1) : 0, plen;
		const char *p = pieces[rnd(sizeof(pieces) / sizeof(pieces[0]))];
		int what = (int)rnd(4);

		plen = strlen(p);
		if (what == 0 && at < len) {                     /* remove a byte */
			memmove(out + at, out + at + 1, len - at - 1);
			len--;
		} else if (what == 1 && at < len && len + plen - 1 < cap) {   /* replace a byte */
			memmove(out + at + plen, out + at + 1, len - at - 1);
			memcpy(out + at, p, plen);
			len += plen - 1;
		} else if (what == 2 && len > 0) {               /* repeat a span */
			size_t from = rnd((uint32_t)len), n = 1 + rnd(12);
			char span[12];

			if (from + n > len)
				n = len - from;
			if (len + n < cap) {
				memcpy(span, out + from, n);
				memmove(out + at + n, out + at, len - at);
				memcpy(out + at, span, n);
				len += n;
			}
		} else if (len + plen < cap) {                   /* insert a piece */
			memmove(out + at + plen, out + at, len - at);
			memcpy(out + at, p, plen);
			len += plen;
		}
	}
	return len;
}

static void check_mutations(void)
{
	char line[1024];
	unsigned taken = 0, bad = 0;

	for (int i = 0; i < MUTATIONS; i++) {
		size_t len = mutate(line, sizeof(line));
		bool accepted;
		const char *diff = fastreq_vs_jansson(line, len, &accepted);

		if (diff != NULL && bad++ < 5)
			CHECK(false, "mutation %d: %s: %.*s", i, diff, (int)len, line);
		taken += accepted;
	}
	CHECK(bad == 0, "%u of %d mutated lines: fastreq and jansson disagree", bad, MUTATIONS);
	/* The run means something only if many mutated lines are still taken. */
	CHECK(taken > MUTATIONS / 20, "%u of %d mutated lines taken", taken, MUTATIONS);
	printf("# %u of %d mutated lines taken, all as jansson reads them\n", taken, MUTATIONS);
}

/* The eight-bytes-at-a-time run (plain_run): each byte that is not plain by itself - '"',
 * '\\', a control character, a byte past ASCII, and the bytes around them (0x1f 0x20 0x7f
 * 0x80) - at every offset of a long plain run, with the run's length around the word size.
 * Whatever fastreq decides, it must be what jansson reads (taken or declined). */
static void check_runs(void)
{
	static const unsigned char odd[] = { '"', '\\', 0x01, 0x1f, 0x20, 0x21, 0x5b, 0x5d, 0x7e,
	                                     0x7f, 0x80, 0xc3, 0xff };
	unsigned agreed = 0, bad = 0, taken = 0;

	for (size_t len = 1; len <= 40; len++) {
		for (size_t at = 0; at < len; at++) {
			for (size_t k = 0; k < sizeof(odd); k++) {
				char line[128], text[48];
				bool accepted;
				int n;

				memset(text, 'a', len);
				text[at] = (char)odd[k];
				text[len] = '\0';
				n = snprintf(line, sizeof(line), "{\"op\":\"send\",\"to\":\"@x\",\"text\":\"%s\"}",
				             text);
				if (fastreq_vs_jansson(line, (size_t)n, &accepted) == NULL)
					agreed++;
				else
					bad++;
				taken += accepted;
			}
		}
	}
	CHECK(bad == 0 && agreed > 0, "runs with one odd byte anywhere: %u agree, %u differ", agreed,
	      bad);
	CHECK(taken > 0, "and some are taken (%u)", taken);
}

int main(void)
{
	check_rows();
	check_nul();
	check_values();
	check_runs();
	check_mutations();
	return tap_done();
}
