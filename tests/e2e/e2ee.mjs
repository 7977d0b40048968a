// e2ee.mjs - end-to-end encrypted private chats in the browser (docs/E2EE.md), two people:
// each browser makes its device at the first login; a private chat between them carries the
// lock (and only such a chat: not one with a user who has no device, not a room), messages
// and files go both ways and are what was sent, while the server's copy (pier.db, the media
// directory) holds no trace of them; both see the same safety number (60 digits, 12 groups)
// and can mark each other verified; a message changed on the way shows as an error, never
// as a message; a device that the server adds on its own (written into pier.db here) is
// refused and the user warned. English and Chinese, with screenshots.

import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import {
	check, launch, makeBytes, makePng, openPage, openPrivate, PASSWORD, Pierd, registerAndLogin, run, say, shot, shownBytes,
	TcpClient, waitE2ee, waitLock, waitText,
} from './lib.mjs';

const sha = b => crypto.createHash('sha256').update(b).digest('hex');

const esc = s => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The row of the confirmed message whose text is exactly `text`. */
function row(page, text) {
	return page.locator('#msg-list li.msg:not(.pending)', {
		has: page.locator('.msg-text', { hasText: new RegExp('^' + esc(text) + '$') }),
	});
}

/** Opens the menu of the message `text` (hover, then its "…" button). */
async function openMenu(page, text) {
	const li = row(page, text);
	await li.scrollIntoViewIfNeeded();
	await li.hover();
	await li.locator('.msg-more').click();
	await page.waitForSelector('#msg-menu:not([hidden])');
}

/** Every file under dir, recursively. */
function filesUnder(dir) {
	const out = [];
	for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
		const p = path.join(dir, e.name);
		if (e.isDirectory())
			out.push(...filesUnder(p));
		else
			out.push(p);
	}
	return out;
}

/** Every frame a page sends on its WebSocket, parsed. */
function recordSent(page) {
	const sent = [];
	page.on('websocket', ws => ws.on('framesent', f => {
		try {
			sent.push(JSON.parse(f.payload));
		} catch { /* not JSON */ }
	}));
	return sent;
}

