// devlist.js - the byte codec of a user's signed device list (E2EE.md "The device list"),
// the same rules and error names as the C codec (src/common/devlist.c). No crypto here: the
// signature is devsig.js's. The bytes:
//   "PDL1" || str8(user) || u32 version || u8 flags || AK_pub(32) || u8 count ||
//   count x (device_id(16) || DSK_pub(32) || DIK_pub(32) || u64 created_ms || str8(name))
// integers big-endian, devices sorted by id (bytewise, no repeats), nothing after the last.

import { Reader, Writer, compareBytes, fromUtf8, utf8 } from './bytes.js';
import { E2eeError } from './errors.js';

export const MAGIC = 'PDL1';
export const MAX_DEVICES = 32;
export const NAME_MAX = 64;
export const ID_LEN = 16;
export const KEY_LEN = 32;
export const FLAG_RESET = 0x01;

/** The codec's refusals, as the C codec names them (enum pier_devlist_err). */
export const DEVLIST_ERRORS = Object.freeze(['truncated', 'bad_magic', 'bad_user', 'bad_flags',
	'bad_count', 'unsorted', 'bad_name', 'trailing']);

/**
 * @typedef {object} ListDevice
 * @property {Uint8Array} id 16 bytes
 * @property {Uint8Array} signKey DSK_pub, 32 bytes (Ed25519)
 * @property {Uint8Array} dhKey DIK_pub, 32 bytes (X25519)
 * @property {number} created created_ms (a u64 past 2^53 is read rounded: it is shown only)
 * @property {string} name at most 64 bytes of UTF-8, may be empty
 */
/**
 * @typedef {object} DeviceList
 * @property {string} user lower case
 * @property {number} version
 * @property {boolean} reset the reset flag: this list starts a new identity epoch
 * @property {Uint8Array} ak AK_pub, 32 bytes (Ed25519)
 * @property {ListDevice[]} devices sorted by id
 */

/** A list's refusal: E2eeError('format') whose `reason` is one of DEVLIST_ERRORS. */
export class DevlistError extends E2eeError {
	constructor(reason) {
		super('format', `device list: ${reason}`);
		this.reason = reason;
	}
}

const USER_RE = /^[a-z0-9_.-]{6,32}$/;

function nameOk(bytes) {
	if (bytes.length > NAME_MAX || bytes.includes(0))
		return false;
	try {
		fromUtf8(bytes);
		return true;
	} catch {
		return false;
	}
}

/**
 * Parses a list's bytes; every rule of E2EE.md is checked, the signature is not.
 * @param {Uint8Array} bytes
 * @returns {DeviceList}
 * @throws {DevlistError}
 */
export function decodeDeviceList(bytes) {
	const r = new Reader(bytes);
	const need = (n) => {
		if (r.left < n)
			throw new DevlistError('truncated');
	};
	need(4);
	if (compareBytes(r.bytes(4), utf8(MAGIC)) !== 0)
		throw new DevlistError('bad_magic');
	need(1);
	const ulen = r.u8();
	if (ulen > 32) {
		need(ulen);
		throw new DevlistError('bad_user');
	}
	need(ulen);
	const ub = r.bytes(ulen);
	const user = String.fromCharCode(...ub);
	if (!USER_RE.test(user))
		throw new DevlistError('bad_user');
	need(5);
	const version = r.u32();
	const flags = r.u8();
	if (flags & ~FLAG_RESET)
		throw new DevlistError('bad_flags');
	need(KEY_LEN + 1);
	const ak = r.bytes(KEY_LEN);
	const count = r.u8();
	if (count === 0 || count > MAX_DEVICES)
		throw new DevlistError('bad_count');
	const devices = [];
	for (let i = 0; i < count; i++) {
		need(ID_LEN + 2 * KEY_LEN + 8);
		const id = r.bytes(ID_LEN);
		const signKey = r.bytes(KEY_LEN);
		const dhKey = r.bytes(KEY_LEN);
		const created = Number(r.u64());
		if (i > 0 && compareBytes(devices[i - 1].id, id) >= 0)
			throw new DevlistError('unsorted');
		need(1);
		const nlen = r.u8();
		if (nlen > NAME_MAX) {
			need(nlen);
			throw new DevlistError('bad_name');
		}
		need(nlen);
		const nb = r.bytes(nlen);
		if (!nameOk(nb))
			throw new DevlistError('bad_name');
		devices.push({ id, signKey, dhKey, created, name: fromUtf8(nb) });
	}
	if (r.left !== 0)
		throw new DevlistError('trailing');
	return { user, version, reset: (flags & FLAG_RESET) !== 0, ak, devices };
}

/**
 * Writes a list's bytes. The devices are written sorted by id (a copy is sorted); the same
 * rules as decodeDeviceList are checked (a repeated id is 'unsorted').
 * @param {DeviceList} l
 * @returns {Uint8Array}
 * @throws {DevlistError}
 */
export function encodeDeviceList(l) {
	if (typeof l.user !== 'string' || !USER_RE.test(l.user))
		throw new DevlistError('bad_user');
	if (!Array.isArray(l.devices) || l.devices.length === 0 || l.devices.length > MAX_DEVICES)
		throw new DevlistError('bad_count');
	const devs = [...l.devices].sort((a, b) => compareBytes(a.id, b.id));
	const w = new Writer().bytes(MAGIC).str8(l.user).u32(l.version).u8(l.reset ? FLAG_RESET : 0);
	w.bytes(exact(l.ak, KEY_LEN)).u8(devs.length);
	devs.forEach((d, i) => {
		if (i > 0 && compareBytes(devs[i - 1].id, d.id) >= 0)
			throw new DevlistError('unsorted');
		const nb = utf8(d.name ?? '');
		if (!nameOk(nb))
			throw new DevlistError('bad_name');
		w.bytes(exact(d.id, ID_LEN)).bytes(exact(d.signKey, KEY_LEN)).bytes(exact(d.dhKey, KEY_LEN));
		w.u64(d.created).str8(nb);
	});
	return w.done();
}

function exact(b, n) {
	if (!(b instanceof Uint8Array) || b.length !== n)
		throw new E2eeError('format', `expected ${n} bytes`);
	return b;
}

/**
 * The index of a device id in a list, or -1.
 * @param {DeviceList} l
 * @param {Uint8Array} id
 */
export function findDevice(l, id) {
	return l.devices.findIndex((d) => compareBytes(d.id, id) === 0);
}
