// composer.mjs - the browser's composer reads a line as the terminal client does (issue 9,
// defect 1): `text~user` and `/msg user text` go privately to the user and never to the room;
// `/join`, `/part`, `/help` work; an unknown `/command` is refused and a `~word` that is no
// user name (or a name that is nobody's) asks before the line goes anywhere; `//text` sends
// text starting with '/'. A third user (carol, over TCP) watches #lobby: what reached it is
// exactly what was meant for it. English (alice) and Chinese (bob), with screenshots.

import {
	check, launch, openConv, openPage, PASSWORD, Pierd, registerAndLogin, run, showOnline, say, shot,
	TcpClient, texts, waitText,
} from './lib.mjs';

async function tcpUser(pierd, user) {
	const c = await TcpClient.connect(pierd.tcp);
	check((await c.request({ op: 'register', user, password: PASSWORD })).status === 3, `${user} registers over TCP`);
	check((await c.request({ op: 'login', user, password: PASSWORD })).status === 1, `${user} logs in over TCP`);
	return c;
}

/** The composer's note: its text and kind ('error', 'ok', '' for the hint). */
function note(page) {
	return page.$eval('#composer-note', e => ({ text: e.textContent, kind: e.dataset.kind || '' }));
}

async function waitNote(page, kind) {
	await page.waitForFunction(k => document.querySelector('#composer-note')?.dataset.kind === k, kind);
	return note(page);
}

const input = page => page.$eval('#composer-input', e => e.value);

/** The texts carol has seen in #lobby so far. */
const lobbySeen = carol => carol.events.filter(m => m.op === 'msg' && m.to === '#lobby').map(m => m.text);

/** Sends a marker to #lobby and waits until carol has it: anything sent before it is there too. */
async function barrier(page, carol, marker) {
	await say(page, marker);
	const deadline = Date.now() + 20000;
	while (!lobbySeen(carol).includes(marker)) {
		if (Date.now() > deadline)
			throw new Error(`carol never saw "${marker}"`);
		await page.waitForTimeout(50);
	}
}

