// e2ee_vectors.mjs - the browser's end-to-end encryption core (web/js/e2ee/) under Node's test
// runner: every known-answer vector file in tests/vectors/e2ee/ (made by the C core's
// pier-e2ee-vectors) replayed byte for byte, then the protocol's refusals as the C unit tests
// check them: a flipped bit anywhere, replays of both envelope types, reordered and dropped
// messages within the window, the skip bound, states that survive JSON mid-conversation,
// files streamed in chunks. Run by ctest as node/e2ee_vectors (`node --test` on this file).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

import { loadSodium, sodium } from '../../web/js/e2ee/sodium.js';
import { toB64, fromB64 } from '../../web/js/e2ee/b64.js';
import { hkdf } from '../../web/js/e2ee/hkdf.js';
import { deterministicRng } from '../../web/js/e2ee/rng.js';
import { E2eeError } from '../../web/js/e2ee/errors.js';
import { createDevice, addOpks, publicBundle, deviceToJSON, deviceFromJSON, rotateSpk } from
	'../../web/js/e2ee/devkeys.js';
import { Sessions, bundleDevice, sessionsToJSON, sessionsFromJSON } from
	'../../web/js/e2ee/sessions.js';
import { sealPayload, openPayload, payloadText, readPayloadText } from
	'../../web/js/e2ee/payload.js';
import { encodeDeviceList, decodeDeviceList } from '../../web/js/e2ee/devlist.js';
import { signDeviceList, openDeviceList, trustDeviceList, helloProof, verifyHello, signPub } from
	'../../web/js/e2ee/devsig.js';
import { safetyNumber, formatSafety, approvalCode, formatApproval, fingerprint } from
	'../../web/js/e2ee/safety.js';
import { encryptFile, decryptFile, toBlob, encryptedSize, CHUNK, CHUNK_CT } from
	'../../web/js/e2ee/filecrypt.js';
import { parseEnvelope } from '../../web/js/e2ee/envelope.js';
import { parseKeysReply, BUNDLE_MAX } from '../../web/js/e2ee/bundle.js';
import { compareBytes } from '../../web/js/e2ee/bytes.js';
import { replayVectorFile } from './e2ee_replay.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const VECTORS = join(here, '..', 'vectors', 'e2ee');

await loadSodium();

const hex = (h) => sodium().from_hex(h);
const rngOf = (label) => deterministicRng(new TextEncoder().encode(label));

/** Asserts that fn throws an E2eeError with one of the codes. */
function refuses(fn, codes, what) {
	assert.throws(fn, (e) => {
		assert.ok(e instanceof E2eeError, `${what}: not an E2eeError: ${e}`);
		assert.ok([].concat(codes).includes(e.code), `${what}: ${e.code} is not ${codes}`);
		return true;
	}, what);
}

// ---- the vector files -------------------------------------------------------------------

const vectorFiles = existsSync(VECTORS) ?
	readdirSync(VECTORS).filter((f) => f.endsWith('.json')).sort() : [];

test('the vector files are there', () => {
	assert.ok(vectorFiles.length > 0, `no vector files in ${VECTORS}`);
});

for (const f of vectorFiles) {
	test(`vectors: ${f}`, async () => {
		const doc = JSON.parse(readFileSync(join(VECTORS, f), 'utf8'));
		const checked = await replayVectorFile(f, doc);
		assert.ok(checked > 0, `${f}: no vector checked`);
	});
}

// ---- primitives --------------------------------------------------------------------------

test('HKDF-SHA-256: RFC 5869 test cases 1-3', () => {
	assert.equal(sodium().to_hex(hkdf(hex('000102030405060708090a0b0c'), hex('0b'.repeat(22)),
		hex('f0f1f2f3f4f5f6f7f8f9'), 42)),
	'3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865');
	const c2 = (a, b) => hex(Array.from({ length: b - a + 1 }, (_, i) =>
		(a + i).toString(16).padStart(2, '0')).join(''));
	assert.equal(sodium().to_hex(hkdf(c2(0x60, 0xaf), c2(0x00, 0x4f), c2(0xb0, 0xff), 82)),
		'b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac7827271cb41c' +
		'65e590e09da3275600c2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87');
	assert.equal(sodium().to_hex(hkdf(new Uint8Array(0), hex('0b'.repeat(22)), new Uint8Array(0), 42)),
		'8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8');
});

