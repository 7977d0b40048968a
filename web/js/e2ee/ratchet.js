// ratchet.js - the Double Ratchet of one session (E2EE.md "Sessions"), after Signal's
// specification, with E2EE.md's choices:
//   KDF_RK(rk, dh) = HKDF(salt = rk, ikm = dh, "pier-rk-v1", 64) -> rk' || ck
//   KDF_CK(ck)     = mk = HMAC-SHA-256(ck, 0x01), ck' = HMAC-SHA-256(ck, 0x02)
//   MSGKEY(mk)     = HKDF(32 zero bytes, mk, "pier-mk-v1", 56) -> key(32) || nonce(24)
// At most MAX_SKIP keys are skipped for one message, MAX_SKIPPED kept (the oldest go first); a
// used key is deleted (a replay finds none); a failed decryption changes nothing, the rng
// included (the new DH key pair is drawn only once the message opened). A state is a plain
// object of Uint8Arrays; ratchetToJSON/ratchetFromJSON give the base64url JSON kept on disk.

import { sodium } from './sodium.js';
import { equal } from './bytes.js';
import { hkdf, hmacSha256 } from './hkdf.js';
import { dh, newKeyPair, publicOf } from './x25519.js';
import { toB64, fromB64 } from './b64.js';
import { E2eeError, check } from './errors.js';

export const MAX_SKIP = 1000;
export const MAX_SKIPPED = 2000;
const U32_MAX = 0xffffffff;

/**
 * @typedef {object} Header
 * @property {Uint8Array} dh the sender's ratchet public key
 * @property {number} pn the length of the sender's previous sending chain
 * @property {number} n the message's number in its chain
 */
/**
 * @typedef {object} Skipped
 * @property {Uint8Array} dh
 * @property {number} n
 * @property {Uint8Array} mk
 */
/**
 * @typedef {object} Ratchet
 * @property {Uint8Array} rk
 * @property {Uint8Array} dhsPriv
 * @property {Uint8Array} dhsPub
 * @property {Uint8Array|null} dhr
 * @property {Uint8Array|null} cks
 * @property {Uint8Array|null} ckr
 * @property {number} ns
 * @property {number} nr
 * @property {number} pn
 * @property {Skipped[]} skipped oldest first
 */

function kdfRk(rk, dhOut) {
	const o = hkdf(rk, dhOut, 'pier-rk-v1', 64);
	dhOut.fill(0);
	return [o.slice(0, 32), o.slice(32)];
}

function kdfCk(ck) {
	return [hmacSha256(ck, Uint8Array.of(1)), hmacSha256(ck, Uint8Array.of(2))];
}

/**
 * MSGKEY(mk): the AEAD key and nonce of a message key.
 * @param {Uint8Array} mk
 * @returns {{key: Uint8Array, nonce: Uint8Array}}
 */
export function msgKey(mk) {
	const o = hkdf(null, mk, 'pier-mk-v1', 56);
	return { key: o.slice(0, 32), nonce: o.slice(32) };
}

/**
 * XChaCha20-Poly1305(MSGKEY(mk), ad, pt): pt.length + 16 bytes.
 * @param {Uint8Array} mk
 * @param {Uint8Array} ad
 * @param {Uint8Array} pt
 */
export function msgSeal(mk, ad, pt) {
	const { key, nonce } = msgKey(mk);
	const ct = sodium().crypto_aead_xchacha20poly1305_ietf_encrypt(pt, ad, null, nonce, key);
	key.fill(0);
	return ct;
}

/**
 * Opens msgSeal's output; E2eeError('auth') if it does not authenticate.
 * @returns {Uint8Array}
 */
export function msgOpen(mk, ad, ct) {
	const { key, nonce } = msgKey(mk);
	try {
		return sodium().crypto_aead_xchacha20poly1305_ietf_decrypt(null, ct, ad, nonce, key);
	} catch {
		throw new E2eeError('auth', 'message');
	} finally {
		key.fill(0);
	}
}

/**
 * The initiator after X3DH: DHs = a new key pair (one 32-byte draw), DHr = the responder's
 * SPK, RK, CKs = KDF_RK(SK, X25519(DHs, DHr)).
 * @param {Uint8Array} sk
 * @param {Uint8Array} spkPub
 * @param {import('./rng.js').Rng|null} rng
 * @returns {Ratchet}
 */
export function ratchetInitInitiator(sk, spkPub, rng) {
	const kp = newKeyPair(rng);
	const [rk, cks] = kdfRk(sk, dh(kp.priv, spkPub));
	return { rk, dhsPriv: kp.priv, dhsPub: kp.pub, dhr: spkPub.slice(), cks, ckr: null,
		ns: 0, nr: 0, pn: 0, skipped: [] };
}

/**
 * The responder: DHs = its SPK, RK = SK, no chains until the first message.
 * @returns {Ratchet}
 */
export function ratchetInitResponder(sk, spkPriv, spkPub) {
	return { rk: sk.slice(), dhsPriv: spkPriv.slice(), dhsPub: spkPub.slice(), dhr: null,
		cks: null, ckr: null, ns: 0, nr: 0, pn: 0, skipped: [] };
}

/**
 * The next sending message's header and key; advances CKs and Ns.
 * @param {Ratchet} st
 * @returns {{header: Header, mk: Uint8Array}}
 * @throws {E2eeError} 'no_session' (no sending chain yet), 'limit' (Ns at 2^32 - 1)
 */
export function ratchetNext(st) {
	check(st.cks !== null, 'no_session', 'no sending chain yet');
	check(st.ns < U32_MAX, 'limit', 'sending chain exhausted');
	const [mk, ck] = kdfCk(st.cks);
	st.cks.fill(0);
	st.cks = ck;
	const header = { dh: st.dhsPub.slice(), pn: st.pn, n: st.ns };
	st.ns++;
	return { header, mk };
}

