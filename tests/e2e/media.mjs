// media.mjs - files in the browser client end to end: an image sent with the attach button
// shows as a thumbnail for the other user and opens at its natural size; a file whose upload
// loses its connection resumes (tus: HEAD, then PATCH from the server's offset) and downloads
// byte-identical; drag and drop and pasting send files too; audio plays inline; a private
// image reaches only its conversation. Screenshots go to $PIER_SCREENSHOTS.

import crypto from 'node:crypto';
import fs from 'node:fs';

import {
	check, launch, makeBytes, makePng, openConv, openPage, Pierd, registerAndLogin, run, showOnline, shot,
} from './lib.mjs';

const CHUNK = 4 * 1024 * 1024;   // web/js/media.js

function wav(seconds, rate = 8000) {
	const n = seconds * rate;
	const b = Buffer.alloc(44 + n * 2);
	b.write('RIFF', 0);
	b.writeUInt32LE(36 + n * 2, 4);
	b.write('WAVEfmt ', 8);
	b.writeUInt32LE(16, 16);
	b.writeUInt16LE(1, 20);
	b.writeUInt16LE(1, 22);
	b.writeUInt32LE(rate, 24);
	b.writeUInt32LE(rate * 2, 28);
	b.writeUInt16LE(2, 32);
	b.writeUInt16LE(16, 34);
	b.write('data', 36);
	b.writeUInt32LE(n * 2, 40);
	for (let i = 0; i < n; i++)
		b.writeInt16LE(Math.round(Math.sin(i * 2 * Math.PI * 440 / rate) * 8000), 44 + i * 2);
	return b;
}

const sha = b => crypto.createHash('sha256').update(b).digest('hex');

/** Waits for a media message with this file name in the open conversation; its element. */
async function waitMedia(page, name) {
	await page.waitForFunction(n => [...document.querySelectorAll('#msg-list li.msg:not(.pending) .msg-media')]
		.some(m => m.querySelector(`[title^="${CSS.escape(n)}"], img[alt="${CSS.escape(n)}"]`)), name);
}

