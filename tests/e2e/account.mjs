// account.mjs - the account dialog, with one user on two devices (two browser contexts: A in
// English, B in Chinese). The dialog opens from the sidebar's footer by keyboard, keeps the
// focus inside, closes with Escape and gives the focus back. In A: a too short new password
// and a mismatch are caught before anything is sent; a wrong current password is refused
// (shown); the right one changes it -> B lands on the login screen saying why, its token
// forgotten, and does not try to reconnect; A stays. Through B's login screen the old
// password fails and the new one works. Then "log out everywhere" from A (cancel first,
// then confirmed) -> both on the login screen; a reload does not resume, and the tokens are
// gone on the server too. Screenshots go to $PIER_SCREENSHOTS.

import {
	check, launch, openPage, PASSWORD, Pierd, registerAndLogin, run, say, shot, sleep, TcpClient,
	waitOnline, waitText,
} from './lib.mjs';

const USER = 'dana_42';
const NEW_PASSWORD = 'a-new-secret-77';
const REVOKED_EN = 'You were logged out from another device or by a password change.';
const REVOKED_ZH = '由于在其他设备上的操作或密码修改，你已退出登录。';

/** Records what a page sends on its WebSockets (ops) and how many sockets it opened. */
function wsRecorder(page) {
	const rec = { ops: [], sockets: 0 };
	page.on('websocket', ws => {
		rec.sockets++;
		ws.on('framesent', f => {
			try {
				rec.ops.push(JSON.parse(f.payload).op);
			} catch { /* not JSON */ }
		});
	});
	return rec;
}

/** Logs in through the login screen; resolves with the status ('1' once the chat is open). */
async function loginUI(page, user, password) {
	await page.fill('#login-user', user);
	await page.fill('#login-password', password);
	await page.$eval('#login-status', e => { e.dataset.status = ''; });
	await page.click('#login-button');
	await page.waitForFunction(() => document.querySelector('#shell') ||
		document.querySelector('#login-status')?.dataset.status);
	if (await page.$('#shell')) {
		await waitOnline(page);
		return '1';
	}
	return page.$eval('#login-status', e => e.dataset.status);
}

const focused = page => page.evaluate(() => document.activeElement?.id || document.activeElement?.tagName);

/** Fills the password form and submits it; resolves with the status line once it settles. */
async function submitPassword(page, cur, next, again) {
	await page.fill('#account-current', cur);
	await page.fill('#account-new', next);
	await page.fill('#account-again', again);
	await page.$eval('#account-pw-status', e => { e.dataset.kind = ''; });
	await page.click('#account-pw-button');
	await page.waitForFunction(() => ['ok', 'error'].includes(document.querySelector('#account-pw-status')?.dataset.kind));
	return page.$eval('#account-pw-status', e => ({ kind: e.dataset.kind, text: e.textContent, revoked: e.dataset.revoked }));
}