test('base64url: no padding, one spelling', () => {
	assert.equal(toB64(Uint8Array.of(0xfb, 0xff)), '-_8');
	assert.deepEqual(fromB64('-_8'), Uint8Array.of(0xfb, 0xff));
	for (const bad of ['-_8=', '+/8', '-_9', 'a', 'ab c', 'ab\n'])
		refuses(() => fromB64(bad), 'format', `"${bad}"`);
	refuses(() => fromB64('AAAA', 4), 'format', 'wrong length');
});

test('deterministic randomness: E2EE.md draw i = randombytes_buf_deterministic(n, BLAKE2b(seed || u32(i)))', () => {
	const seed = Uint8Array.of(7, 7, 7);
	const r = deterministicRng(seed);
	const so = sodium();
	for (let i = 0; i < 3; i++) {
		const key = so.crypto_generichash(32, Uint8Array.of(7, 7, 7, 0, 0, 0, i), null);
		assert.deepEqual(r.fill(24 + i), so.randombytes_buf_deterministic(24 + i, key));
	}
	assert.equal(r.draws, 3);
	refuses(() => deterministicRng(new Uint8Array(0)), 'limit', 'an empty seed');
	refuses(() => deterministicRng(new Uint8Array(65)), 'limit', 'a seed over 64 bytes');
});

// ---- conversations ----------------------------------------------------------------------

/** Two people, one device each (or more), talking through Sessions. */
function world(label, opks = 5) {
	const rng = rngOf(label);
	const mk = (created) => {
		const d = createDevice(created, rng);
		addOpks(d, opks, rng);
		return { dev: d, s: new Sessions() };
	};
	return { rng, mk };
}

function bundleOf(dev, withOpk = true) {
	const pb = publicBundle(dev);
	return bundleDevice({ ...pb, opk: withOpk && pb.opks.length ? pb.opks[0] : undefined });
}

/** Seals text for `to` from `from`: {payload, env}. */
function send(w, from, to, text, bundle = null) {
	const { payload, inner } = sealPayload(payloadText({ v: 1, peer: 'bob_22', text }), w.rng);
	const env = from.s.encrypt(from.dev, to.dev.pub, bundle, inner, w.rng);
	return { payload, env, text };
}

function receive(w, at, from, m) {
	const inner = at.s.decrypt(at.dev, from.dev.pub, m.env, w.rng);
	return readPayloadText(openPayload(inner, m.payload)).text;
}

const stateOf = (p) => JSON.stringify({ s: sessionsToJSON(p.s), d: deviceToJSON(p.dev) });

test('a conversation: X3DH with and without a one-time prekey, both directions', () => {
	for (const withOpk of [true, false]) {
		const w = world(`conv-${withOpk}`);
		const alice = w.mk(1), bob = w.mk(2);
		const opksBefore = bob.dev.opks.length;
		const m1 = send(w, alice, bob, 'hello bob', bundleOf(bob.dev, withOpk));
		assert.equal(parseEnvelope(m1.env).type, 1, 'the first envelope is pre-key');
		assert.equal(parseEnvelope(m1.env).hasOpk, withOpk);
		assert.equal(receive(w, bob, alice, m1), 'hello bob');
		assert.equal(bob.dev.opks.length, opksBefore - (withOpk ? 1 : 0), 'the OPK is used up');
		const m2 = send(w, bob, alice, '你好 alice');
		assert.equal(parseEnvelope(m2.env).type, 2);
		assert.equal(receive(w, alice, bob, m2), '你好 alice');
		for (let i = 0; i < 5; i++) {
			const x = send(w, alice, bob, `a${i}`);
			assert.equal(parseEnvelope(x.env).type, 2, 'after a reply, ratchet envelopes');
			assert.equal(receive(w, bob, alice, x), `a${i}`);
			assert.equal(receive(w, alice, bob, send(w, bob, alice, `b${i}`)), `b${i}`);
		}
	}
});

