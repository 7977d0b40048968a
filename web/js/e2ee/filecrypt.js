// filecrypt.js - files of private chats (E2EE.md "Files in private chats"):
// crypto_secretstream_xchacha20poly1305 over 64 KiB plaintext chunks with a random key; every
// chunk is CHUNK bytes but the last, which is shorter or equal (an empty file: one empty
// chunk) and tagged FINAL; the ciphertext is the chunks' outputs one after the other, the
// 24-byte header travels in the payload. Streaming: a Blob, an ArrayBuffer, a Uint8Array, a
// ReadableStream (a fetch body) or any (async) iterable of Uint8Array is read a chunk at a
// time, so memory stays at a few chunks whatever the file's size. The same format as the C
// core's filecrypt.c.

import { sodium } from './sodium.js';
import { draw } from './rng.js';
import { E2eeError, check } from './errors.js';

export const CHUNK = 65536;
export const ABYTES = 17;
export const CHUNK_CT = CHUNK + ABYTES;
export const HEADER_LEN = 24;
const TAG_MESSAGE = 0;
const TAG_FINAL = 3;
const STATE_BYTES = 52;   // crypto_secretstream_xchacha20poly1305_statebytes()

/** The ciphertext's size for a file of n bytes. */
export function encryptedSize(n) {
	return n + ABYTES * Math.max(1, Math.ceil(n / CHUNK));
}

/** The plaintext's size for a ciphertext of n bytes, or -1 if no file encrypts to n. */
export function plainSize(n) {
	const chunks = Math.max(1, Math.ceil(n / CHUNK_CT));
	const p = n - ABYTES * chunks;
	return p >= 0 && encryptedSize(p) === n ? p : -1;
}

// The wrapper allocates a state in the WebAssembly heap and never frees it: wipe and free it
// at the end of a stream, so that many files do not grow the heap.
function freeState(addr) {
	const lib = sodium().libsodium;
	if (lib && lib.HEAPU8 && typeof lib._free === 'function') {
		lib.HEAPU8.fill(0, addr, addr + STATE_BYTES);
		lib._free(addr);
	}
}

/** Encrypts one file a chunk at a time. */
export class FileEncryptor {
	/**
	 * A new random key (one 32-byte draw); libsodium makes the header.
	 * @param {import('./rng.js').Rng|null} [rng]
	 */
	constructor(rng = null) {
		this.key = draw(rng, 32);
		const r = sodium().crypto_secretstream_xchacha20poly1305_init_push(this.key);
		this.state = r.state;
		/** @type {Uint8Array} */
		this.header = r.header;
		this.done = false;
	}

	/**
	 * Encrypts the next chunk (CHUNK bytes, or fewer when last) into chunk.length + 17 bytes.
	 * @param {Uint8Array} chunk
	 * @param {boolean} last
	 * @returns {Uint8Array}
	 */
	push(chunk, last) {
		check(!this.done, 'format', 'a chunk after FINAL');
		check(chunk.length <= CHUNK && (last || chunk.length === CHUNK), 'format', 'chunk size');
		const out = sodium().crypto_secretstream_xchacha20poly1305_push(this.state, chunk, null,
			last ? TAG_FINAL : TAG_MESSAGE);
		if (last)
			this.release();
		return out;
	}

	/** Frees the stream's state (push with last does it). */
	release() {
		if (!this.done) {
			this.done = true;
			freeState(this.state);
		}
	}
}

/** Decrypts one file a chunk at a time. */
export class FileDecryptor {
	/**
	 * @param {Uint8Array} key 32 bytes
	 * @param {Uint8Array} header 24 bytes
	 */
	constructor(key, header) {
		check(key instanceof Uint8Array && key.length === 32, 'format', 'file key');
		check(header instanceof Uint8Array && header.length === HEADER_LEN, 'format', 'file header');
		try {
			this.state = sodium().crypto_secretstream_xchacha20poly1305_init_pull(header, key);
		} catch {
			throw new E2eeError('format', 'file header');
		}
		this.done = false;
	}

	/**
	 * Decrypts the next chunk (17 .. CHUNK_CT bytes).
	 * @param {Uint8Array} chunk
	 * @returns {{data: Uint8Array, last: boolean}}
	 * @throws {E2eeError} 'auth' (tampered), 'format' (after FINAL, a short chunk not FINAL)
	 */
	pull(chunk) {
		check(!this.done, 'format', 'bytes after FINAL');
		check(chunk.length >= ABYTES && chunk.length <= CHUNK_CT, 'format', 'chunk size');
		const r = sodium().crypto_secretstream_xchacha20poly1305_pull(this.state, chunk, null);
		if (!r) {
			this.release();
			throw new E2eeError('auth', 'file chunk');
		}
		const last = r.tag === TAG_FINAL;
		if (!last && (r.tag !== TAG_MESSAGE || chunk.length !== CHUNK_CT)) {
			this.release();
			throw new E2eeError('format', 'a short chunk that is not FINAL');
		}
		if (last)
			this.release();
		return { data: r.message, last };
	}

