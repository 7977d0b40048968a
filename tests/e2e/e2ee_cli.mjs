// e2ee_cli.mjs - the browser and the terminal client (pier, PIER_CLI_PATH) in one end-to-end
// encrypted private chat: the C core encrypts what the browser's JavaScript decrypts and the
// other way round. bob uses pier (one-shot `send`, then the chat reading its lines from a
// pipe), alice the browser: text both ways, a file both ways (byte for byte), the same safety
// number on both sides. Then each has two devices (alice's second browser approved in the
// first, bob's second terminal approved with /approve CODE in the first): every message
// reaches all four; alice's second browser goes away while bob's terminal sends 1000
// messages, and when it comes back it catches up with all of them, each once. Screenshots.

import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import {
	check, fatal, launch, makeBytes, openPage, openPrivate, PASSWORD, Pierd, registerAndLogin, run, say, shot, shownBytes,
	waitE2ee, waitLock, waitText,
} from './lib.mjs';

const PIER = process.env.PIER_CLI_PATH;
const sha = b => crypto.createHash('sha256').update(b).digest('hex');

run('e2e/e2ee_cli', 380, async () => {
	if (!PIER || !fs.existsSync(PIER))
		fatal(`PIER_CLI_PATH (${PIER}) is not the pier binary`);
	const pierd = await new Pierd().start();
	const home = path.join(pierd.dir, 'bob-home');
	fs.mkdirSync(path.join(home, 'Downloads'), { recursive: true });
	/** Runs pier as bob_cli; `input`: its stdin (the chat reads lines from a pipe). */
	const argv = args => ['--host', '127.0.0.1', '--port', String(pierd.tcp), '--http-url', pierd.base, '--user', 'bob_cli', '--no-color', ...args];
	const envOf = dir => ({ ...process.env, PIER_PASSWORD: PASSWORD, XDG_DATA_HOME: path.join(dir, 'data'), HOME: dir, LANG: 'C.UTF-8', LC_ALL: '' });
	const env = envOf(home);
	const show = text => {
		for (const line of text.trimEnd().split('\n'))
			console.log('# pier: ' + line);
	};
	const pier = (args, input = '') => {
		const r = spawnSync(PIER, argv(args), { env, input, encoding: 'utf8', timeout: 90000 });
		show(r.stdout + r.stderr);
		return r;
	};
	/** The chat, its lines fed as its output allows: each step is a line, or a function of the
	 * output so far that gives the line once it can (null: not yet); stdin ends after the
	 * last. Resolves with the output. */
	const chat = (steps, dir = home) => new Promise((resolve, reject) => {
		const p = spawn(PIER, argv([]), { env: envOf(dir) });
		let out = '';
		const timer = setTimeout(() => p.kill('SIGKILL'), 90000);
		const next = () => {
			while (steps.length) {
				const line = typeof steps[0] === 'function' ? steps[0](out) : steps[0];
				if (line === null)
					return;
				p.stdin.write(line + '\n');
				steps.shift();
			}
			p.stdin.end();
		};
		p.stdout.on('data', d => {
			out += d;
			next();
		});
		p.stderr.on('data', d => {
			out += d;
		});
		p.on('error', reject);
		p.on('exit', code => {
			clearTimeout(timer);
			show(out);
			resolve({ status: code, stdout: out });
		});
		next();
	});

	check(pier(['register']).status === 0, 'bob registers with pier');
	const browser = await launch();
	const alice = await openPage(browser, pierd, { locale: 'en-US' });
	await registerAndLogin(alice, 'alice_1');
	await waitE2ee(alice, 'active');

	// ---- terminal -> browser: text and a file ----
	let r = pier(['send', '--to', '@alice_1', 'hello from the terminal']);
	check(r.status === 0 && /^\d+$/.test(r.stdout.trim()), `pier send --to @alice_1: the first run makes bob's device and sends (id ${r.stdout.trim()})`);
	await openPrivate(alice, 'bob_cli');
	await waitLock(alice, 'bob_cli');
	await waitText(alice, 'hello from the terminal');
	check(true, 'the browser decrypts what the terminal encrypted (C core -> JavaScript)');
	const fromBob = makeBytes(90 * 1024, 5);
	const file = path.join(home, 'report-from-bob.bin');
	fs.writeFileSync(file, fromBob);
	r = pier(['send', '--to', '@alice_1', '--file', file, 'the report']);
	check(r.status === 0, 'pier sends a file to alice, encrypted before the upload');
	const got = await shownBytes(alice, 'report-from-bob.bin');
	check(sha(got) === sha(fromBob), 'the browser decrypts it byte for byte (90 KiB, two secretstream chunks)');

	// ---- browser -> terminal: text and a file ----
	await say(alice, 'hello from the browser');
	await waitText(alice, 'hello from the browser');
	const fromAlice = makeBytes(70 * 1024, 9);
	await alice.setInputFiles('#file-input', { name: 'notes-from-alice.bin', mimeType: 'application/octet-stream', buffer: fromAlice });
	await alice.waitForSelector('#msg-list li.msg.mine .msg-media.e2ee a[download="notes-from-alice.bin"]');
	r = pier([], '/switch @alice_1\n/history\n');
	check(r.status === 0 && /alice_1 -> bob_cli: hello from the browser/.test(r.stdout),
		'pier (the chat, from a pipe) decrypts what the browser encrypted (JavaScript -> C core)');
	const open = r.stdout.split('\n').find(l => l.includes('notes-from-alice.bin') && /\/open \d+/.test(l));
	check(!!open, `and lists alice's file: "${open}"`);
	if (open) {
		// the numbers are given as the history is shown: /open waits for it
		const number = out => (out.match(/notes-from-alice\.bin[^\n]*\/open (\d+)/) || [])[1];
		r = await chat(['/switch @alice_1', '/history', out => (number(out) ? '/open ' + number(out) : null)]);
		const saved = path.join(home, 'Downloads', 'notes-from-alice.bin');
		check(fs.existsSync(saved) && sha(fs.readFileSync(saved)) === sha(fromAlice), `/open saves it decrypted, byte for byte (${saved})`);
	}
	check(/\[e2ee\]/.test(r.stdout), 'pier marks the chat\'s messages [e2ee]');

	// ---- one safety number ----
	r = pier([], '/safety alice_1\n');
	const after = r.stdout.slice(r.stdout.indexOf('Safety number'));
	const cliDigits = (after.match(/\b\d{5}\b/g) || []).slice(0, 12).join('');
	await alice.click('#safety-button');
	await alice.waitForSelector('#safety-dialog[open] .safety-group');
	const webDigits = await alice.$eval('#safety-digits', e => e.dataset.number);
	check(cliDigits.length === 60 && cliDigits === webDigits, `the terminal and the browser show the same 60 digits (${webDigits})`);
	await shot(alice, 'e2ee-cli-safety-en');
	await alice.keyboard.press('Escape');
	await shot(alice, 'e2ee-cli-chat-en');

	// ---- two devices each ----
	const a2 = await openPage(browser, pierd, { locale: 'zh-CN' });
	await a2.fill('#login-user', 'alice_1');
	await a2.fill('#login-password', PASSWORD);
	await a2.click('#login-button');
	await waitE2ee(a2, 'pending');
	await alice.evaluate(() => document.dispatchEvent(new Event('visibilitychange')));
	await alice.click('#approve-review');
	await alice.click('#approve-yes');
	await waitE2ee(a2, 'active');
	check(true, 'alice\'s second browser is approved in her first');
	const home2 = path.join(pierd.dir, 'bob-home-2');
	fs.mkdirSync(home2);
	r = await chat([], home2);
	const code = ((r.stdout.match(/Its code: (\d{4} ?\d{4})/) || [])[1] || '').replace(' ', '');
	check(!!code, `bob's second terminal is a new device and shows its code (${code})`);
	const listed = out => (out.split('Your devices').pop().match(/^\*\s+\S{22}\s.*\bactive\b/gm) || []).length;
	r = await chat([out => (out.includes('waits for approval') ? '/approve ' + code : null),
		out => (/Device \S+ approved\./.test(out) ? '/devices' : null)]);
	check(r.status === 0 && listed(r.stdout) === 2, `bob approves it in his first terminal with /approve ${code}: two active devices`);
	await a2.click('#private-list button[data-key="@bob_cli"]');
	await say(alice, 'to all four devices');
	await waitText(alice, 'to all four devices');
	await waitText(a2, 'to all four devices');
	r = await chat(['/switch @alice_1', out => (/to all four devices/.test(out) ? '/devices' : null)], home2);
	check(/alice_1 -> bob_cli: to all four devices/.test(r.stdout), 'bob\'s second terminal reads alice\'s next message (it came to all four devices)');
	r = spawnSync(PIER, argv(['send', '--to', '@alice_1', 'from bob\'s second terminal']), { env: envOf(home2), encoding: 'utf8', timeout: 90000 });
	show(r.stdout + r.stderr);
	await waitText(alice, 'from bob\'s second terminal');
	await waitText(a2, 'from bob\'s second terminal');
	check(true, 'and what it sends reaches both of alice\'s browsers');
	await shot(a2, 'e2ee-cli-second-device-zh');

	// ---- one device away for 1000 messages ----
	const ctx2 = a2.context();
	check(a2.problems.length === 0, `no errors in the second browser: ${JSON.stringify(a2.problems)}`);
	await a2.close();
	const N = 1000;
	const lines = ['/switch @alice_1'];
	for (let i = 1; i <= N; i++)
		lines.push(`offline ${i}`);
	r = await chat(lines);
	check(r.status === 0, `bob's terminal sent ${N} messages while alice's second browser was closed`);
	await waitText(alice, `offline ${N}`);
	const back = await ctx2.newPage();
	back.problems = [];
	back.on('pageerror', e => back.problems.push('pageerror: ' + e.message));
	const t0 = Date.now();
	await back.goto(pierd.base + '/');
	await back.waitForSelector('#shell');
	await waitE2ee(back, 'active');
	await back.waitForFunction(n => {
		const c = window.pier.store.convs.get('@bob_cli');
		return c && c.messages.filter(m => /^offline \d+$/.test(m.text || '')).length >= n;
	}, N, { timeout: 120000 });
	console.log(`# figure: the second browser opened and decrypted ${N} queued envelopes in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
	const seen = await back.evaluate(() => {
		const texts = window.pier.store.convs.get('@bob_cli').messages.map(m => m.text || '').filter(t => /^offline \d+$/.test(t));
		return { n: texts.length, distinct: new Set(texts).size, waiting: window.pier.store.convs.get('@bob_cli').messages.filter(m => m.e2eeMissing).length };
	});
	check(seen.n === N && seen.distinct === N, `the second browser, back, decrypted all ${N} from its queue, each once (${JSON.stringify(seen)})`);
	await back.click('#private-list button[data-key="@bob_cli"]');
	await waitText(back, `offline ${N}`);
	await shot(back, 'e2ee-cli-caught-up-zh');

	for (const p of [alice, back])
		check(p.problems.length === 0, `no errors in the page: ${JSON.stringify(p.problems)}`);
	await pierd.stop();
});
