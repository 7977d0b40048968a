// msgrules.js - what a message may carry, as pierd checks it (src/common/msgrules.c): the
// reaction rule, the recall window, where an @name being typed starts (for completion), and
// the quote excerpt. Pure: no DOM, no network.

/** The recall window pierd documents (--recall-window, docs/PROTOCOL.md), until the login
 * reply's recall_window (or a recall_expired's window_s) says the server's own. */
export const RECALL_WINDOW_S = 120;

const REACTION_MAX_BYTES = 32;
const REACTION_MAX_CHARS = 10;
const QUOTE_CHARS = 100;

// Unicode general category Cf (15.1), as in src/common/names.c
const FORMAT = [
	[0x00AD, 0x00AD], [0x0600, 0x0605], [0x061C, 0x061C], [0x06DD, 0x06DD],
	[0x070F, 0x070F], [0x0890, 0x0891], [0x08E2, 0x08E2], [0x180E, 0x180E],
	[0x200B, 0x200F], [0x202A, 0x202E], [0x2060, 0x2064], [0x2066, 0x206F],
	[0xFEFF, 0xFEFF], [0xFFF9, 0xFFFB], [0x110BD, 0x110BD], [0x110CD, 0x110CD],
	[0x13430, 0x1343F], [0x1BCA0, 0x1BCA3], [0x1D173, 0x1D17A], [0xE0001, 0xE0001],
	[0xE0020, 0xE007F],
];

const isFormat = cp => FORMAT.some(([a, b]) => cp >= a && cp <= b);
const isControl = cp => cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
const isSpace = cp => cp === 0x20 || cp === 0xA0 || cp === 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
	cp === 0x2028 || cp === 0x2029 || cp === 0x202F || cp === 0x205F || cp === 0x3000;

/**
 * Whether s may be a reaction: 1 to 32 bytes of UTF-8, at most 10 code points, no control
 * characters, no white space, no format characters but the zero-width joiner and the tag
 * characters emoji sequences are made of (so 👍, ❤️, 👨‍👩‍👧‍👦, 1️⃣ and +1 are fine).
 */
export function reactionOk(s) {
	if (typeof s !== 'string' || !s)
		return false;
	let chars = 0;
	for (const ch of s) {
		const cp = ch.codePointAt(0);
		if (cp >= 0xD800 && cp <= 0xDFFF)
			return false;           // a lone surrogate is no UTF-8
		if (++chars > REACTION_MAX_CHARS || isControl(cp) || isSpace(cp))
			return false;
		if (isFormat(cp) && cp !== 0x200D && !(cp >= 0xE0020 && cp <= 0xE007F))
			return false;
	}
	return new TextEncoder().encode(s).length <= REACTION_MAX_BYTES;
}

/** Whether a message sent at ts (ms, the server's clock) may still be recalled at now. */
export function recallable(ts, windowS, now = Date.now()) {
	return windowS > 0 && now - ts < windowS * 1000;
}

const NAME_CHAR = /[A-Za-z0-9_.-]/;

/**
 * The @name being typed at the caret: { start, end, query } where text.slice(start, end) is
 * '@' (or the full-width '＠' Chinese input methods type) and what follows it up to the caret,
 * or null. As pierd reads mentions, an '@' right after a name character is none (an e-mail
 * address).
 */
export function mentionAt(text, caret) {
	let i = caret;
	while (i > 0 && NAME_CHAR.test(text[i - 1]) && caret - i < 32)
		i--;
	if (i === 0 || (text[i - 1] !== '@' && text[i - 1] !== '＠'))
		return null;
	const at = i - 1;
	if (at > 0 && NAME_CHAR.test(text[at - 1]))
		return null;
	return { start: at, end: caret, query: text.slice(i, caret) };
}

/** The quote pierd would give for a message (its first 100 code points), for display. */
export function quoteOf(m) {
	const chars = Array.from(m.text || '');
	const q = { id: m.id, from: m.from, text: chars.slice(0, QUOTE_CHARS).join('') };
	if (chars.length > QUOTE_CHARS)
		q.cut = true;
	if (m.media)
		q.kind = m.kind || 'file';
	return q;
}
