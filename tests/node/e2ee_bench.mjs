// e2ee_bench.mjs - what end-to-end encryption costs the browser's core per message, under
// Node: `node tests/node/e2ee_bench.mjs [messages]` (default 3000). A message is sealed once
// (payload) and its key wrapped once per device (envelope); the figures are per message, for
// one recipient device and for four (two people with two devices each, less the sender), in
// one direction (symmetric ratchet steps) and alternating (a DH ratchet step per message).
// Prints a table; no assertion (a benchmark, not a test).

import { performance } from 'node:perf_hooks';
import { loadSodium } from '../../web/js/e2ee/sodium.js';
import { createDevice, addOpks, publicBundle } from '../../web/js/e2ee/devkeys.js';
import { Sessions, bundleDevice } from '../../web/js/e2ee/sessions.js';
import { sealPayload, openPayload, payloadText, readPayloadText } from '../../web/js/e2ee/payload.js';

await loadSodium();
const N = Number(process.argv[2] ?? 3000);

function device() {
	const dev = createDevice(Date.now());
	addOpks(dev, 10);
	return { dev, s: new Sessions() };
}

function bundle(d) {
	const pb = publicBundle(d.dev);
	return bundleDevice({ ...pb, opk: pb.opks[0] });
}

const text = 'The quick brown fox jumps over the lazy dog. 敏捷的棕色狐狸跳过了懒狗。'.repeat(2);

/** Sender `from` to recipients `to`: {payload, envs}. */
function encrypt(from, to) {
	const { payload, inner } = sealPayload(payloadText({ v: 1, peer: 'bob_22', text, ts: 1 }));
	return { payload, envs: to.map((t) => from.s.encrypt(from.dev, t.dev.pub, null, inner)) };
}

function decrypt(at, from, payload, env) {
	return readPayloadText(openPayload(at.s.decrypt(at.dev, from.dev.pub, env), payload)).text;
}

function run(name, ndev, alternate) {
	const alice = device();
	const others = Array.from({ length: ndev }, device);
	// Sessions first (X3DH, both ways), so the loop measures steady-state messages.
	for (const o of others) {
		const { inner, payload } = sealPayload(payloadText({ v: 1, peer: 'x_bench', text: 'hi' }));
		decrypt(o, alice, payload, alice.s.encrypt(alice.dev, o.dev.pub, bundle(o), inner));
		const back = encrypt(o, [alice]);
		decrypt(alice, o, back.payload, back.envs[0]);
	}
	let encMs = 0, decMs = 0, bytes = 0;
	for (let i = 0; i < N; i++) {
		const t0 = performance.now();
		const m = encrypt(alice, others);
		const t1 = performance.now();
		for (let k = 0; k < ndev; k++)
			if (decrypt(others[k], alice, m.payload, m.envs[k]) !== text)
				throw new Error('bench: wrong text');
		const t2 = performance.now();
		encMs += t1 - t0;
		decMs += (t2 - t1) / ndev;
		bytes += m.payload.length + m.envs.reduce((n, e) => n + e.length, 0);
		if (alternate) {
			// Every recipient answers: the next message of Alice's makes a DH ratchet step.
			for (const o of others) {
				const back = encrypt(o, [alice]);
				decrypt(alice, o, back.payload, back.envs[0]);
			}
		}
	}
	const us = (ms) => ((ms / N) * 1000).toFixed(0).padStart(6);
	console.log(`${name.padEnd(44)} encrypt ${us(encMs)} µs/msg   decrypt ${us(decMs)} µs/msg/device` +
		`   ${(bytes / N).toFixed(0)} B/msg`);
}

console.log(`node ${process.version}, ${N} messages each, libsodium ${(await loadSodium()).sodium_version_string()} (WebAssembly)`);
run('1 recipient device, one direction', 1, false);
run('1 recipient device, DH ratchet step each', 1, true);
run('4 devices (fan-out), one direction', 4, false);
run('4 devices (fan-out), DH ratchet step each', 4, true);
