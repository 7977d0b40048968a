// private.mjs - a private chat with anyone, online or not (issue 9, defect 4): `@name` in the
// sidebar's join box opens the conversation with a user who is offline (the message waits
// for them); a name that is nobody's, a malformed name and one's own name get a clear error
// and open nothing. English and Chinese, with screenshots.

import {
	check, launch, openPage, PASSWORD, Pierd, registerAndLogin, run, say, shot, TcpClient, waitText,
} from './lib.mjs';

async function tcpRegister(pierd, user) {
	const c = await TcpClient.connect(pierd.tcp);
	check((await c.request({ op: 'register', user, password: PASSWORD })).status === 3, `${user} registers over TCP (and stays offline)`);
	c.close();
}

/** Types `what` in the join box; resolves with the join box's status text ('' if none). */
async function joinBox(page, what) {
	if (await page.$('#join-form[hidden]'))
		await page.click('#join-toggle');
	await page.fill('#join-room', what);
	await page.press('#join-room', 'Enter');
}

async function joinError(page) {
	await page.waitForSelector('#join-status.error');
	return page.textContent('#join-status');
}

run('e2e/private', 240, async () => {
	const pierd = await new Pierd().start();
	const browser = await launch();
	await tcpRegister(pierd, 'bob_22');
	await tcpRegister(pierd, 'erin_555');

	// ---- English ----
	const alice = await openPage(browser, pierd, { locale: 'en-US' });
	await registerAndLogin(alice, 'alice_1');
	check(await alice.$('#user-list button[data-user="bob_22"]') === null, 'bob is not online (not in the online list)');
	await alice.click('#join-toggle');
	check(/@/.test(await alice.getAttribute('#join-room', 'placeholder')), 'the join box says it takes @user');
	await shot(alice, 'private-join-box');
	await joinBox(alice, '@bob_22');
	await alice.waitForSelector('#private-list button[data-key="@bob_22"][aria-current="page"]');
	check(true, '@bob_22 opens the private chat with bob, who is offline');
	check(await alice.textContent('#conv-title') === 'bob_22', 'the title is bob_22');
	check(await alice.$('#join-form[hidden]') !== null, 'the join box closes');
	await say(alice, 'are you there, bob?');
	await waitText(alice, 'are you there, bob?');
	await shot(alice, 'private-offline-user');

	const bob = await TcpClient.connect(pierd.tcp);
	check((await bob.request({ op: 'login', user: 'bob_22', password: PASSWORD })).status === 1, 'bob logs in later');
	const deadline = Date.now() + 20000;
	while (!bob.events.some(m => m.op === 'msg' && m.text === 'are you there, bob?') && Date.now() < deadline)
		await alice.waitForTimeout(50);
	const got = bob.events.find(m => m.op === 'msg' && m.text === 'are you there, bob?');
	check(got && got.offline === true && got.to === '@bob_22', 'and finds the message that waited for him');
	bob.close();

	for (const [what, want, why] of [
		['@nobody_here', /no user named “nobody_here”/, 'a name that is nobody\'s'],
		['@bob', /6–32/, 'a name too short to be one'],
		['@alice_1', /you/, 'one\'s own name'],
	]) {
		await joinBox(alice, what);
		const err = await joinError(alice);
		check(want.test(err), `${why}: "${err}"`);
		check(await alice.$(`#private-list button[data-key="${what.toLowerCase()}"]`) === null, `${what}: no conversation opened`);
	}
	await shot(alice, 'private-no-such-user');
	await joinBox(alice, 'dev');
	await alice.waitForSelector('#room-list button[data-key="#dev"][aria-current="page"]');
	check(true, 'a room name without # still joins the room');

	// ---- Chinese ----
	const dave = await openPage(browser, pierd, { locale: 'zh-CN' });
	await registerAndLogin(dave, 'dave_44');
	await dave.click('#join-toggle');
	check(/@用户名/.test(await dave.getAttribute('#join-room', 'placeholder')), 'Chinese: the join box says it takes @用户名');
	await joinBox(dave, '@不存在');
	const bad = await joinError(dave);
	check(/用户名为/.test(bad), `Chinese: a name that cannot be one: "${bad}"`);
	await joinBox(dave, '@nobody_here');
	await dave.waitForFunction(() => /没有名为/.test(document.querySelector('#join-status').textContent));
	check(true, 'Chinese: a name that is nobody\'s: "' + await dave.textContent('#join-status') + '"');
	await shot(dave, 'private-no-such-user-zh');
	await joinBox(dave, '@ERIN_555');
	await dave.waitForSelector('#private-list button[data-key="@erin_555"][aria-current="page"]');
	check(true, 'Chinese: @ERIN_555 (another case) opens the chat with erin, offline');
	await say(dave, '你好，erin');
	await waitText(dave, '你好，erin');
	await dave.waitForFunction(() => document.querySelector('#conv-title').textContent === 'erin_555');
	check(true, 'once the server answered, the chat shows the name as erin registered it');
	await shot(dave, 'private-offline-user-zh');

	for (const p of [alice, dave])
		check(p.problems.length === 0, `no errors in the page: ${JSON.stringify(p.problems)}`);
	await pierd.stop();
});
