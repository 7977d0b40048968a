/* store_tokenizer.c - pier's search tokenizer (store_tokenizer.h): CJK runs as overlapping
 * pairs plus single characters, other text as case-folded words. */
#include "store_tokenizer.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* What a code point is to the tokenizer. */
enum cls {
	C_SEP,       /* separates tokens, not indexed: spaces, punctuation, symbols, emoji */
	C_WORD,      /* part of a word: letters and digits of every script but CJK */
	C_MARK,      /* a combining mark: belongs to the word it follows, left out of the token */
	C_IGNORE,    /* format characters: as if they were not there (ZWJ, VS16, soft hyphen) */
	C_CJK        /* a character of a CJK run */
};

struct range {
	uint32_t lo, hi;
	enum cls cls;
};

/* Code points from U+0080 on, sorted; anything not listed is C_WORD. CJK here means: Han
 * (the Unified Ideographs U+4E00-U+9FFF, Extension A U+3400-U+4DBF, Extensions B-H in
 * U+20000-U+3FFFF, the compatibility ideographs, radicals, 々 〆 〇), Hiragana U+3040-U+309F,
 * Katakana U+30A0-U+30FF (but ゠ and the middle dot ・, punctuation) and its extension
 * U+31F0-U+31FF, halfwidth katakana, Hangul syllables U+AC00-U+D7A3 with the jamo (U+1100,
 * U+3130, U+A960, U+D7B0 blocks, halfwidth hangul: ㅋㅋ is chat), and Bopomofo. */
