// e2ee_cli.mjs - the browser and the terminal client (pier, PIER_CLI_PATH) in one end-to-end
// encrypted private chat: the C core encrypts what the browser's JavaScript decrypts and the
// other way round. bob uses pier (one-shot `send`, then the chat reading its lines from a
// pipe), alice the browser: text both ways, a file both ways (byte for byte), the same safety
// number on both sides, and both mark the chat end-to-end encrypted. Screenshots.

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
	const env = { ...process.env, PIER_PASSWORD: PASSWORD, XDG_DATA_HOME: path.join(home, 'data'), HOME: home, LANG: 'C.UTF-8', LC_ALL: '' };
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
	const chat = steps => new Promise((resolve, reject) => {
		const p = spawn(PIER, argv([]), { env });
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

	check(alice.problems.length === 0, `no errors in the page: ${JSON.stringify(alice.problems)}`);
	await pierd.stop();
});