test('reordered and dropped messages within the window decrypt; the state survives JSON mid-way', () => {
	const w = world('reorder');
	const alice = w.mk(1), bob = w.mk(2);
	assert.equal(receive(w, bob, alice, send(w, alice, bob, 'start', bundleOf(bob.dev))), 'start');
	assert.equal(receive(w, alice, bob, send(w, bob, alice, 'ok')), 'ok');
	const batch = Array.from({ length: 8 }, (_, i) => send(w, alice, bob, `m${i}`));
	// Bob's state goes through JSON (IndexedDB) before anything arrives.
	bob.s = sessionsFromJSON(JSON.parse(JSON.stringify(sessionsToJSON(bob.s))));
	bob.dev = deviceFromJSON(JSON.parse(JSON.stringify(deviceToJSON(bob.dev))));
	for (const i of [5, 0, 7, 2, 1])   // 3, 4, 6 dropped
		assert.equal(receive(w, bob, alice, batch[i]), `m${i}`);
	// A new chain from Bob, while Alice's keys for m3/m4/m6 wait in Bob's skipped keys.
	const r = send(w, bob, alice, 'reply');
	const later = send(w, alice, bob, 'after the reply');
	assert.equal(receive(w, alice, bob, r), 'reply');
	assert.equal(receive(w, bob, alice, send(w, alice, bob, 'newer')), 'newer');
	assert.equal(receive(w, bob, alice, later), 'after the reply');
	assert.equal(receive(w, bob, alice, batch[6]), 'm6', 'a skipped key from an older chain');
	assert.equal(receive(w, bob, alice, batch[3]), 'm3');
});

test('a lost first message: the initiator repeats pre-key envelopes until it hears back', () => {
	const w = world('lost-first');
	const alice = w.mk(1), bob = w.mk(2);
	const b = bundleOf(bob.dev);
	send(w, alice, bob, 'lost', b);
	const m2 = send(w, alice, bob, 'second');
	assert.equal(parseEnvelope(m2.env).type, 1, 'still pre-key: Bob has not answered');
	assert.equal(receive(w, bob, alice, m2), 'second');
	const m3 = send(w, alice, bob, 'third');
	assert.equal(receive(w, bob, alice, m3), 'third', 'the same EK goes to the same session');
	assert.equal(receive(w, alice, bob, send(w, bob, alice, 'back')), 'back');
	assert.equal(parseEnvelope(send(w, alice, bob, 'x').env).type, 2, 'heard back: ratchet');
});

test('replays of both envelope types are refused and change nothing', () => {
	const w = world('replay');
	const alice = w.mk(1), bob = w.mk(2);
	const m1 = send(w, alice, bob, 'one', bundleOf(bob.dev));
	assert.equal(receive(w, bob, alice, m1), 'one');
	let before = stateOf(bob);
	refuses(() => receive(w, bob, alice, m1), ['replay', 'key'], 'a replayed pre-key envelope');
	assert.equal(stateOf(bob), before);
	assert.equal(receive(w, alice, bob, send(w, bob, alice, 'two')), 'two');
	const m3 = send(w, alice, bob, 'three');
	const m4 = send(w, alice, bob, 'four');
	assert.equal(receive(w, bob, alice, m4), 'four');
	assert.equal(receive(w, bob, alice, m3), 'three');
	before = stateOf(bob);
	refuses(() => receive(w, bob, alice, m3), 'replay', 'a replayed ratchet envelope (skipped key)');
	refuses(() => receive(w, bob, alice, m4), 'replay', 'a replayed ratchet envelope');
	assert.equal(stateOf(bob), before);
	// A pre-key envelope whose session is gone (4 newer ones made since) is still a replay.
	const old = m1;
	for (let i = 0; i < 4; i++) {
		const a2 = w.mk(10 + i);
		a2.dev = alice.dev;   // the same device starting over, as after lost state
		a2.s = new Sessions();
		assert.equal(receive(w, bob, alice, send(w, a2, bob, `again ${i}`, bundleOf(bob.dev))), `again ${i}`);
	}
	refuses(() => receive(w, bob, alice, old), ['replay', 'key'], 'an old pre-key envelope');
});

