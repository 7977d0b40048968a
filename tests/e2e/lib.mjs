// lib.mjs - what the end-to-end tests share: a real pierd on loopback (PIERD_PATH), Debian's
// chromium driven by playwright-core (from tests/node, `npm ci` there), a JSON-lines TCP
// client, a PNG maker, checks in TAP form, and a watchdog. Every wait is bounded; anything
// missing (node modules, chromium, pierd) fails the test loudly.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

const here = path.dirname(fileURLToPath(import.meta.url));
export const NODE_DIR = process.env.PIER_NODE_DIR || path.join(here, '..', 'node');
export const CHROMIUM = process.env.PIER_CHROMIUM || '/usr/bin/chromium';
export const SHOTS = process.env.PIER_SCREENSHOTS || path.join(os.tmpdir(), 'pier-screenshots');
export const WAIT = 20000;            // one thing to appear (the ASan build is slow)
export const PASSWORD = 'pw-secret-42';

// ---- TAP checks ----

let nchecks = 0;
let nfailed = 0;
const cleanups = [];

export function check(ok, what) {
	nchecks++;
	if (ok) {
		console.log(`ok ${nchecks} - ${what}`);
	} else {
		nfailed++;
		console.log(`not ok ${nchecks} - ${what}`);
	}
	return !!ok;
}

export function fatal(what) {
	console.log(`not ok ${++nchecks} - ${what}`);
	console.log('Bail out!');
	nfailed++;
	throw new Error(what);
}

export function onCleanup(fn) {
	cleanups.push(fn);
}

async function cleanup() {
	while (cleanups.length) {
		try {
			await cleanups.pop()();
		} catch (e) {
			console.log('# cleanup: ' + e.message);
		}
	}
}

/** Runs a test: a watchdog, cleanups, exit status 0 only if every check passed. */
export async function run(name, seconds, body) {
	const dog = setTimeout(async () => {
		console.log(`not ok - ${name}: the watchdog fired after ${seconds} s`);
		await Promise.race([cleanup(), new Promise(r => setTimeout(r, 5000))]);
		process.exit(2);
	}, seconds * 1000);
	let status = 0;
	try {
		await body();
	} catch (e) {
		console.log(`not ok ${++nchecks} - ${name} stopped: ${e.message.split('\n')[0]}`);
		console.log(`# ${(e.stack || String(e)).split('\n').join('\n# ')}`);
		nfailed++;
		status = 1;
	}
	await cleanup();
	clearTimeout(dog);
	if (nfailed)
		status = 1;
	console.log(`1..${nchecks}`);
	console.log(status ? `# ${name}: FAILED (${nfailed} of ${nchecks} checks)` : `# ${name}: all ${nchecks} checks passed`);
	process.exit(status);
}

// ---- pierd ----

export class Pierd {
	constructor() {
		if (!process.env.PIERD_PATH || !fs.existsSync(process.env.PIERD_PATH))
			fatal(`PIERD_PATH (${process.env.PIERD_PATH}) is not a pierd binary`);
		this.bin = process.env.PIERD_PATH;
		this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pier-e2e-'));
		this.log = path.join(this.dir, 'pierd.log');
		this.proc = null;
		this.http = 0;
		this.tcp = 0;
		onCleanup(() => this.destroy());
	}

	get base() {
		return `http://127.0.0.1:${this.http}`;
	}

	/** Starts pierd (on the previous ports when same is true) and waits for its listeners. */
	async start({ same = false, extra = [] } = {}) {
		const args = [
			'--listen', `127.0.0.1:${same ? this.tcp : 0}`, '--http', `127.0.0.1:${same ? this.http : 0}`,
			'--data-dir', path.join(this.dir, 'data'), '--weak-password-hash', '--no-rate-limits',
			'--log-level', 'info', ...extra,
		];
		if (process.env.PIER_E2E_WEB_ROOT)
			args.push('--web-root', process.env.PIER_E2E_WEB_ROOT);
		const from = fs.existsSync(this.log) ? fs.statSync(this.log).size : 0;
		const out = fs.openSync(this.log, 'a');
		this.proc = spawn(this.bin, args, { stdio: ['ignore', out, out] });
		fs.closeSync(out);
		this.exit = new Promise(resolve => this.proc.on('exit', (code, signal) => resolve({ code, signal })));
		const deadline = Date.now() + WAIT;
		while (Date.now() < deadline) {
			const text = fs.readFileSync(this.log, 'utf8').slice(from);
			const tcp = text.match(/listening on 127\.0\.0\.1:(\d+) \(tcp\)/);
			const http = text.match(/listening on 127\.0\.0\.1:(\d+) \(http\)/);
			if (tcp && http) {
				this.tcp = Number(tcp[1]);
				this.http = Number(http[1]);
				return this;
			}
			if (this.proc.exitCode !== null)
				break;
			await sleep(50);
		}
		this.dumpLog();
		fatal('pierd did not start');
	}

