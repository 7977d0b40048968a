// glue.js - the device manager's view of the crypto core (the e2ee-js modules of this
// directory): the one place that knows their shapes (Uint8Array keys, DeviceKeys, decoded
// lists) and gives device.js what it keeps and sends: base64url strings, device entries
// {id, sign_key, dh_key, created, name} as PROTOCOL.md spells them, JSON states.

import { fromB64, toB64 } from './b64.js';
import { addOpks, createDevice, deviceFromJSON, deviceToJSON, MAX_OPKS, publicBundle, rotateSpk } from './devkeys.js';
import { decodeDeviceList, encodeDeviceList } from './devlist.js';
import { helloProof, openDeviceList, signDeviceList, signKeyPair, trustDeviceList, verifyDeviceList } from './devsig.js';
import { decryptFile as decryptChunks, encryptFile as encryptChunks, toBlob } from './filecrypt.js';
import { openPayload, payloadText, readPayloadText, sealPayload } from './payload.js';
import { approvalCode, safetyNumber } from './safety.js';
import { bundleDevice, parseKeysReply } from './bundle.js';
import { Sessions, sessionsFromJSON, sessionsToJSON } from './sessions.js';
import { loadSodium, sodium } from './sodium.js';


export const b64 = toB64;
export const unb64 = s => fromB64(s);

/** Loads libsodium once. */
export const ready = () => loadSodium();

// ---- this device ----

/** A new device: {keys: DeviceKeys, id (base64url), name, created}. */
export function newDevice(name) {
	const keys = createDevice(Date.now());
	return { keys, id: toB64(keys.pub.id), name, created: keys.created };
}

export function deviceState(dev) {
	return { keys: deviceToJSON(dev.keys), name: dev.name };
}

export function deviceFromState(j) {
	const keys = deviceFromJSON(j.keys);
	return { keys, id: toB64(keys.pub.id), name: j.name || '', created: keys.created };
}

/** What device_register publishes (with `n` new one-time prekeys). */
export function registerBundle(dev, n) {
	return publicBundle(dev.keys, addOpks(dev.keys, Math.min(n, MAX_OPKS - dev.keys.opks.length)));
}

/** `n` more one-time prekeys (as `prekeys` publishes them); fewer when the store is full. */
export function morePrekeys(dev, n) {
	const room = Math.max(0, Math.min(n, MAX_OPKS - dev.keys.opks.length));
	return publicBundle(dev.keys, room ? addOpks(dev.keys, room) : []).opks;
}

export function newSpk(dev) {
	rotateSpk(dev.keys);
	return publicBundle(dev.keys, []).spk;
}

/** This device as a list entry. */
export function deviceEntry(dev) {
	return { id: dev.id, sign_key: toB64(dev.keys.pub.signPub), dh_key: toB64(dev.keys.pub.dhPub), created: dev.created, name: dev.name };
}

export function proof(dev, challenge) {
	return toB64(helloProof(dev.keys.signSeed, challenge));
}

// ---- the account key and lists ----

export function newAccountKey() {
	return accountKey(toB64(sodium().randombytes_buf(32)));
}

export function accountKey(seedB64) {
	const kp = signKeyPair(fromB64(seedB64, 32));
	kp.privateKey.fill(0);
	return { seed: seedB64, pub: toB64(kp.publicKey) };
}

function entryOf(d) {
	return { id: toB64(d.id), sign_key: toB64(d.signKey), dh_key: toB64(d.dhKey), created: d.created, name: d.name };
}

function listOf(l) {
	return { user: l.user, version: l.version, reset: l.reset, ak: toB64(l.ak), devices: l.devices.map(entryOf) };
}

/** A list's bytes from {user, version, reset, ak, devices: [entries]}. */
export function encodeList(l) {
	return encodeDeviceList({
		user: l.user, version: l.version, reset: !!l.reset, ak: fromB64(l.ak, 32),
		devices: l.devices.map(d => ({ id: fromB64(d.id, 16), signKey: fromB64(d.sign_key, 32), dhKey: fromB64(d.dh_key, 32), created: d.created, name: d.name || '' })),
	});
}