run('e2e/e2ee', 380, async () => {
	const pierd = await new Pierd().start();
	const browser = await launch();
	const dave = await TcpClient.connect(pierd.tcp);
	check((await dave.request({ op: 'register', user: 'dave_44', password: PASSWORD })).status === 3, 'dave registers over TCP (he will have no device)');

	const alice = await openPage(browser, pierd, { locale: 'en-US' });
	const bob = await openPage(browser, pierd, { locale: 'zh-CN' });
	const aliceSent = recordSent(alice);
	await registerAndLogin(alice, 'alice_1');
	await registerAndLogin(bob, 'bob_22');
	await waitE2ee(alice, 'active');
	await waitE2ee(bob, 'active');
	check(true, 'both browsers made their device at the first login and are active');
	const ks = await alice.evaluate(() => window.pier.e2ee.ks.keyInfo);
	check(ks.algorithm === 'AES-GCM' && ks.extractable === false, `the keys at rest are sealed with a non-extractable AES-GCM key (${JSON.stringify(ks)})`);

	// ---- a chat with someone who has no device: no lock, "not encrypted" ----
	await openPrivate(alice, 'dave_44');
	await say(alice, 'dave has no device');
	await waitText(alice, 'dave has no device');
	await alice.waitForSelector('#conv-e2ee[data-on="false"]');
	check(await alice.$('#private-list button[data-key="@dave_44"] .conv-lock') === null, 'no lock on the chat with dave (he has no device)');
	check(await alice.$('#msg-list li.msg .private-tag.plain') !== null, 'his message is marked "not encrypted"');
	check(await alice.$('#safety-button:not([hidden])') === null, 'and there is no safety number to compare');
	await shot(alice, 'e2ee-not-encrypted-en');
	check(await alice.$('#room-list .conv-lock') === null, 'no room carries a lock');

	// ---- alice and bob: the lock, messages both ways ----
	await openPrivate(alice, 'bob_22');
	await waitLock(alice, 'bob_22');
	check(true, 'alice: the chat with bob is locked (both have devices)');
	await say(alice, 'hello bob, secretly');
	await openPrivate(bob, 'alice_1');
	await waitLock(bob, 'alice_1');
	await waitText(bob, 'hello bob, secretly');
	check(true, 'bob reads alice\'s encrypted message');
	await say(bob, '你好 alice，加密的');
	await waitText(alice, '你好 alice，加密的');
	check(true, 'alice reads bob\'s encrypted reply (Chinese)');
	check(await bob.$('#msg-list li.msg .private-tag.e2ee') !== null, 'the messages carry the lock');
	const sends = aliceSent.filter(m => m.op === 'send' && m.to === '@bob_22');
	check(sends.length > 0 && sends.every(m => !m.text && m.e2ee && m.e2ee.payload && m.e2ee.keys.length >= 1),
		'what alice\'s browser sent to bob is a payload and envelopes, no text');

	// ---- an edit and a reply, encrypted too ----
	await openMenu(alice, 'hello bob, secretly');
	await alice.click('#menu-edit');
	await alice.fill('#composer-input', 'hello bob, edited secretly');
	await alice.press('#composer-input', 'Enter');
	await waitText(bob, 'hello bob, edited secretly');
	const marked = await row(bob, 'hello bob, edited secretly').locator('.msg-text').evaluate(e => getComputedStyle(e, '::after').content);
	check(/已编辑/.test(marked), `bob sees alice's encrypted edit, marked ${marked}`);
	check(await row(bob, 'hello bob, secretly').count() === 0, 'the old text is gone');
	const edits = aliceSent.filter(m => m.op === 'edit' || (m.op === 'send' && m.to === '@bob_22' && m.text));
	check(edits.length === 0, 'the edit went as an encrypted payload (no edit op, no text)');
	await openMenu(bob, 'hello bob, edited secretly');
	await bob.click('#menu-reply');
	await say(bob, '回复你的加密消息');
	await waitText(alice, '回复你的加密消息');
	const quote = await row(alice, '回复你的加密消息').locator('.msg-quote .quote-text').textContent();
	check(quote === 'hello bob, edited secretly', `alice's browser quotes the message from what it decrypted: "${quote}"`);

	// a recall (metadata the server sees) reaches bob, whose browser forgets its decrypted copy
	await say(alice, 'oops, recall me');
	await waitText(bob, 'oops, recall me');
	await openMenu(alice, 'oops, recall me');
	await alice.click('#menu-recall');
	await bob.waitForFunction(() => !document.querySelector('#msg-list').textContent.includes('oops, recall me') &&
		document.querySelector('#msg-list li.msg.recalled') !== null);
	const kept = await bob.evaluate(async () => (await window.pier.e2ee.ks.messages()).some(m => m.text === 'oops, recall me'));
	check(!kept, 'a recalled encrypted message goes from bob\'s screen and from his browser\'s store');

	// ---- files both ways ----
	const png = makePng(320, 200);
	await alice.setInputFiles('#file-input', { name: 'secret.png', mimeType: 'image/png', buffer: png });
	const gotPng = await shownBytes(bob, 'secret.png');
	check(sha(gotPng) === sha(png), 'bob decrypts alice\'s image byte for byte');
	await bob.waitForFunction(() => {
		const img = document.querySelector('#msg-list .msg-media.e2ee img.thumb[alt="secret.png"]');
		return img && img.complete && img.naturalWidth === 320;
	});
	check(true, 'and sees it as a picture his browser drew from the decrypted bytes');
	const blob = makeBytes(150 * 1024, 11);
	await bob.setInputFiles('#file-input', { name: '报告.bin', mimeType: 'application/octet-stream', buffer: blob });
	const gotBlob = await shownBytes(alice, '报告.bin');
	await bob.waitForSelector('#msg-list li.msg.mine .msg-media.e2ee a[download="报告.bin"]');
	check(true, 'the sender\'s own chat names the file as sent (the server knows it only as "encrypted")');
	check(sha(gotBlob) === sha(blob), 'alice decrypts bob\'s 150 KiB file byte for byte (three secretstream chunks)');
	const wav = Buffer.alloc(44 + 8000 * 2);      // one second of silence, 8 kHz mono
	wav.write('RIFF', 0);
	wav.writeUInt32LE(36 + 16000, 4);
	wav.write('WAVEfmt ', 8);
	wav.writeUInt32LE(16, 16);
	wav.writeUInt16LE(1, 20);
	wav.writeUInt16LE(1, 22);
	wav.writeUInt32LE(8000, 24);
	wav.writeUInt32LE(16000, 28);
	wav.writeUInt16LE(2, 32);
	wav.writeUInt16LE(16, 34);
	wav.write('data', 36);
	wav.writeUInt32LE(16000, 40);
	await alice.setInputFiles('#file-input', { name: 'voice.wav', mimeType: 'audio/wav', buffer: wav });
	await bob.waitForFunction(() => {
		const a = document.querySelector('#msg-list .msg-media.e2ee audio');
		return a && a.src.startsWith('blob:') && a.readyState >= 1 && Math.round(a.duration) === 1;
	});
	check(true, 'an encrypted voice clip plays in bob\'s browser from the bytes it decrypted (1 s)');
	await shot(bob, 'e2ee-chat-zh');
	await shot(alice, 'e2ee-chat-en');
	const mediaId = await bob.$eval('#msg-list img.thumb[alt="secret.png"]', i => i.dataset.mediaId);
	const dl = await dave.request({ op: 'login', user: 'dave_44', password: PASSWORD });
	const st = await (await fetch(`${pierd.base}/media/${mediaId}`, { headers: { Authorization: 'Bearer ' + dl.token } })).status;
	check(st === 403 || st === 404, `dave cannot fetch the encrypted file (${st})`);

	// ---- the safety number ----
	await alice.click('#safety-button');
	await alice.waitForSelector('#safety-dialog[open] .safety-group');
	const aNum = await alice.$eval('#safety-digits', e => ({ num: e.dataset.number, groups: [...e.children].map(x => x.textContent) }));
	await bob.click('#safety-button');
	await bob.waitForSelector('#safety-dialog[open] .safety-group');
	const bNum = await bob.$eval('#safety-digits', e => ({ num: e.dataset.number, groups: [...e.children].map(x => x.textContent) }));
	check(/^\d{60}$/.test(aNum.num) && aNum.groups.length === 12 && aNum.groups.every(g => /^\d{5}$/.test(g)),
		`alice sees 60 digits in 12 groups of 5 (${aNum.groups.join(' ')})`);
	check(aNum.num === bNum.num, 'bob sees the same digits');
	check(/安全码/.test(await bob.textContent('#safety-title')), 'in Chinese: ' + await bob.textContent('#safety-title'));
	await shot(alice, 'e2ee-safety-en');
	await shot(bob, 'e2ee-safety-zh');
	await alice.click('#safety-verify');
	await alice.waitForSelector('#safety-status[data-verified="true"]');
	check(true, 'alice marks bob verified');
	await alice.keyboard.press('Escape');
	await alice.waitForSelector('#safety-dialog[open]', { state: 'detached' });
	check(await alice.evaluate(() => document.activeElement?.id) === 'safety-button', 'Escape closes it and the focus goes back to its button');
	await bob.click('#safety-close');

	// ---- a message changed on the way: an error, never the message ----
	await bob.evaluate(() => {
		const c = window.pier.client;
		const orig = c.onFrame.bind(c);
		c.onFrame = data => {
			const m = JSON.parse(data);
			if (m.op === 'envelope' && window.tamper) {
				window.tamper = false;
				const b = m.payload;
				const i = b.length - 5;
				m.payload = b.slice(0, i) + (b[i] === 'A' ? 'B' : 'A') + b.slice(i + 1);   // a flipped bit, far from the end
				data = JSON.stringify(m);
			}
			orig(data);
		};
		window.tamper = true;
	});
	await say(alice, 'this one is tampered with');
	await bob.waitForSelector('#e2ee-notices .e2ee-notice.failed');
	check(true, 'bob is told that a message could not be decrypted');
	check(!(await bob.textContent('#msg-list')).includes('this one is tampered with'), 'and its text is nowhere on his screen');
	await say(alice, 'and this one is fine');
	await waitText(bob, 'and this one is fine');
	check(true, 'the next message opens as usual');
	check(await bob.$('#msg-list .e2ee-missing[data-missing="failed"]') !== null, 'and the changed one\'s place says it could not be decrypted');
	await bob.evaluate(() => document.querySelector('#messages').scrollTo(0, 1e6));
	await shot(bob, 'e2ee-tampered-zh');

	// ---- nothing readable on the server ----
	const canary = 'canary-' + crypto.randomBytes(8).toString('hex');
	await say(alice, canary);
	await waitText(bob, canary);
	const dataDir = path.join(pierd.dir, 'data');
	let found = [];
	for (const f of [...filesUnder(dataDir), pierd.log]) {
		const bytes = fs.readFileSync(f);
		if (bytes.includes(canary) || bytes.includes(png.subarray(100, 164)) || bytes.includes(blob.subarray(5000, 5064)))
			found.push(path.relative(pierd.dir, f));
	}
	check(found.length === 0, `neither the canary text nor the files' bytes are in pier.db, its WAL, the media directory or the log (${found.join(', ') || 'none'})`);

	// ---- a device the server adds on its own ----
	await pierd.stop();
	const db = path.join(dataDir, 'pier.db');
	const rnd = n => crypto.randomBytes(n).toString('base64url');
	execFileSync('sqlite3', [db, `INSERT INTO devices (id, user_id, sign_key, dh_key, name, state, created, spk_id, spk_key, spk_sig)
		SELECT '${rnd(16)}', id, '${rnd(32)}', '${rnd(32)}', 'evil', 1, 1, 1, '${rnd(32)}', '${rnd(64)}' FROM users WHERE name = 'bob_22';`]);
	check(true, 'a device for bob was written into pier.db behind his back');
	const evil = execFileSync('sqlite3', [db, "SELECT id FROM devices WHERE name = 'evil';"]).toString().trim();
	await pierd.start({ same: true });
	await alice.reload();
	await alice.waitForSelector('#shell');
	await waitE2ee(alice, 'active');
	await alice.click('#private-list button[data-key="@bob_22"]');
	await say(alice, 'after the server lied');
	await alice.waitForSelector('#e2ee-notices .e2ee-notice.unsigned');
	const warn = await alice.textContent('#e2ee-notices .e2ee-notice.unsigned');
	check(/not approved by bob_22/.test(warn), `alice is warned: "${warn.trim()}"`);
	await alice.waitForFunction(() => window.pier.store.outbox.every(o => o.state !== 'sending'));
	const evilSends = aliceSent.filter(m => m.op === 'send' && m.e2ee && m.e2ee.keys.some(k => k.device === evil));
	check(evilSends.length === 0, 'nothing was ever encrypted for the unsigned device');
	await shot(alice, 'e2ee-unsigned-en');

	for (const p of [alice, bob])
		check(p.problems.length === 0, `no errors in the page: ${JSON.stringify(p.problems)}`);
	await pierd.stop();
});