test('a flipped bit in any byte of an envelope or a payload is refused; the state is unchanged', () => {
	const w = world('tamper');
	const alice = w.mk(1), bob = w.mk(2);
	const first = send(w, alice, bob, 'pre-key one', bundleOf(bob.dev));
	const msgs = [first];
	for (const m of msgs) {
		const before = stateOf(bob);
		for (let i = 0; i < m.env.length; i++) {
			for (const bit of [0x01, 0x80]) {
				const env = m.env.slice();
				env[i] ^= bit;
				refuses(() => receive(w, bob, alice, { ...m, env }),
					['format', 'auth', 'key', 'no_session', 'too_far', 'replay'], `envelope byte ${i}`);
			}
		}
		assert.equal(stateOf(bob), before, 'nothing changed');
		// The payload is checked against the inner the envelope carried (its BLAKE2b hash).
		const inner = bob.s.decrypt(bob.dev, alice.dev.pub, m.env, w.rng);
		for (let i = 0; i < m.payload.length; i++) {
			const payload = m.payload.slice();
			payload[i] ^= 0x04;
			refuses(() => openPayload(inner, payload), 'auth', `payload byte ${i}`);
		}
		refuses(() => openPayload(inner, m.payload.subarray(0, 39)), 'format', 'a short payload');
		for (let i = 0; i < inner.length; i++) {
			const bad = inner.slice();
			bad[i] ^= 0x10;
			refuses(() => openPayload(bad, m.payload), 'auth', `inner byte ${i}`);
		}
		assert.equal(readPayloadText(openPayload(inner, m.payload)).text, m.text,
			'the true message still opens');
	}
	assert.equal(receive(w, alice, bob, send(w, bob, alice, 'r')), 'r');
	const m = send(w, alice, bob, 'ratchet one');
	const before = stateOf(bob);
	for (let i = 0; i < m.env.length; i++) {
		const env = m.env.slice();
		env[i] ^= 0x20;
		refuses(() => receive(w, bob, alice, { ...m, env }),
			['format', 'auth', 'key', 'no_session', 'too_far', 'replay'], `ratchet byte ${i}`);
	}
	// The sending device's id as the server reports it: another device's keys, another AD.
	const carol = w.mk(3);
	refuses(() => bob.s.decrypt(bob.dev, carol.dev.pub, m.env, w.rng), ['no_session', 'auth'],
		'the wrong sender');
	assert.equal(stateOf(bob), before);
	assert.equal(receive(w, bob, alice, m), 'ratchet one');
});

test('the skip bound: 1000 skipped keys decrypt, 1001 are refused and change nothing', () => {
	const w = world('skip');
	const alice = w.mk(1), bob = w.mk(2);
	assert.equal(receive(w, bob, alice, send(w, alice, bob, 's', bundleOf(bob.dev))), 's');
	assert.equal(receive(w, alice, bob, send(w, bob, alice, 'r')), 'r');
	const ms = [];
	for (let i = 0; i < 1002; i++)
		ms.push(send(w, alice, bob, `m${i}`));
	const before = stateOf(bob);
	refuses(() => receive(w, bob, alice, ms[1001]), 'too_far', '1001 to skip');
	assert.equal(stateOf(bob), before);
	assert.equal(receive(w, bob, alice, ms[1000]), 'm1000', 'exactly 1000 skipped');
	assert.equal(receive(w, bob, alice, ms[0]), 'm0');
	assert.equal(receive(w, bob, alice, ms[999]), 'm999');
});

test('encrypting refuses a bundle that is not the listed device or whose prekey is not signed', () => {
	const w = world('bundle');
	const alice = w.mk(1), bob = w.mk(2), mallory = w.mk(3);
	const inner = new Uint8Array(64);
	const b = bundleOf(bob.dev);
	refuses(() => alice.s.encrypt(alice.dev, bob.dev.pub, bundleOf(mallory.dev), inner, w.rng),
		'mismatch', 'a bundle of another device');
	refuses(() => alice.s.encrypt(alice.dev, bob.dev.pub, { ...b, spkPub: mallory.dev.spk.pub },
		inner, w.rng), 'signature', 'a swapped signed prekey');
	refuses(() => alice.s.encrypt(alice.dev, bob.dev.pub, null, inner, w.rng), 'no_session',
		'no session and no bundle');
	assert.equal(alice.s.peers.size, 0, 'nothing kept');
});

