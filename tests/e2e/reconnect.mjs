// reconnect.mjs - pierd restarts mid-conversation: both browser clients show that they are
// offline, reconnect by themselves (backoff), and fetch what they missed: messages a TCP
// client sent meanwhile appear once each, in order; a message typed while offline is sent
// once when the connection is back. Then the same after a crash (SIGKILL) with a longer
// outage. Screenshots go to $PIER_SCREENSHOTS.

import {
	check, launch, openConv, openPage, PASSWORD, Pierd, registerAndLogin, run, showOnline, say, shot, sleep,
	TcpClient, texts, waitOnline, waitText,
} from './lib.mjs';

/** The ids of the messages on screen, and whether they are unique and increasing. */
async function idsInOrder(page) {
	const ids = await page.$$eval('#msg-list li.msg:not(.pending)', els => els.map(e => Number(e.dataset.id)));
	return ids.every((id, i) => i === 0 || id > ids[i - 1]);
}

/** device: the login makes a device (lib.mjs), to send end-to-end encrypted private messages. */
async function tcpUser(pierd, user, register, device) {
	const c = await TcpClient.connect(pierd.tcp);
	if (register)
		check((await c.request({ op: 'register', user, password: PASSWORD })).status === 3, `${user} registers over TCP`);
	const r = device ? await c.loginDevice(user) : await c.request({ op: 'login', user, password: PASSWORD });
	check(r.status === 1, `${user} logs in over TCP`);
	return c;
}

