// b64.js - base64url without padding (E2EE.md "Encoding"), through libsodium: every binary
// value in JSON and in the states kept in IndexedDB is written this way.

import { sodium } from './sodium.js';
import { E2eeError } from './errors.js';

const B64URL = /^[A-Za-z0-9_-]*$/;

/**
 * @param {Uint8Array} bytes
 * @returns {string} base64url without padding
 */
export function toB64(bytes) {
	const s = sodium();
	return s.to_base64(bytes, s.base64_variants.URLSAFE_NO_PADDING);
}

/**
 * Decodes base64url without padding, strictly: padding, other characters, a length that is no
 * encoding (1 mod 4) or non-zero trailing bits are refused (E2eeError 'format'), so a value has
 * one spelling only. With `len`, the result must be exactly that many bytes.
 * @param {string} str
 * @param {number} [len]
 * @returns {Uint8Array}
 */
export function fromB64(str, len) {
	if (typeof str !== 'string' || !B64URL.test(str) || str.length % 4 === 1)
		throw new E2eeError('format', 'not base64url without padding');
	const s = sodium();
	let out;
	try {
		out = s.from_base64(str, s.base64_variants.URLSAFE_NO_PADDING);
	} catch {
		throw new E2eeError('format', 'not base64url without padding');
	}
	if (toB64(out) !== str)
		throw new E2eeError('format', 'base64url with trailing bits');
	if (len !== undefined && out.length !== len)
		throw new E2eeError('format', `expected ${len} bytes, got ${out.length}`);
	return out;
}
