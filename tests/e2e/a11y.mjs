// a11y.mjs - contrast and live regions (issue 9, defect 6). Timestamps (in room messages, in
// private bubbles, the one shown on hover) and the composer's hint reach WCAG AA's 4.5:1 in
// the light and the dark theme: the ratio is computed from the computed styles (the text
// colour over the backgrounds behind it, blended: lib.mjs, checkRatio). The whole app is not
// a live region: one polite region, in the message list, announces new messages, one line
// each, and stays silent when older history loads above; a new message inserts its row only
// (the list is not redrawn, which a screen reader would read again). English in light,
// Chinese in dark.

import {
	check, checkRatio, launch, openConv, openPage, PASSWORD, Pierd, registerAndLogin, run, say, shot,
	TcpClient, waitText,
} from './lib.mjs';

/** Every live region of the page: its id or class, politeness, and what it contains. */
function liveRegions(page) {
	return page.evaluate(() => [...document.querySelectorAll('[aria-live], [role="log"], [role="alert"]')].map(e => ({
		name: e.id || e.className,
		live: e.getAttribute('aria-live') || (e.getAttribute('role') === 'alert' ? 'assertive' : 'polite'),
		inMessages: !!e.closest('#messages'),
		wraps: ['#msg-list', '#composer', '#sidebar', '#shell'].filter(s => e.querySelector(s)),
		nested: !!e.parentElement?.closest('[aria-live], [role="log"], [role="alert"]'),
	})));
}

const announced = page => page.$$eval('#msg-announce > *', els => els.map(e => e.textContent));

async function tcpUser(pierd, user) {
	const c = await TcpClient.connect(pierd.tcp);
	check((await c.request({ op: 'register', user, password: PASSWORD })).status === 3, `${user} registers over TCP`);
	// a device of its own (lib.mjs, with the browser's crypto): a private message to a user
	// who has devices must be end-to-end encrypted
	check((await c.loginDevice(user)).status === 1, `${user} logs in over TCP, with a device`);
	return c;
}

async function themeChecks(page, user, carol, scheme) {
	// a room message (a first one, with its time), a second (its time shows on hover)
	await carol.request({ op: 'send', to: '#lobby', text: `for ${user}: the time of this one` });
	await carol.request({ op: 'send', to: '#lobby', text: `for ${user}: and this one` });
	await waitText(page, `for ${user}: and this one`);
	await checkRatio(page, '#msg-list li.msg.group.start .msg-head .msg-time', `${scheme}: a room message's time`);
	await page.hover('#msg-list li.msg.group.cont:last-of-type');
	await checkRatio(page, '#msg-list li.msg.group.cont:last-of-type .msg-time.gutter', `${scheme}: the time shown on hover`);
	check(await page.$eval('#composer-note', e => e.dataset.kind === ''), 'the note shows the hint');
	await checkRatio(page, '#composer-note', `${scheme}: the composer's hint`);
	await shot(page, `a11y-lobby-${scheme}`);

	// private bubbles: theirs and mine
	await carol.sendE2ee('@' + user, 'a private one');
	await page.waitForSelector('#private-list button[data-key="@carol_33"]');
	await openConv(page, '@carol_33');
	await waitText(page, 'a private one');
	await say(page, 'and my answer');
	await waitText(page, 'and my answer');
	await checkRatio(page, '#msg-list li.msg.private:not(.mine) .msg-time', `${scheme}: a private message's time`);
	await checkRatio(page, '#msg-list li.msg.private.mine .msg-time', `${scheme}: the time on my private message`);
	await checkRatio(page, '#composer-note', `${scheme}: the hint in a private chat`);
	await shot(page, `a11y-private-${scheme}`);
	await openConv(page, '#lobby');
}

run('e2e/a11y', 300, async () => {
	const pierd = await new Pierd().start();
	const browser = await launch();
	const carol = await tcpUser(pierd, 'carol_33');
	for (let i = 1; i <= 80; i++)
		await carol.request({ op: 'send', to: '#lobby', text: `older ${i}` });

	const alice = await openPage(browser, pierd, { locale: 'en-US', colorScheme: 'light' });
	await registerAndLogin(alice, 'alice_1');

	// ---- live regions ----
	check(await alice.$eval('#app', e => !e.hasAttribute('aria-live') && !e.closest('[aria-live]')),
		'the app is not a live region');
	const regions = await liveRegions(alice);
	check(regions.every(r => r.live === 'polite'), `every live region is polite: ${JSON.stringify(regions)}`);
	check(regions.every(r => r.wraps.length === 0 && !r.nested), 'none wraps the list, the composer, the sidebar or another region');
	const inMessages = regions.filter(r => r.inMessages);
	check(inMessages.length === 1 && inMessages[0].name === 'msg-announce',
		`the message list has one live region, for new messages: ${JSON.stringify(inMessages)}`);
	check(await alice.$eval('#msg-list', e => !e.closest('[aria-live], [role="log"]')),
		'the list itself (history loaded above included) is not announced');

	// a new message: its row inserted, nothing else touched; one polite line announced
	await alice.waitForSelector('#msg-list li.msg');
	await alice.evaluate(() => {
		window.addedRows = 0;
		window.removedRows = 0;
		new MutationObserver(records => {
			for (const r of records) {
				window.addedRows += r.addedNodes.length;
				window.removedRows += r.removedNodes.length;
			}
		}).observe(document.querySelector('#msg-list'), { childList: true });
	});
	const before = (await announced(alice)).length;
	await carol.request({ op: 'send', to: '#lobby', text: 'hello, screen readers' });
	await waitText(alice, 'hello, screen readers');
	const rows = await alice.evaluate(() => ({ added: window.addedRows, removed: window.removedRows }));
	check(rows.added === 1 && rows.removed === 0, `a new message inserts one row and moves none (${JSON.stringify(rows)})`);
	await alice.waitForFunction(n => document.querySelectorAll('#msg-announce > *').length > n, before);
	const lines = await announced(alice);
	check(lines.length === before + 1 && lines[lines.length - 1] === 'carol_33: hello, screen readers',
		`it is announced once: ${JSON.stringify(lines.slice(before))}`);

	// older history loaded above: shown, not announced
	const heard = (await announced(alice)).length;
	for (let i = 0; i < 10 && !await alice.$('#msg-top .beginning'); i++) {
		await alice.$eval('#messages', e => { e.scrollTop = 0; });
		await alice.waitForTimeout(300);
	}
	await alice.waitForSelector('#msg-top .beginning');
	check((await alice.$$eval('#msg-list li.msg', els => els.length)) >= 80, 'all the older history is on screen');
	check((await announced(alice)).length === heard, 'loading it announced nothing');

	// ---- contrast, light (English) and dark (Chinese) ----
	await themeChecks(alice, 'alice_1', carol, 'light');
	const dave = await openPage(browser, pierd, { locale: 'zh-CN', colorScheme: 'dark' });
	await registerAndLogin(dave, 'dave_44');
	check(await dave.evaluate(() => matchMedia('(prefers-color-scheme: dark)').matches), 'the dark theme is on');
	await themeChecks(dave, 'dave_44', carol, 'dark');

	for (const p of [alice, dave])
		check(p.problems.length === 0, `no errors in the page: ${JSON.stringify(p.problems)}`);
	carol.close();
	await pierd.stop();
});
