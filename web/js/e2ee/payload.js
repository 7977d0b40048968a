// payload.js - a message's payload and the 64-byte inner each envelope carries (E2EE.md
// "Envelopes and payloads"): payload = nonce(24) || XChaCha20-Poly1305(pk, nonce,
// "pier-payload-v1", plaintext) with a fresh key pk; inner = pk || BLAKE2b-256(payload).
// The plaintext is a JSON object (payloadText / readPayloadText check its fields).

import { sodium } from './sodium.js';
import { concat, equal, fromUtf8, utf8 } from './bytes.js';
import { draw } from './rng.js';
import { E2eeError, check } from './errors.js';

export const INNER_LEN = 64;
export const NONCE_LEN = 24;
export const OVERHEAD = NONCE_LEN + 16;
/** --e2ee-max-payload's default: 24 KiB of base64url, so 18432 bytes. */
export const PAYLOAD_MAX = 18432;
export const TEXT_MAX = 16384;
const AD = utf8('pier-payload-v1');

export const TYPES = Object.freeze(['message', 'edit', 'grant', 'history']);
export const KINDS = Object.freeze(['text', 'image', 'video', 'audio', 'file']);

/**
 * Seals a plaintext. Draws: pk (32) then nonce (24).
 * @param {Uint8Array} pt
 * @param {import('./rng.js').Rng|null} [rng]
 * @returns {{payload: Uint8Array, pk: Uint8Array, inner: Uint8Array}}
 */
export function sealPayload(pt, rng = null) {
	const pk = draw(rng, 32);
	const nonce = draw(rng, NONCE_LEN);
	const ct = sodium().crypto_aead_xchacha20poly1305_ietf_encrypt(pt, AD, null, nonce, pk);
	const payload = concat(nonce, ct);
	return { payload, pk, inner: makeInner(pk, payload) };
}

/** inner = pk || BLAKE2b-256(payload). */
export function makeInner(pk, payload) {
	return concat(pk, sodium().crypto_generichash(32, payload, null));
}

/**
 * Checks the payload's hash against inner, then opens it.
 * @param {Uint8Array} inner
 * @param {Uint8Array} payload
 * @returns {Uint8Array} the plaintext
 * @throws {E2eeError} 'format' (too short), 'auth' (hash or tag)
 */
export function openPayload(inner, payload) {
	check(inner instanceof Uint8Array && inner.length === INNER_LEN, 'format', 'inner');
	check(payload instanceof Uint8Array && payload.length >= OVERHEAD, 'format', 'payload too short');
	const hash = sodium().crypto_generichash(32, payload, null);
	check(equal(hash, inner.subarray(32)), 'auth', 'payload hash');
	try {
		return sodium().crypto_aead_xchacha20poly1305_ietf_decrypt(null, payload.subarray(NONCE_LEN),
			AD, payload.subarray(0, NONCE_LEN), inner.subarray(0, 32));
	} catch {
		throw new E2eeError('auth', 'payload');
	}
}

const isStr = (v) => typeof v === 'string';
const isId = (v) => Number.isSafeInteger(v) && v > 0;

function checkFile(f) {
	check(f && typeof f === 'object' && isId(f.media) && isStr(f.key) && isStr(f.header) &&
		isStr(f.name) && isStr(f.type) && Number.isSafeInteger(f.size) && f.size >= 0,
		'format', 'payload file');
}

/**
 * Checks a payload object's fields (E2EE.md "Payload plaintext"; unknown fields are kept and
 * ignored) and gives its JSON bytes.
 * @param {object} p {v:1, type?, peer, text?, kind?, file?, reply_to?, edit_of?, ts?, ak?,
 *   contacts?, history?}
 * @returns {Uint8Array}
 * @throws {E2eeError} 'format', 'limit' (text over 16 KiB, payload over PAYLOAD_MAX)
 */
export function payloadText(p) {
	validate(p);
	const b = utf8(JSON.stringify(p));
	check(b.length + OVERHEAD <= PAYLOAD_MAX, 'limit', 'payload too long');
	return b;
}

/**
 * Parses and checks an opened payload's plaintext.
 * @param {Uint8Array} pt
 * @returns {object} with `type` filled in ('message' when absent)
 * @throws {E2eeError} 'format'
 */
export function readPayloadText(pt) {
	let p;
	try {
		p = JSON.parse(fromUtf8(pt));
	} catch (e) {
		throw e instanceof E2eeError ? e : new E2eeError('format', 'payload is not JSON');
	}
	validate(p);
	return { ...p, type: p.type ?? 'message' };
}

function validate(p) {
	check(p && typeof p === 'object' && !Array.isArray(p) && p.v === 1, 'format', 'payload v');
	const type = p.type ?? 'message';
	check(TYPES.includes(type), 'format', 'payload type');
	check(p.peer === undefined || isStr(p.peer), 'format', 'payload peer');
	check(type === 'grant' || type === 'history' || isStr(p.peer), 'format', 'payload peer');
	if (p.text !== undefined) {
		check(isStr(p.text), 'format', 'payload text');
		check(utf8(p.text).length <= TEXT_MAX, 'limit', 'text over 16 KiB');
	}
	check(p.kind === undefined || KINDS.includes(p.kind), 'format', 'payload kind');
	if (p.file !== undefined)
		checkFile(p.file);
	check(p.reply_to === undefined || isId(p.reply_to), 'format', 'payload reply_to');
	check(p.ts === undefined || Number.isSafeInteger(p.ts), 'format', 'payload ts');
	if (type === 'edit')
		check(isId(p.edit_of) && isStr(p.text), 'format', 'edit without edit_of or text');
	if (type === 'grant') {
		check(isStr(p.ak), 'format', 'grant without ak');
		check(p.contacts === undefined || (Array.isArray(p.contacts) && p.contacts.every(
			(c) => c && isStr(c.user) && isStr(c.ak) && typeof (c.verified ?? false) === 'boolean')),
			'format', 'grant contacts');
		if (p.history !== undefined)
			checkFile(p.history);
	}
}
