// hkdf.js - HKDF-SHA-256 (RFC 5869) on libsodium's HMAC-SHA-256, which Debian's libsodium
// 1.0.18 lacks as HKDF and which the C core builds the same way (src/lib/e2ee/hkdf.c).

import { sodium } from './sodium.js';
import { concat, utf8 } from './bytes.js';
import { E2eeError } from './errors.js';

/**
 * HMAC-SHA-256 with a key of any length.
 * @param {Uint8Array} key
 * @param {Uint8Array} msg
 * @returns {Uint8Array} 32 bytes
 */
export function hmacSha256(key, msg) {
	const s = sodium();
	const st = s.crypto_auth_hmacsha256_init(key);
	s.crypto_auth_hmacsha256_update(st, msg);
	return s.crypto_auth_hmacsha256_final(st);   // frees the state
}

/**
 * HKDF(salt, ikm, info, L) of RFC 5869 with SHA-256. An empty salt means 32 zero bytes.
 * @param {Uint8Array|null} salt
 * @param {Uint8Array} ikm
 * @param {Uint8Array|string} info (a string is taken as UTF-8)
 * @param {number} len at most 255 * 32
 * @returns {Uint8Array}
 */
export function hkdf(salt, ikm, info, len) {
	if (!Number.isInteger(len) || len < 0 || len > 255 * 32)
		throw new E2eeError('limit', 'HKDF output over 255 blocks');
	const inf = typeof info === 'string' ? utf8(info) : info;
	const prk = hmacSha256(salt && salt.length > 0 ? salt : new Uint8Array(32), ikm);
	const out = new Uint8Array(len);
	let t = new Uint8Array(0);
	for (let i = 1, at = 0; at < len; i++) {
		t = hmacSha256(prk, concat(t, inf, Uint8Array.of(i)));
		out.set(t.subarray(0, Math.min(32, len - at)), at);
		at += 32;
	}
	prk.fill(0);
	t.fill(0);
	return out;
}
