// e2ee_devices.mjs - one person's devices in the browser (docs/E2EE.md): a second browser of
// alice's waits as a pending device and shows its approval code; her first browser shows the
// same code and approves it, handing it the account key and her earlier private messages;
// from then on both of hers and bob's see everything that is sent; the device list names
// both (this device, when added), renames and removes; a browser of alice's that lost the
// others resets her identity, and bob's browser says that her safety number changed. English
// and Chinese, with screenshots of the device list and both approval screens.

import {
	check, launch, openPage, openPrivate, PASSWORD, Pierd, registerAndLogin, run, say, shot, waitE2ee, waitLock, waitText,
} from './lib.mjs';

async function login(page, user) {
	await page.fill('#login-user', user);
	await page.fill('#login-password', PASSWORD);
	await page.click('#login-button');
	await page.waitForSelector('#shell');
}

run('e2e/e2ee_devices', 380, async () => {
	const pierd = await new Pierd().start();
	const browser = await launch();
	const a1 = await openPage(browser, pierd, { locale: 'en-US' });
	const bob = await openPage(browser, pierd, { locale: 'zh-CN' });
	await registerAndLogin(a1, 'alice_1');
	await registerAndLogin(bob, 'bob_22');
	await waitE2ee(a1, 'active');
	await waitE2ee(bob, 'active');
	await openPrivate(a1, 'bob_22');
	await waitLock(a1, 'bob_22');
	await say(a1, 'before the second device');
	await openPrivate(bob, 'alice_1');
	await waitText(bob, 'before the second device');

	// ---- a second browser of alice's: pending, with its code ----
	const a2 = await openPage(browser, pierd, { locale: 'zh-CN' });
	await login(a2, 'alice_1');
	await waitE2ee(a2, 'pending');
	await a2.waitForSelector('#new-device-banner:not([hidden])');
	check(/\d{4} \d{4}/.test(await a2.textContent('#new-device-banner')), 'a bar says the browser waits for approval, with its code; rooms stay usable');
	await a2.click('#new-device-open');
	await a2.waitForSelector('#new-device-dialog[open]');
	const code2 = (await a2.textContent('#new-device-code')).trim();
	check(/^\d{4} \d{4}$/.test(code2), `the new browser shows its approval code (${code2})`);
	check(/批准/.test(await a2.textContent('#new-device-title')), 'in Chinese: ' + await a2.textContent('#new-device-title'));
	await shot(a2, 'e2ee-new-device-zh');

	// the first browser: when the page is looked at again (it also asks every 15 s), a bar
	// says a device waits; the account dialog's device list names it; its prompt
	await a1.evaluate(() => document.dispatchEvent(new Event('visibilitychange')));
	await a1.waitForSelector('#approve-banner:not([hidden])');
	check(/Chromium on Linux/.test(await a1.textContent('#approve-banner')), `a bar on the first browser: "${(await a1.textContent('#approve-banner')).trim()}"`);
	await a1.click('#account-button');
	await a1.waitForSelector('#account-dialog[open] #device-list li.device[data-state="pending"]');
	check(await a1.$('#device-list li.device[data-self="true"] .device-tag.self') !== null, 'the device list marks this device');
	await shot(a1, 'e2ee-devices-pending-en');
	await a1.click('#device-list li.device[data-state="pending"] .device-approve-btn');
	await a1.waitForSelector('#approve-dialog[open]');
	const code1 = (await a1.textContent('#approve-code')).trim();
	check(code1 === code2, `the approving browser shows the same code (${code1})`);
	check(await a1.evaluate(() => document.activeElement?.id) === 'approve-no', 'the focus is on Reject, the safe choice');
	await shot(a1, 'e2ee-approve-en');
	await a1.click('#approve-yes');
	await a1.waitForSelector('#approve-dialog[open]', { state: 'detached' });
	await a1.waitForSelector('#approve-banner', { state: 'hidden' });
	await waitE2ee(a2, 'active');
	check(true, 'approved: the second browser is active');
	await a2.waitForSelector('#new-device-dialog[open]', { state: 'detached' });
	check(await a2.$('#new-device-banner[hidden]') !== null, 'and its bar is gone');

	// its earlier messages came with the grant (history transfer)
	await a2.click('#private-list button[data-key="@bob_22"]');
	await waitText(a2, 'before the second device');
	check(true, 'the second browser shows the message sent before it existed (history from the first)');
	check(await a2.$('#e2ee-earlier') === null, 'so it does not say "earlier messages are on your other devices"');

	// ---- every device sees every message ----
	await say(bob, '给 alice 的两台设备');
	await waitText(a1, '给 alice 的两台设备');
	await waitText(a2, '给 alice 的两台设备');
	check(true, 'bob\'s message reaches both of alice\'s browsers');
	await say(a2, 'from the second browser');
	await waitText(bob, 'from the second browser');
	await waitText(a1, 'from the second browser');
	check(true, 'a message from the second browser reaches bob and alice\'s first browser');
	await shot(a2, 'e2ee-second-device-zh');

	// ---- the device list: both, rename, remove ----
	await a1.waitForFunction(() => document.querySelectorAll('#device-list li.device[data-state="active"]').length === 2);
	check(true, 'the device list shows both devices, active');
	await a1.click('#device-list li.device[data-self="true"] .device-rename-btn');
	await a1.fill('#device-name-input', 'Work laptop');
	await a1.press('#device-name-input', 'Enter');
	await a1.waitForFunction(() => [...document.querySelectorAll('#device-list .device-name')].some(e => e.textContent === 'Work laptop'));
	check(true, 'this device is renamed "Work laptop" (in the signed list)');
	await shot(a1, 'e2ee-devices-en');
	await a2.click('#account-button');
	await a2.waitForFunction(() => [...document.querySelectorAll('#device-list .device-name')].some(e => e.textContent === 'Work laptop'));
	check(/设备/.test(await a2.textContent('#devices-title')), 'the second browser\'s list (Chinese) has the new name too');
	await shot(a2, 'e2ee-devices-zh');
	await a2.keyboard.press('Escape');
	await a1.click('#device-list li.device[data-self="false"] .device-remove-btn');
	await a1.click('#device-remove-yes');
	await a1.waitForFunction(() => document.querySelectorAll('#device-list li.device').length === 1);
	await waitE2ee(a2, 'revoked');
	check(true, 'removing the second browser revokes it there');
	await a1.keyboard.press('Escape');

	// ---- a reset from a browser that lost the others ----
	const a3 = await openPage(browser, pierd, { locale: 'en-US' });
	await login(a3, 'alice_1');
	await waitE2ee(a3, 'pending');
	await a3.click('#new-device-open');
	await a3.waitForSelector('#new-device-dialog[open]');
	await a3.click('#new-device-lost');
	const warning = await a3.textContent('#new-device-warning');
	check(/other devices are removed/.test(warning) && /safety number changed/.test(warning), `the reset is explained plainly: "${warning}"`);
	await shot(a3, 'e2ee-reset-en');
	await a3.click('#new-device-reset-yes');
	await waitE2ee(a3, 'active');
	await waitE2ee(a1, 'revoked');
	check(true, 'the reset makes the new browser active and the old one revoked');
	await say(bob, '重置之后');
	await bob.waitForSelector('#e2ee-notices .e2ee-notice.changed');
	const notice = await bob.textContent('#e2ee-notices .e2ee-notice.changed');
	check(/安全码已改变/.test(notice), `bob's browser says that alice's safety number changed: "${notice.trim()}"`);
	await shot(bob, 'e2ee-safety-changed-zh');
	await a3.click('#join-toggle');
	await openPrivate(a3, 'bob_22');
	await waitText(a3, '重置之后');
	check(true, 'the message bob sent after the reset reaches the new browser');
	check(await a3.$('#e2ee-earlier') !== null, 'and the older ones are "on your other devices", one line, not a wall of errors');

	for (const p of [a1, a2, a3, bob])
		check(p.problems.length === 0, `no errors in the page: ${JSON.stringify(p.problems)}`);
	await pierd.stop();
});