/**
 * Decrypts ct (ct.length >= 16) of the message with header h and associated data ad. On
 * success the state moves on (skipped keys stored, the used one deleted, a DH ratchet step
 * made with one 32-byte draw for the new DHs); on a failure nothing changes.
 * @param {Ratchet} st
 * @param {Header} h
 * @param {Uint8Array} ad
 * @param {Uint8Array} ct
 * @param {import('./rng.js').Rng|null} rng
 * @returns {Uint8Array} the plaintext
 * @throws {E2eeError} 'auth', 'replay' (a key already used), 'too_far', 'key', 'format'
 */
export function ratchetDecrypt(st, h, ad, ct, rng) {
	check(ct.length >= 16, 'format', 'ciphertext shorter than its tag');
	check(h.n < U32_MAX, 'too_far', 'Nr would wrap');
	const at = st.skipped.findIndex((k) => k.n === h.n && equal(k.dh, h.dh));
	if (at >= 0) {
		const pt = msgOpen(st.skipped[at].mk, ad, ct);
		st.skipped[at].mk.fill(0);
		st.skipped.splice(at, 1);
		return pt;
	}
	const newChain = st.dhr === null || !equal(h.dh, st.dhr);
	const fresh = [];
	let rk = st.rk, ckr = st.ckr, nr = st.nr, dhr = st.dhr;
	if (!newChain) {
		check(ckr !== null, 'auth', 'nothing is sent on the chain of our own SPK');
		check(h.n >= nr, 'replay', 'message key already used');
		check(h.n - nr <= MAX_SKIP, 'too_far');
	} else {
		const old = ckr !== null && h.pn > nr ? h.pn - nr : 0;
		check(old + h.n <= MAX_SKIP, 'too_far');
		for (; old > 0 && nr < h.pn; nr++) {
			const [mk, ck] = kdfCk(ckr);
			fresh.push({ dh: dhr, n: nr, mk });
			ckr = ck;
		}
		[rk, ckr] = kdfRk(rk, dh(st.dhsPriv, h.dh));
		dhr = h.dh.slice();
		nr = 0;
	}
	for (; nr < h.n; nr++) {
		const [mk, ck] = kdfCk(ckr);
		fresh.push({ dh: dhr, n: nr, mk });
		ckr = ck;
	}
	const [mk, ckNext] = kdfCk(ckr);
	let pt;
	try {
		pt = msgOpen(mk, ad, ct);
	} catch (e) {
		for (const k of fresh)
			k.mk.fill(0);
		throw e;
	} finally {
		mk.fill(0);
	}
	if (newChain) {
		const kp = newKeyPair(rng);
		const [rk2, cks] = kdfRk(rk, dh(kp.priv, dhr));
		st.dhsPriv.fill(0);
		st.pn = st.ns;
		st.ns = 0;
		st.dhr = dhr;
		st.dhsPriv = kp.priv;
		st.dhsPub = kp.pub;
		st.cks = cks;
		rk = rk2;
	}
	st.rk = rk;
	st.ckr = ckNext;
	st.nr = nr + 1;
	st.skipped.push(...fresh);
	while (st.skipped.length > MAX_SKIPPED)
		st.skipped.shift().mk.fill(0);
	return pt;
}

/** Wipes a state's keys. */
export function wipeRatchet(st) {
	for (const b of [st.rk, st.dhsPriv, st.cks, st.ckr, ...st.skipped.map((k) => k.mk)])
		b?.fill(0);
}

/**
 * The state as JSON (keys in it: keep it secret), the C core's format:
 * {"rk","dhs_priv","dhr"?,"cks"?,"ckr"?,"ns","nr","pn","skipped":[{dh,n,mk}]} (DHs_pub is
 * derived again when read).
 * @param {Ratchet} st
 */
export function ratchetToJSON(st) {
	const j = { rk: toB64(st.rk), dhs_priv: toB64(st.dhsPriv) };
	if (st.dhr)
		j.dhr = toB64(st.dhr);
	if (st.cks)
		j.cks = toB64(st.cks);
	if (st.ckr)
		j.ckr = toB64(st.ckr);
	Object.assign(j, { ns: st.ns, nr: st.nr, pn: st.pn });
	j.skipped = st.skipped.map((k) => ({ dh: toB64(k.dh), n: k.n, mk: toB64(k.mk) }));
	return j;
}

function u32Of(v, what) {
	check(Number.isInteger(v) && v >= 0 && v <= U32_MAX, 'format', `${what} is not a u32`);
	return v;
}

/**
 * @param {object} j ratchetToJSON's object
 * @returns {Ratchet}
 * @throws {E2eeError} 'format'
 */
export function ratchetFromJSON(j) {
	check(j && typeof j === 'object', 'format', 'ratchet state');
	const opt = (k) => (j[k] === undefined ? null : fromB64(j[k], 32));
	check(Array.isArray(j.skipped) && j.skipped.length <= MAX_SKIPPED, 'format', 'skipped keys');
	const dhsPriv = fromB64(j.dhs_priv, 32);
	return {
		rk: fromB64(j.rk, 32), dhsPriv, dhsPub: publicOf(dhsPriv),
		dhr: opt('dhr'), cks: opt('cks'), ckr: opt('ckr'),
		ns: u32Of(j.ns, 'ns'), nr: u32Of(j.nr, 'nr'), pn: u32Of(j.pn, 'pn'),
		skipped: j.skipped.map((k) => ({ dh: fromB64(k?.dh, 32), n: u32Of(k.n, 'n'),
			mk: fromB64(k.mk, 32) })),
	};
}
