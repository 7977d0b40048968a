// devsig.js - the signatures of E2EE.md: a device list by the account key AK, a signed
// prekey and the login hello proof by the device key DSK; and the trust rule for a user's
// list (trust on first use, versions, resets). Keys are Ed25519 seeds (32 bytes).

import { sodium } from './sodium.js';
import { concat, equal, u32 } from './bytes.js';
import { E2eeError } from './errors.js';
import { decodeDeviceList } from './devlist.js';

const LIST_CTX = 'pier-devlist-v1';
const SPK_CTX = 'pier-spk-v1';
const HELLO_CTX = 'pier-hello-v1';

/**
 * An Ed25519 key pair from its seed.
 * @param {Uint8Array} seed 32 bytes
 * @returns {{publicKey: Uint8Array, privateKey: Uint8Array}}
 */
export function signKeyPair(seed) {
	return sodium().crypto_sign_seed_keypair(seed);
}

/** @param {Uint8Array} seed @returns {Uint8Array} the Ed25519 public key of a seed */
export function signPub(seed) {
	const kp = signKeyPair(seed);
	kp.privateKey.fill(0);
	return kp.publicKey;
}

function sign(seed, msg) {
	const kp = signKeyPair(seed);
	const sig = sodium().crypto_sign_detached(msg, kp.privateKey);
	kp.privateKey.fill(0);
	return sig;
}

function verify(pub, msg, sig) {
	if (!(sig instanceof Uint8Array) || sig.length !== 64 || !(pub instanceof Uint8Array) ||
	    pub.length !== 32)
		return false;
	try {
		return sodium().crypto_sign_verify_detached(sig, msg, pub);
	} catch {
		return false;
	}
}

/** sig = Ed25519(AK, "pier-devlist-v1" || list). */
export function signDeviceList(akSeed, list) {
	return sign(akSeed, concat(LIST_CTX, list));
}

/** @returns {boolean} */
export function verifyDeviceList(akPub, list, sig) {
	return verify(akPub, concat(LIST_CTX, list), sig);
}

/** sig = Ed25519(DSK, "pier-spk-v1" || device_id || u32(spk_id) || SPK_pub). */
export function signSpk(signSeed, deviceId, spkId, spkPub) {
	return sign(signSeed, concat(SPK_CTX, deviceId, u32(spkId), spkPub));
}

/** @returns {boolean} */
export function verifySpk(signPubKey, deviceId, spkId, spkPub, sig) {
	return verify(signPubKey, concat(SPK_CTX, deviceId, u32(spkId), spkPub), sig);
}

/** proof = Ed25519(DSK, "pier-hello-v1" || challenge). */
export function helloProof(signSeed, challenge) {
	return sign(signSeed, concat(HELLO_CTX, challenge));
}

/** @returns {boolean} */
export function verifyHello(signPubKey, challenge, proof) {
	return verify(signPubKey, concat(HELLO_CTX, challenge), proof);
}

/**
 * Parses a list and checks its signature with its own AK_pub and that it is `user`'s (in
 * lower case), like the C pier_e2ee_devlist_open. Trust is trustDeviceList's.
 * @param {Uint8Array} list
 * @param {Uint8Array} sig
 * @param {string} user
 * @returns {import('./devlist.js').DeviceList}
 * @throws {E2eeError} 'format' (the bytes; `reason` says which rule), 'signature', 'mismatch'
 */
export function openDeviceList(list, sig, user) {
	const l = decodeDeviceList(list);
	if (!verifyDeviceList(l.ak, list, sig))
		throw new E2eeError('signature', 'device list');
	if (l.user !== String(user).toLowerCase())
		throw new E2eeError('mismatch', `the list is ${l.user}'s, not ${user}'s`);
	return l;
}

/**
 * E2EE.md's trust rule for a user's verified list, given what the client remembers of that
 * user (null: nothing yet).
 * - nothing remembered: trust on first use ('tofu');
 * - the same AK and a version not lower: 'same';
 * - another AK with the reset flag: 'reset' (the client remembers the new AK, clears
 *   "verified" and says "safety number changed");
 * - a lower version (whatever its AK: an old epoch's list is a rollback), or another AK
 *   without the reset flag: refused.
 * @param {{ak: Uint8Array, version: number}|null} known
 * @param {import('./devlist.js').DeviceList} list an opened list (openDeviceList)
 * @returns {{trust: 'tofu'|'same'|'reset'}}
 * @throws {E2eeError} 'mismatch' (a new AK without reset), 'replay' (a lower version)
 */
export function trustDeviceList(known, list) {
	if (!known)
		return { trust: 'tofu' };
	if (list.version < known.version)
		throw new E2eeError('replay', `list version ${list.version} < ${known.version}`);
	if (equal(known.ak, list.ak))
		return { trust: 'same' };
	if (!list.reset)
		throw new E2eeError('mismatch', 'a new account key without the reset flag');
	return { trust: 'reset' };
}