test('a keys reply: parsed with bounds, every malformed field refused', () => {
	const w = world('keys');
	const bob = w.mk(2), bob2 = w.mk(3);
	const dev = (d, opk = true) => {
		const pb = publicBundle(d.dev);
		return { id: pb.id, sign_key: pb.sign_key, dh_key: pb.dh_key, spk: pb.spk,
			...(opk ? { opk: pb.opks[0] } : {}) };
	};
	const reply = { op: 'keys', user: 'Bob_22', version: 3, list: toB64(new Uint8Array(90)),
		sig: toB64(new Uint8Array(64)), devices: [dev(bob), { ...dev(bob2, false), listed: false }] };
	const r = parseKeysReply(reply);
	assert.equal(r.user, 'bob_22');
	assert.equal(r.devices.length, 2);
	assert.equal(r.devices[0].hasOpk, true);
	assert.equal(r.devices[1].hasOpk, false);
	assert.equal(r.devices[1].listed, false, 'a device the list does not name is marked');
	assert.equal(parseKeysReply({ user: 'bob_22', version: 0, devices: [] }).list, null);
	const bad = [
		[{ ...reply, user: 'b' }, 'a bad user'],
		[{ ...reply, version: -1 }, 'a negative version'],
		[{ ...reply, version: 2 ** 32 }, 'a version over u32'],
		[{ ...reply, list: undefined }, 'a version without a list'],
		[{ ...reply, sig: toB64(new Uint8Array(63)) }, 'a short signature'],
		[{ ...reply, list: toB64(new Uint8Array(5000)) }, 'a list over the longest valid one'],
		[{ ...reply, devices: [dev(bob), dev(bob)] }, 'a device twice'],
		[{ ...reply, devices: Array(BUNDLE_MAX + 1).fill(dev(bob)) }, 'too many devices'],
		[{ ...reply, devices: [{ ...dev(bob), spk: { ...dev(bob).spk, id: 1.5 } }] }, 'a fractional spk id'],
		[{ ...reply, devices: [{ ...dev(bob), opk: { id: 1, key: 'AA' } }] }, 'a short opk'],
		[{ ...reply, devices: [{ ...dev(bob), listed: 'no' }] }, 'listed not a boolean'],
		[{ ...reply, devices: [{ ...dev(bob), id: dev(bob).id + '=' }] }, 'a padded id'],
		[{ ...reply, devices: {} }, 'devices not an array'],
		[null, 'not an object'],
	];
	for (const [x, what] of bad)
		refuses(() => parseKeysReply(x), 'format', what);
});

test('an envelope made for the previous signed prekey still opens after a rotation', () => {
	const w = world('rotate');
	const alice = w.mk(1), bob = w.mk(2);
	const m = send(w, alice, bob, 'in flight', bundleOf(bob.dev, false));
	rotateSpk(bob.dev, w.rng);
	assert.equal(receive(w, bob, alice, m), 'in flight');
	rotateSpk(bob.dev, w.rng);
	const carol = w.mk(3);
	const b = bundleOf(bob.dev);
	b.spkId = 1;   // long gone
	b.spkSig = signSpkFor(bob.dev, 1, b.spkPub);
	refuses(() => receive(w, bob, carol, send(w, carol, bob, 'x', b)), 'key', 'an unknown SPK id');
});

function signSpkFor(dev, id, pub) {
	return sodium().crypto_sign_detached(
		new Uint8Array([...new TextEncoder().encode('pier-spk-v1'), ...dev.pub.id, 0, 0, 0, id, ...pub]),
		sodium().crypto_sign_seed_keypair(dev.signSeed).privateKey);
}

// ---- device lists, signatures, safety numbers ---------------------------------------------

