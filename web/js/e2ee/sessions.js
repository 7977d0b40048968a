// sessions.js - a device's sessions with remote devices (E2EE.md "Sessions per device pair"),
// as the C core's sessions.c: per remote device at most MAX_SESSIONS sessions, newest first,
// and the EKs of pre-key envelopes already taken (a pre-key envelope with a seen EK is a
// replay). encrypt() uses the newest session or starts one by X3DH from a `keys` bundle;
// an initiator sends pre-key envelopes until a message of that session reaches it (so a lost
// first message loses nothing), ratchet envelopes after. decrypt() opens a pre-key envelope
// on the session of its EK, or makes a new session from it; a ratchet envelope is tried on
// the sessions, newest first: the one that opens it becomes the newest. A failure changes
// nothing. The whole store is JSON (sessionsToJSON / sessionsFromJSON) for IndexedDB.

import { concat, equal } from './bytes.js';
import { toB64, fromB64 } from './b64.js';
import { draw } from './rng.js';
import { E2eeError, check } from './errors.js';
import { x3dhAd, x3dhInitiator, x3dhResponder, AD_LEN } from './x3dh.js';
import { ratchetDecrypt, ratchetFromJSON, ratchetInitInitiator, ratchetInitResponder,
	ratchetNext, ratchetToJSON, msgSeal, wipeRatchet } from './ratchet.js';
import { CT_MAX, PREKEY, RATCHET, envelopePrefix, parseEnvelope } from './envelope.js';
import { verifySpk } from './devsig.js';
import { findOpk, findSpk, removeOpk, sameKeys } from './devkeys.js';
import { publicOf } from './x25519.js';

export const MAX_SESSIONS = 4;
export const MAX_SEEN_EK = 128;
export const MAX_PEERS = 1024;
export const INNER_MAX = CT_MAX - 16;

/**
 * @typedef {object} Session
 * @property {import('./ratchet.js').Ratchet} r
 * @property {Uint8Array} ad the X3DH associated data, initiator first
 * @property {boolean} sendPrekey an initiator that has not heard back on this session yet
 * @property {Uint8Array} ek the session's EK (either side)
 * @property {number} spkId
 * @property {boolean} hasOpk
 * @property {number} opkId
 */
/**
 * @typedef {object} Peer
 * @property {import('./devkeys.js').PeerKeys} keys the remote device as trusted when its
 *   first session was made
 * @property {Session[]} sess newest first
 * @property {Uint8Array[]} seenEk oldest first
 */
/**
 * A `keys` bundle device (docs/PROTOCOL.md, keys), decoded.
 * @typedef {object} BundleDevice
 * @property {import('./devkeys.js').PeerKeys} keys
 * @property {number} spkId
 * @property {Uint8Array} spkPub
 * @property {Uint8Array} spkSig
 * @property {boolean} hasOpk
 * @property {number} [opkId]
 * @property {Uint8Array} [opkPub]
 * @property {boolean} listed false: the server says the list does not name it
 */

/** The sessions of one device with every remote device. */
export class Sessions {
	constructor() {
		/** @type {Map<string, Peer>} by base64url device id */
		this.peers = new Map();
	}

	/** @param {Uint8Array} id @returns {boolean} a session with that device exists */
	has(id) {
		return (this.peers.get(toB64(id))?.sess.length ?? 0) > 0;
	}

	/** Forgets every session with a device (a revoked device). */
	forget(id) {
		const p = this.peers.get(toB64(id));
		if (p) {
			p.sess.forEach((s) => wipeRatchet(s.r));
			this.peers.delete(toB64(id));
		}
	}

