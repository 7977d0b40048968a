// envelope.js - the envelope byte codec of E2EE.md "Envelopes and payloads":
//   u8 version = 1, u8 type (1: pre-key, 2: ratchet),
//   type 1 only: EK_pub(32), u32 spk_id, u8 has_opk (0/1), u32 opk_id (only when has_opk),
//   header: DH_pub(32), u32 PN, u32 N,
//   ciphertext: the rest, 16..256 bytes.
// The prefix (every byte before the ciphertext) is authenticated with the session's AD.

import { Reader, Writer } from './bytes.js';
import { E2eeError, check } from './errors.js';

export const VERSION = 1;
export const PREKEY = 1;
export const RATCHET = 2;
export const CT_MIN = 16;
export const CT_MAX = 256;
export const PREFIX_MAX = 83;
export const ENVELOPE_MAX = PREFIX_MAX + CT_MAX;

/**
 * @typedef {object} Envelope
 * @property {1|2} type
 * @property {Uint8Array} [ek] pre-key only
 * @property {number} [spkId] pre-key only
 * @property {boolean} [hasOpk] pre-key only
 * @property {number} [opkId] pre-key with hasOpk only
 * @property {import('./ratchet.js').Header} header
 * @property {Uint8Array} [ct] the ciphertext (parse)
 * @property {Uint8Array} [prefix] the bytes before the ciphertext (parse)
 */

/**
 * The bytes before the ciphertext.
 * @param {Envelope} e
 * @returns {Uint8Array}
 */
export function envelopePrefix(e) {
	const w = new Writer().u8(VERSION).u8(e.type);
	if (e.type === PREKEY) {
		check(e.ek instanceof Uint8Array && e.ek.length === 32, 'format', 'EK');
		w.bytes(e.ek).u32(e.spkId).u8(e.hasOpk ? 1 : 0);
		if (e.hasOpk)
			w.u32(e.opkId);
	} else {
		check(e.type === RATCHET, 'format', 'envelope type');
	}
	check(e.header.dh instanceof Uint8Array && e.header.dh.length === 32, 'format', 'DH');
	return w.bytes(e.header.dh).u32(e.header.pn).u32(e.header.n).done();
}

/**
 * Parses an envelope; E2eeError('format') on any deviation (version, type, has_opk not 0/1,
 * lengths).
 * @param {Uint8Array} bytes
 * @returns {Envelope}
 */
export function parseEnvelope(bytes) {
	check(bytes instanceof Uint8Array, 'format', 'envelope');
	const r = new Reader(bytes);
	try {
		check(r.u8() === VERSION, 'format', 'envelope version');
		const type = r.u8();
		check(type === PREKEY || type === RATCHET, 'format', 'envelope type');
		/** @type {Envelope} */
		const e = { type };
		if (type === PREKEY) {
			e.ek = r.bytes(32);
			e.spkId = r.u32();
			const has = r.u8();
			check(has === 0 || has === 1, 'format', 'has_opk');
			e.hasOpk = has === 1;
			if (e.hasOpk)
				e.opkId = r.u32();
		}
		e.header = { dh: r.bytes(32), pn: r.u32(), n: r.u32() };
		e.prefix = bytes.slice(0, r.at);
		check(r.left >= CT_MIN && r.left <= CT_MAX, 'format', 'ciphertext length');
		e.ct = r.rest();
		return e;
	} catch (err) {
		if (err instanceof E2eeError)
			throw new E2eeError('format', err.detail);
		throw err;
	}
}
