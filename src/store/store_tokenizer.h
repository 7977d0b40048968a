/* store_tokenizer.h - pier's search tokenizer: the words of a message as the full-text index
 * (SQLite FTS5, store_fts.c) sees them. Pure: no SQLite, no allocation, no locale.
 *
 * What becomes a token:
 *   - A run of CJK characters (Han ideographs, Hiragana, Katakana, Hangul syllables and jamo;
 *     see the ranges in store_tokenizer.c) becomes overlapping two-character pairs: 我看电影
 *     gives 我看 看电 电影. So a two-character word is found inside an unspaced sentence (电影
 *     in 我看电影了, 번역 in 번역을), whatever the word boundaries really are.
 *   - Single CJK characters are tokens too, so that a one-character query (猫) finds every
 *     message with that character. In a document every character of a run is a token at the
 *     position of the pair it starts (FTS5_TOKEN_COLOCATED: the same position, like a
 *     synonym), and the run's last character has a position of its own. A run of n characters
 *     thus fills n positions: position i holds the character c[i] and, but for the last, the
 *     pair c[i]c[i+1].
 *     Why not prefix queries on pairs (猫* instead of a 猫 token)? FTS5 answers a prefix query
 *     by merging the doclists of every pair that starts with the character before it can return
 *     the first row; a common character (的, 我) starts thousands of pairs. A token of its own
 *     costs index space (about one more posting per CJK character) but keeps every query a
 *     plain lookup that can stop after the newest matches. docs/PERFORMANCE.md has the sizes.
 *   - Everything else is words: runs of letters and digits (any script but CJK; combining
 *     marks belong to the word), case-folded: ASCII and fullwidth Latin to ASCII lower case,
 *     accented Latin (Latin-1, Latin Extended-A) to its base letter (Café -> cafe), Greek and
 *     Cyrillic to lower case. A word is cut to STORE_TOKEN_MAX bytes.
 *   - Punctuation, symbols, emoji and spaces separate tokens and are not indexed; format
 *     characters (zero-width joiners, variation selectors, soft hyphen) are ignored inside
 *     words and runs.
 *
 * A query (STORE_TOK_QUERY) is tokenized the same way, without the single characters that
 * only serve one-character queries: a run of one character gives that character; a longer run
 * gives its pairs, and its last character only when more tokens follow (电影 -> 电影;
 * 电影abc -> 电影 影 abc, so the phrase still lines up with a document's positions). A query of
 * three or more characters is thus a phrase of consecutive pairs: 电影院 matches only where the
 * three characters stand together.
 */
#ifndef PIER_STORE_TOKENIZER_H
#define PIER_STORE_TOKENIZER_H

#include <stddef.h>

#define STORE_TOKEN_MAX 64        /* bytes of one token, at most */

enum store_tok_mode {
	STORE_TOK_DOCUMENT,      /* text being indexed (or highlighted) */
	STORE_TOK_QUERY          /* a phrase of a query */
};

/* Token flags, the values of FTS5's own (so the glue passes them through). */
#define STORE_TOK_COLOCATED 0x0001    /* at the position of the token before it */

/* Called for each token: flags (0 or STORE_TOK_COLOCATED), the token's bytes (not
 * NUL-terminated, valid only during the call), and the byte range [start, end) of the text it
 * comes from. A nonzero return stops the tokenizer, which returns that value. */
typedef int store_token_fn(void *ud, int flags, const char *token, int len, int start, int end);

/* Tokenizes len bytes of UTF-8 text (invalid bytes separate, like punctuation). Returns 0, or
 * the first nonzero value cb returned. len must be below INT_MAX. */
int store_tokenize(const char *text, size_t len, enum store_tok_mode mode, store_token_fn *cb,
                   void *ud);

#endif