static const struct range ranges[] = {
	{ 0x0080, 0x00A9, C_SEP },    /* C1 controls, Latin-1 punctuation and symbols */
	{ 0x00AA, 0x00AA, C_WORD },   /* ª */
	{ 0x00AB, 0x00AC, C_SEP },
	{ 0x00AD, 0x00AD, C_IGNORE }, /* soft hyphen */
	{ 0x00AE, 0x00B4, C_SEP },
	{ 0x00B5, 0x00B5, C_WORD },   /* µ */
	{ 0x00B6, 0x00B9, C_SEP },
	{ 0x00BA, 0x00BA, C_WORD },   /* º */
	{ 0x00BB, 0x00BF, C_SEP },
	{ 0x00D7, 0x00D7, C_SEP },    /* × */
	{ 0x00F7, 0x00F7, C_SEP },    /* ÷ */
	{ 0x0300, 0x036F, C_MARK },   /* combining diacritical marks */
	{ 0x0483, 0x0489, C_MARK },
	{ 0x1100, 0x11FF, C_CJK },    /* Hangul jamo */
	{ 0x1AB0, 0x1AFF, C_MARK },
	{ 0x1DC0, 0x1DFF, C_MARK },
	{ 0x2000, 0x200B, C_SEP },    /* spaces, zero width space */
	{ 0x200C, 0x200F, C_IGNORE }, /* ZWNJ, ZWJ, LRM, RLM */
	{ 0x2010, 0x2029, C_SEP },    /* dashes, quotes, line and paragraph separators */
	{ 0x202A, 0x202E, C_IGNORE }, /* bidi embeddings and overrides */
	{ 0x202F, 0x205F, C_SEP },
	{ 0x2060, 0x206F, C_IGNORE }, /* word joiner, invisible operators, bidi isolates */
	{ 0x2070, 0x209F, C_WORD },   /* superscripts and subscripts */
	{ 0x20A0, 0x20CF, C_SEP },    /* currency */
	{ 0x20D0, 0x20FF, C_MARK },
	{ 0x2100, 0x2BFF, C_SEP },    /* letterlike, arrows, maths, boxes, shapes, dingbats */
	{ 0x2E00, 0x2E7F, C_SEP },    /* supplemental punctuation */
	{ 0x2E80, 0x2FDF, C_CJK },    /* CJK and Kangxi radicals */
	{ 0x2FF0, 0x2FFF, C_SEP },    /* ideographic description */
	{ 0x3000, 0x3004, C_SEP },    /* ideographic space, 、 。 */
	{ 0x3005, 0x3007, C_CJK },    /* 々 〆 〇 */
	{ 0x3008, 0x3020, C_SEP },    /* brackets 《》「」【】 */
	{ 0x3021, 0x3029, C_CJK },    /* Hangzhou numerals */
	{ 0x302A, 0x302F, C_MARK },
	{ 0x3030, 0x3030, C_SEP },
	{ 0x3031, 0x3035, C_CJK },    /* kana repeat marks */
	{ 0x3036, 0x3037, C_SEP },
	{ 0x3038, 0x303C, C_CJK },
	{ 0x303D, 0x303F, C_SEP },
	{ 0x3040, 0x309F, C_CJK },    /* Hiragana */
	{ 0x30A0, 0x30A0, C_SEP },    /* ゠ */
	{ 0x30A1, 0x30FA, C_CJK },    /* Katakana */
	{ 0x30FB, 0x30FB, C_SEP },    /* ・ */
	{ 0x30FC, 0x30FF, C_CJK },    /* ー ヽ ヾ ヿ */
	{ 0x3100, 0x31FF, C_CJK },    /* Bopomofo, Hangul compatibility jamo, kanbun, strokes,
	                               * Katakana phonetic extensions */
	{ 0x3200, 0x33FF, C_SEP },    /* enclosed CJK letters, CJK compatibility (㈱ ㎡) */
	{ 0x3400, 0x4DBF, C_CJK },    /* CJK Extension A */
	{ 0x4DC0, 0x4DFF, C_SEP },    /* Yijing hexagrams */
	{ 0x4E00, 0x9FFF, C_CJK },    /* CJK Unified Ideographs */
	{ 0xA960, 0xA97F, C_CJK },    /* Hangul jamo extended-A */
	{ 0xAC00, 0xD7FF, C_CJK },    /* Hangul syllables, jamo extended-B */
	{ 0xE000, 0xF8FF, C_SEP },    /* private use */
	{ 0xF900, 0xFAFF, C_CJK },    /* CJK compatibility ideographs */
	{ 0xFE00, 0xFE0F, C_IGNORE }, /* variation selectors */
	{ 0xFE10, 0xFE1F, C_SEP },    /* vertical forms */
	{ 0xFE20, 0xFE2F, C_MARK },
	{ 0xFE30, 0xFE6F, C_SEP },    /* CJK compatibility forms, small forms */
	{ 0xFEFF, 0xFEFF, C_IGNORE }, /* byte order mark */
	{ 0xFF00, 0xFF0F, C_SEP },    /* fullwidth punctuation ！＂＃ ... */
	{ 0xFF10, 0xFF19, C_WORD },   /* fullwidth digits */
	{ 0xFF1A, 0xFF20, C_SEP },
	{ 0xFF21, 0xFF3A, C_WORD },   /* fullwidth A-Z */
	{ 0xFF3B, 0xFF40, C_SEP },
	{ 0xFF41, 0xFF5A, C_WORD },   /* fullwidth a-z */
	{ 0xFF5B, 0xFF65, C_SEP },    /* ｛ ... ｡ ｢ ｣ ､ ･ */
	{ 0xFF66, 0xFFDC, C_CJK },    /* halfwidth katakana and hangul */
	{ 0xFFDD, 0xFFFF, C_SEP },
	{ 0x1F000, 0x1FBFF, C_SEP },  /* emoji, mahjong, cards, regional indicators */
	{ 0x20000, 0x3FFFF, C_CJK },  /* CJK Extensions B-H, compatibility supplement */
	{ 0xE0000, 0xE0FFF, C_IGNORE }, /* tags, variation selectors supplement */
	{ 0xF0000, 0x10FFFF, C_SEP }, /* private use */
};

static enum cls classify(uint32_t cp)
{
	size_t lo = 0, hi = sizeof(ranges) / sizeof(ranges[0]);

	if (cp < 0x80) {
		if ((cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z'))
			return C_WORD;
		return C_SEP;
	}
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cp < ranges[mid].lo)
			hi = mid;
		else if (cp > ranges[mid].hi)
			lo = mid + 1;
		else
			return ranges[mid].cls;
	}
	return C_WORD;
}

/* U+00C0-U+017F folded: the ASCII base letter, or '*' for a letter that has none (its lower
 * case is kept: Æ -> æ, ß, Œ -> œ), '-' for × and ÷ (never asked: they separate). */