run('e2e/composer', 300, async () => {
	const pierd = await new Pierd().start();
	const browser = await launch();
	const carol = await tcpUser(pierd, 'carol_33');
	const dave = await tcpUser(pierd, 'dave_44');
	dave.close();                       // registered, offline
	const alice = await openPage(browser, pierd, { locale: 'en-US' });
	const bob = await openPage(browser, pierd, { locale: 'zh-CN' });
	await registerAndLogin(alice, 'alice_1');
	await registerAndLogin(bob, 'bob_22');
	await showOnline(alice, 'bob_22');

	// ---- text~user and /msg: private, and not in the room ----
	await say(alice, 'hello bob, this is private~bob_22');
	let n = await waitNote(alice, 'ok');
	check(/bob_22/.test(n.text), `text~user: the note says it went privately (${n.text})`);
	check(await input(alice) === '', 'the text box is empty again');
	check(await alice.$eval('#room-list button[data-key="#lobby"]', e => e.getAttribute('aria-current')) === 'page',
		'alice stays in #lobby');
	await say(alice, '/msg bob_22 second secret');
	await waitNote(alice, 'ok');
	await say(alice, 'hey dave ~ dave_44');         // offline, looked up first, spaces allowed
	await alice.waitForFunction(() => /dave_44/.test(document.querySelector('#composer-note').textContent) &&
		document.querySelector('#composer-note').dataset.kind === 'ok');
	check(true, 'text ~ user to a user who is offline: looked up, sent privately');
	await shot(alice, 'composer-sent-private');

	await bob.waitForSelector('#private-list button[data-key="@alice_1"]');
	await openConv(bob, '@alice_1');
	await waitText(bob, 'hello bob, this is private');
	await waitText(bob, 'second secret');
	check(JSON.stringify(await texts(bob)) === JSON.stringify(['hello bob, this is private', 'second secret']),
		'bob has both, privately, without the ~name');
	await openConv(alice, '@dave_44');
	await waitText(alice, 'hey dave');
	await openConv(alice, '#lobby');

	// ---- refused: an unknown command, /msg to nobody, bad usage ----
	await alice.fill('#composer-input', '/frobnicate the plan');
	await alice.press('#composer-input', 'Enter');
	n = await waitNote(alice, 'error');
	check(/\/frobnicate/.test(n.text) && /\/help/.test(n.text), `an unknown command is refused: "${n.text}"`);
	check(await input(alice) === '/frobnicate the plan', 'the line stays in the text box');
	await shot(alice, 'composer-unknown-command');
	await alice.fill('#composer-input', '/msg nobody_here are you there');
	await alice.press('#composer-input', 'Enter');
	await alice.waitForFunction(() => document.querySelector('#composer-note').dataset.kind === 'error' &&
		/nobody_here/.test(document.querySelector('#composer-note').textContent));     // not "Looking for...
	n = await note(alice);
	check(n.kind === 'error' && /no user/i.test(n.text), `/msg to a name that is nobody's: refused (${n.text})`);
	check(await alice.$('#private-list button[data-key="@nobody_here"]') === null, 'and no conversation with nobody');
	for (const [line, what] of [['/msg bob_22', '/msg without text'], ['/join two words', '/join with a bad room']]) {
		await alice.fill('#composer-input', line);
		await alice.press('#composer-input', 'Enter');
		n = await waitNote(alice, 'error');
		check(/Usage/.test(n.text) && await input(alice) === line, `${what}: the usage, the line kept (${n.text})`);
	}

	// ---- ~word that is no user name, ~name that is nobody's: asked first ----
	await alice.fill('#composer-input', 'see you tomorrow~bob');
	await alice.press('#composer-input', 'Enter');
	await alice.waitForSelector('#composer-ask:not([hidden])');
	check(/~bob/.test(await alice.textContent('#composer-ask-text')), 'text~bob (no user name): asked before anything is sent');
	await shot(alice, 'composer-ask');
	await alice.click('#ask-edit');
	check(await alice.$('#composer-ask[hidden]') !== null && await input(alice) === 'see you tomorrow~bob',
		'"Edit": the question goes, the line stays');
	await alice.fill('#composer-input', 'thanks~everyone_');
	await alice.press('#composer-input', 'Enter');
	await alice.waitForSelector('#composer-ask:not([hidden])');
	check(/everyone_/.test(await alice.textContent('#composer-ask-text')), 'text~name where nobody has that name: asked');
	check(/#lobby/.test(await alice.textContent('#ask-send')), 'the question offers to send it to #lobby as written');
	await alice.click('#ask-send');
	await waitText(alice, 'thanks~everyone_');
	check(true, '"Send as written" sends the whole line to the room');

	// ---- //text, /help ----
	await say(alice, '//help is on the way');
	await waitText(alice, '/help is on the way');
	await say(alice, '/help');
	await alice.waitForSelector('#composer-help:not([hidden])');
	const help = await alice.textContent('#composer-help');
	check(['text~user', '/msg', '/join', '/part', '//text'].every(w => help.includes(w)), 'the help lists the commands');
	check(await input(alice) === '', '/help is not sent');
	await shot(alice, 'composer-help');
	await alice.click('#composer-help-close');

	// ---- /join, /part ----
	await say(alice, '/join #webfix');
	await alice.waitForSelector('#room-list button[data-key="#webfix"][aria-current="page"]');
	check(true, '/join #webfix creates the room and goes there');
	await say(alice, 'in webfix');
	await waitText(alice, 'in webfix');
	await say(alice, '/part');
	await alice.waitForSelector('#room-list button[data-key="#lobby"][aria-current="page"]');
	check(await alice.$('#room-list button[data-key="#webfix"]') === null, '/part leaves the current room');
	await say(alice, '/part #lobby');
	n = await waitNote(alice, 'error');
	check(/lobby/.test(n.text), `/part #lobby: refused (${n.text})`);

	await barrier(alice, carol, 'alice marker');

	// ---- the same in Chinese ----
	await openConv(bob, '#lobby');
	await say(bob, '你好，这是私聊~alice_1');
	n = await waitNote(bob, 'ok');
	check(/alice_1/.test(n.text), `Chinese: text~user goes privately (${n.text})`);
	await bob.fill('#composer-input', '好的~谢谢');
	await bob.press('#composer-input', 'Enter');
	await bob.waitForSelector('#composer-ask:not([hidden])');
	const ask = await bob.textContent('#composer-ask-text');
	check(/谢谢/.test(ask) && /不是用户名/.test(ask), `Chinese: ~谢谢 is no user name: asked (${ask})`);
	check(/发送到 #lobby/.test(await bob.textContent('#ask-send')), 'the question in Chinese');
	await shot(bob, 'composer-ask-zh');
	await bob.fill('#composer-input', '/未知 命令');
	await bob.press('#composer-input', 'Enter');
	n = await waitNote(bob, 'error');
	check(/未知命令/.test(n.text), `Chinese: an unknown command is refused (${n.text})`);
	await bob.fill('#composer-input', '/help');
	await bob.press('#composer-input', 'Enter');
	await bob.waitForSelector('#composer-help:not([hidden])');
	check(/私聊/.test(await bob.textContent('#composer-help')), 'the help in Chinese');
	await shot(bob, 'composer-help-zh');
	await barrier(bob, carol, 'bob marker');

	await alice.waitForSelector('#private-list button[data-key="@bob_22"]');
	await openConv(alice, '@bob_22');
	await waitText(alice, '你好，这是私聊');

	// ---- what the room got: only what was meant for it ----
	const seen = lobbySeen(carol);
	check(JSON.stringify(seen) === JSON.stringify(['thanks~everyone_', '/help is on the way', 'alice marker', 'bob marker']),
		`#lobby got exactly the lines meant for it: ${JSON.stringify(seen)}`);
	const hist = await carol.request({ op: 'history', with: '#lobby', limit: 50 });
	const leaked = hist.messages.filter(m => /private|secret|dave|frobnicate|nobody|tomorrow|你好|谢谢|未知/.test(m.text));
	check(leaked.length === 0, `nothing private in the room's history: ${JSON.stringify(leaked.map(m => m.text))}`);

	for (const p of [alice, bob])
		check(p.problems.length === 0, `no errors in the page: ${JSON.stringify(p.problems)}`);
	carol.close();
	await pierd.stop();
});
