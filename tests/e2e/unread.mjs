// unread.mjs - what a catch-up brings is not silently marked read (issue 9, defect 10).
// Messages fetched after a reconnect (sync), at a reload, or that waited offline for a first
// login, show below a "N new messages" divider, count as unread in the sidebar until the view
// has been scrolled to them, and the view opens at the divider when they do not fit on the
// screen. A live message read as it comes (the view at its end) moves nothing. English
// (alice, a reconnect), Chinese (bob, a reload and a first login), with screenshots.

import {
	check, launch, openConv, openPage, openTab, PASSWORD, Pierd, registerAndLogin, run, say, shot,
	TcpClient, waitOnline, waitText,
} from './lib.mjs';

async function tcpUser(pierd, user) {
	const c = await TcpClient.connect(pierd.tcp);
	check((await c.request({ op: 'register', user, password: PASSWORD })).status === 3, `${user} registers over TCP`);
	// a device of its own (lib.mjs): private messages to users with devices are encrypted
	check((await c.loginDevice(user)).status === 1, `${user} logs in over TCP, with a device`);
	return c;
}

const badge = (page, key) => page.$eval(`button[data-key="${key}"]`, b => b.querySelector('.badge')?.textContent || '');

/** Where the divider is: its text, the texts of the messages just before and after it, on screen. */
function divider(page) {
	return page.evaluate(() => {
		const sep = document.querySelector('#msg-list #new-sep');
		if (!sep)
			return null;
		const near = (el, dir) => {
			while ((el = el[dir]) && !el.classList.contains('msg'))
				;
			return el?.querySelector('.msg-text')?.textContent ?? null;
		};
		const sc = document.querySelector('#messages').getBoundingClientRect();
		const r = sep.getBoundingClientRect();
		const m = document.querySelector('#messages');
		return {
			text: sep.textContent, before: near(sep, 'previousElementSibling'), after: near(sep, 'nextElementSibling'),
			onScreen: r.top >= sc.top && r.bottom <= sc.bottom,
			atEnd: m.scrollHeight - m.scrollTop - m.clientHeight < 80,
		};
	});
}