test('device lists: codec, signature, trust on first use, versions and resets', () => {
	const rng = rngOf('devlist');
	const ak = rng.fill(32), ak2 = rng.fill(32);
	const d1 = createDevice(1795000000000, rng), d2 = createDevice(1795000000001, rng);
	const entry = (d, name) => ({ id: d.pub.id, signKey: d.pub.signPub, dhKey: d.pub.dhPub,
		created: d.created, name });
	const l1 = { user: 'bob_22', version: 1, reset: false, ak: signPub(ak),
		devices: [entry(d2, '手机'), entry(d1, 'laptop')] };
	const bytes = encodeDeviceList(l1);
	const back = decodeDeviceList(bytes);
	assert.equal(back.devices.length, 2);
	assert.ok(compareBytes(back.devices[0].id, back.devices[1].id) < 0, 'sorted by id');
	assert.deepEqual(encodeDeviceList(back), bytes);
	const sig = signDeviceList(ak, bytes);
	const opened = openDeviceList(bytes, sig, 'Bob_22');
	assert.equal(trustDeviceList(null, opened).trust, 'tofu');
	const known = { ak: opened.ak, version: 1 };
	assert.equal(trustDeviceList(known, opened).trust, 'same');
	const flipped = bytes.slice();
	flipped[flipped.length - 1] ^= 1;
	refuses(() => openDeviceList(flipped, sig, 'bob_22'), ['signature', 'format'], 'a changed list');
	refuses(() => openDeviceList(bytes, sig, 'alice_1'), 'mismatch', "another user's list");
	const l2 = encodeDeviceList({ ...l1, version: 2, ak: signPub(ak2) });
	refuses(() => trustDeviceList(known, openDeviceList(l2, signDeviceList(ak2, l2), 'bob_22')),
		'mismatch', 'a new AK without the reset flag');
	const l3 = encodeDeviceList({ ...l1, version: 2, reset: true, ak: signPub(ak2), devices: [entry(d1, '')] });
	assert.equal(trustDeviceList(known, openDeviceList(l3, signDeviceList(ak2, l3), 'bob_22')).trust,
		'reset');
	refuses(() => trustDeviceList({ ak: signPub(ak2), version: 3 }, opened), 'replay', 'a lower version');
	// Invalid lists, each with the rule the C codec names.
	const bad = (mut, reason) => {
		const b = mut(bytes.slice());
		assert.throws(() => decodeDeviceList(b), (e) => e.reason === reason, reason);
	};
	bad((b) => b.subarray(0, b.length - 1), 'truncated');
	bad((b) => { b[0] = 0x51; return b; }, 'bad_magic');
	bad((b) => { b[5] = 0x42; return b; }, 'bad_user');       // 'B': not lower case
	bad((b) => { b[4 + 1 + 6 + 4] = 2; return b; }, 'bad_flags');
	bad((b) => { b[4 + 1 + 6 + 4 + 1 + 32] = 0; return b; }, 'bad_count');
	bad((b) => new Uint8Array([...b, 0]), 'trailing');
	// The two entries swapped: ids out of order.
	const first = 4 + 1 + 6 + 4 + 1 + 32 + 1;
	const len0 = 16 + 64 + 8 + 1 + bytes[first + 16 + 64 + 8];
	bad((b) => new Uint8Array([...b.subarray(0, first), ...b.subarray(first + len0),
		...b.subarray(first, first + len0)]), 'unsorted');
	bad((b) => { b[first + len0 - 1] = 0; return b; }, 'bad_name');   // a NUL in a name
	refuses(() => encodeDeviceList({ ...l1, devices: [{ ...entry(d1, 'x'.repeat(65)) }] }), 'format',
		'a name over 64 bytes');
	refuses(() => encodeDeviceList({ ...l1, devices: [] }), 'format', 'no device');
});

