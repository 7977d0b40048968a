// bundle.js - the parser of a `keys` reply (docs/PROTOCOL.md "prekeys, keys") into the
// bundles that start sessions, with the C core's rules (src/lib/e2ee/bundle.c): the server's
// JSON is untrusted input, so every field is checked for type and size and the device array
// is bounded; nothing cryptographic is checked here (openDeviceList and Sessions.encrypt do).

import { fromB64 } from './b64.js';
import { check } from './errors.js';

export const BUNDLE_MAX = 64;
/** The longest valid device list (devlist.js): 32 devices with 64-byte names. */
export const LIST_MAX_BYTES = 4 + 1 + 32 + 4 + 1 + 32 + 1 + 32 * (16 + 2 * 32 + 8 + 1 + 64);

const USER_RE = /^[A-Za-z0-9_.-]{6,32}$/;
const u32ok = (v) => Number.isInteger(v) && v >= 0 && v <= 0xffffffff;
const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Decodes one device of a `keys` reply.
 * @param {object} d {"id","sign_key","dh_key","spk":{id,key,sig},"opk"?:{id,key}|null,"listed"?}
 * @returns {import('./sessions.js').BundleDevice}
 * @throws {import('./errors.js').E2eeError} 'format'
 */
export function bundleDevice(d) {
	check(isObj(d) && isObj(d.spk) && u32ok(d.spk.id), 'format', 'bundle device');
	const b = {
		keys: { id: fromB64(d.id, 16), signPub: fromB64(d.sign_key, 32), dhPub: fromB64(d.dh_key, 32) },
		spkId: d.spk.id, spkPub: fromB64(d.spk.key, 32), spkSig: fromB64(d.spk.sig, 64),
		hasOpk: false,
	};
	if (d.opk !== undefined && d.opk !== null) {
		check(isObj(d.opk) && u32ok(d.opk.id), 'format', 'bundle opk');
		b.hasOpk = true;
		b.opkId = d.opk.id;
		b.opkPub = fromB64(d.opk.key, 32);
	}
	check(d.listed === undefined || typeof d.listed === 'boolean', 'format', 'bundle listed');
	b.listed = d.listed !== false;
	return b;
}

/**
 * Parses a `keys` reply.
 * @param {object} reply {"op":"keys","user","version","list"?,"sig"?,"devices":[…]}
 * @returns {{user: string, version: number, list: Uint8Array|null, sig: Uint8Array|null,
 *   devices: import('./sessions.js').BundleDevice[]}} user in lower case; list and sig only
 *   with a version above 0
 * @throws {import('./errors.js').E2eeError} 'format' on a missing or malformed field, over
 *   BUNDLE_MAX devices, or a device twice
 */
export function parseKeysReply(reply) {
	check(isObj(reply) && typeof reply.user === 'string' && USER_RE.test(reply.user) &&
		u32ok(reply.version) && Array.isArray(reply.devices) &&
		reply.devices.length <= BUNDLE_MAX, 'format', 'keys reply');
	let list = null, sig = null;
	if (reply.version > 0) {
		list = fromB64(reply.list);
		check(list.length <= LIST_MAX_BYTES, 'format', 'list too long');
		sig = fromB64(reply.sig, 64);
	}
	const devices = reply.devices.map(bundleDevice);
	const ids = new Set(reply.devices.map((d) => d.id));
	check(ids.size === devices.length, 'format', 'a device twice');
	return { user: reply.user.toLowerCase(), version: reply.version, list, sig, devices };
}