static const char latin_fold[] =
	"aaaaaa*ceeeeiiii"    /* U+00C0 À Á Â Ã Ä Å Æ Ç È É Ê Ë Ì Í Î Ï */
	"*nooooo-ouuuuy**"    /* U+00D0 Ð Ñ Ò Ó Ô Õ Ö × Ø Ù Ú Û Ü Ý Þ ß */
	"aaaaaa*ceeeeiiii"    /* U+00E0 */
	"*nooooo-ouuuuy*y"    /* U+00F0 ð ... þ ÿ */
	"aaaaaaccccccccdd"    /* U+0100 Ā ā Ă ă Ą ą Ć ć Ĉ ĉ Ċ ċ Č č Ď ď */
	"ddeeeeeeeeeegggg"    /* U+0110 Đ đ Ē ē Ĕ ĕ Ė ė Ę ę Ě ě Ĝ ĝ Ğ ğ */
	"gggghhhhiiiiiiii"    /* U+0120 Ġ ġ Ģ ģ Ĥ ĥ Ħ ħ Ĩ ĩ Ī ī Ĭ ĭ Į į */
	"ii**jjkkklllllll"    /* U+0130 İ ı Ĳ ĳ Ĵ ĵ Ķ ķ ĸ Ĺ ĺ Ļ ļ Ľ ľ Ŀ */
	"lllnnnnnnn**oooo"    /* U+0140 ŀ Ł ł Ń ń Ņ ņ Ň ň ŉ Ŋ ŋ Ō ō Ŏ ŏ */
	"oo**rrrrrrssssss"    /* U+0150 Ő ő Œ œ Ŕ ŕ Ŗ ŗ Ř ř Ś ś Ŝ ŝ Ş ş */
	"ssttttttuuuuuuuu"    /* U+0160 Š š Ţ ţ Ť ť Ŧ ŧ Ũ ũ Ū ū Ŭ ŭ Ů ů */
	"uuuuwwyyyzzzzzzs";   /* U+0170 Ű ű Ų ų Ŵ ŵ Ŷ ŷ Ÿ Ź ź Ż ż Ž ž ſ */

_Static_assert(sizeof(latin_fold) == 0x180 - 0xC0 + 1, "one entry per U+00C0..U+017F");

/* The folded form of a word character: lower case, Latin without its accents, fullwidth
 * Latin as ASCII. */
static uint32_t fold(uint32_t cp)
{
	if (cp >= 'A' && cp <= 'Z')
		return cp + 32;
	if (cp < 0x80)
		return cp;
	if (cp >= 0xC0 && cp < 0x180) {
		char f = latin_fold[cp - 0xC0];

		if (f != '*')
			return (uint32_t)(unsigned char)f;
		if (cp < 0xDF)
			return cp + 0x20;                   /* Æ Ð Þ */
		if (cp >= 0x100 && (cp & 1) == 0)
			return cp + 1;                      /* Ĳ Ŋ Œ */
		return cp;
	}
	if (cp >= 0xFF10 && cp <= 0xFF19)
		return '0' + (cp - 0xFF10);
	if (cp >= 0xFF21 && cp <= 0xFF3A)
		return 'a' + (cp - 0xFF21);
	if (cp >= 0xFF41 && cp <= 0xFF5A)
		return 'a' + (cp - 0xFF41);
	if ((cp >= 0x391 && cp <= 0x3A9 && cp != 0x3A2) || (cp >= 0x410 && cp <= 0x42F))
		return cp + 0x20;                           /* Greek, Cyrillic capitals */
	if (cp == 0x3C2)
		return 0x3C3;                               /* final sigma */
	if (cp >= 0x400 && cp <= 0x40F)
		return cp + 0x50;                           /* Ѐ ... Џ */
	if (cp >= 0x1E00 && cp <= 0x1EFF && (cp & 1) == 0 && (cp < 0x1E96 || cp > 0x1E9F))
		return cp + 1;                              /* Latin Extended Additional pairs */
	return cp;
}

/* Decodes one UTF-8 sequence at p (n bytes left, n >= 1): its length, or 0 when the bytes are
 * not valid UTF-8 there (overlong forms and surrogates included). */
static size_t decode(const unsigned char *p, size_t n, uint32_t *cp)
{
	uint32_t c = p[0], min;
	size_t len;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		len = 2;
		c &= 0x1F;
		min = 0x80;
	} else if (c >= 0xE0 && c <= 0xEF) {
		len = 3;
		c &= 0x0F;
		min = 0x800;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4;
		c &= 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return len;
}