run('e2e/unread', 300, async () => {
	const pierd = await new Pierd().start();
	const browser = await launch();
	const carol = await tcpUser(pierd, 'carol_33');

	// ---- a reconnect: sync brings 40 room messages and 3 private ones ----
	const alice = await openPage(browser, pierd, { locale: 'en-US' });
	await registerAndLogin(alice, 'alice_1');
	await say(alice, 'before the gap');
	await waitText(alice, 'before the gap');
	let cut = true;
	await alice.routeWebSocket(/\/ws$/, ws => {
		if (cut)
			ws.close();
		else
			ws.connectToServer();
	});
	await alice.evaluate(() => window.pier.client.ws.close());
	await alice.waitForSelector('#banner[data-state="offline"]');
	for (let i = 1; i <= 40; i++)
		await carol.request({ op: 'send', to: '#lobby', text: `missed ${i}` });
	for (let i = 1; i <= 3; i++)
		await carol.sendE2ee('@alice_1', `private missed ${i}`);
	cut = false;
	// at once rather than at the next backoff step; the client may have got through by itself
	// meanwhile (its banner and button then gone), so not by clicking (e2e/reconnect clicks it)
	await alice.evaluate(() => window.pier.client.retryNow());
	await waitOnline(alice);
	await waitText(alice, 'missed 40');
	let d = await divider(alice);
	check(d && d.text === '40 new messages', `a divider: "${d && d.text}"`);
	check(d && d.before === 'before the gap' && d.after === 'missed 1', `between what was read and the first missed (${d && d.before} | ${d && d.after})`);
	check(d && d.onScreen && !d.atEnd, 'the view opens at the divider, not at the end');
	check(await badge(alice, '#lobby') === '40', `#lobby counts 40 unread (${await badge(alice, '#lobby')})`);
	check(await badge(alice, '@carol_33') === '3', 'the private chat counts 3');
	check(await alice.title() === '(43) pier', `the title counts them all: ${await alice.title()}`);
	await shot(alice, 'unread-after-reconnect');

	await alice.click('#jump');
	await alice.waitForFunction(() => !document.querySelector('button[data-key="#lobby"] .badge'));
	check(true, 'scrolled to the end: #lobby is read');
	d = await divider(alice);
	check(d && d.text === '40 new messages', 'the divider stays while the conversation is open');
	const read = await alice.evaluate(() => window.pier.store.convs.get('#lobby').readUpTo);
	const last = await carol.request({ op: 'history', with: '#lobby', limit: 1 });
	check(read === last.messages[0].id, 'the read mark is the last message');

	await openConv(alice, '@carol_33');
	await waitText(alice, 'private missed 3');
	d = await divider(alice);
	check(d && d.text === '3 new messages' && d.after === 'private missed 1', `the private chat too: "${d && d.text}"`);
	await alice.waitForFunction(() => !document.querySelector('button[data-key="@carol_33"] .badge'));
	check(true, 'opened, all of it on screen: read');
	await shot(alice, 'unread-private');

	// back in #lobby: its divider went when it was left read; a live message moves nothing
	await openConv(alice, '#lobby');
	check(await divider(alice) === null, 'left and read: no divider when coming back');
	await carol.request({ op: 'send', to: '#lobby', text: 'live, and seen' });
	await waitText(alice, 'live, and seen');
	check(await divider(alice) === null && await badge(alice, '#lobby') === '', 'a live message read as it comes: no divider, no count');

	// ---- Chinese: a reload after an absence (sync), then a first login (offline messages) ----
	const bob = await openPage(browser, pierd, { locale: 'zh-CN' });
	await registerAndLogin(bob, 'bob_22');
	await say(bob, '离开之前');
	await waitText(bob, '离开之前');
	const ctx = bob.context();
	await bob.close();
	for (let i = 1; i <= 30; i++)
		await carol.request({ op: 'send', to: '#lobby', text: `错过的消息 ${i}` });
	const bob2 = await ctx.newPage();
	bob2.problems = [];
	bob2.on('pageerror', e => bob2.problems.push('pageerror: ' + e.message));
	await bob2.goto(pierd.base + '/');
	await waitOnline(bob2);
	await waitText(bob2, '错过的消息 30');
	d = await divider(bob2);
	check(d && d.text === '30 条新消息' && d.after === '错过的消息 1', `Chinese: after a reload, a divider: "${d && d.text}"`);
	check(await badge(bob2, '#lobby') === '30', `Chinese: #lobby counts 30 unread (${await badge(bob2, '#lobby')})`);
	await shot(bob2, 'unread-after-reload-zh');

	// a first login after a logout (what this browser kept of bob is gone, its device stays:
	// the private messages are end-to-end encrypted for it): messages that waited offline
	const dave = await tcpUser(pierd, 'dave_44');
	await bob2.click('#logout-button');
	await bob2.waitForSelector('#login-user');
	for (let i = 1; i <= 5; i++)
		await dave.sendE2ee('@bob_22', `离线消息 ${i}`);
	const bob3 = await openTab(bob2, pierd);
	await bob3.fill('#login-user', 'bob_22');
	await bob3.fill('#login-password', PASSWORD);
	await bob3.click('#login-button');
	await waitOnline(bob3);
	await bob3.waitForSelector('button[data-key="@dave_44"] .badge');
	check(await badge(bob3, '@dave_44') === '5', `Chinese: a first login counts the 5 that waited (${await badge(bob3, '@dave_44')})`);
	await openConv(bob3, '@dave_44');
	await waitText(bob3, '离线消息 5');
	d = await divider(bob3);
	check(d && d.text === '5 条新消息' && d.after === '离线消息 1', `and shows them below a divider: "${d && d.text}"`);
	await shot(bob3, 'unread-offline-zh');

	for (const p of [alice, bob2, bob3])
		check(p.problems.length === 0, `no errors in the page: ${JSON.stringify(p.problems)}`);
	carol.close();
	dave.close();
	await pierd.stop();
});
