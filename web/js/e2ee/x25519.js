// x25519.js - X25519 as E2EE.md uses it: a private key is 32 random bytes used as they are
// (libsodium clamps), and a DH whose output is all zeros (a low-order public key) is an error.

import { sodium } from './sodium.js';
import { draw } from './rng.js';
import { E2eeError } from './errors.js';

/**
 * A new key pair from one 32-byte draw.
 * @param {import('./rng.js').Rng|null} rng
 * @returns {{priv: Uint8Array, pub: Uint8Array}}
 */
export function newKeyPair(rng) {
	const priv = draw(rng, 32);
	return { priv, pub: sodium().crypto_scalarmult_base(priv) };
}

/** @param {Uint8Array} priv @returns {Uint8Array} its public key */
export function publicOf(priv) {
	return sodium().crypto_scalarmult_base(priv);
}

/**
 * X25519(priv, pub). E2eeError('key') on a bad public key (all-zero output).
 * @param {Uint8Array} priv
 * @param {Uint8Array} pub
 * @returns {Uint8Array} 32 bytes
 */
export function dh(priv, pub) {
	if (!(pub instanceof Uint8Array) || pub.length !== 32)
		throw new E2eeError('key', 'an X25519 public key is 32 bytes');
	try {
		return sodium().crypto_scalarmult(priv, pub);
	} catch {
		throw new E2eeError('key', 'all-zero X25519 output');
	}
}