run('e2e/account', 300, async () => {
	const pierd = await new Pierd().start();
	const browser = await launch();
	const a = await openPage(browser, pierd, { locale: 'en-US' });
	const b = await openPage(browser, pierd, { locale: 'zh-CN' });
	const aws = wsRecorder(a);
	const bws = wsRecorder(b);
	await registerAndLogin(a, USER);
	check(await loginUI(b, USER, PASSWORD) === '1', 'the same user logs in on a second device (B)');
	const tokens = [await a.evaluate(() => window.pier.client.token), await b.evaluate(() => window.pier.client.token)];
	check(tokens[0] && tokens[1] && tokens[0] !== tokens[1], 'two devices, two tokens');

	// ---- the dialog: keyboard, labels, focus ----
	const btn = await a.$eval('#account-button', e => ({
		label: e.getAttribute('aria-label'), popup: e.getAttribute('aria-haspopup'),
		inFoot: !!e.closest('.side-foot'), nextToLogout: e.nextElementSibling?.id === 'logout-button',
	}));
	check(btn.label && btn.popup === 'dialog' && btn.inFoot && btn.nextToLogout,
		`the account button sits in the sidebar footer next to log out, labelled (${JSON.stringify(btn)})`);
	await a.focus('#account-button');
	await a.keyboard.press('Enter');
	await a.waitForSelector('#account-dialog[open]');
	const dlg = await a.$eval('#account-dialog', d => ({
		modal: d.matches(':modal'),
		title: document.getElementById(d.getAttribute('aria-labelledby'))?.textContent,
		user: d.querySelector('#account-user')?.textContent,
		labels: [...d.querySelectorAll('input')].filter(i => !i.hidden)
			.every(i => i.labels.length === 1 && i.labels[0].textContent),
	}));
	check(dlg.modal && dlg.title === 'Account' && /dana_42/.test(dlg.user) && dlg.labels,
		`Enter opens a modal dialog titled by its heading, every field labelled (${JSON.stringify(dlg)})`);
	check(await focused(a) === 'profile-display', 'the focus starts on the first field (the display name)');
	let inside = true;
	for (let i = 0; i < 14; i++) {
		await a.keyboard.press(i < 7 ? 'Tab' : 'Shift+Tab');
		inside &&= await a.evaluate(() => !!document.activeElement?.closest('#account-dialog'));
	}
	check(inside, 'Tab and Shift+Tab stay inside the dialog');
	await a.focus('#logout-all-button');
	await a.keyboard.press('Tab');
	check(await focused(a) === 'account-close', 'Tab from the last control wraps to the first');
	await a.keyboard.press('Shift+Tab');
	check(await focused(a) === 'logout-all-button', 'Shift+Tab from the first wraps to the last');
	await a.keyboard.press('Escape');
	await a.waitForSelector('#account-dialog:not([open])', { state: 'attached' });
	check(await focused(a) === 'account-button', 'Escape closes it and the focus goes back to the account button');
	check(await a.$('#shell') !== null && await a.evaluate(() => window.pier.client.state) === 'online', 'nothing else happened');

	// ---- changing the password: checks before sending ----
	await a.click('#account-button');
	await a.waitForSelector('#account-dialog[open]');
	const before = aws.ops.filter(op => op === 'password').length;
	let st = await submitPassword(a, PASSWORD, 'short', 'short');
	check(st.kind === 'error' && st.text === 'The new password is too short (6 characters at least).',
		`a too short new password is caught (${st.text})`);
	check(await a.$eval('#account-new', e => e.getAttribute('aria-invalid')) === 'true' && await focused(a) === 'account-new',
		'the new password field is marked invalid and focused');
	st = await submitPassword(a, PASSWORD, NEW_PASSWORD, NEW_PASSWORD + 'x');
	check(st.kind === 'error' && st.text === 'The new passwords do not match.', `a mismatch is caught (${st.text})`);
	check(await focused(a) === 'account-again', 'the repeat field is focused');
	check(aws.ops.filter(op => op === 'password').length === before, 'neither was sent to the server');

	// ---- a wrong current password, then the right one ----
	st = await submitPassword(a, 'not-my-password', NEW_PASSWORD, NEW_PASSWORD);
	check(st.kind === 'error' && st.text === 'The current password is wrong.', `a wrong current password is refused (${st.text})`);
	check(aws.ops.filter(op => op === 'password').length === before + 1, 'that one was asked of the server');
	check(await focused(a) === 'account-current', 'the current password field is focused again');
	await shot(a, 'account-wrong-password');
	check(await b.evaluate(() => window.pier.client.state) === 'online' && await b.$('#shell') !== null,
		'B is still logged in after the failed attempt');

	const bSockets = bws.sockets;
	st = await submitPassword(a, PASSWORD, NEW_PASSWORD, NEW_PASSWORD);
	check(st.kind === 'ok' && st.revoked === '1' && st.text === 'Password changed. 1 other login was ended.',
		`the right one changes it: ${st.text}`);
	check(await a.$eval('#account-current', e => e.value) === '' && await a.$eval('#account-new', e => e.value) === '',
		'the fields are cleared');
	await shot(a, 'account-password-changed');

	// B is logged out, says why, forgets its token and does not reconnect
	await b.waitForSelector('#login-status[data-kind="info"]');
	check(await b.$eval('#login-status', e => e.textContent) === REVOKED_ZH, 'B is on the login screen: 由于在其他设备上的操作或密码修改，你已退出登录。');
	check(await b.evaluate(() => localStorage.getItem('pier.v1.session')) === null && await b.evaluate(() => window.pier.client.token) === null,
		'B forgot its token');
	await sleep(2500);
	check(bws.sockets === bSockets && await b.evaluate(() => window.pier.client.state) === 'idle',
		`B does not try to reconnect (${bws.sockets - bSockets} new sockets)`);
	await shot(b, 'account-revoked-zh');
	// A's session stays
	check(await a.evaluate(() => window.pier.client.state) === 'online', 'A is still online');
	await a.click('#account-close');
	await a.waitForSelector('#account-dialog:not([open])', { state: 'attached' });
	check(await focused(a) === 'account-button', 'closing by the button gives the focus back too');
	await say(a, 'still here after the change');
	await waitText(a, 'still here after the change');

	// ---- through B's login screen: the old password fails, the new one works ----
	check(await loginUI(b, USER, PASSWORD) === '-1' && await b.$eval('#login-status', e => e.textContent) === '密码错误',
		'the old password fails: -1 密码错误');
	check(await loginUI(b, USER, NEW_PASSWORD) === '1', 'the new password logs B in');
	await waitText(b, 'still here after the change');
	check(true, 'and B sees the conversation');

	// the dialog in Chinese
	await b.click('#account-button');
	await b.waitForSelector('#account-dialog[open]');
	check(await b.$eval('#account-title', e => e.textContent) === '账号' &&
		await b.$eval('#logout-all-button', e => e.textContent) === '在所有设备上退出', 'zh: the dialog speaks Chinese');
	await shot(b, 'account-dialog-zh');
	await b.keyboard.press('Escape');
	await b.waitForSelector('#account-dialog:not([open])', { state: 'attached' });

	// ---- log out everywhere, from A: asks first ----
	const tokensB2 = await b.evaluate(() => window.pier.client.token);
	await a.click('#account-button');
	await a.waitForSelector('#account-dialog[open]');
	await a.click('#logout-all-button');
	await a.waitForSelector('#logout-all-confirm:not([hidden])');
	check(await focused(a) === 'logout-all-cancel', 'log out everywhere asks first (the focus on Cancel)');
	await shot(a, 'account-logout-all-confirm');
	await a.click('#logout-all-cancel');
	check(await a.$eval('#logout-all-confirm', e => e.hidden) && await focused(a) === 'logout-all-button',
		'Cancel: nothing happens, the focus back on the button');
	check(!aws.ops.includes('logout_all') && await b.evaluate(() => window.pier.client.state) === 'online', 'nothing was sent');
	await a.click('#logout-all-button');
	await a.click('#logout-all-yes');
	await a.waitForSelector('#login-button');
	check(await a.$eval('#login-status', e => e.textContent) === 'You have logged out on every device.',
		'A is on the login screen: logged out on every device');
	await b.waitForSelector('#login-button');
	check(await b.$eval('#login-status', e => e.textContent) === REVOKED_ZH, 'B too, saying why');
	check(aws.ops.filter(op => op === 'logout_all').length === 1, 'one logout_all was sent');
	await shot(a, 'account-logged-out-everywhere');

	// ---- a reload does not resume; the tokens are gone on the server ----
	for (const [name, p] of [['A', a], ['B', b]]) {
		await p.reload();
		await p.waitForSelector('#login-button');
		await sleep(300);
		check(await p.$('#shell') === null && await p.evaluate(() => localStorage.getItem('pier.v1.session')) === null,
			`${name}: a reload shows the login screen (no token kept)`);
	}
	const tcp = await TcpClient.connect(pierd.tcp);
	for (const [name, token] of [['A', tokens[0]], ['B', tokensB2]]) {
		const r = await tcp.request({ op: 'login', token });
		check(r.status === -1 && r.error === 'bad_token', `${name}'s token is refused by the server (${r.status} ${r.error})`);
	}
	check((await tcp.request({ op: 'login', user: USER, password: NEW_PASSWORD })).status === 1, 'the new password still works');
	tcp.close();

	// the English notice for a revoked session (A's client, revoked from elsewhere)
	check(await loginUI(a, USER, NEW_PASSWORD) === '1', 'A logs in again');
	const other = await TcpClient.connect(pierd.tcp);
	check((await other.request({ op: 'login', user: USER, password: NEW_PASSWORD })).status === 1, 'a TCP client logs in as the same user');
	check((await other.request({ op: 'logout_all' })).op === 'logout_all', 'and logs out everywhere');
	await a.waitForSelector('#login-button');
	check(await a.$eval('#login-status', e => e.textContent) === REVOKED_EN, `en: "${REVOKED_EN}"`);
	await shot(a, 'account-revoked-en');
	other.close();

	for (const [name, p] of [['A', a], ['B', b]])
		check(p.problems.length === 0, `${name}: no errors in the page: ${JSON.stringify(p.problems)}`);
	await pierd.stop();
});