	/**
	 * Encrypts inner (at most INNER_MAX bytes) for the remote device `to` (its keys from the
	 * trusted list). Uses the newest session with it; without one, `bundle` starts one by X3DH:
	 * its keys must equal `to` ('mismatch') and its SPK signature verify ('signature'). Draws:
	 * EK (32) then DHs (32) for a new session.
	 * @param {import('./devkeys.js').DeviceKeys} self
	 * @param {import('./devkeys.js').PeerKeys} to
	 * @param {BundleDevice|null} bundle
	 * @param {Uint8Array} inner
	 * @param {import('./rng.js').Rng|null} [rng]
	 * @returns {Uint8Array} the envelope
	 */
	encrypt(self, to, bundle, inner, rng = null) {
		check(inner.length <= INNER_MAX, 'limit', 'inner too long');
		const key = toB64(to.id);
		let peer = this.peers.get(key);
		check(!peer || sameKeys(peer.keys, to), 'mismatch', 'the device has other keys now');
		let s = peer?.sess[0];
		let added = false;
		if (!s) {
			check(bundle, 'no_session', 'no session and no bundle');
			check(sameKeys(bundle.keys, to), 'mismatch', 'the bundle is not the listed device');
			check(verifySpk(to.signPub, to.id, bundle.spkId, bundle.spkPub, bundle.spkSig),
				'signature', 'signed prekey');
			if (!peer) {
				check(this.peers.size < MAX_PEERS, 'limit', 'too many remote devices');
				peer = { keys: copyKeys(to), sess: [], seenEk: [] };
			}
			const ekPriv = draw(rng, 32);
			const sk = x3dhInitiator(self.dhPriv, ekPriv, to.dhPub, bundle.spkPub,
				bundle.hasOpk ? bundle.opkPub : null);
			const ek = publicOf(ekPriv);
			ekPriv.fill(0);
			s = {
				r: ratchetInitInitiator(sk, bundle.spkPub, rng), ad: x3dhAd(self.pub, to),
				sendPrekey: true, ek, spkId: bundle.spkId, hasOpk: !!bundle.hasOpk,
				opkId: bundle.hasOpk ? bundle.opkId : 0,
			};
			sk.fill(0);
			added = true;
		}
		const { header, mk } = ratchetNext(s.r);
		const env = s.sendPrekey
			? { type: PREKEY, ek: s.ek, spkId: s.spkId, hasOpk: s.hasOpk, opkId: s.opkId, header }
			: { type: RATCHET, header };
		const prefix = envelopePrefix(env);
		const ct = msgSeal(mk, concat(s.ad, prefix), inner);
		mk.fill(0);
		if (added) {
			pushSession(peer, s);
			this.peers.set(key, peer);
		}
		return concat(prefix, ct);
	}

	/**
	 * Decrypts an envelope from the remote device `from` (its keys from the trusted list; the
	 * id is the one the server reports). A pre-key envelope makes a new session and removes its
	 * one-time prekey from `self` (save both); a ratchet envelope is tried on the sessions
	 * with that device, newest first, and the one that opens it becomes the newest.
	 * @param {import('./devkeys.js').DeviceKeys} self
	 * @param {import('./devkeys.js').PeerKeys} from
	 * @param {Uint8Array} envBytes
	 * @param {import('./rng.js').Rng|null} [rng]
	 * @returns {Uint8Array} inner
	 * @throws {E2eeError} 'format', 'auth', 'replay', 'no_session', 'too_far', 'key',
	 *   'mismatch', 'limit'; nothing changed
	 */
	decrypt(self, from, envBytes, rng = null) {
		const env = parseEnvelope(envBytes);
		const key = toB64(from.id);
		const peer = this.peers.get(key);
		check(!peer || sameKeys(peer.keys, from), 'mismatch', 'the device has other keys now');
		if (env.type === PREKEY) {
			// The initiator repeats its pre-key envelope until it hears back: the session of
			// that EK opens it (its keys are used once). An EK seen before whose session is
			// gone is a replay.
			const i = peer ? peer.sess.findIndex((s) => equal(s.ek, env.ek)) : -1;
			if (i >= 0)
				return sessionDecrypt(peer, i, env, rng);
			return this.#decryptPrekey(self, from, peer, env, rng);
		}
		check(peer && peer.sess.length > 0, 'no_session', 'no session with that device');
		let worst = new E2eeError('auth', 'no session opens it');
		for (let i = 0; i < peer.sess.length; i++) {
			try {
				return sessionDecrypt(peer, i, env, rng);
			} catch (e) {
				if (!(e instanceof E2eeError))
					throw e;
				// What went wrong, the C core's way: a replay says most, then too_far.
				if (e.code === 'replay' || (e.code === 'too_far' && worst.code !== 'replay'))
					worst = e;
			}
		}
		throw worst;
	}

