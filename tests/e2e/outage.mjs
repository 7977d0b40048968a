// outage.mjs - the browser is back as soon as the server is (issue 9, defect 7). pierd stops
// for about 6 s and starts again on the same port: each client retried about once a second
// meanwhile (the browser's WebSocket attempts are counted from outside the page: no gap
// between two was a large part of the outage) and is back at the first or second attempt
// after the restart (retries are counted, not seconds). Then, with a client
// deep in its backoff (a long wait scheduled), the network coming back (`online`) and the page
// being shown again (`visibilitychange`) reconnect it at once, before that wait is over.
// English and Chinese, with screenshots.

import {
	check, launch, openPage, Pierd, registerAndLogin, run, say, shot, sleep, waitOnline, waitText,
} from './lib.mjs';

const OUTAGE = 6000;

/** Records the time of every WebSocket the page opens (refused ones included) in page.attempts. */
function countAttempts(page) {
	page.attempts = [];
	page.on('websocket', () => page.attempts.push(Date.now()));
}

/** Takes the server down and puts the client of `page` in a long backoff (as after many failures). */
async function deepBackoff(page) {
	await page.evaluate(() => {
		const c = window.pier.client;
		c.attempt = 14;             // past the fast retries: the next wait is 9 to 15 s
		window.longWait = null;
		c.addEventListener('state', e => {
			if (e.detail.state === 'offline' && window.longWait === null && c.retryAt - Date.now() > 5000)
				window.longWait = { until: c.retryAt, tries: c.tries };
		});
	});
	await page.waitForFunction(() => window.longWait !== null);
	return page.evaluate(() => {
		window.onlineAt = null;
		window.pier.client.addEventListener('state', e => {
			if (e.detail.state === 'online' && window.onlineAt === null)
				window.onlineAt = Date.now();
		});
		return window.longWait;
	});
}

run('e2e/outage', 300, async () => {
	const pierd = await new Pierd().start();
	const browser = await launch();
	const alice = await openPage(browser, pierd, { locale: 'en-US' });
	const bob = await openPage(browser, pierd, { locale: 'zh-CN' });
	countAttempts(alice);
	countAttempts(bob);
	await registerAndLogin(alice, 'alice_1');
	await registerAndLogin(bob, 'bob_22');
	await say(alice, 'before the outage');
	await waitText(bob, 'before the outage');

	// ---- a 6 s outage ----
	const stopped = Date.now();
	await pierd.stop();
	for (const p of [alice, bob])
		await p.waitForSelector('#banner[data-state="offline"]');
	await sleep(OUTAGE);
	await shot(alice, 'outage-offline');
	await shot(bob, 'outage-offline-zh');
	await pierd.start({ same: true });
	const restarted = Date.now();
	const atRestart = [alice.attempts.length, bob.attempts.length];
	for (const p of [alice, bob])
		await waitOnline(p);
	const back = Date.now();
	const outage = restarted - stopped;
	for (const [i, p] of [alice, bob].entries()) {
		const who = i ? 'bob' : 'alice';
		const during = p.attempts.filter(t => t >= stopped && t < restarted);
		// the gaps between the drop, each attempt, and the restart
		const marks = [stopped, ...during, restarted];
		const longest = Math.max(...marks.slice(1).map((t, k) => t - marks[k]));
		check(during.length >= 4, `${who}: ${during.length} retries during the ${outage} ms outage`);
		check(longest / outage < 0.3, `${who}: no gap between retries was long next to the outage (the longest ${longest} ms, ${(longest / outage).toFixed(2)} of it)`);
		const after = p.attempts.length - atRestart[i];
		check(after <= 2, `${who}: back at the first or second attempt after the restart (${after})`);
		check(await p.$eval('#banner', e => e.hidden), `${who}: the offline banner is gone`);
	}
	check((back - restarted) / outage < 0.5, `both back within half the outage's length after the restart (${((back - restarted) / outage).toFixed(2)})`);
	await say(bob, '服务器回来了');
	await waitText(alice, '服务器回来了');
	await shot(bob, 'outage-back-zh');

	// ---- deep in backoff: `online` retries at once ----
	await pierd.stop();
	await alice.waitForSelector('#banner[data-state="offline"]');
	let long = await deepBackoff(alice);
	await pierd.start({ same: true });
	await alice.context().setOffline(true);
	await alice.context().setOffline(false);        // the browser fires `online`
	await waitOnline(alice);
	let reached = await alice.evaluate(() => ({ at: window.onlineAt, tries: window.pier.client.tries }));
	check(reached.at < long.until, `online: back before the long wait was over (${long.until - reached.at} ms early)`);
	check(reached.tries - long.tries === 1, `online: with one attempt (${reached.tries - long.tries})`);
	await say(alice, 'back by the online event');
	await waitText(bob, 'back by the online event');

	// ---- deep in backoff: the page shown again retries at once ----
	await pierd.stop();
	await bob.waitForSelector('#banner[data-state="offline"]');
	long = await deepBackoff(bob);
	await shot(bob, 'outage-backoff-zh');
	await pierd.start({ same: true });
	await bob.evaluate(() => document.dispatchEvent(new Event('visibilitychange')));   // not hidden: shown
	await waitOnline(bob);
	reached = await bob.evaluate(() => ({ at: window.onlineAt, tries: window.pier.client.tries }));
	check(reached.at < long.until, `visible again: back before the long wait was over (${long.until - reached.at} ms early)`);
	check(reached.tries - long.tries === 1, `visible again: with one attempt (${reached.tries - long.tries})`);
	await say(bob, '页面可见时重新连接');
	await waitText(alice, '页面可见时重新连接');
	await waitOnline(alice);

	for (const p of [alice, bob])
		check(p.problems.length === 0, `no errors in the page: ${JSON.stringify(p.problems)}`);
	await pierd.stop();
});
