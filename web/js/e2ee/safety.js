// safety.js - what people compare (E2EE.md "Safety numbers", "Approving a new device"):
//   fp(u) = BLAKE2b-256("pier-safety-v1" || str8(lower(u)) || AK_pub); its first 30 bytes,
//   6 chunks of 5, each a 40-bit big-endian number mod 100000: 30 digits per user; the safety
//   number is the digits of the user whose lower-case name sorts first, then the other's.
//   code = BLAKE2b-256("pier-approve-v1" || AK_pub || id || DSK_pub || DIK_pub), its first 4
//   bytes as a big-endian u32 mod 100000000: 8 digits.

import { sodium } from './sodium.js';
import { Writer, compareBytes, concat, utf8 } from './bytes.js';
import { check } from './errors.js';

const USER_RE = /^[A-Za-z0-9_.-]{6,32}$/;

/**
 * The 30 digits of a user's fingerprint.
 * @param {string} user a valid user name (folded to lower case)
 * @param {Uint8Array} akPub
 * @returns {string}
 */
export function fingerprint(user, akPub) {
	check(typeof user === 'string' && USER_RE.test(user), 'format', 'not a user name');
	check(akPub instanceof Uint8Array && akPub.length === 32, 'format', 'AK');
	const h = sodium().crypto_generichash(32,
		new Writer().bytes('pier-safety-v1').str8(user.toLowerCase()).bytes(akPub).done(), null);
	let out = '';
	for (let c = 0; c < 6; c++) {
		let v = 0;
		for (let i = 0; i < 5; i++)
			v = v * 256 + h[c * 5 + i];
		out += String(v % 100000).padStart(5, '0');
	}
	return out;
}

/**
 * The 60 digits of two users' safety number (either order gives the same).
 * @returns {string}
 */
export function safetyNumber(userA, akA, userB, akB) {
	const a = fingerprint(userA, akA), b = fingerprint(userB, akB);
	return compareBytes(utf8(userA.toLowerCase()), utf8(userB.toLowerCase())) <= 0 ? a + b : b + a;
}

/** "12345 67890 …": groups of 5 digits. */
export function formatSafety(digits) {
	return digits.match(/.{1,5}/g).join(' ');
}

/**
 * The approval code of a new device for an account key.
 * @param {Uint8Array} akPub
 * @param {import('./devkeys.js').PeerKeys} dev
 * @returns {number} 0 .. 99999999
 */
export function approvalCode(akPub, dev) {
	const h = sodium().crypto_generichash(32,
		concat('pier-approve-v1', akPub, dev.id, dev.signPub, dev.dhPub), null);
	return new DataView(h.buffer, h.byteOffset).getUint32(0) % 100000000;
}

/** "1234 5678". */
export function formatApproval(code) {
	const s = String(code).padStart(8, '0');
	return `${s.slice(0, 4)} ${s.slice(4)}`;
}
