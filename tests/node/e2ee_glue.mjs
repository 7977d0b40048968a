// e2ee_glue.mjs - web/js/e2ee/glue.js, the browser device manager's view of the crypto core,
// under Node's test runner: what device.js does with it, end to end without a server (a first
// device and its signed list, trust on first use and the refusals of the trust rule, the
// approval code both sides compute, safety numbers, messages both ways through the sessions
// with a replay and a flipped bit refused, states through JSON, files). If the core's modules
// change their shapes, this fails here rather than the browser quietly having no encryption.
// Run by ctest as node/e2ee_glue.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import * as core from '../../web/js/e2ee/glue.js';

await core.ready();

function account(user, devs, { version = 1, reset = false, ak = core.newAccountKey() } = {}) {
	const list = core.encodeList({ user, version, reset, ak: ak.pub, devices: devs.map(core.deviceEntry) });
	return { ak, list: core.b64(list), sig: core.signList(ak.seed, list) };
}

test('a first device, its list, trust on first use and the trust rule', () => {
	const d = core.newDevice('Chromium on Linux');
	const a = account('alice_1', [d]);
	const l = core.openList(a.list, a.sig, 'alice_1');
	assert.equal(l.version, 1);
	assert.equal(l.ak, a.ak.pub);
	assert.deepEqual(l.devices, [core.deviceEntry(d)]);
	assert.equal(core.trustRule(null, l), 'tofu');
	assert.equal(core.trustRule({ ak: l.ak, version: 1 }, l), 'same');
	assert.throws(() => core.openList(a.list, a.sig, 'mallory_1'), 'another user\'s list');
	const other = core.newAccountKey();
	assert.throws(() => core.openList(a.list, core.signList(other.seed, core.unb64(a.list)), 'alice_1'), 'a signature by another key');
	// a new AK only with the reset flag; never a lower version
	const noReset = account('alice_1', [d], { version: 2 });
	assert.throws(() => core.trustRule({ ak: l.ak, version: 1 }, core.openList(noReset.list, noReset.sig, 'alice_1')));
	const reset = account('alice_1', [d], { version: 2, reset: true });
	assert.equal(core.trustRule({ ak: l.ak, version: 1 }, core.openList(reset.list, reset.sig, 'alice_1')), 'reset');
	assert.throws(() => core.trustRule({ ak: l.ak, version: 3 }, l), 'a lower version');
});

test('the approval code is the same on the new device and on the approving one', () => {
	const ak = core.newAccountKey();
	const fresh = core.newDevice('new');
	const bundle = core.registerBundle(fresh, 3);        // what the server then gives the other device
	const mine = core.code(ak.pub, core.deviceEntry(fresh));
	const theirs = core.code(ak.pub, { id: bundle.id, sign_key: bundle.sign_key, dh_key: bundle.dh_key });
	assert.match(mine, /^\d{8}$/);
	assert.equal(mine, theirs);
	assert.notEqual(core.code(core.newAccountKey().pub, core.deviceEntry(fresh)), mine, 'another AK, another code');
});

test('safety numbers: 60 digits, the same for both', () => {
	const a = core.newAccountKey();
	const b = core.newAccountKey();
	const n = core.safety('alice_1', a.pub, 'bob_22', b.pub);
	assert.match(n, /^\d{60}$/);
	assert.equal(core.safety('bob_22', b.pub, 'alice_1', a.pub), n);
	assert.notEqual(core.safety('alice_1', core.newAccountKey().pub, 'bob_22', b.pub), n);
});

test('messages both ways, through JSON, replays and flipped bits refused', () => {
	const a = core.newDevice('a');
	const b = core.newDevice('b');
	const bb = core.registerBundle(b, 5);
	let sa = core.sessions.create();
	let sb = core.sessions.create();
	const msg = text => core.seal({ v: 1, type: 'message', peer: 'bob_22', text, kind: 'text', ts: 1 });

	const m1 = msg('hello');
	const env1 = core.encryptFor(sa, a, core.deviceEntry(b), { ...bb, opk: bb.opks[0] }, m1.inner);
	assert.equal(core.open(m1.payload, core.decryptFrom(sb, b, core.deviceEntry(a), env1)).text, 'hello');
	assert.equal(b.keys.opks.length, 4, 'the one-time prekey is used once');
	assert.throws(() => core.decryptFrom(sb, b, core.deviceEntry(a), env1), 'a replayed pre-key envelope');

	const m2 = msg('back');
	const env2 = core.encryptFor(sb, b, core.deviceEntry(a), null, m2.inner);
	sa = core.sessions.fromJSON(JSON.parse(JSON.stringify(core.sessions.toJSON(sa))));
	assert.equal(core.open(m2.payload, core.decryptFrom(sa, a, core.deviceEntry(b), env2)).text, 'back');

	const m3 = msg('third');
	const env3 = core.encryptFor(sa, a, core.deviceEntry(b), null, m3.inner);
	const bad = env3.slice();
	bad[bad.length - 3] ^= 1;
	assert.throws(() => core.decryptFrom(sb, b, core.deviceEntry(a), bad), 'a flipped bit in the envelope');
	const badPayload = m3.payload.slice();
	badPayload[30] ^= 1;
	sb = core.sessions.fromJSON(JSON.parse(JSON.stringify(core.sessions.toJSON(sb))));
	const inner = core.decryptFrom(sb, b, core.deviceEntry(a), env3);       // unchanged by the failure
	assert.throws(() => core.open(badPayload, inner), 'a flipped bit in the payload');
	assert.equal(core.open(m3.payload, inner).text, 'third');
	assert.throws(() => core.decryptFrom(sb, b, core.deviceEntry(a), env3), 'a replayed ratchet envelope');
	assert.throws(() => core.decryptFrom(sb, b, core.deviceEntry(core.newDevice('x')), env3), 'from a device it was not for');
});

test('the payload checker refuses what E2EE.md does not allow', () => {
	assert.throws(() => core.seal({ v: 2, peer: 'bob_22', text: 'x' }));
	assert.throws(() => core.seal({ v: 1, peer: 'bob_22', kind: 'movie' }));
	assert.throws(() => core.seal({ v: 1, type: 'edit', peer: 'bob_22', text: 'x' }), 'an edit without edit_of');
	assert.throws(() => core.seal({ v: 1, peer: 'bob_22', file: { media: 3 } }), 'a file without its key');
});

test('device state through JSON', () => {
	const d = core.newDevice('laptop');
	core.registerBundle(d, 10);
	const back = core.deviceFromState(JSON.parse(JSON.stringify(core.deviceState(d))));
	assert.equal(back.id, d.id);
	assert.equal(back.name, 'laptop');
	assert.deepEqual(core.deviceEntry(back), core.deviceEntry(d));
	assert.equal(back.keys.opks.length, 10);
	assert.equal(core.morePrekeys(back, 5).length, 5);
});

test('files: 200 000 bytes through the secretstream, a flipped bit refused', async () => {
	const bytes = new Uint8Array(200000).map((_, i) => (i * 7) & 255);
	const f = await core.encryptFile(new Blob([bytes]));
	const back = await core.decryptFile(f.data, f.key, f.header, 'application/pdf');
	assert.equal(back.type, 'application/pdf');
	assert.deepEqual(new Uint8Array(await back.arrayBuffer()), bytes);
	const ct = new Uint8Array(await f.data.arrayBuffer());
	ct[70000] ^= 1;
	await assert.rejects(core.decryptFile(new Blob([ct]), f.key, f.header));
	await assert.rejects(core.decryptFile(new Blob([ct.subarray(0, 65553)]), f.key, f.header), 'cut after the first chunk');
});