	/** SIGTERM; checks a clean exit (status 0) and a log without sanitizer reports. */
	async stop() {
		if (!this.proc || this.proc.exitCode !== null || this.proc.signalCode !== null)
			return true;
		this.proc.kill('SIGTERM');
		const r = await Promise.race([this.exit, sleep(WAIT).then(() => null)]);
		if (!r) {
			this.proc.kill('SIGKILL');
			await this.exit;
		}
		const clean = r && r.code === 0 && this.logClean();
		if (!clean)
			this.dumpLog();
		return check(clean, `pierd stopped cleanly (${r ? `status ${r.code}` : 'had to be killed'})`);
	}

	/** SIGKILL (a crash; no checks). */
	async kill9() {
		if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null) {
			this.proc.kill('SIGKILL');
			await this.exit;
		}
	}

	logClean() {
		const text = fs.readFileSync(this.log, 'utf8');
		return !/ERROR: AddressSanitizer|runtime error:|LeakSanitizer/.test(text);
	}

	dumpLog() {
		try {
			const lines = fs.readFileSync(this.log, 'utf8').trimEnd().split('\n');
			for (const l of lines.slice(-40))
				console.log('# pierd: ' + l);
		} catch { /* no log */ }
	}

	async destroy() {
		if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null) {
			this.proc.kill('SIGKILL');
			await this.exit;
		}
		if (!process.env.PIER_KEEP_TEST_DATA)
			fs.rmSync(this.dir, { recursive: true, force: true });
	}
}

// ---- a JSON-lines client over TCP ----

export class TcpClient {
	static async connect(port) {
		const c = new TcpClient();
		await new Promise((resolve, reject) => {
			c.sock = net.connect(port, '127.0.0.1', resolve);
			c.sock.once('error', reject);
		});
		c.sock.setEncoding('utf8');
		c.buf = '';
		c.events = [];
		c.waiters = new Map();
		c.seq = 0;
		c.sock.on('data', d => {
			c.buf += d;
			let i;
			while ((i = c.buf.indexOf('\n')) >= 0) {
				const line = c.buf.slice(0, i);
				c.buf = c.buf.slice(i + 1);
				if (!line.trim())
					continue;
				const m = JSON.parse(line);
				if (m.ref && c.waiters.has(m.ref)) {
					c.waiters.get(m.ref)(m);
					c.waiters.delete(m.ref);
				} else {
					c.events.push(m);
				}
			}
		});
		c.sock.on('error', () => {});
		onCleanup(() => c.close());
		return c;
	}

	request(obj) {
		const ref = 't' + (++this.seq);
		return new Promise((resolve, reject) => {
			const timer = setTimeout(() => reject(new Error('no reply to ' + obj.op)), WAIT);
			this.waiters.set(ref, m => {
				clearTimeout(timer);
				resolve(m);
			});
			this.sock.write(JSON.stringify({ ...obj, ref }) + '\n');
		});
	}

	close() {
		this.sock?.destroy();
	}

	/**
	 * Logs in (password) and makes this client a device of its user, with the browser's own
	 * crypto modules (web/js/e2ee, which run under Node): a first device and list, as the
	 * browser makes at its first login. Then sendE2ee() can write to users who have devices
	 * (a plaintext private message to them is refused with e2ee_required).
	 */
	async loginDevice(user, password = PASSWORD) {
		const core = await import('../../web/js/e2ee/glue.js');
		await core.ready();
		const r = await this.request({ op: 'login', user, password });
		if (r.status !== 1 || !r.challenge)
			throw new Error(`${user}: no login with a challenge`);
		this.core = core;
		this.user = user.toLowerCase();
		this.dev = core.newDevice('node test');
		const bundle = core.registerBundle(this.dev, 20);
		const reg = await this.request({ op: 'device_register', ...bundle, name: 'node test', proof: core.proof(this.dev, core.unb64(r.challenge)) });
		if (reg.op !== 'device_register')
			throw new Error('device_register: ' + JSON.stringify(reg));
		const ak = core.newAccountKey();
		const list = core.encodeList({ user: this.user, version: 1, reset: false, ak: ak.pub, devices: [core.deviceEntry(this.dev)] });
		const pub = await this.request({ op: 'devices_publish', list: core.b64(list), sig: core.signList(ak.seed, list) });
		if (pub.op !== 'devices_publish')
			throw new Error('devices_publish: ' + JSON.stringify(pub));
		this.sessions = core.sessions.create();
		this.peerDevices = new Map();
		return r;
	}

