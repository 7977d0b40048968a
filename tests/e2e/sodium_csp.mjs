// sodium_csp.mjs - the browser's end-to-end encryption core in Debian's chromium, served by
// pierd from its built-in files under the page's own Content-Security-Policy: the vendored
// libsodium (web/vendor/) compiles its WebAssembly ('wasm-unsafe-eval'), with no CSP
// violation; two devices make a session (X3DH), exchange messages in Chinese and English
// both ways and a 200 KB file (streamed from a Blob in 64 KiB chunks); the page's figures for
// encrypt and decrypt per message are printed (no assertion on time). English and Chinese
// pages; one screenshot of the page after the run.

import { check, launch, openPage, Pierd, run, shot } from './lib.mjs';

/** Runs in the page: imports the modules as the client does and exercises them. */
async function inPage(n) {
	const out = { violations: [] };
	document.addEventListener('securitypolicyviolation',
		(e) => out.violations.push(`${e.violatedDirective} ${e.blockedURI}`));
	const { loadSodium } = await import('/js/e2ee/sodium.js');
	const { createDevice, addOpks, publicBundle } = await import('/js/e2ee/devkeys.js');
	const { Sessions, bundleDevice } = await import('/js/e2ee/sessions.js');
	const { sealPayload, openPayload, payloadText, readPayloadText } = await import('/js/e2ee/payload.js');
	const { encryptFile, decryptFile, toBlob } = await import('/js/e2ee/filecrypt.js');
	const { safetyNumber } = await import('/js/e2ee/safety.js');
	const sodium = await loadSodium();
	out.version = sodium.sodium_version_string();

	const dev = () => {
		const d = createDevice(Date.now());
		addOpks(d, 5);
		return { dev: d, s: new Sessions() };
	};
	const alice = dev(), bob = dev();
	const send = (from, to, text, bundle = null) => {
		const { payload, inner } = sealPayload(payloadText({ v: 1, peer: 'bob_22', text }));
		return { payload, env: from.s.encrypt(from.dev, to.dev.pub, bundle, inner) };
	};
	const recv = (at, from, m) =>
		readPayloadText(openPayload(at.s.decrypt(at.dev, from.dev.pub, m.env), m.payload)).text;
	const pb = publicBundle(bob.dev);
	out.first = recv(bob, alice, send(alice, bob, '你好，鲍勃', bundleDevice({ ...pb, opk: pb.opks[0] })));
	out.reply = recv(alice, bob, send(bob, alice, 'hello alice'));

	let enc = 0, dec = 0, ok = 0;
	for (let i = 0; i < n; i++) {
		const t0 = performance.now();
		const m = send(alice, bob, `message ${i} 消息`);
		const t1 = performance.now();
		if (recv(bob, alice, m) === `message ${i} 消息`)
			ok++;
		dec += performance.now() - t1;
		enc += t1 - t0;
	}
	out.ok = ok;
	out.encUs = Math.round((enc / n) * 1000);
	out.decUs = Math.round((dec / n) * 1000);

	const data = new Uint8Array(200 * 1024).map((_, i) => (i * 31) & 0xff);
	const { key, header, chunks } = encryptFile(new Blob([data]));
	const ct = await toBlob(chunks);
	const back = new Uint8Array(await (await toBlob(decryptFile(ct, key, header))).arrayBuffer());
	out.file = back.length === data.length && back.every((v, i) => v === data[i]);
	out.fileCt = ct.size;
	out.safety = safetyNumber('alice_1', alice.dev.pub.signPub, 'bob_22', bob.dev.pub.signPub).length;
	return out;
}

run('e2e/sodium_csp', 180, async () => {
	const pierd = await new Pierd().start();
	const browser = await launch();
	for (const locale of ['en-US', 'zh-CN']) {
		const page = await openPage(browser, pierd, { locale });
		const csp = (await page.request.get(pierd.base + '/')).headers()['content-security-policy'] || '';
		check(/script-src 'self' 'wasm-unsafe-eval'/.test(csp), `${locale}: the page's CSP allows WebAssembly: ${csp}`);
		const r = await page.evaluate(inPage, 1000);
		check(/^1\.0\./.test(r.version), `${locale}: libsodium ${r.version} loaded from /vendor under that CSP`);
		check(r.violations.length === 0, `${locale}: no CSP violation (${r.violations.join('; ')})`);
		check(r.first === '你好，鲍勃' && r.reply === 'hello alice', `${locale}: a session both ways (X3DH, Double Ratchet)`);
		check(r.ok === 1000, `${locale}: 1000 messages encrypted and decrypted (${r.ok})`);
		check(r.file && r.fileCt === 200 * 1024 + 4 * 17, `${locale}: a 200 KB file through 64 KiB chunks (${r.fileCt} bytes)`);
		check(r.safety === 60, `${locale}: a safety number of 60 digits`);
		console.log(`# ${locale}: chromium per message: encrypt ${r.encUs} µs, decrypt ${r.decUs} µs (1 device)`);
		check(page.problems.length === 0, `${locale}: no page errors (${page.problems.join('; ')})`);
		if (locale === 'zh-CN')
			await shot(page, 'sodium-csp-zh');
	}
	await pierd.stop();
});
