// devkeys.js - one's own device's keys (E2EE.md "Identities"): its id, signing key DSK
// (Ed25519 seed), identity DH key DIK, signed prekey SPK (and the one before, for envelopes
// still in flight) and one-time prekeys OPK, as the C core's device.c keeps them, with the
// same JSON state (private keys in it: keep it secret; public keys are derived again when
// read). The device manager (device.js) publishes them and stores the state.

import { toB64, fromB64 } from './b64.js';
import { draw } from './rng.js';
import { newKeyPair, publicOf } from './x25519.js';
import { signPub, signSpk } from './devsig.js';
import { check } from './errors.js';
import { equal } from './bytes.js';

export const MAX_OPKS = 200;

/**
 * @typedef {object} Spk
 * @property {number} id
 * @property {Uint8Array} priv
 * @property {Uint8Array} pub
 * @property {Uint8Array} sig
 */
/**
 * @typedef {object} Opk
 * @property {number} id
 * @property {Uint8Array} priv
 * @property {Uint8Array} pub
 */
/**
 * The public keys of a device: what a device list names.
 * @typedef {object} PeerKeys
 * @property {Uint8Array} id 16 bytes
 * @property {Uint8Array} signPub DSK_pub
 * @property {Uint8Array} dhPub DIK_pub
 */
/**
 * @typedef {object} DeviceKeys
 * @property {PeerKeys} pub
 * @property {Uint8Array} signSeed DSK
 * @property {Uint8Array} dhPriv DIK
 * @property {number} created ms
 * @property {Spk} spk
 * @property {Spk|null} prevSpk
 * @property {Opk[]} opks oldest first
 * @property {number} nextOpkId
 */

function makeSpk(signSeed, id, spkId, rng) {
	const kp = newKeyPair(rng);
	return { id: spkId, priv: kp.priv, pub: kp.pub, sig: signSpk(signSeed, id, spkId, kp.pub) };
}

/**
 * A new device. Draws, in order: id (16), DSK seed (32), DIK (32), SPK (32, id 1). No OPKs.
 * @param {number} created ms
 * @param {import('./rng.js').Rng|null} [rng]
 * @returns {DeviceKeys}
 */
export function createDevice(created, rng = null) {
	const id = draw(rng, 16);
	const signSeed = draw(rng, 32);
	const dhPriv = draw(rng, 32);
	const spk = makeSpk(signSeed, id, 1, rng);
	return {
		pub: { id, signPub: signPub(signSeed), dhPub: publicOf(dhPriv) },
		signSeed, dhPriv, created, spk, prevSpk: null, opks: [], nextOpkId: 1,
	};
}

/**
 * Adds n new OPKs (one 32-byte draw each), ids nextOpkId onwards.
 * @param {DeviceKeys} d
 * @param {number} n
 * @param {import('./rng.js').Rng|null} [rng]
 * @returns {Opk[]} the new ones (to publish)
 * @throws {E2eeError} 'limit' past MAX_OPKS (nothing added)
 */
export function addOpks(d, n, rng = null) {
	check(d.opks.length + n <= MAX_OPKS, 'limit', `at most ${MAX_OPKS} one-time prekeys`);
	const added = [];
	for (let i = 0; i < n; i++) {
		const kp = newKeyPair(rng);
		added.push({ id: d.nextOpkId++, priv: kp.priv, pub: kp.pub });
	}
	d.opks.push(...added);
	return added;
}

/**
 * A new SPK (one 32-byte draw, id + 1); the current one becomes prevSpk, the older is wiped.
 * @param {DeviceKeys} d
 * @param {import('./rng.js').Rng|null} [rng]
 */
export function rotateSpk(d, rng = null) {
	if (d.prevSpk)
		d.prevSpk.priv.fill(0);
	d.prevSpk = d.spk;
	d.spk = makeSpk(d.signSeed, d.pub.id, d.spk.id + 1, rng);
}

/** @returns {Spk|null} the current or previous SPK of that id */
export function findSpk(d, id) {
	if (d.spk.id === id)
		return d.spk;
	return d.prevSpk && d.prevSpk.id === id ? d.prevSpk : null;
}