	/** Sends `text` to '@user' end-to-end encrypted (loginDevice first). Resolves with the reply. */
	async sendE2ee(to, text) {
		const core = this.core;
		const peer = to.slice(1).toLowerCase();
		let devs = this.peerDevices.get(peer);
		if (!devs) {
			// The peer's browser publishes its device list after its login, on its own time:
			// wait for it (bounded), and say what came if it never does.
			let k = await this.request({ op: 'keys', user: peer });
			for (let i = 0; i < 50 && !(k.op === 'keys' && k.list); i++) {
				await new Promise(res => setTimeout(res, 100));
				k = await this.request({ op: 'keys', user: peer });
			}
			if (!(k.op === 'keys' && k.list))
				throw new Error(`keys for ${peer}: no device list after 5 s: ${JSON.stringify(k)}`);
			const l = core.openList(k.list, k.sig, peer);
			devs = l.devices.map(d => ({ entry: d, bundle: (k.devices || []).find(x => x.id === d.id) }));
			this.peerDevices.set(peer, devs);
		}
		const { payload, inner } = core.seal({ v: 1, type: 'message', peer, text, kind: 'text', ts: Date.now() });
		const keys = devs.map(d => ({
			device: d.entry.id,
			body: core.b64(core.encryptFor(this.sessions, this.dev, d.entry, core.sessions.has(this.sessions, d.entry.id) ? null : d.bundle, inner)),
		}));
		return this.request({ op: 'send', to, e2ee: { payload: core.b64(payload), keys } });
	}
}

// ---- the browser ----

export function playwright() {
	let pw;
	try {
		pw = createRequire(path.join(NODE_DIR, 'package.json'))('playwright-core');
	} catch (e) {
		fatal(`playwright-core is not installed in ${NODE_DIR} (run: npm ci --prefix tests/node): ${e.message}`);
	}
	return pw;
}

export async function launch() {
	if (!fs.existsSync(CHROMIUM))
		fatal(`${CHROMIUM} is missing (Debian package chromium; scripts/deps.sh installs it)`);
	const { chromium } = playwright();
	const browser = await chromium.launch({
		executablePath: CHROMIUM,
		headless: true,
		args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
			'--disable-background-networking', '--disable-component-update', '--disable-sync',
			'--disable-dev-shm-usage'],
	});
	onCleanup(() => browser.close());
	return browser;
}

/**
 * A new browser context and page on pierd's page. Records page errors, console errors and
 * dialogs (alert() from injected markup would show up here) in page.problems.
 */
export async function openPage(browser, pierd, { locale = 'en-US', viewport = { width: 1280, height: 800 }, ...opts } = {}) {
	const ctx = await browser.newContext({ locale, viewport, acceptDownloads: true, ...opts });
	return watchPage(await ctx.newPage(), pierd);
}

/** Another tab of the same browser as `page` (same storage, same cookies), on pierd's page. */
export async function openTab(page, pierd) {
	return watchPage(await page.context().newPage(), pierd);
}

async function watchPage(page, pierd) {
	page.setDefaultTimeout(WAIT);
	page.problems = [];
	page.dialogs = [];
	page.on('pageerror', e => page.problems.push('pageerror: ' + e.message));
	page.on('console', m => {
		if (m.type() === 'error' && !/Failed to load resource|WebSocket connection to|ERR_CONNECTION_REFUSED|net::ERR/.test(m.text()))
			page.problems.push('console: ' + m.text());
	});
	// confirm() (leaving a room) is accepted; anything else (alert() from injected markup) is
	// a problem
	page.on('dialog', d => {
		if (d.type() === 'confirm') {
			d.accept().catch(() => {});
			return;
		}
		page.dialogs.push(d.type() + ': ' + d.message());
		page.problems.push('dialog: ' + d.type() + ': ' + d.message());
		d.dismiss().catch(() => {});
	});
	await page.goto(pierd.base + '/');
	return page;
}

