// bytes.js - byte strings as E2EE.md writes them: concatenation, big-endian integers, str8,
// UTF-8, constant-time comparison. A Writer builds a byte string, a Reader parses one and
// refuses (E2eeError 'format') anything that runs past the end.

import { sodium } from './sodium.js';
import { E2eeError } from './errors.js';

const utf8enc = new TextEncoder();
const utf8dec = new TextDecoder('utf-8', { fatal: true });

/** @param {string} s @returns {Uint8Array} UTF-8 bytes */
export function utf8(s) {
	return utf8enc.encode(s);
}

/**
 * Decodes UTF-8 strictly (no replacement: overlong forms, surrogates and stray bytes throw).
 * @param {Uint8Array} b
 * @returns {string}
 */
export function fromUtf8(b) {
	try {
		return utf8dec.decode(b);
	} catch {
		throw new E2eeError('format', 'not UTF-8');
	}
}

/**
 * a || b || ... (strings are taken as UTF-8).
 * @param {...(Uint8Array|string)} parts
 * @returns {Uint8Array}
 */
export function concat(...parts) {
	const bs = parts.map((p) => (typeof p === 'string' ? utf8(p) : p));
	const out = new Uint8Array(bs.reduce((n, b) => n + b.length, 0));
	let at = 0;
	for (const b of bs) {
		out.set(b, at);
		at += b.length;
	}
	return out;
}

/** @param {number} v @returns {Uint8Array} u32 big-endian */
export function u32(v) {
	if (!Number.isInteger(v) || v < 0 || v > 0xffffffff)
		throw new E2eeError('limit', `not a u32: ${v}`);
	const b = new Uint8Array(4);
	new DataView(b.buffer).setUint32(0, v);
	return b;
}

/** Constant-time equality of two byte strings (false when the lengths differ). */
export function equal(a, b) {
	return a instanceof Uint8Array && b instanceof Uint8Array && a.length === b.length &&
		(a.length === 0 || sodium().memcmp(a, b));
}

/** Bytewise order of two byte strings (-1, 0, 1), like memcmp then length. */
export function compareBytes(a, b) {
	const n = Math.min(a.length, b.length);
	for (let i = 0; i < n; i++)
		if (a[i] !== b[i])
			return a[i] < b[i] ? -1 : 1;
	return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/** Builds a byte string field by field. */
export class Writer {
	constructor() {
		/** @type {Uint8Array[]} */
		this.parts = [];
	}
	/** @param {Uint8Array|string} b */
	bytes(b) {
		this.parts.push(typeof b === 'string' ? utf8(b) : b);
		return this;
	}
	u8(v) {
		if (!Number.isInteger(v) || v < 0 || v > 255)
			throw new E2eeError('limit', `not a u8: ${v}`);
		this.parts.push(Uint8Array.of(v));
		return this;
	}
	u32(v) {
		this.parts.push(u32(v));
		return this;
	}
	/** @param {number|bigint} v a u64 (a Number must be a safe integer) */
	u64(v) {
		const big = typeof v === 'bigint' ? v : Number.isSafeInteger(v) && v >= 0 ? BigInt(v) : -1n;
		if (big < 0n || big > 0xffffffffffffffffn)
			throw new E2eeError('limit', `not a u64: ${v}`);
		const b = new Uint8Array(8);
		new DataView(b.buffer).setBigUint64(0, big);
		this.parts.push(b);
		return this;
	}
	/** One length byte then the bytes (at most 255). */
	str8(s) {
		const b = typeof s === 'string' ? utf8(s) : s;
		if (b.length > 255)
			throw new E2eeError('limit', 'str8 over 255 bytes');
		return this.u8(b.length).bytes(b);
	}
	/** @returns {Uint8Array} */
	done() {
		return concat(...this.parts);
	}
}

/** Reads a byte string field by field; every read past the end throws E2eeError('format'). */
export class Reader {
	/** @param {Uint8Array} b */
	constructor(b) {
		this.b = b;
		this.at = 0;
	}
	get left() {
		return this.b.length - this.at;
	}
	/** @param {number} n @returns {Uint8Array} a copy of the next n bytes */
	bytes(n) {
		if (n > this.left)
			throw new E2eeError('format', 'truncated');
		const out = this.b.slice(this.at, this.at + n);
		this.at += n;
		return out;
	}
	u8() {
		return this.bytes(1)[0];
	}
	u32() {
		return new DataView(this.bytes(4).buffer).getUint32(0);
	}
	/** @returns {bigint} */
	u64() {
		return new DataView(this.bytes(8).buffer).getBigUint64(0);
	}
	/** @returns {Uint8Array} the bytes of a str8 */
	str8() {
		return this.bytes(this.u8());
	}
	/** @returns {Uint8Array} every byte left */
	rest() {
		return this.bytes(this.left);
	}
}