/** @returns {Opk|null} */
export function findOpk(d, id) {
	return d.opks.find((o) => o.id === id) ?? null;
}

/** Deletes (wipes) the OPK of that id, if any. */
export function removeOpk(d, id) {
	const i = d.opks.findIndex((o) => o.id === id);
	if (i >= 0) {
		d.opks[i].priv.fill(0);
		d.opks.splice(i, 1);
	}
}

/** Wipes every private key of the device. */
export function wipeDevice(d) {
	for (const b of [d.signSeed, d.dhPriv, d.spk.priv, d.prevSpk?.priv, ...d.opks.map((o) => o.priv)])
		b?.fill(0);
}

/** @param {PeerKeys} a @param {PeerKeys} b @returns {boolean} the same device and keys */
export function sameKeys(a, b) {
	return equal(a.id, b.id) && equal(a.signPub, b.signPub) && equal(a.dhPub, b.dhPub);
}

/**
 * What `device_register` and `prekeys` publish (docs/PROTOCOL.md), base64url.
 * @param {DeviceKeys} d
 * @param {Opk[]} [opks] the OPKs to publish (default: all)
 */
export function publicBundle(d, opks = d.opks) {
	return {
		id: toB64(d.pub.id),
		sign_key: toB64(d.pub.signPub),
		dh_key: toB64(d.pub.dhPub),
		spk: { id: d.spk.id, key: toB64(d.spk.pub), sig: toB64(d.spk.sig) },
		opks: opks.map((o) => ({ id: o.id, key: toB64(o.pub) })),
	};
}

function spkToJSON(s) {
	return { id: s.id, priv: toB64(s.priv), sig: toB64(s.sig) };
}

function u32Of(v, what) {
	check(Number.isInteger(v) && v >= 0 && v <= 0xffffffff, 'format', `${what} is not a u32`);
	return v;
}

function spkFromJSON(j) {
	check(j && typeof j === 'object', 'format', 'spk');
	const priv = fromB64(j.priv, 32);
	return { id: u32Of(j.id, 'spk.id'), priv, pub: publicOf(priv), sig: fromB64(j.sig, 64) };
}

/**
 * The device's JSON state, the C core's format:
 * {"v":1,"id","sign_seed","dh_priv","created","spk":{id,priv,sig},"prev_spk":…,
 *  "opks":[{id,priv}],"next_opk_id"}.
 * @param {DeviceKeys} d
 */
export function deviceToJSON(d) {
	const j = {
		v: 1, id: toB64(d.pub.id), sign_seed: toB64(d.signSeed), dh_priv: toB64(d.dhPriv),
		created: d.created, spk: spkToJSON(d.spk),
	};
	if (d.prevSpk)
		j.prev_spk = spkToJSON(d.prevSpk);
	j.opks = d.opks.map((o) => ({ id: o.id, priv: toB64(o.priv) }));
	j.next_opk_id = d.nextOpkId;
	return j;
}

/**
 * @param {object} j deviceToJSON's object
 * @returns {DeviceKeys}
 * @throws {E2eeError} 'format'
 */
export function deviceFromJSON(j) {
	check(j && typeof j === 'object' && j.v === 1, 'format', 'device state version');
	const id = fromB64(j.id, 16);
	const signSeed = fromB64(j.sign_seed, 32);
	const dhPriv = fromB64(j.dh_priv, 32);
	check(Number.isSafeInteger(j.created) && j.created >= 0, 'format', 'created');
	check(Array.isArray(j.opks) && j.opks.length <= MAX_OPKS, 'format', 'opks');
	const opks = j.opks.map((o) => {
		const priv = fromB64(o?.priv, 32);
		return { id: u32Of(o.id, 'opk.id'), priv, pub: publicOf(priv) };
	});
	return {
		pub: { id, signPub: signPub(signSeed), dhPub: publicOf(dhPriv) },
		signSeed, dhPriv, created: j.created, spk: spkFromJSON(j.spk),
		prevSpk: j.prev_spk ? spkFromJSON(j.prev_spk) : null, opks,
		nextOpkId: u32Of(j.next_opk_id, 'next_opk_id'),
	};
}