run('e2e/media', 300, async () => {
	const pierd = await new Pierd().start();
	const browser = await launch();
	const alice = await openPage(browser, pierd, { locale: 'en-US' });
	const bob = await openPage(browser, pierd, { locale: 'zh-CN' });
	await registerAndLogin(alice, 'alice_1');
	await registerAndLogin(bob, 'bob_22');

	// ---- an image with the attach button ----
	const png = makePng(800, 600);
	await alice.setInputFiles('#file-input', { name: 'gradient.png', mimeType: 'image/png', buffer: png });
	await waitMedia(bob, 'gradient.png');
	await bob.waitForFunction(() => {
		const img = document.querySelector('#msg-list li.msg img.thumb[alt="gradient.png"]');
		return img && img.complete && img.naturalWidth > 0;
	});
	const thumb = await bob.$eval('#msg-list img.thumb[alt="gradient.png"]', img => ({
		w: img.naturalWidth, h: img.naturalHeight, src: img.getAttribute('src'),
		boxW: img.getBoundingClientRect().width, boxH: img.getBoundingClientRect().height,
	}));
	check(/^\/media\/\d+\/thumb$/.test(thumb.src) && thumb.w === 320 && thumb.h === 240,
		`bob sees the thumbnail (${thumb.src}, ${thumb.w}x${thumb.h})`);
	check(Math.abs(thumb.boxW / thumb.boxH - 800 / 600) < 0.02, `shown with the image's proportions (${thumb.boxW}x${thumb.boxH})`);
	await bob.click('#msg-list img.thumb[alt="gradient.png"]');
	await bob.waitForFunction(() => {
		const img = document.querySelector('#lightbox-image');
		return img && img.complete && img.naturalWidth > 0;
	});
	const full = await bob.$eval('#lightbox-image', img => [img.naturalWidth, img.naturalHeight]);
	check(full[0] === 800 && full[1] === 600, `clicking it opens the full image at its natural size (${full})`);
	await shot(bob, 'media-lightbox');
	await bob.keyboard.press('Escape');
	await bob.waitForFunction(() => !document.querySelector('#lightbox').open);

	// ---- a larger file whose upload loses its connection ----
	const big = makeBytes(CHUNK * 2 + 123457);
	const log = [];
	let patches = 0;
	await alice.route('**/api/tus/**', route => {
		const r = route.request();
		log.push([r.method(), r.headers()['upload-offset'] || '']);
		if (r.method() === 'PATCH' && ++patches === 2)
			return route.abort('connectionreset');
		return route.continue();
	});
	await alice.setInputFiles('#file-input', { name: 'data-2024.bin', mimeType: 'application/octet-stream', buffer: big });
	await alice.waitForSelector('#upload-tray li.upload progress');
	check(true, 'the upload shows a progress bar');
	await alice.waitForSelector('#upload-tray li.upload[data-state="resuming"]');
	await shot(alice, 'media-upload-resuming');
	await alice.waitForSelector('#upload-tray li.upload', { state: 'detached', timeout: 60000 });
	await alice.unroute('**/api/tus/**');
	const afterAbort = log.slice(log.findIndex(([m], i) => m === 'PATCH' && log.slice(0, i + 1).filter(x => x[0] === 'PATCH').length === 2) + 1);
	check(afterAbort.length > 0 && afterAbort[0][0] === 'HEAD' && afterAbort.some(([m, off]) => m === 'PATCH' && Number(off) === CHUNK),
		`after the dropped PATCH it asked where to go on (HEAD) and went on from ${CHUNK}: ${JSON.stringify(log)}`);
	await waitMedia(bob, 'data-2024.bin');
	const chip = await bob.$eval('#msg-list a.file-chip[download="data-2024.bin"]', a => ({
		name: a.querySelector('.file-name').textContent, size: a.querySelector('.file-size').textContent,
	}));
	check(chip.name === 'data-2024.bin' && /8\.1\s?MB/.test(chip.size), `bob sees a download link with name and size (${chip.name}, ${chip.size})`);
	const [download] = await Promise.all([
		bob.waitForEvent('download'),
		bob.click('#msg-list a.file-chip[download="data-2024.bin"]'),
	]);
	const got = fs.readFileSync(await download.path());
	check(got.length === big.length && sha(got) === sha(big), `the download is byte-identical (${got.length} bytes)`);
	check(download.suggestedFilename() === 'data-2024.bin', `under its name (${download.suggestedFilename()})`);

	// ---- pierd dies in the middle of an upload: when it is back, the upload goes on from what
	// the server kept (SIGKILL: a crash, the harshest drop) ----
	const cdp = await alice.context().newCDPSession(alice);
	await cdp.send('Network.enable');
	await cdp.send('Network.emulateNetworkConditions', {
		offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 1024 * 1024,
	});
	const big2 = makeBytes(CHUNK + 3 * 1024 * 1024, 99);
	const seen = [];
	alice.on('request', r => {
		if (r.url().includes('/api/tus/'))
			seen.push([r.method(), r.headers()['upload-offset'] || '']);
	});
	await alice.setInputFiles('#file-input', { name: 'restart.bin', mimeType: 'application/octet-stream', buffer: big2 });
	await alice.waitForFunction(() => {
		const p = document.querySelector('#upload-tray progress');
		return p && Number(p.value) >= 15;
	});
	await pierd.kill9();
	await alice.waitForSelector('#upload-tray li.upload[data-state="resuming"]');
	await pierd.start({ same: true });
	await cdp.send('Network.emulateNetworkConditions', {
		offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1,
	});
	await alice.waitForSelector('#upload-tray li.upload', { state: 'detached', timeout: 90000 });
	const resumedAt = seen.filter(([m, off]) => m === 'PATCH' && Number(off) > 0).map(([, off]) => Number(off));
	check(seen.some(([m]) => m === 'HEAD') && resumedAt.length > 0,
		`after the restart the upload went on from the server's offset, not from 0: ${JSON.stringify(seen)}`);
	for (const p of [alice, bob])
		await p.waitForFunction(() => window.pier.client.state === 'online');
	await waitMedia(bob, 'restart.bin');
	const [dl2] = await Promise.all([
		bob.waitForEvent('download'),
		bob.click('#msg-list a.file-chip[download="restart.bin"]'),
	]);
	const got2 = fs.readFileSync(await dl2.path());
	check(sha(got2) === sha(big2), `and the file is whole: byte-identical (${got2.length} bytes)`);

	// ---- drag and drop, paste ----
	await alice.evaluate(() => {
		const dt = new DataTransfer();
		dt.items.add(new File(['notes from the meeting\n'], 'notes.txt', { type: 'text/plain' }));
		const chat = document.querySelector('#chat');
		chat.dispatchEvent(new DragEvent('dragenter', { dataTransfer: dt, bubbles: true, cancelable: true }));
		window.__dropShown = !document.querySelector('.drop-zone').hidden;
		chat.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
	});
	check(await alice.evaluate(() => window.__dropShown), 'dragging files over the chat shows the drop zone');
	await waitMedia(bob, 'notes.txt');
	check(true, 'a dropped file reaches bob');
	const small = makePng(64, 48).toString('base64');
	await alice.evaluate(b64 => {
		const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
		const dt = new DataTransfer();
		dt.items.add(new File([bytes], 'image.png', { type: 'image/png' }));
		document.querySelector('#composer-input').dispatchEvent(new ClipboardEvent('paste', {
			clipboardData: dt, bubbles: true, cancelable: true,
		}));
	}, small);
	await waitMedia(bob, 'image.png');
	await bob.waitForFunction(() => {
		const img = document.querySelector('#msg-list img.thumb[alt="image.png"]');
		return img && img.complete && img.naturalWidth === 64;
	});
	check(true, 'a pasted image reaches bob and shows (64 px: its own size, no thumbnail needed)');

	// ---- audio plays inline ----
	await alice.setInputFiles('#file-input', { name: 'beep.wav', mimeType: 'audio/wav', buffer: wav(1) });
	await bob.waitForSelector('#msg-list li.msg audio');
	await bob.waitForFunction(() => {
		const a = document.querySelector('#msg-list li.msg audio');
		return a.readyState >= 1 && a.duration > 0.9;
	});
	check(true, 'audio shows a player that has loaded the sound (its duration)');
	const played = await bob.evaluate(async () => {
		const a = document.querySelector('#msg-list li.msg audio');
		a.muted = true;
		try {
			await a.play();
			/* Bounded wait: on a loaded machine the first frames take a while. */
			for (let i = 0; i < 50 && !(a.currentTime > 0); i++)
				await new Promise(r => setTimeout(r, 100));
			return a.currentTime > 0;
		} catch (e) {
			return String(e);
		}
	});
	check(played === true, `and it plays (${played})`);
	// ---- video plays inline: a second of WebM recorded from a canvas in alice's page ----
	const recorded = await alice.evaluate(async () => {
		const canvas = document.createElement('canvas');
		canvas.width = 320;
		canvas.height = 240;
		const g = canvas.getContext('2d');
		const rec = new MediaRecorder(canvas.captureStream(25), { mimeType: 'video/webm' });
		const parts = [];
		rec.ondataavailable = e => parts.push(e.data);
		let frame = 0;
		const timer = setInterval(() => {
			g.fillStyle = `hsl(${(frame++ * 12) % 360} 70% 50%)`;
			g.fillRect(0, 0, 320, 240);
		}, 40);
		rec.start();
		await new Promise(r => setTimeout(r, 1200));
		await new Promise(r => { rec.onstop = r; rec.stop(); });
		clearInterval(timer);
		const file = new File(parts, 'clip.webm', { type: 'video/webm' });
		const dt = new DataTransfer();
		dt.items.add(file);
		document.querySelector('#chat').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
		return file.size;
	});
	check(recorded > 0, `alice recorded a clip (${recorded} bytes) and dropped it in`);
	await bob.waitForSelector('#msg-list li.msg video');
	await bob.waitForFunction(() => {
		const v = document.querySelector('#msg-list li.msg video');
		return v.readyState >= 1 && v.videoWidth === 320;
	});
	check(true, 'bob sees a video player with the clip loaded (320 px wide)');
	await bob.evaluate(() => document.querySelector('#messages').scrollTo(0, 1e6));
	await shot(bob, 'media-lobby-zh');
	await shot(alice, 'media-lobby-en');

	// ---- a private image ----
	await showOnline(bob, 'alice_1');
	await bob.click('#user-list button[data-user="alice_1"]');
	await showOnline(alice, 'bob_22');
	await alice.click('#user-list button[data-user="bob_22"]');
	await alice.setInputFiles('#file-input', { name: 'private.png', mimeType: 'image/png', buffer: makePng(400, 500) });
	await bob.waitForFunction(() => {
		const img = document.querySelector('#msg-list li.msg.private img.thumb[alt="private.png"]');
		return img && img.complete && img.naturalWidth > 0;
	});
	check(true, 'a private image shows in the private conversation');
	await shot(bob, 'media-private-zh');
	const id = await bob.$eval('#msg-list img.thumb[alt="private.png"]', img => img.dataset.mediaId);
	const carol = await openPage(browser, pierd, { locale: 'en-US' });
	await registerAndLogin(carol, 'carol_33');
	const status = await carol.evaluate(async i => (await fetch('/media/' + i)).status, id);
	check(status === 403, `someone else cannot fetch it (${status})`);

	for (const p of [alice, bob, carol])
		check(p.problems.length === 0, `no errors in the page: ${JSON.stringify(p.problems)}`);
	await pierd.stop();
});
