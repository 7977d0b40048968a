// rng.js - where randomness comes from: the system's (crypto.getRandomValues, the source
// libsodium's randombytes_buf uses in the browser and in Node), or E2EE.md's deterministic
// source for known-answer vectors: draw
// number i (from 0) of n bytes is randombytes_buf_deterministic(n, BLAKE2b-256(seed || u32(i))).
// Functions that need randomness take an Rng; null or undefined means the system's. The order
// of draws of each operation is the C core's (src/lib/e2ee/e2ee.h), so both make equal bytes.

import { sodium } from './sodium.js';
import { concat, u32 } from './bytes.js';
import { E2eeError } from './errors.js';

export const SEED_MAX = 64;

/**
 * @typedef {object} Rng
 * @property {(n: number) => Uint8Array} fill one draw of n bytes
 * @property {number} draws draws made so far
 */

// The system's bytes. The WebAssembly build's randombytes_buf asks crypto.getRandomValues
// for 4 bytes at a time (79 µs for 32 bytes under Node 20, the largest cost of sealing a
// message); asking it once for the whole draw is the same source at a tenth of the cost.
function systemBytes(n) {
	const b = new Uint8Array(n);
	for (let at = 0; at < n; at += 65536)   // getRandomValues' limit per call
		globalThis.crypto.getRandomValues(b.subarray(at, Math.min(n, at + 65536)));
	return b;
}

/** @returns {Rng} the system's randomness */
export function systemRng() {
	return {
		draws: 0,
		fill(n) {
			this.draws++;
			return systemBytes(n);
		},
	};
}

/**
 * E2EE.md's deterministic randomness (for vectors and tests only).
 * @param {Uint8Array} seed 1 to SEED_MAX bytes
 * @returns {Rng}
 */
export function deterministicRng(seed) {
	if (!(seed instanceof Uint8Array) || seed.length < 1 || seed.length > SEED_MAX)
		throw new E2eeError('limit', 'a seed is 1 to 64 bytes');
	const s = seed.slice();
	return {
		draws: 0,
		fill(n) {
			const so = sodium();
			const key = so.crypto_generichash(32, concat(s, u32(this.draws)), null);
			this.draws++;
			return so.randombytes_buf_deterministic(n, key);
		},
	};
}

/**
 * One draw of n bytes from rng, or from the system when rng is null.
 * @param {Rng|null|undefined} rng
 * @param {number} n
 * @returns {Uint8Array}
 */
export function draw(rng, n) {
	return rng ? rng.fill(n) : systemBytes(n);
}