run('e2e/reconnect', 300, async () => {
	const pierd = await new Pierd().start();
	const browser = await launch();
	const alice = await openPage(browser, pierd, { locale: 'en-US' });
	const bob = await openPage(browser, pierd, { locale: 'zh-CN' });
	await registerAndLogin(alice, 'alice_1');
	await registerAndLogin(bob, 'bob_22');
	let carol = await tcpUser(pierd, 'carol_33', true);
	carol.close();

	await say(alice, 'before the restart');
	await waitText(bob, 'before the restart');
	await showOnline(bob, 'alice_1');
	await bob.click('#user-list button[data-user="alice_1"]');
	await say(bob, 'private before the restart');
	await openConv(bob, '#lobby');

	// ---- a clean restart ----
	await pierd.stop();
	for (const p of [alice, bob])
		await p.waitForSelector('#banner[data-state="offline"]');
	check(true, 'both clients show that they are offline');
	check(await alice.$eval('#conn-pill', e => e.dataset.state) === 'offline', 'the status pill says offline too');
	await say(alice, 'typed while offline');
	await alice.waitForSelector('#msg-list li.msg.pending');
	check(true, 'a message typed offline waits in the outbox, shown as pending');
	await shot(alice, 'offline-banner');
	await shot(bob, 'offline-banner-zh');

	await pierd.start({ same: true });
	carol = await tcpUser(pierd, 'carol_33', false, true);
	const burst = [];
	for (let i = 1; i <= 5; i++)
		burst.push(`meanwhile ${i}`);
	for (const text of burst)
		check((await carol.request({ op: 'send', to: '#lobby', text })).op === 'sent', `carol sent "${text}"`);
	check((await carol.sendE2ee('@bob_22', 'carol, privately')).op === 'sent', 'carol sent bob a private message (end-to-end encrypted)');

	for (const p of [alice, bob])
		await waitOnline(p);
	check(await alice.$eval('#banner', e => e.hidden), 'online again: the banner is gone');
	for (const p of [alice, bob]) {
		await waitText(p, 'meanwhile 5');
		await waitText(p, 'typed while offline');
		await p.waitForTimeout(400);
		const all = await texts(p);
		const got = all.filter(t => t.startsWith('meanwhile '));
		check(JSON.stringify(got) === JSON.stringify(burst), `${p === alice ? 'alice' : 'bob'}: what carol sent meanwhile, once each, in order: ${JSON.stringify(got)}`);
		check(all.filter(t => t === 'typed while offline').length === 1 && all.filter(t => t === 'before the restart').length === 1,
			'the offline message once, the earlier one once');
		check(await idsInOrder(p), 'ids unique and increasing on screen');
	}
	check(await alice.$('#msg-list li.msg.pending') === null, 'alice has nothing pending');
	await bob.waitForSelector('#private-list button[data-key="@carol_33"] .badge');
	check(await bob.$eval('#private-list button[data-key="@carol_33"] .badge', b => b.textContent) === '1',
		'bob has carol\'s private message, 1 unread');
	await openConv(bob, '@carol_33');
	await waitText(bob, 'carol, privately');
	await openConv(bob, '@alice_1');
	await waitText(bob, 'private before the restart');
	check((await texts(bob)).filter(t => t === 'private before the restart').length === 1, 'the private conversation once');
	await openConv(bob, '#lobby');

	// ---- a crash and a longer outage ----
	await alice.evaluate(() => window.pier.client.ws && window.pier.client.ws.readyState);
	await pierd.kill9();
	carol.close();
	for (const p of [alice, bob])
		await p.waitForSelector('#banner[data-state="offline"]');
	await say(bob, '离线时输入的消息');
	await sleep(3000);          // a few reconnect attempts fail meanwhile
	await pierd.start({ same: true });
	carol = await tcpUser(pierd, 'carol_33', false);
	for (let i = 6; i <= 8; i++)
		await carol.request({ op: 'send', to: '#lobby', text: `meanwhile ${i}` });
	for (const p of [alice, bob]) {
		await waitOnline(p);
		await waitText(p, 'meanwhile 8');
		await waitText(p, '离线时输入的消息');
		await p.waitForTimeout(400);
		const all = await texts(p);
		const got = all.filter(t => t.startsWith('meanwhile '));
		check(got.length === 8 && got.every((t, i) => t === `meanwhile ${i + 1}`), `after the crash: all 8, once each, in order (${got.length})`);
		check(all.filter(t => t === '离线时输入的消息').length === 1, 'bob\'s offline message once');
		check(await idsInOrder(p), 'ids unique and increasing on screen');
	}
	await shot(alice, 'after-reconnect');

	// ---- alice's network drops while the server runs: she must catch up with sync ----
	let blocked = true;
	await alice.routeWebSocket(/\/ws$/, ws => {
		if (blocked)
			ws.close();
		else
			ws.connectToServer();
	});
	await alice.evaluate(() => window.pier.client.ws.close());
	await alice.waitForSelector('#banner[data-state="offline"]');
	const away = ['while alice was away 1', 'while alice was away 2', 'while alice was away 3'];
	for (const text of away)
		await carol.request({ op: 'send', to: '#lobby', text });
	await waitText(bob, away[2]);
	await alice.waitForTimeout(500);
	check((await texts(alice)).every(t => !t.startsWith('while alice was away')) &&
		await alice.evaluate(() => window.pier.client.state !== 'online'), 'alice, cut off, has not seen them yet');
	blocked = false;
	// the retry button, unless the client's own next try got through first (its banner and
	// button are then gone: clicking would wait for a button that no longer exists)
	await alice.click('#retry-button', { timeout: 5000 }).catch(async e => {
		if (await alice.evaluate(() => window.pier.client.state === 'offline'))
			throw e;
	});
	await waitOnline(alice);
	await waitText(alice, away[2]);
	const caught = (await texts(alice)).filter(t => t.startsWith('while alice was away'));
	check(JSON.stringify(caught) === JSON.stringify(away), `back online, she caught up: once each, in order: ${JSON.stringify(caught)}`);
	check(await idsInOrder(alice), 'ids unique and increasing on screen');

	// ---- bob's message is stored but its `sent` is lost with the connection: the resend
	// (same cid) must not store it twice ----
	let dropSent = false;
	await bob.routeWebSocket(/\/ws$/, ws => {
		const server = ws.connectToServer();
		ws.onMessage(m => server.send(m));
		server.onMessage(m => {
			if (dropSent && String(m).includes('"op":"sent"')) {
				dropSent = false;
				ws.close();
				return;
			}
			ws.send(m);
		});
	});
	await bob.evaluate(() => window.pier.client.ws.close());
	await waitOnline(bob);
	dropSent = true;
	await say(bob, 'the answer to this was lost');
	await waitText(alice, 'the answer to this was lost');
	await waitOnline(bob);
	await waitText(bob, 'the answer to this was lost');
	await bob.waitForTimeout(500);
	check(!dropSent, 'the `sent` reply was dropped and the connection cut');
	for (const p of [alice, bob])
		check((await texts(p)).filter(t => t === 'the answer to this was lost').length === 1,
			`${p === alice ? 'alice' : 'bob'} sees the resent message once`);
	const stored = await carol.request({ op: 'history', with: '#lobby', limit: 5 });
	check(stored.messages.filter(m => m.text === 'the answer to this was lost').length === 1, 'the server stored it once');

	// a reload after all this: the same conversation, nothing twice
	await alice.reload();
	await waitOnline(alice);
	await waitText(alice, 'meanwhile 8');
	const again = (await texts(alice)).filter(t => t.startsWith('meanwhile '));
	check(again.length === 8, `after a reload, still 8 (${again.length})`);

	for (const p of [alice, bob])
		check(p.problems.length === 0, `no errors in the page: ${JSON.stringify(p.problems)}`);
	carol.close();
	await pierd.stop();
});