export async function shot(page, name) {
	fs.mkdirSync(SHOTS, { recursive: true });
	const file = path.join(SHOTS, name + '.png');
	await page.mouse.move(1, 1);        // no hover effects in the picture
	await page.waitForTimeout(150);
	await page.screenshot({ path: file });
	console.log(`# screenshot: ${file}`);
}

/**
 * Presence shows only contacts live: asks the people panel for everyone online ("Show
 * everyone online" / "Refresh", the paged users request) until `user` is listed (bounded).
 */
export async function showOnline(page, user, timeout = 10000) {
	const sel = `#user-list button[data-user="${user}"]`;
	const deadline = Date.now() + timeout;
	while (!(await page.$(sel))) {
		if (Date.now() > deadline)
			throw new Error(`${user} is not listed online after asking for everyone`);
		await page.click('#users-refresh');
		await page.waitForSelector('#users-refresh:not([disabled])');
		if (!(await page.$(sel)))
			await page.waitForTimeout(200);
	}
}

/** Registers (status 3 expected) and logs in through the login screen. */
export async function registerAndLogin(page, user) {
	await page.fill('#login-user', user);
	await page.fill('#login-password', PASSWORD);
	await page.click('#register-button');
	await page.waitForFunction(() => document.querySelector('#login-status')?.dataset.status);
	const st = await page.$eval('#login-status', e => e.dataset.status);
	check(st === '3', `${user}: registered (status ${st})`);
	await page.click('#login-button');
	await page.waitForSelector('#shell');
	await waitOnline(page);
}

export async function waitOnline(page) {
	await page.waitForFunction(() => window.pier && window.pier.client.state === 'online');
}

export async function say(page, text) {
	await page.fill('#composer-input', text);
	await page.press('#composer-input', 'Enter');
}

/** Opens a conversation from the sidebar ('#room' or '@user', lower case). */
export async function openConv(page, key) {
	const list = key[0] === '#' ? '#room-list' : '#private-list';
	await page.click(`${list} button[data-key="${key}"]`);
	await page.waitForSelector(`${list} button[data-key="${key}"][aria-current="page"]`);
}

/** The texts of the messages on screen (confirmed ones), in order. */
export function texts(page) {
	return page.$$eval('#msg-list li.msg:not(.pending) .msg-text', els => els.map(e => e.textContent));
}

/** Waits until a confirmed message with exactly this text is on screen. */
export async function waitText(page, text) {
	await page.waitForFunction(t => [...document.querySelectorAll('#msg-list li.msg:not(.pending) .msg-text')]
		.some(e => e.textContent === t), text);
}

export const sleep = ms => new Promise(r => setTimeout(r, ms));

// ---- end-to-end encryption (tests/e2e/e2ee*.mjs) ----

/** The device manager's state in the page ('active', 'pending'...). */
export async function e2eeState(page) {
	return page.evaluate(() => window.pier.e2ee && window.pier.e2ee.state);
}

/** Waits until the page's device manager is in `state`. */
export async function waitE2ee(page, state) {
	await page.waitForFunction(s => window.pier.e2ee && window.pier.e2ee.state === s, state);
}

/** Opens the private chat with `name` through the join box. */
export async function openPrivate(page, name) {
	if (await page.$('#join-form[hidden]'))
		await page.click('#join-toggle');
	await page.fill('#join-room', '@' + name);
	await page.press('#join-room', 'Enter');
	await page.waitForSelector(`#private-list button[data-key="@${name}"][aria-current="page"]`);
}

/** Waits for the lock on the private chat with `name` (sidebar and header). */
export async function waitLock(page, name) {
	await page.waitForSelector(`#private-list button[data-key="@${name}"] .conv-lock`);
	await page.waitForSelector('#conv-e2ee[data-on="true"]');
}

/** The bytes of a decrypted file shown in the open chat, by file name: once the page shows it
 * (a download link or a picture made from the decrypted bytes), the bytes its message's key
 * opens (the page's CSP lets no script fetch the blob: URL itself). */