test('hello proof, safety numbers and approval codes', () => {
	const rng = rngOf('safety');
	const d = createDevice(5, rng);
	const challenge = rng.fill(32);
	const proof = helloProof(d.signSeed, challenge);
	assert.ok(verifyHello(d.pub.signPub, challenge, proof));
	challenge[0] ^= 1;
	assert.ok(!verifyHello(d.pub.signPub, challenge, proof));
	const akA = signPub(rng.fill(32)), akB = signPub(rng.fill(32));
	const n1 = safetyNumber('Alice_1', akA, 'bob_22', akB);
	assert.equal(n1, safetyNumber('bob_22', akB, 'alice_1', akA), 'both people see the same');
	assert.match(n1, /^[0-9]{60}$/);
	assert.equal(n1.slice(0, 30), fingerprint('alice_1', akA), 'the first name first');
	assert.match(formatSafety(n1), /^([0-9]{5} ){11}[0-9]{5}$/);
	const code = approvalCode(akA, d.pub);
	assert.ok(code >= 0 && code < 1e8);
	assert.match(formatApproval(code), /^[0-9]{4} [0-9]{4}$/);
	assert.equal(formatApproval(1234), '0000 1234');
	refuses(() => fingerprint('no', akA), 'format', 'not a user name');
});

// ---- payloads and files -----------------------------------------------------------------

test('payload plaintext: fields checked, unknown ones ignored', () => {
	const p = readPayloadText(payloadText({ v: 1, peer: 'bob_22', text: 'x', extra: { a: 1 } }));
	assert.equal(p.type, 'message');
	refuses(() => payloadText({ v: 2, peer: 'bob_22' }), 'format', 'v 2');
	refuses(() => payloadText({ v: 1, peer: 'bob_22', text: 'x'.repeat(16385) }), 'limit', 'text');
	refuses(() => payloadText({ v: 1, type: 'edit', peer: 'bob_22', text: 'x' }), 'format', 'edit');
	refuses(() => readPayloadText(new TextEncoder().encode('[1]')), 'format', 'not an object');
});

test('files: streamed in 64 KiB chunks, tampering, truncation, reordering and extra bytes refused', async () => {
	const rng = rngOf('files');
	for (const n of [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 5]) {
		const data = rng.fill(Math.max(n, 1)).subarray(0, n);
		const { key, header, chunks } = encryptFile(new Blob([data]), rng);
		const ct = new Uint8Array(await (await toBlob(chunks)).arrayBuffer());
		assert.equal(ct.length, encryptedSize(n), `size of ${n}`);
		const pt = new Uint8Array(await (await toBlob(decryptFile(ct, key, header))).arrayBuffer());
		assert.deepEqual(pt, data, `round trip of ${n}`);
		// The same from a stream cut in odd pieces.
		async function* odd() {
			for (let at = 0; at < ct.length; at += 1000)
				yield ct.subarray(at, at + 1000);
		}
		const pt2 = new Uint8Array(await (await toBlob(decryptFile(odd(), key, header))).arrayBuffer());
		assert.deepEqual(pt2, data);
		// And from a ReadableStream, as a fetch body gives it.
		const body = new Response(new Blob([ct])).body;
		const pt3 = new Uint8Array(await (await toBlob(decryptFile(body, key, header))).arrayBuffer());
		assert.deepEqual(pt3, data, `a ReadableStream of ${n}`);
		const fails = async (bytes, codes, what) => {
			await assert.rejects(async () => {
				for await (const _ of decryptFile(bytes, key, header))
					;
			}, (e) => e instanceof E2eeError && [].concat(codes).includes(e.code), what);
		};
		const t = ct.slice();
		t[Math.floor(t.length / 2)] ^= 1;
		await fails(t, 'auth', `a flipped bit in ${n}`);
		// A byte more: past a full FINAL chunk it is a piece after FINAL, else it spoils the
		// last chunk's tag.
		await fails(new Uint8Array([...ct, 0]), n % CHUNK === 0 && n > 0 ? 'format' : 'auth',
			'a byte after FINAL');
		if (n > CHUNK) {
			await fails(ct.subarray(0, CHUNK_CT), 'format', 'truncated at a chunk boundary');
		}
		if (n > 2 * CHUNK) {
			const swapped = new Uint8Array(ct.length);
			swapped.set(ct.subarray(CHUNK_CT, 2 * CHUNK_CT), 0);
			swapped.set(ct.subarray(0, CHUNK_CT), CHUNK_CT);
			swapped.set(ct.subarray(2 * CHUNK_CT), 2 * CHUNK_CT);
			await fails(swapped, 'auth', 'two chunks swapped');
		}
	}
});