	/** Frees the stream's state. */
	release() {
		if (!this.done) {
			this.done = true;
			freeState(this.state);
		}
	}
}

async function* readerChunks(stream) {
	const reader = stream.getReader();
	try {
		for (;;) {
			const { done, value } = await reader.read();
			if (done)
				return;
			yield value;
		}
	} finally {
		reader.releaseLock();
	}
}

/**
 * The bytes of a source, `size` at a time (the last piece may be shorter; an empty source
 * gives one empty piece).
 * @param {Blob|ArrayBuffer|Uint8Array|ReadableStream|AsyncIterable<Uint8Array>|Iterable<Uint8Array>} src
 * @param {number} size
 * @returns {AsyncGenerator<Uint8Array>}
 */
export async function* pieces(src, size) {
	if (src instanceof ArrayBuffer)
		src = new Uint8Array(src);
	if (src instanceof Uint8Array) {
		for (let at = 0; at < src.length || at === 0; at += size) {
			yield src.subarray(at, at + size);
			if (src.length === 0)
				return;
		}
		return;
	}
	if (typeof Blob !== 'undefined' && src instanceof Blob) {
		for (let at = 0; at < src.size || at === 0; at += size) {
			yield new Uint8Array(await src.slice(at, at + size).arrayBuffer());
			if (src.size === 0)
				return;
		}
		return;
	}
	if (typeof src.getReader === 'function')
		src = readerChunks(src);   // a ReadableStream (a fetch body): not every browser iterates one
	// An iterable of arbitrary pieces (a stream's chunks, a Node stream): re-cut.
	let buf = new Uint8Array(size), fill = 0, any = false;
	for await (const part of src) {
		let p = part instanceof Uint8Array ? part : new Uint8Array(part);
		while (p.length > 0) {
			const n = Math.min(size - fill, p.length);
			buf.set(p.subarray(0, n), fill);
			fill += n;
			p = p.subarray(n);
			if (fill === size) {
				any = true;
				yield buf;
				buf = new Uint8Array(size);
				fill = 0;
			}
		}
	}
	if (fill > 0 || !any)
		yield buf.subarray(0, fill);
}

/**
 * Encrypts a file. The ciphertext comes as an async generator of chunks (each at most
 * CHUNK_CT bytes); key and header are known at once (they go in the payload).
 * @param {Blob|ArrayBuffer|Uint8Array|AsyncIterable<Uint8Array>} src
 * @param {import('./rng.js').Rng|null} [rng]
 * @returns {{key: Uint8Array, header: Uint8Array, chunks: AsyncGenerator<Uint8Array>}}
 */
export function encryptFile(src, rng = null) {
	const enc = new FileEncryptor(rng);
	async function* run() {
		let prev = null;
		try {
			// One piece of look-ahead: a chunk is FINAL when no piece follows it.
			for await (const p of pieces(src, CHUNK)) {
				if (prev !== null)
					yield enc.push(prev, false);
				prev = p.slice();
			}
			yield enc.push(prev ?? new Uint8Array(0), true);
		} finally {
			enc.release();
		}
	}
	return { key: enc.key, header: enc.header, chunks: run() };
}

/**
 * Decrypts a file's ciphertext as an async generator of plaintext chunks. Refuses a tampered
 * chunk ('auth'), a stream that ends without FINAL or has bytes after it ('format').
 * @param {Blob|ArrayBuffer|Uint8Array|AsyncIterable<Uint8Array>} src
 * @param {Uint8Array} key
 * @param {Uint8Array} header
 * @returns {AsyncGenerator<Uint8Array>}
 */
export async function* decryptFile(src, key, header) {
	const dec = new FileDecryptor(key, header);
	let last = false;
	try {
		for await (const p of pieces(src, CHUNK_CT)) {
			check(!last, 'format', 'bytes after FINAL');
			const r = dec.pull(p);
			last = r.last;
			yield r.data;
		}
		check(last, 'format', 'truncated: no FINAL chunk');
	} finally {
		dec.release();
	}
}

/**
 * Collects a generator of chunks into a Blob (the browser may keep it on disk).
 * @param {AsyncIterable<Uint8Array>} chunks
 * @param {string} [type]
 * @returns {Promise<Blob>}
 */
export async function toBlob(chunks, type = 'application/octet-stream') {
	const parts = [];
	for await (const c of chunks)
		parts.push(c);
	return new Blob(parts, { type });
}