static size_t encode(uint32_t cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xC0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xE0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		out[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	out[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/* One CJK character of a run: its bytes as written and where they are. */
struct cjk_char {
	char bytes[4];
	int len;
	int start, end;
};

struct tokenizer {
	enum store_tok_mode mode;
	store_token_fn *cb;
	void *ud;
	/* the word being read */
	bool in_word;
	bool full;                   /* the word passed STORE_TOKEN_MAX: the rest is left out */
	char word[STORE_TOKEN_MAX];
	int wlen, wstart, wend;
	/* the CJK run being read: its length and its last character */
	int run;
	struct cjk_char prev;
	/* a query's deferred last character of a run (sent only if another token follows) */
	bool pending;
	struct cjk_char last;
};

static int emit(struct tokenizer *t, int flags, const char *tok, int len, int start, int end)
{
	if (t->pending) {
		int rc;

		t->pending = false;
		rc = t->cb(t->ud, 0, t->last.bytes, t->last.len, t->last.start, t->last.end);
		if (rc != 0)
			return rc;
	}
	return t->cb(t->ud, flags, tok, len, start, end);
}

static int end_word(struct tokenizer *t)
{
	if (!t->in_word)
		return 0;
	t->in_word = false;
	if (t->wlen == 0)
		return 0;
	return emit(t, 0, t->word, t->wlen, t->wstart, t->wend);
}

/* The run ends: its last character is a token of its own position (a one-character run in
 * both modes; in a document always; in a query only if another token follows). */
static int end_run(struct tokenizer *t)
{
	int run = t->run;

	t->run = 0;
	if (run == 0)
		return 0;
	if (run > 1 && t->mode == STORE_TOK_QUERY) {
		t->pending = true;
		t->last = t->prev;
		return 0;
	}
	return emit(t, 0, t->prev.bytes, t->prev.len, t->prev.start, t->prev.end);
}

static int add_cjk(struct tokenizer *t, const char *p, int len, int start)
{
	struct cjk_char c;
	int rc = 0;

	memcpy(c.bytes, p, (size_t)len);
	c.len = len;
	c.start = start;
	c.end = start + len;
	if (t->run > 0) {
		char pair[8];

		memcpy(pair, t->prev.bytes, (size_t)t->prev.len);
		memcpy(pair + t->prev.len, c.bytes, (size_t)c.len);
		rc = emit(t, 0, pair, t->prev.len + c.len, t->prev.start, c.end);
		if (rc == 0 && t->mode == STORE_TOK_DOCUMENT)
			rc = emit(t, STORE_TOK_COLOCATED, t->prev.bytes, t->prev.len, t->prev.start,
			          t->prev.end);
	}
	t->prev = c;
	t->run++;
	return rc;
}

static void add_word_char(struct tokenizer *t, uint32_t cp, int start, int end)
{
	char buf[4];
	size_t n = encode(fold(cp), buf);

	if (!t->in_word) {
		t->in_word = true;
		t->full = false;
		t->wlen = 0;
		t->wstart = start;
	}
	t->wend = end;
	if (t->full)
		return;
	if ((size_t)t->wlen + n > sizeof(t->word)) {
		/* The token is cut here, at a character boundary; the rest of the word is not indexed
		 * (a later narrower character must not slip in after a wider one was left out). */
		t->full = true;
		return;
	}
	memcpy(t->word + t->wlen, buf, n);
	t->wlen += (int)n;
}

int store_tokenize(const char *text, size_t len, enum store_tok_mode mode, store_token_fn *cb,
                   void *ud)
{
	const unsigned char *p = (const unsigned char *)text;
	struct tokenizer t;
	size_t i = 0;
	int rc = 0;

	memset(&t, 0, sizeof(t));
	t.mode = mode;
	t.cb = cb;
	t.ud = ud;
	while (i < len && rc == 0) {
		uint32_t cp = 0;
		size_t n = decode(p + i, len - i, &cp);
		enum cls cls = n == 0 ? C_SEP : classify(cp);
		int start = (int)i;

		i += n == 0 ? 1 : n;
		switch (cls) {
		case C_IGNORE:
			break;
		case C_MARK:
			if (t.in_word)
				t.wend = (int)i;
			break;
		case C_CJK:
			rc = end_word(&t);
			if (rc == 0)
				rc = add_cjk(&t, text + start, (int)n, start);
			break;
		case C_WORD:
			rc = end_run(&t);
			if (rc == 0)
				add_word_char(&t, cp, start, (int)i);
			break;
		case C_SEP:
			rc = end_run(&t);
			if (rc == 0)
				rc = end_word(&t);
			break;
		}
	}
	if (rc == 0)
		rc = end_run(&t);
	if (rc == 0)
		rc = end_word(&t);
	return rc;
}
