// sodium.js - loads the vendored libsodium (web/vendor/, libsodium-wrappers-sumo 0.8.4) once,
// for every module of end-to-end encryption. `await loadSodium()` before anything else; the
// other modules then call sodium() synchronously. Runs in the browser and under Node (tests).

import wrappers from '../../vendor/libsodium-wrappers-sumo.mjs';

let loading = null;
let lib = null;

/**
 * Loads and initialises libsodium (its WebAssembly) once; later calls return the same promise.
 * @returns {Promise<object>} the libsodium-wrappers object
 */
export function loadSodium() {
	if (loading === null)
		loading = wrappers.ready.then(() => {
			lib = wrappers;
			return lib;
		});
	return loading;
}

/**
 * The loaded library. Throws if loadSodium() has not finished: the crypto modules are
 * synchronous and never load it themselves.
 * @returns {object}
 */
export function sodium() {
	if (lib === null)
		throw new Error('e2ee: libsodium is not loaded (await loadSodium() first)');
	return lib;
}

/**
 * Overwrites a byte array with zeros (keys no longer needed). Plain JavaScript memory cannot
 * be wiped reliably (copies, the garbage collector); this clears the copy one holds.
 * @param {Uint8Array|null|undefined} b
 */
export function wipe(b) {
	if (b instanceof Uint8Array)
		b.fill(0);
}
