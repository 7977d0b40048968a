// chat.mjs - the browser client end to end: two users in two browser contexts (English and
// Chinese) register and log in (with the report's status texts), chat in #lobby, chat
// privately (unread counts, a notification while hidden), join and leave a room; markup in a
// message stays text and runs nothing; links work; a reload keeps the session; scrolling up
// loads older history without moving what is on screen; phone size and dark mode.
// Screenshots go to $PIER_SCREENSHOTS.

import {
	check, launch, openConv, openPage, openTab, PASSWORD, Pierd, registerAndLogin, run, say, shot, TcpClient,
	texts, waitOnline, waitText,
} from './lib.mjs';

run('e2e/chat', 300, async () => {
	const pierd = await new Pierd().start();
	const browser = await launch();

	// ---- the front page and its policy ----
	const res = await fetch(pierd.base + '/');
	const csp = res.headers.get('content-security-policy') || '';
	// 'wasm-unsafe-eval' (the end-to-end encryption's WebAssembly) is no eval of scripts
	check(res.ok && /script-src 'self'/.test(csp) && !/'unsafe-inline'|'unsafe-eval'/.test(csp.replace(/style-src[^;]*;/, '')),
		`/ has a strict CSP: ${csp}`);
	const html = await res.text();
	check(!/<script>|<script [^>]*>[^<]/.test(html.replace(/<script type="module" src="[^"]+"><\/script>/, '')) &&
		!/ on[a-z]+=/i.test(html), 'index.html has no inline script and no inline handlers');

	// ---- login and register, in Chinese: the report's texts ----
	const bob = await openPage(browser, pierd, {
		locale: 'zh-CN', permissions: ['notifications'],
	});
	await bob.addInitScript(() => {
		// a notification recorder, and a switch for document.hidden
		window.__notes = [];
		class FakeNotification {
			constructor(title, opts) { window.__notes.push({ title, body: opts && opts.body }); }
			close() {}
			static get permission() { return 'granted'; }
			static requestPermission() { return Promise.resolve('granted'); }
		}
		window.Notification = FakeNotification;
		Object.defineProperty(Document.prototype, 'hidden', { get: () => !!window.__hidden, configurable: true });
	});
	await bob.reload();
	// the login page comes once main.js has loaded the e2ee modules (a dynamic import)
	await bob.waitForSelector('#login-button');
	check(await bob.$eval('#login-button', b => b.textContent) === '登录', 'zh: the login button says 登录');
	const status = async (page, user, pw, button) => {
		await page.fill('#login-user', user);
		await page.fill('#login-password', pw);
		await page.$eval('#login-status', e => { e.dataset.status = ''; });
		await page.click(button);
		await page.waitForFunction(() => document.querySelector('#login-status')?.dataset.status);
		return page.$eval('#login-status', e => [e.dataset.status, e.textContent]);
	};
	let [st, text] = await status(bob, 'nobody_here', PASSWORD, '#login-button');
	check(st === '0' && text === '用户名不存在', `login as an unknown user: 0 用户名不存在 (got ${st} ${text})`);
	[st, text] = await status(bob, 'bob', 'pw', '#register-button');
	check(st === '4' && text === '账号或密码过短', `register too short: 4 账号或密码过短 (got ${st} ${text})`);
	await shot(bob, 'login-zh-too-short');
	[st, text] = await status(bob, 'bob_22', PASSWORD, '#register-button');
	check(st === '3' && text === '注册成功', `register: 3 注册成功 (got ${st} ${text})`);
	[st, text] = await status(bob, 'BOB_22', PASSWORD, '#register-button');
	check(st === '2' && text === '用户名已存在', `register a taken name: 2 用户名已存在 (got ${st} ${text})`);
	[st, text] = await status(bob, 'bob_22', 'wrong-password', '#login-button');
	check(st === '-1' && text === '密码错误', `wrong password: -1 密码错误 (got ${st} ${text})`);
	await shot(bob, 'login-zh-wrong-password');
	await bob.fill('#login-password', PASSWORD);
	await bob.click('#login-button');
	await bob.waitForSelector('#shell');
	check(true, 'login with the right password: the chat opens');
	await waitOnline(bob);
	check(await bob.$eval('#composer-input', e => e.placeholder) === '发送到 #lobby', 'zh: the composer speaks Chinese');

	// ---- in English ----
	const alice = await openPage(browser, pierd, { locale: 'en-US' });
	await shot(alice, 'login-en');
	await registerAndLogin(alice, 'alice_1');
	check(await alice.$eval('#login-status, #composer-input', e => e.placeholder || '') === 'Message #lobby',
		'en: the composer speaks English');

	// ---- #lobby ----
	await say(alice, 'hello bob');
	await waitText(bob, 'hello bob');
	await say(bob, '你好 alice');
	await waitText(alice, '你好 alice');
	const msg = await alice.$eval('#msg-list li.msg[data-from="bob_22"]', li => ({
		sender: li.querySelector('.sender')?.textContent,
		time: li.querySelector('time')?.textContent,
		datetime: li.querySelector('time')?.getAttribute('datetime'),
		group: li.classList.contains('group'),
	}));
	check(msg.sender === 'bob_22' && /\d{1,2}:\d{2}/.test(msg.time || '') && msg.group,
		`a group message shows its sender and local time (${msg.sender}, ${msg.time})`);
	check(Math.abs(Date.parse(msg.datetime) - Date.now()) < 120000, 'its time is now');
	check(await alice.$eval('#msg-list .day-sep', e => e.textContent) === 'Today', 'a day separator says Today');
	check(await bob.$eval('#msg-list .day-sep', e => e.textContent) === '今天', 'and 今天 in Chinese');

	// Shift+Enter makes a new line, Enter sends
	await alice.fill('#composer-input', 'line one');
	await alice.press('#composer-input', 'Shift+Enter');
	await alice.type('#composer-input', 'line two');
	check(await alice.$eval('#composer-input', e => e.value) === 'line one\nline two', 'Shift+Enter: a new line');
	await alice.press('#composer-input', 'Enter');
	await waitText(bob, 'line one\nline two');
	check(await alice.$eval('#composer-input', e => e.value) === '', 'Enter sent it and cleared the box');

	// links
	await say(alice, 'docs at https://example.org/a?b=1. and javascript:alert(1) is not one');
	await waitText(bob, 'docs at https://example.org/a?b=1. and javascript:alert(1) is not one');
	const links = await bob.$$eval('#msg-list .msg-text a', as => as.map(a => [a.getAttribute('href'), a.rel, a.target, a.textContent]));
	check(links.length === 1 && links[0][0] === 'https://example.org/a?b=1' && /noopener/.test(links[0][1]) &&
		/noreferrer/.test(links[0][1]) && links[0][2] === '_blank', `one clickable link, safe: ${JSON.stringify(links)}`);

	// markup is text, and runs nothing
	const evil1 = '<img src=x onerror=alert(1)>';
	const evil2 = '<script>window.__pwned = 1; alert(2)</script><b>bold?</b>';
	await say(alice, evil1);
	await say(alice, evil2);
	await waitText(bob, evil1);
	await waitText(bob, evil2);
	await bob.waitForTimeout(300);
	const injected = await bob.evaluate(() => ({
		imgs: document.querySelectorAll('#msg-list .msg-text img, #msg-list .msg-text script, #msg-list .msg-text b').length,
		pwned: window.__pwned,
	}));
	check(injected.imgs === 0 && injected.pwned === undefined, 'markup in messages stays text: no img/script/b element, nothing ran');
	check(alice.dialogs.length === 0 && bob.dialogs.length === 0, `no alert() ran (${[...alice.dialogs, ...bob.dialogs]})`);
	await shot(alice, 'lobby-desktop');

	// ---- private ----
	// strangers in #lobby: presence lists only contacts, everyone online is asked for
	check(await bob.$('#user-list button[data-user="alice_1"]') === null &&
		await bob.$eval('#user-list', e => e.dataset.everyone) === 'contacts',
		'alice, a stranger to bob, is not in his live list (contacts only)');
	await bob.click('#users-refresh');
	await bob.waitForSelector('#user-list[data-everyone="shown"] button[data-user="alice_1"]');
	check(await bob.$('#user-list button[data-user="bob_22"]') !== null &&
		await bob.textContent('#online-count') === '2', '"show everyone online" lists alice and bob, 2 online');
	check(await bob.textContent('#users-refresh') === '刷新', 'the button now refreshes (刷新)');
	await bob.click('#user-list button[data-user="alice_1"]');
	await bob.waitForSelector('#private-list button[data-key="@alice_1"][aria-current="page"]');
	await say(bob, 'a secret for alice');
	await alice.waitForSelector('#private-list button[data-key="@bob_22"] .badge');
	check(await alice.$eval('#private-list button[data-key="@bob_22"] .badge', b => b.textContent) === '1',
		'the private chat shows 1 unread');
	check(await alice.$$eval('#msg-list .msg-text', els => els.every(e => e.textContent !== 'a secret for alice')),
		'the private message is not in #lobby');
	await openConv(alice, '@bob_22');
	await waitText(alice, 'a secret for alice');
	check(await alice.$('#private-list button[data-key="@bob_22"] .badge') === null, 'opening it clears the count');
	const look = await alice.evaluate(() => {
		const li = document.querySelector('#msg-list li.msg.private');
		const body = li && li.querySelector('.msg-body');
		return { tag: !!li?.querySelector('.private-tag'), bg: body && getComputedStyle(body).backgroundColor };
	});
	check(look.tag && look.bg && look.bg !== 'rgba(0, 0, 0, 0)', `a private message has a tinted bubble and a private tag (${look.bg})`);
	await say(alice, 'got it');
	await waitText(bob, 'got it');
	await shot(alice, 'private-desktop');

	// a notification for a private message while the tab is hidden; none for a group one
	await bob.evaluate(() => {
		window.__hidden = true;
		document.dispatchEvent(new Event('visibilitychange'));
	});
	await openConv(alice, '#lobby');
	await say(alice, 'group message while bob is away');
	await openConv(alice, '@bob_22');
	await say(alice, 'private message while bob is away');
	await bob.waitForFunction(() => window.__notes.length >= 1);
	await bob.waitForTimeout(300);
	const notes = await bob.evaluate(() => window.__notes);
	check(notes.length === 1 && notes[0].title.includes('alice_1') && notes[0].body === 'private message while bob is away',
		`one notification, for the private message: ${JSON.stringify(notes)}`);
	check(await bob.evaluate(() => document.title) === '(2) pier', 'the title counts what bob has not seen');
	await bob.evaluate(() => {
		window.__hidden = false;
		document.dispatchEvent(new Event('visibilitychange'));
	});

	// ---- rooms ----
	await alice.click('#join-toggle');
	await alice.fill('#join-room', 'dev');
	await alice.press('#join-room', 'Enter');
	await alice.waitForSelector('#room-list button[data-key="#dev"][aria-current="page"]');
	await say(alice, 'welcome to #dev');
	await shot(alice, 'room-created');
	await bob.click('#join-toggle');
	await bob.waitForSelector('#join-form .room-pick');
	await shot(bob, 'rooms-zh');
	await bob.click('#join-form .room-pick');
	await bob.waitForSelector('#room-list button[data-key="#dev"][aria-current="page"]');
	await waitText(bob, 'welcome to #dev');
	check(true, 'bob joined #dev from the room list and sees its history');
	await say(bob, 'thanks!');
	await waitText(alice, 'thanks!');
	await bob.click('#leave-button');
	await bob.waitForSelector('#room-list button[data-key="#dev"]', { state: 'detached' });
	check(await bob.$eval('#room-list button[aria-current="page"]', b => b.dataset.key) === '#lobby',
		'bob left #dev and is back in #lobby');

	// ---- a reload keeps the session; log out ends it ----
	await bob.reload();
	await waitOnline(bob);
	await bob.waitForSelector('#private-list button[data-key="@alice_1"]');
	check(true, 'after a reload bob is still logged in, with his private chat');
	await openConv(bob, '@alice_1');
	await waitText(bob, 'private message while bob is away');
	check((await texts(bob)).filter(t => t === 'a secret for alice').length === 1, 'and its history, once');
	await bob.click('#logout-button');
	await bob.waitForSelector('#login-button');
	await bob.reload();
	await bob.waitForSelector('#login-button');
	check(await bob.$('#shell') === null, 'after log-out a reload shows the login screen');

	// ---- history: scrolling up loads older messages without a jump ----
	const carol = await TcpClient.connect(pierd.tcp);
	check((await carol.request({ op: 'register', user: 'carol_33', password: PASSWORD })).status === 3, 'carol registers over TCP');
	check((await carol.request({ op: 'login', user: 'carol_33', password: PASSWORD })).status === 1, 'carol logs in over TCP');
	const N = 130;
	const sends = [];
	for (let i = 1; i <= N; i++)
		sends.push(carol.request({ op: 'send', to: '#lobby', text: `filler ${i}` }));
	const sent = await Promise.all(sends);
	check(sent.every(r => r.op === 'sent'), `carol sent ${N} messages`);
	await bob.fill('#login-user', 'bob_22');
	await bob.fill('#login-password', PASSWORD);
	await bob.click('#login-button');
	await bob.waitForSelector('#shell');
	await waitOnline(bob);
	await openConv(bob, '#lobby');
	await waitText(bob, `filler ${N}`);
	await bob.waitForFunction(() => !window.pier.store.convs.get('#lobby').loading);
	// at scrollTop 0, older messages arriving above must push scrollTop down by their height
	// (else the view would jump to them)
	let jumps = 0;
	for (let round = 0; round < 10; round++) {
		const before = await bob.evaluate(() => ({
			count: document.querySelectorAll('#msg-list li.msg').length,
			more: window.pier.store.convs.get('#lobby').more,
		}));
		if (before.more === false)
			break;
		await bob.evaluate(() => { document.querySelector('#messages').scrollTop = 0; });
		await bob.waitForFunction(n => document.querySelectorAll('#msg-list li.msg').length > n ||
			window.pier.store.convs.get('#lobby').more === false, before.count);
		await bob.waitForFunction(() => !window.pier.store.convs.get('#lobby').loading);
		const grew = await bob.evaluate(n => document.querySelectorAll('#msg-list li.msg').length > n, before.count);
		if (grew && await bob.evaluate(() => document.querySelector('#messages').scrollTop) <= 0)
			jumps++;
	}
	const all = (await texts(bob)).filter(t => t.startsWith('filler '));
	check(all.length === N && all.every((t, i) => t === `filler ${i + 1}`), `all ${N} older messages loaded, once each, in order (${all.length})`);
	check(jumps === 0, `the view stayed where the reader was while older messages came in (jumps: ${jumps})`);
	check(await bob.$('#msg-top .beginning') !== null, 'and it shows the beginning of #lobby');

	// a precise anchor check: the message at the top of the screen does not move
	await bob.reload();
	await waitOnline(bob);
	await waitText(bob, `filler ${N}`);
	await bob.waitForFunction(() => !window.pier.store.convs.get('#lobby').loading);
	const anchor = await bob.evaluate(() => {
		const sc = document.querySelector('#messages');
		sc.scrollTop = 450;       // just past the point that loads more
		const items = [...document.querySelectorAll('#msg-list li.msg')];
		const r = sc.getBoundingClientRect();
		const el = items.find(e => e.getBoundingClientRect().top >= r.top);
		return { id: el.dataset.id, top: el.getBoundingClientRect().top, count: items.length };
	});
	await bob.mouse.move(640, 300);
	await bob.mouse.wheel(0, -200);
	await bob.waitForFunction(n => document.querySelectorAll('#msg-list li.msg').length > n, anchor.count);
	await bob.waitForFunction(() => !window.pier.store.convs.get('#lobby').loading);
	await bob.waitForTimeout(100);
	const moved = await bob.evaluate(a => document.querySelector(`#msg-list li.msg[data-id="${a.id}"]`).getBoundingClientRect().top - a.top, anchor);
	check(Math.abs(moved - 200) <= 4, `older history arrived above without moving the view (moved ${moved.toFixed(1)} px for a 200 px scroll)`);

	// ---- phone size, dark ----
	const phone = await openPage(browser, pierd, {
		locale: 'en-US', viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true,
	});
	await phone.fill('#login-user', 'alice_1');
	await phone.fill('#login-password', PASSWORD);
	await phone.click('#login-button');
	await waitOnline(phone);
	await openConv(phone, '#lobby').catch(() => {});
	await phone.waitForSelector('#msg-list li.msg');
	const fits = await phone.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth &&
		document.querySelector('#composer-input').getBoundingClientRect().right <= window.innerWidth);
	check(fits, 'on a phone nothing is wider than the screen');
	await shot(phone, 'phone-lobby');
	await phone.click('#menu-button');
	await phone.waitForTimeout(350);
	check(await phone.$eval('#sidebar', e => e.getBoundingClientRect().left >= 0), 'the menu button opens the conversations');
	await shot(phone, 'phone-conversations');
	await phone.click('#private-list button[data-key="@bob_22"]');
	await phone.waitForTimeout(350);
	check(await phone.$eval('#sidebar', e => e.getBoundingClientRect().right <= 0), 'picking one closes the drawer');
	await shot(phone, 'phone-private');

	// another tab of bob's browser (its device: the private chat is end-to-end encrypted, and a
	// new browser would have to be approved first), in the dark
	const dark = await openTab(bob, pierd);
	await dark.emulateMedia({ colorScheme: 'dark' });
	await waitOnline(dark);
	await openConv(dark, '@alice_1');
	await waitText(dark, 'got it');
	await shot(dark, 'private-dark-zh');
	await openConv(dark, '#lobby');
	await waitText(dark, `filler ${N}`);
	await shot(dark, 'lobby-dark-zh');

	for (const p of [alice, bob, phone, dark])
		check(p.problems.length === 0, `no errors in the page: ${JSON.stringify(p.problems)}`);
	await pierd.stop();
});