	#decryptPrekey(self, from, peer, env, rng) {
		check(!peer || !peer.seenEk.some((ek) => equal(ek, env.ek)), 'replay', 'EK already seen');
		check(peer || this.peers.size < MAX_PEERS, 'limit', 'too many remote devices');
		const spk = findSpk(self, env.spkId);
		check(spk, 'key', `unknown signed prekey ${env.spkId}`);
		const opk = env.hasOpk ? findOpk(self, env.opkId) : null;
		check(!env.hasOpk || opk, 'key', `unknown one-time prekey ${env.opkId}`);
		const sk = x3dhResponder(self.dhPriv, spk.priv, opk ? opk.priv : null, from.dhPub, env.ek);
		const ad = x3dhAd(from, self.pub);
		const r = ratchetInitResponder(sk, spk.priv, spk.pub);
		sk.fill(0);
		let inner;
		try {
			inner = ratchetDecrypt(r, env.header, concat(ad, env.prefix), env.ct, rng);
		} catch (e) {
			wipeRatchet(r);
			throw e;
		}
		const p = peer ?? { keys: copyKeys(from), sess: [], seenEk: [] };
		pushSession(p, { r, ad, sendPrekey: false, ek: env.ek, spkId: env.spkId,
			hasOpk: env.hasOpk, opkId: env.hasOpk ? env.opkId : 0 });
		p.seenEk.push(env.ek);
		if (p.seenEk.length > MAX_SEEN_EK)
			p.seenEk.shift();
		this.peers.set(toB64(from.id), p);
		if (opk)
			removeOpk(self, env.opkId);
		return inner;
	}
}

// Decrypts env on session i of peer; on success the session is the newest, and an initiator
// knows the other side has it (no more pre-key envelopes).
function sessionDecrypt(peer, i, env, rng) {
	const s = peer.sess[i];
	const inner = ratchetDecrypt(s.r, env.header, concat(s.ad, env.prefix), env.ct, rng);
	s.sendPrekey = false;
	if (i > 0) {
		peer.sess.splice(i, 1);
		peer.sess.unshift(s);
	}
	return inner;
}

function copyKeys(k) {
	return { id: k.id.slice(), signPub: k.signPub.slice(), dhPub: k.dhPub.slice() };
}

function pushSession(peer, s) {
	peer.sess.unshift(s);
	while (peer.sess.length > MAX_SESSIONS)
		wipeRatchet(peer.sess.pop().r);
}

/**
 * The store as JSON (keys in it: keep it secret):
 * {"v":1,"peers":[{"id","sign_pub","dh_pub","sessions":[{ratchet…,"ad","send_prekey","ek",
 *  "spk_id","has_opk","opk_id"}],"seen_ek":[…]}]}.
 * @param {Sessions} store
 */
export function sessionsToJSON(store) {
	return {
		v: 1,
		peers: [...store.peers.values()].map((p) => ({
			id: toB64(p.keys.id), sign_pub: toB64(p.keys.signPub), dh_pub: toB64(p.keys.dhPub),
			sessions: p.sess.map((s) => ({
				ratchet: ratchetToJSON(s.r), ad: toB64(s.ad), send_prekey: s.sendPrekey,
				ek: toB64(s.ek), spk_id: s.spkId, has_opk: s.hasOpk, opk_id: s.opkId,
			})),
			seen_ek: p.seenEk.map(toB64),
		})),
	};
}

/**
 * @param {object} j sessionsToJSON's object
 * @returns {Sessions}
 * @throws {E2eeError} 'format'
 */
export function sessionsFromJSON(j) {
	check(j && j.v === 1 && Array.isArray(j.peers) && j.peers.length <= MAX_PEERS, 'format',
		'sessions state');
	const store = new Sessions();
	for (const p of j.peers) {
		check(p && Array.isArray(p.sessions) && p.sessions.length <= MAX_SESSIONS &&
			Array.isArray(p.seen_ek) && p.seen_ek.length <= MAX_SEEN_EK, 'format', 'peer');
		const keys = { id: fromB64(p.id, 16), signPub: fromB64(p.sign_pub, 32),
			dhPub: fromB64(p.dh_pub, 32) };
		const sess = p.sessions.map((s) => {
			check(s && typeof s.send_prekey === 'boolean' && typeof s.has_opk === 'boolean' &&
				Number.isInteger(s.spk_id) && Number.isInteger(s.opk_id), 'format', 'session');
			return { r: ratchetFromJSON(s.ratchet), ad: fromB64(s.ad, AD_LEN),
				sendPrekey: s.send_prekey, ek: fromB64(s.ek, 32), spkId: s.spk_id,
				hasOpk: s.has_opk, opkId: s.opk_id };
		});
		check(!store.peers.has(p.id), 'format', 'a device twice');
		store.peers.set(p.id, { keys, sess, seenEk: p.seen_ek.map((e) => fromB64(e, 32)) });
	}
	return store;
}

// The `keys` reply's parser lives in bundle.js; bundleDevice stays importable from here.
export { bundleDevice } from './bundle.js';