export async function shownBytes(page, name) {
	await page.waitForFunction(n => [...document.querySelectorAll('#msg-list .msg-media.e2ee[data-ready="1"] :is(a[download], img)')]
		.some(x => x.getAttribute('download') === n || x.getAttribute('alt') === n), name);
	const b64 = await page.evaluate(async n => {
		const { store, e2ee } = window.pier;
		const m = store.active().messages.find(x => x.media && x.media.name === n);
		const blob = await e2ee.fetchDecrypted({ id: m.media.id, key: m.media.e2ee.key, header: m.media.e2ee.header, type: m.media.type });
		const buf = new Uint8Array(await blob.arrayBuffer());
		let s = '';
		for (const x of buf)
			s += String.fromCharCode(x);
		return btoa(s);
	}, name);
	return Buffer.from(b64, 'base64');
}

// ---- files ----

/** A w x h RGB PNG (a gradient), as a Buffer. */
export function makePng(w, h) {
	const raw = Buffer.alloc((w * 3 + 1) * h);
	for (let y = 0; y < h; y++) {
		const row = y * (w * 3 + 1);
		raw[row] = 0;
		for (let x = 0; x < w; x++) {
			raw[row + 1 + x * 3] = (x * 255 / w) | 0;
			raw[row + 2 + x * 3] = (y * 255 / h) | 0;
			raw[row + 3 + x * 3] = 160;
		}
	}
	const crcTable = Array.from({ length: 256 }, (_, n) => {
		let c = n;
		for (let k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
		return c >>> 0;
	});
	const crc = buf => {
		let c = 0xffffffff;
		for (const b of buf)
			c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
		return (c ^ 0xffffffff) >>> 0;
	};
	const chunk = (type, data) => {
		const len = Buffer.alloc(4);
		len.writeUInt32BE(data.length);
		const td = Buffer.concat([Buffer.from(type), data]);
		const c = Buffer.alloc(4);
		c.writeUInt32BE(crc(td));
		return Buffer.concat([len, td, c]);
	};
	const ihdr = Buffer.alloc(13);
	ihdr.writeUInt32BE(w, 0);
	ihdr.writeUInt32BE(h, 4);
	ihdr[8] = 8;
	ihdr[9] = 2;
	return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr),
		chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

/** n bytes that are not all alike (a file to compare byte for byte). */
export function makeBytes(n, seed = 7) {
	const b = Buffer.alloc(n);
	let x = seed;
	for (let i = 0; i < n; i++) {
		x = (x * 1103515245 + 12345) >>> 0;
		b[i] = x >>> 24;
	}
	return b;
}

// ---- contrast (WCAG), computed from the computed styles ----

/** WCAG AA for normal text. */
export const AA = 4.5;

/** The contrast ratio of the text of the element `el` (in the page) against what is behind it. */
function contrastIn(el) {
	const parse = s => {
		let m = s.match(/^rgba?\(([^)]+)\)/);
		if (m) {
			const p = m[1].split(/[\s,/]+/).filter(Boolean).map(Number);
			return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
		}
		m = s.match(/^color\(srgb ([^)]+)\)/);
		if (m) {
			const p = m[1].split(/[\s/]+/).filter(Boolean).map(Number);
			return [p[0] * 255, p[1] * 255, p[2] * 255, p.length > 3 ? p[3] : 1];
		}
		throw new Error('cannot read the colour ' + s);
	};
	const layers = [];
	for (let e = el; e; e = e.parentElement) {
		const c = parse(getComputedStyle(e).backgroundColor);
		if (c[3] > 0) {
			layers.push(c);
			if (c[3] >= 1)
				break;
		}
	}
	let bg = [255, 255, 255];
	for (const l of layers.reverse())
		bg = bg.map((v, i) => l[i] * l[3] + v * (1 - l[3]));
	const f = parse(getComputedStyle(el).color);
	const fg = f.slice(0, 3).map((v, i) => v * f[3] + bg[i] * (1 - f[3]));
	const lum = c => {
		const [r, g, b] = c.map(v => {
			v /= 255;
			return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
		});
		return 0.2126 * r + 0.7152 * g + 0.0722 * b;
	};
	const [a, b] = [lum(fg), lum(bg)];
	return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}

/** The contrast ratio of the first element matching `selector` on `page`. */
export async function ratio(page, selector) {
	const el = await page.$(selector);
	if (!el)
		throw new Error('nothing matches ' + selector);
	return el.evaluate(contrastIn);
}

/** A check that the text of `selector` reaches AA against what is behind it. */
export async function checkRatio(page, selector, what) {
	const r = await ratio(page, selector);
	check(r >= AA, `${what}: contrast ${r.toFixed(2)}:1 (at least ${AA})`);
}