export function signList(akSeedB64, bytes) {
	return toB64(signDeviceList(fromB64(akSeedB64, 32), bytes));
}

/** A list from the server (base64url list and sig), checked: bytes, signature, user. Throws. */
export function openList(listB64, sigB64, user) {
	return listOf(openDeviceList(fromB64(listB64), fromB64(sigB64, 64), user));
}

/** The list's fields without checking the signature (a pending device reads its own AK). */
export function peekList(listB64) {
	return listOf(decodeDeviceList(fromB64(listB64)));
}

export function verifyList(akB64, listB64, sigB64) {
	return verifyDeviceList(fromB64(akB64, 32), fromB64(listB64), fromB64(sigB64, 64));
}

/** E2EE.md's trust rule: 'tofu' | 'same' | 'reset'; throws for a list that may not be trusted. */
export function trustRule(known, l) {
	return trustDeviceList(known ? { ak: fromB64(known.ak, 32), version: known.version } : null,
		{ ...l, ak: fromB64(l.ak, 32) }).trust;
}

function peerKeys(e) {
	return { id: fromB64(e.id, 16), signPub: fromB64(e.sign_key, 32), dhPub: fromB64(e.dh_key, 32) };
}

/** The 8 digits that a pending device and the approving one both show. */
export function code(akB64, entry) {
	return String(approvalCode(fromB64(akB64, 32), peerKeys(entry))).padStart(8, '0');
}

/** The 60 digits of two users' safety number. */
export function safety(userA, akA, userB, akB) {
	return safetyNumber(userA, fromB64(akA, 32), userB, fromB64(akB, 32));
}

// ---- payloads ----

/** Seals a payload plaintext (a JSON object, checked against E2EE.md): {payload, inner}. */
export function seal(obj) {
	const { payload, inner } = sealPayload(payloadText(obj));
	return { payload, inner };
}

/** Opens a payload with the inner an envelope gave: the checked JSON object. Throws. */
export function open(payload, inner) {
	return readPayloadText(openPayload(inner, payload));
}

// ---- sessions ----

export const sessions = {
	create: () => new Sessions(),
	toJSON: s => sessionsToJSON(s),
	fromJSON: j => sessionsFromJSON(j),
	has: (s, id) => s.has(fromB64(id, 16)),
	forget: (s, id) => s.forget(fromB64(id, 16)),
};

/** Checks a `keys` reply's shape (sizes, at most 64 devices, none twice); throws. */
export function checkKeys(reply) {
	parseKeysReply(reply);
}

/** Encrypts inner for a device (its trusted entry; bundle: the `keys` reply's, or null). */
export function encryptFor(s, dev, entry, bundle, inner) {
	return s.encrypt(dev.keys, peerKeys(entry), bundle ? bundleDevice(bundle) : null, inner);
}

/** Decrypts an envelope's bytes from a device (its trusted entry): inner. Nothing changes on
 * a failure (it throws). */
export function decryptFrom(s, dev, entry, body) {
	return s.decrypt(dev.keys, peerKeys(entry), body);
}

// ---- files ----

/** Encrypts a Blob, a chunk at a time: {data: Blob, key, header} (base64url). */
export async function encryptFile(blob) {
	const { key, header, chunks } = encryptChunks(blob);
	const k = toB64(key);
	const hd = toB64(header);
	const data = await toBlob(chunks);
	return { data, key: k, header: hd };
}

/** Decrypts what encryptFile made: a Blob of the given type. Throws when anything was changed. */
export async function decryptFile(blob, keyB64, headerB64, type) {
	return toBlob(decryptChunks(blob, fromB64(keyB64, 32), fromB64(headerB64, 24)), type || 'application/octet-stream');
}
