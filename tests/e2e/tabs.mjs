// tabs.mjs - logging out in one tab logs out every tab of that browser (issue 9, defect 3):
// the other tabs land on the login screen at once and cannot send, a tab whose network is
// cut included (the server cannot tell it), none reconnects with the revoked token, and none
// writes the user's conversations back into the browser's storage after the logout.
// English, then Chinese (a logout in the second tab), with screenshots.

import {
	check, launch, openPage, openTab, PASSWORD, Pierd, registerAndLogin, run, say, shot,
	TcpClient, waitOnline, waitText,
} from './lib.mjs';

const LOGIN = '#login-user';

/** What the browser keeps of pier: the keys of localStorage that start with pier. */
const pierKeys = page => page.evaluate(() => Object.keys(localStorage).filter(k => k.startsWith('pier.')).sort());

async function loggedOutState(page) {
	return page.evaluate(() => ({
		token: window.pier.client.token,
		state: window.pier.client.state,
		composer: !!document.querySelector('#composer-input'),
		shell: !!document.querySelector('#shell'),
		notice: document.querySelector('#login-status')?.textContent || '',
	}));
}

run('e2e/tabs', 240, async () => {
	const pierd = await new Pierd().start();
	const browser = await launch();
	const carol = await TcpClient.connect(pierd.tcp);
	check((await carol.request({ op: 'register', user: 'carol_33', password: PASSWORD })).status === 3, 'carol registers');
	check((await carol.request({ op: 'login', user: 'carol_33', password: PASSWORD })).status === 1, 'carol logs in');

	// ---- English: three tabs of one browser; the third one's network is cut ----
	const a = await openPage(browser, pierd, { locale: 'en-US' });
	await registerAndLogin(a, 'alice_1');
	await say(a, 'hello from tab a');
	await waitText(a, 'hello from tab a');
	const b = await openTab(a, pierd);
	const c = await openTab(a, pierd);
	for (const p of [b, c])
		await waitOnline(p);
	check(await b.evaluate(() => window.pier.store.me) === 'alice_1', 'a second tab is logged in by the shared token');
	await waitText(b, 'hello from tab a');

	let cut = true;
	let cTries = 0;
	await c.routeWebSocket(/\/ws$/, ws => {
		cTries++;
		if (cut)
			ws.close();
		else
			ws.connectToServer();
	});
	await c.evaluate(() => window.pier.client.ws.close());
	await c.waitForSelector('#banner[data-state="offline"]');
	check(await c.$('#composer-input') !== null, 'tab c, cut off, is still in the chat (the server cannot reach it)');
	const before = await pierKeys(a);
	check(before.includes('pier.v1.session') && before.includes('pier.v1.u.alice_1'),
		`the browser keeps the session and alice's conversations: ${JSON.stringify(before)}`);

	await a.click('#logout-button');
	for (const p of [a, b, c])
		await p.waitForSelector(LOGIN);
	check(true, 'logging out in tab a: tabs a, b and c are all on the login screen');
	for (const [name, p] of [['b', b], ['c', c]]) {
		const st = await loggedOutState(p);
		check(st.token === null && st.state === 'idle' && !st.composer && !st.shell,
			`tab ${name}: no session, nothing to send with (${JSON.stringify(st)})`);
	}
	const notice = (await loggedOutState(c)).notice;
	check(/another tab/.test(notice), `tab c says why: "${notice}"`);
	const bNotice = (await loggedOutState(b)).notice;
	check(/another tab|another device/.test(bNotice), `tab b says why: "${bNotice}"`);
	await shot(c, 'tabs-logged-out-elsewhere');

	// the cut tab gets its network back: it must not try the revoked token
	const triesAtLogout = cTries;
	cut = false;
	await c.waitForTimeout(2500);       // the fast retries would have come by now
	check(cTries === triesAtLogout, `tab c does not reconnect (${cTries - triesAtLogout} attempts after the logout)`);
	await a.waitForTimeout(400);        // a debounced save would have been written by now
	const after = await pierKeys(a);
	check(!after.includes('pier.v1.session') && !after.includes('pier.v1.u.alice_1'),
		`nothing of alice's is left in the browser's storage: ${JSON.stringify(after)}`);

	// and the account works again from a tab: log in, the others stay on their login screen
	await a.fill('#login-user', 'alice_1');
	await a.fill('#login-password', PASSWORD);
	await a.click('#login-button');
	await a.waitForSelector('#shell');
	await waitOnline(a);
	await say(a, 'back in tab a');
	await waitText(a, 'back in tab a');
	const hist = await carol.request({ op: 'history', with: '#lobby', limit: 10 });
	check(JSON.stringify(hist.messages.map(m => m.text)) === JSON.stringify(['hello from tab a', 'back in tab a']),
		`the room has only what was sent before the logout and after the new login: ${JSON.stringify(hist.messages.map(m => m.text))}`);

	// ---- Chinese: the logout comes from the second tab ----
	const z1 = await openPage(browser, pierd, { locale: 'zh-CN' });
	await registerAndLogin(z1, 'bob_22');
	const z2 = await openTab(z1, pierd);
	await waitOnline(z2);
	await z2.click('#logout-button');
	for (const p of [z2, z1])
		await p.waitForSelector(LOGIN);
	const zst = await loggedOutState(z1);
	check(!zst.composer && zst.token === null, 'Chinese: the first tab has left the chat too');
	check(/另一个标签页|其他设备/.test(zst.notice), `Chinese: it says why: "${zst.notice}"`);
	await shot(z1, 'tabs-logged-out-elsewhere-zh');
	check(!(await pierKeys(z1)).some(k => k === 'pier.v1.session' || k === 'pier.v1.u.bob_22'), 'nothing of bob\'s is left');

	for (const p of [a, b, c, z1, z2])
		check(p.problems.length === 0, `no errors in the page: ${JSON.stringify(p.problems)}`);
	carol.close();
	await pierd.stop();
});
