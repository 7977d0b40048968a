// actions.mjs - what happens to a message after it was sent, in the browser (issue 9): the
// message menu (its button with the keyboard, the mouse, a right click), replies with their
// quote and the jump to the original (history loaded until it is there), edits, recalls (撤回:
// live for the other, after a reload, in a quote, and refused past the server's window, which
// the client then keeps), reactions toggled by both users with counts and names (and a typed
// one checked before it goes), @name completion, the mention's highlight, sidebar count and
// notification while hidden, and changes made while a client was offline applied when it
// reconnects. Two users, one with an English and one with a Chinese browser, in #lobby and in
// a private chat. Screenshots go to $PIER_SCREENSHOTS.

import {
	check, launch, openConv, openPage, PASSWORD, Pierd, registerAndLogin, run, showOnline, say, shot, sleep,
	TcpClient, waitOnline, waitText,
} from './lib.mjs';

const RECALL_WINDOW = 60;     // pierd's --recall-window here (the login reply tells the client)

/** A recorder around the real Notification (the permission is granted in the context), and a
 * switch for document.hidden. */
function spyNotifications() {
	window.__notes = [];
	const Real = window.Notification;
	window.Notification = class extends Real {
		constructor(title, opts) {
			window.__notes.push({ title, body: opts && opts.body });
			super(title, opts);
		}
	};
	Object.defineProperty(Document.prototype, 'hidden', { get: () => !!window.__hidden, configurable: true });
}

async function userPage(browser, pierd, locale, user) {
	const page = await openPage(browser, pierd, { locale, permissions: ['notifications', 'clipboard-read', 'clipboard-write'] });
	await page.addInitScript(spyNotifications);
	await page.reload();
	await registerAndLogin(page, user);
	return page;
}

const esc = s => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The row of the confirmed message whose text is exactly `text`. */
function row(page, text) {
	return page.locator('#msg-list li.msg:not(.pending)', {
		has: page.locator('.msg-text', { hasText: new RegExp('^' + esc(text) + '$') }),
	});
}

/** Opens the menu of the message `text` with the mouse (hover, then its "…" button). */
async function openMenu(page, text) {
	const li = row(page, text);
	await li.scrollIntoViewIfNeeded();
	await li.hover();
	await li.locator('.msg-more').click();
	await page.waitForSelector('#msg-menu:not([hidden])');
}

async function menuItems(page) {
	return page.$$eval('#msg-menu .menu-item', els => els.map(e => e.id));
}

/** The reaction chips of the message `text`: [{emoji, count, mine, label}]. */
function chips(page, text) {
	return row(page, text).locator('.reaction').evaluateAll(els => els.map(e => ({
		emoji: e.dataset.emoji, count: Number(e.querySelector('.reaction-count').textContent),
		mine: e.getAttribute('aria-pressed') === 'true', label: e.getAttribute('aria-label'),
	})));
}

/** Waits until the message `text` has the reaction `emoji` `count` times (0: none). */
async function waitChip(page, text, emoji, count) {
	await page.waitForFunction(([t, e, n]) => {
		const li = [...document.querySelectorAll('#msg-list li.msg')].find(x => x.querySelector('.msg-text')?.textContent === t);
		const chip = li && [...li.querySelectorAll('.reaction')].find(c => c.dataset.emoji === e);
		return n === 0 ? !!li && !chip : !!chip && chip.querySelector('.reaction-count').textContent === String(n);
	}, [text, emoji, count]);
}

/** Waits for the recalled line of the message with id `id`. */
async function waitRecalled(page, id) {
	await page.waitForSelector(`#msg-list li.msg.recalled[data-id="${id}"]`);
	return page.textContent(`#msg-list li.msg.recalled[data-id="${id}"] .recalled-text span`);
}

const idOf = (page, text) => row(page, text).getAttribute('data-id').then(Number);

async function tcpUser(pierd, user) {
	const c = await TcpClient.connect(pierd.tcp);
	check((await c.request({ op: 'register', user, password: PASSWORD })).status === 3, `${user} registers over TCP`);
	check((await c.request({ op: 'login', user, password: PASSWORD })).status === 1, `${user} logs in over TCP`);
	return c;
}

/** Cuts `page` off the server (its socket closes, new ones are refused); returns reconnect(). */
async function cutOff(page) {
	let blocked = true;
	await page.routeWebSocket(/\/ws$/, ws => {
		if (blocked)
			ws.close();
		else
			ws.connectToServer();
	});
	await page.evaluate(() => window.pier.client.ws.close());
	await page.waitForSelector('#banner[data-state="offline"]');
	return async () => {
		blocked = false;
		// not a click: the client may have got through by itself meanwhile, its button gone
		await page.evaluate(() => window.pier.client.retryNow());
		await waitOnline(page);
	};
}

run('e2e/actions', 400, async () => {
	const pierd = await new Pierd().start({ extra: ['--recall-window', String(RECALL_WINDOW)] });
	const browser = await launch();
	const alice = await userPage(browser, pierd, 'en-US', 'alice_1');
	const bob = await userPage(browser, pierd, 'zh-CN', 'bob_22');
	const carol = await tcpUser(pierd, 'carol_33');

	// ---- a reply, with the keyboard; the quote; the jump to the original ----
	const original = 'who is coming to the 3 pm review?';
	await say(alice, original);
	await waitText(bob, original);
	for (let i = 1; i <= 130; i++)
		await carol.request({ op: 'send', to: '#lobby', text: `filler ${i}` });
	await waitText(bob, 'filler 130');
	await row(bob, original).scrollIntoViewIfNeeded();
	await row(bob, original).locator('.msg-more').focus();
	check(await bob.$eval('#msg-list li.msg:focus-within .msg-more', b => getComputedStyle(b).opacity === '1'),
		'the "…" button of a message shows when it has the focus');
	await bob.keyboard.press('Enter');
	await bob.waitForSelector('#msg-menu:not([hidden])');
	check(await bob.evaluate(() => document.activeElement.id) === 'menu-reply', 'Enter opens the menu, the focus on its first action (回复)');
	check(await bob.$eval('#msg-menu', m => m.getAttribute('role') === 'menu' &&
		[...m.querySelectorAll('.menu-item')].every(i => i.getAttribute('role') === 'menuitem')), 'a WAI-ARIA menu');
	const items = await menuItems(bob);
	check(JSON.stringify(items) === JSON.stringify(['menu-reply', 'menu-copy']),
		`someone else's message: reply and copy, neither edit nor recall (${items})`);
	check(await bob.textContent('#menu-reply') === '回复', 'zh: the menu says 回复');
	await bob.keyboard.press('ArrowDown');
	check(await bob.evaluate(() => document.activeElement.id) === 'menu-copy', 'arrow keys move in the menu');
	await bob.keyboard.press('Escape');
	await bob.waitForSelector('#msg-menu', { state: 'hidden' });
	check(await bob.evaluate(() => document.activeElement.classList.contains('msg-more')), 'Escape closes it and gives the focus back');
	await bob.keyboard.press('Enter');
	await bob.waitForSelector('#msg-menu:not([hidden])');
	await bob.keyboard.press('Enter');
	await bob.waitForSelector('#composer-context:not([hidden])');
	check(await bob.textContent('#composer-context-text') === '回复 alice_1' &&
		await bob.textContent('#composer-context .composer-context-quote') === original,
		'Reply: the composer shows whom and what it answers');
	check(await bob.evaluate(() => document.activeElement.id) === 'composer-input', 'the focus goes to the text box');
	await shot(bob, 'actions-reply-bar-zh');
	await bob.click('#composer-context-cancel');
	await bob.waitForSelector('#composer-context', { state: 'hidden' });
	check(true, 'the reply can be cancelled');
	await openMenu(bob, original);
	await bob.click('#menu-reply');
	await say(bob, '我会来');
	await waitText(bob, '我会来');
	await bob.waitForFunction(() => !document.querySelector('#msg-list li.msg.pending'));
	const quoteOf = (page, text) => row(page, text).locator('.msg-quote').evaluate(q => ({
		from: q.querySelector('.quote-from').textContent, text: q.querySelector('.quote-text').textContent,
		to: Number(q.dataset.replyTo), recalled: q.classList.contains('recalled'),
	}));
	const origId = await idOf(bob, original);
	let q = await quoteOf(bob, '我会来');
	check(q.from === 'alice_1' && q.text === original && q.to === origId, `the reply shows its quote: ${JSON.stringify(q)}`);
	check(await bob.$('#composer-context[hidden]') !== null, 'sent: the reply bar is gone');
	await waitText(alice, '我会来');
	q = await quoteOf(alice, '我会来');
	check(q.from === 'alice_1' && q.text === original, 'alice sees the quote too');

	await alice.reload();
	await waitOnline(alice);
	await waitText(alice, '我会来');
	check(await alice.$(`#msg-list li.msg[data-id="${origId}"]`) === null, 'after a reload the original is not loaded (130 messages back)');
	await row(alice, '我会来').locator('.msg-quote').click();
	await alice.waitForSelector(`#msg-list li.msg.flash[data-id="${origId}"]`);
	const seen = await alice.$eval(`#msg-list li.msg[data-id="${origId}"]`, li => {
		const r = li.getBoundingClientRect();
		const v = document.querySelector('#messages').getBoundingClientRect();
		return { inView: r.top >= v.top && r.bottom <= v.bottom, focused: document.activeElement === li };
	});
	check(seen.inView && seen.focused, `a click on the quote loads history until the original is there, shows and focuses it (${JSON.stringify(seen)})`);
	await shot(alice, 'actions-quote-jump');
	await alice.keyboard.press('Shift+F10');
	await alice.waitForSelector('#msg-menu:not([hidden])');
	check(await alice.evaluate(() => document.activeElement.id) === 'menu-reply', 'Shift+F10 on the focused message opens its menu');
	await alice.click('#menu-copy');
	await alice.waitForSelector('.toast:not([hidden])');
	check(await alice.textContent('.toast') === 'Copied.' && await alice.evaluate(() => navigator.clipboard.readText()) === original,
		'Copy text puts the text on the clipboard');
	const early = 'an early message';
	await say(alice, early);
	await waitText(alice, early);
	const earlyAt = Date.now();

	// ---- edit ----
	await say(alice, 'see you at 3');
	await waitText(bob, 'see you at 3');
	await waitText(alice, 'see you at 3');
	await openMenu(alice, 'see you at 3');
	const mine = await menuItems(alice);
	check(JSON.stringify(mine) === JSON.stringify(['menu-reply', 'menu-edit', 'menu-recall', 'menu-copy']),
		`her own message: reply, edit, recall, copy (${mine})`);
	await shot(alice, 'actions-menu');
	await alice.click('#menu-edit');
	await alice.waitForSelector('#composer-context.editing:not([hidden])');
	check(await alice.inputValue('#composer-input') === 'see you at 3', 'Edit puts the text in the composer');
	check(await alice.textContent('#composer-context-text') === 'Editing your message', 'and says so');
	await alice.fill('#composer-input', 'see you at 4');
	await alice.press('#composer-input', 'Enter');
	await waitText(alice, 'see you at 4');
	await waitText(bob, 'see you at 4');
	const edited = p => row(p, 'see you at 4').locator('.msg-text').evaluate(e => getComputedStyle(e, '::after').content);
	check(/\(edited\)/.test(await edited(alice)), `alice: marked (edited): ${await edited(alice)}`);
	check(/（已编辑）/.test(await edited(bob)), `bob sees the new text live, marked （已编辑）: ${await edited(bob)}`);
	check(await row(bob, 'see you at 3').count() === 0, 'the old text is gone');
	check(await alice.$('#composer-context[hidden]') !== null && await alice.inputValue('#composer-input') === '',
		'saved: the composer is empty again');
	await alice.press('#composer-input', 'ArrowUp');
	await alice.waitForSelector('#composer-context.editing:not([hidden])');
	check(await alice.inputValue('#composer-input') === 'see you at 4', '↑ in the empty composer edits her last message');
	await alice.press('#composer-input', 'Escape');
	await alice.waitForSelector('#composer-context', { state: 'hidden' });
	check(await alice.inputValue('#composer-input') === '', 'Escape cancels the edit');
	await shot(bob, 'actions-edited-zh');

	// ---- recall (撤回), live, in a quote, after a reload ----
	await say(alice, 'oops, wrong chat');
	await waitText(bob, 'oops, wrong chat');
	await waitText(alice, 'oops, wrong chat');
	await openMenu(bob, 'oops, wrong chat');
	await bob.click('#menu-reply');
	await say(bob, '什么？');
	await waitText(alice, '什么？');
	const oopsId = await idOf(alice, 'oops, wrong chat');
	await openMenu(alice, 'oops, wrong chat');
	await alice.click('#menu-recall');
	let line = await waitRecalled(alice, oopsId);
	check(line === 'You recalled a message', `alice: "${line}"`);
	line = await waitRecalled(bob, oopsId);
	check(line === 'alice_1 撤回了一条消息', `bob, live: "${line}"`);
	for (const p of [alice, bob])
		check(await row(p, 'oops, wrong chat').count() === 0, 'the text is gone from the page');
	await bob.waitForFunction(() => [...document.querySelectorAll('#msg-list .msg-quote.recalled')].length === 1);
	q = await quoteOf(bob, '什么？');
	check(q.recalled && q.text === '原消息已撤回', `the reply's quote says the original was recalled: ${JSON.stringify(q)}`);
	await shot(alice, 'actions-recalled');
	await shot(bob, 'actions-recalled-zh');
	await bob.reload();
	await waitOnline(bob);
	line = await waitRecalled(bob, oopsId);
	check(line === 'alice_1 撤回了一条消息', `after a reload (history): "${line}"`);
	q = await quoteOf(bob, '什么？');
	check(q.recalled, 'and the quote too');
	check(/（已编辑）/.test(await edited(bob)), 'the edit is still marked after the reload');

	// a long press on a touch screen opens the menu too
	const target = await row(bob, 'see you at 4').locator('.msg-text').boundingBox();
	await row(bob, 'see you at 4').locator('.msg-text').dispatchEvent('pointerdown', {
		pointerType: 'touch', clientX: target.x + 4, clientY: target.y + 4, isPrimary: true,
	});
	await bob.waitForSelector('#msg-menu:not([hidden])');
	check(true, 'a long press (touch) on a message opens its menu');
	await bob.keyboard.press('Escape');
	await bob.waitForSelector('#msg-menu', { state: 'hidden' });

	// ---- reactions ----
	await openMenu(bob, 'see you at 4');
	await bob.click('#msg-menu .quick-react[data-emoji="👍"]');
	await waitChip(bob, 'see you at 4', '👍', 1);
	await waitChip(alice, 'see you at 4', '👍', 1);
	let c = (await chips(bob, 'see you at 4'))[0];
	check(c.mine && /bob_22/.test(c.label), `bob's 👍: his own (pressed), named: ${JSON.stringify(c)}`);
	c = (await chips(alice, 'see you at 4'))[0];
	check(!c.mine && c.count === 1, `alice sees 👍 1, not hers: ${JSON.stringify(c)}`);
	await row(alice, 'see you at 4').locator('.reaction[data-emoji="👍"]').click();
	await waitChip(alice, 'see you at 4', '👍', 2);
	await waitChip(bob, 'see you at 4', '👍', 2);
	c = (await chips(bob, 'see you at 4'))[0];
	check(c.mine && /alice_1/.test(c.label) && /bob_22/.test(c.label), `a click on the chip adds hers: 2, both named (${c.label})`);
	c = (await chips(alice, 'see you at 4'))[0];
	check(c.mine, 'alice: hers now (pressed)');
	await shot(alice, 'actions-reactions');
	await row(bob, 'see you at 4').locator('.reaction[data-emoji="👍"]').click();
	await waitChip(bob, 'see you at 4', '👍', 1);
	await waitChip(alice, 'see you at 4', '👍', 1);
	c = (await chips(bob, 'see you at 4'))[0];
	check(!c.mine && !/bob_22/.test(c.label), `bob toggles his off: 1 left, alice's (${c.label})`);
	check((await chips(alice, 'see you at 4'))[0].mine, 'alice\'s stays hers');
	await openMenu(bob, 'see you at 4');
	await bob.click('#menu-react-more');
	await bob.waitForSelector('#emoji-picker:not([hidden])');
	await bob.keyboard.press('ArrowRight');
	await bob.keyboard.press('ArrowDown');
	check(await bob.evaluate(() => document.activeElement.dataset.emoji) === '😍', 'arrow keys move in the emoji grid (8 a row)');
	await bob.fill('#emoji-custom', 'a b');
	await bob.press('#emoji-custom', 'Enter');
	await bob.waitForSelector('#emoji-custom[aria-invalid="true"]');
	check(/不能有空格/.test(await bob.textContent('#emoji-custom-status')), `a typed reaction with a space is refused before it goes: "${await bob.textContent('#emoji-custom-status')}"`);
	await shot(bob, 'actions-emoji-picker-zh');
	await bob.fill('#emoji-custom', '+1');
	await bob.press('#emoji-custom', 'Enter');
	await waitChip(alice, 'see you at 4', '+1', 1);
	await waitChip(bob, 'see you at 4', '+1', 1);
	check((await chips(alice, 'see you at 4')).length === 2, 'a typed one (+1) is added as a second chip');
	await bob.keyboard.press('Escape');

	// ---- mentions: completion, highlight, sidebar, notification ----
	await say(alice, '/join #dev');
	await alice.waitForSelector('#room-list button[data-key="#dev"][aria-current="page"]');
	await alice.evaluate(() => { window.__hidden = true; });
	await bob.click('#composer-input');
	await bob.locator('#composer-input').pressSequentially('@');
	await bob.waitForSelector('#mention-list:not([hidden])');
	const names = await bob.$$eval('#mention-list [role="option"]', els => els.map(e => e.dataset.user));
	check(names.includes('alice_1') && names.includes('carol_33') && !names.includes('bob_22'),
		`'@' lists the people bob knows, not himself: ${names}`);
	check(await bob.getAttribute('#composer-input', 'aria-expanded') === 'true' &&
		await bob.getAttribute('#composer-input', 'aria-activedescendant') === 'mention-opt-0', 'the text box controls the list');
	await bob.keyboard.press('ArrowDown');
	check(await bob.getAttribute('#composer-input', 'aria-activedescendant') === 'mention-opt-1', '↓ moves in it');
	await bob.locator('#composer-input').pressSequentially('al');
	await bob.waitForFunction(() => [...document.querySelectorAll('#mention-list [role="option"]')].map(e => e.dataset.user).join() === 'alice_1');
	await shot(bob, 'actions-mention-complete-zh');
	await bob.keyboard.press('Enter');
	check(await bob.inputValue('#composer-input') === '@alice_1 ', `Enter inserts the name: "${await bob.inputValue('#composer-input')}"`);
	check(await bob.$('#mention-list[hidden]') !== null, 'and closes the list');
	await bob.locator('#composer-input').pressSequentially('please look at the agenda');
	await bob.press('#composer-input', 'Enter');
	const mentionText = '@alice_1 please look at the agenda';
	await waitText(bob, mentionText);
	await alice.waitForFunction(() => window.__notes.length > 0);
	const notes = await alice.evaluate(() => window.__notes);
	check(notes.length === 1 && notes[0].title === 'bob_22 mentioned you in #lobby' && notes[0].body === mentionText,
		`alice, away, gets a notification for the mention in a room: ${JSON.stringify(notes)}`);
	await alice.waitForSelector('#room-list button[data-key="#lobby"] .badge.mention');
	const badge = await alice.$eval('#room-list button[data-key="#lobby"]', b => ({
		mention: b.querySelector('.badge.mention').getAttribute('aria-label'),
		unread: b.querySelector('.badge:not(.mention)')?.textContent,
	}));
	check(badge.mention === '1 unread mentioning you' && badge.unread === '1', `the sidebar counts it apart: ${JSON.stringify(badge)}`);
	await shot(alice, 'actions-mention-sidebar');
	await alice.evaluate(() => { window.__hidden = false; });
	await openConv(alice, '#lobby');
	await waitText(alice, mentionText);
	check(await alice.inputValue('#composer-input') === '', 'the /join line did not stay behind as #lobby\'s draft');
	const hl = await row(alice, mentionText).evaluate(li => ({
		cls: li.classList.contains('mentioned'), me: li.querySelector('.mention.to-me')?.textContent,
	}));
	check(hl.cls && hl.me === '@alice_1', `the message stands out, her name marked: ${JSON.stringify(hl)}`);
	check(!await row(bob, mentionText).evaluate(li => li.classList.contains('mentioned')), 'not on the sender\'s side');
	await alice.waitForSelector('#room-list button[data-key="#lobby"] .badge.mention', { state: 'detached' });
	check(true, 'read: the mention count goes');
	await shot(alice, 'actions-mention');
	await bob.evaluate(() => { window.__hidden = true; });
	await say(alice, 'no mention here, @carol_33');
	await waitText(bob, 'no mention here, @carol_33');
	check((await bob.evaluate(() => window.__notes)).length === 0, 'a room message that mentions someone else notifies nobody else');
	await bob.evaluate(() => { window.__hidden = false; });

	// ---- a private chat ----
	await showOnline(bob, 'alice_1');
	await bob.click('#user-list button[data-user="alice_1"]');
	await bob.waitForSelector('#private-list button[data-key="@alice_1"][aria-current="page"]');
	await say(bob, '私聊第一条');
	await say(bob, '私聊要撤回的');
	await alice.waitForSelector('#private-list button[data-key="@bob_22"]');
	await openConv(alice, '@bob_22');
	await waitText(alice, '私聊要撤回的');
	const first = row(alice, '私聊第一条');
	const box = await first.locator('.msg-text').boundingBox();
	await alice.mouse.click(box.x + 5, box.y + 5, { button: 'right' });
	await alice.waitForSelector('#msg-menu:not([hidden])');
	check(true, 'a right click on a message opens its menu');
	await alice.click('#menu-reply');
	await say(alice, 'replying privately');
	await waitText(bob, 'replying privately');
	q = await quoteOf(bob, 'replying privately');
	check(q.from === 'bob_22' && q.text === '私聊第一条', `private: the reply's quote (${JSON.stringify(q)})`);
	await row(bob, 'replying privately').locator('.msg-quote').click();
	await bob.waitForSelector(`#msg-list li.msg.flash[data-id="${q.to}"]`);
	check(true, 'private: a click on the quote highlights the original');
	await openMenu(alice, 'replying privately');
	await alice.click('#menu-edit');
	await alice.fill('#composer-input', 'replying privately, edited');
	await alice.press('#composer-input', 'Enter');
	await waitText(bob, 'replying privately, edited');
	check(/（已编辑）/.test(await row(bob, 'replying privately, edited').locator('.msg-text')
		.evaluate(e => getComputedStyle(e, '::after').content)), 'private: the edit shows, marked');
	const recallId = await idOf(bob, '私聊要撤回的');
	await openMenu(bob, '私聊要撤回的');
	await bob.click('#menu-recall');
	line = await waitRecalled(alice, recallId);
	check(line === 'bob_22 recalled a message', `private: alice sees "${line}"`);
	check((await waitRecalled(bob, recallId)) === '你撤回了一条消息', 'bob: 你撤回了一条消息');
	await openMenu(alice, '私聊第一条');
	await alice.click('#msg-menu .quick-react[data-emoji="❤️"]');
	await waitChip(bob, '私聊第一条', '❤️', 1);
	await row(bob, '私聊第一条').locator('.reaction[data-emoji="❤️"]').click();
	await waitChip(alice, '私聊第一条', '❤️', 2);
	await waitChip(bob, '私聊第一条', '❤️', 2);
	await row(alice, '私聊第一条').locator('.reaction[data-emoji="❤️"]').click();
	await waitChip(bob, '私聊第一条', '❤️', 1);
	c = (await chips(bob, '私聊第一条'))[0];
	check(c.mine && !/alice_1/.test(c.label), `private: reactions toggled by both, 1 left (bob's): ${JSON.stringify(c)}`);
	await shot(alice, 'actions-private');
	await shot(bob, 'actions-private-zh');

	// ---- changes made while bob was offline ----
	await say(alice, 'recall me while he is away');
	await waitText(bob, 'recall me while he is away');
	await waitText(alice, 'recall me while he is away');
	const awayId = await idOf(alice, 'recall me while he is away');
	await openConv(bob, '#lobby');
	const reconnect = await cutOff(bob);
	await openMenu(alice, 'replying privately, edited');
	await alice.click('#menu-edit');
	await alice.fill('#composer-input', 'edited while bob was away');
	await alice.press('#composer-input', 'Enter');
	await waitText(alice, 'edited while bob was away');
	await openMenu(alice, 'recall me while he is away');
	await alice.click('#menu-recall');
	await waitRecalled(alice, awayId);
	await openConv(alice, '#lobby');
	await openMenu(alice, 'see you at 4');
	await alice.click('#menu-edit');
	await alice.fill('#composer-input', 'see you at 5');
	await alice.press('#composer-input', 'Enter');
	await waitText(alice, 'see you at 5');
	await openMenu(alice, '我会来');
	await alice.click('#msg-menu .quick-react[data-emoji="😂"]');
	await waitChip(alice, '我会来', '😂', 1);
	await bob.waitForTimeout(300);
	check(await row(bob, 'see you at 4').count() === 1 && await bob.evaluate(() => window.pier.client.state !== 'online'),
		'bob, cut off, still shows the old text');
	await reconnect();
	await waitText(bob, 'see you at 5');
	await waitChip(bob, '我会来', '😂', 1);
	check(await row(bob, 'see you at 4').count() === 0, 'back online: the room edit made meanwhile is applied');
	check(true, 'and the reaction');
	await shot(bob, 'actions-after-reconnect-zh');
	await openConv(bob, '@alice_1');
	await waitText(bob, 'edited while bob was away');
	line = await waitRecalled(bob, awayId);
	check(line === 'alice_1 撤回了一条消息', `the private edit and recall too: "${line}"`);
	check(await row(bob, 'recall me while he is away').count() === 0, 'the recalled text is gone');

	// ---- past the server's recall window ----
	await openConv(alice, '#lobby');
	const wait = earlyAt + (RECALL_WINDOW + 2) * 1000 - Date.now();
	if (wait > 0) {
		console.log(`# waiting ${Math.ceil(wait / 1000)} s for the recall window to pass`);
		await sleep(wait);
	}
	await openMenu(alice, early);
	check(!(await menuItems(alice)).includes('menu-recall'),
	      `past the server's window (${RECALL_WINDOW} s, from the login reply) the menu no longer offers to recall`);
	check(await row(alice, early).count() === 1, 'the message stays');
	await alice.keyboard.press('Escape');
	await alice.emulateMedia({ colorScheme: 'dark' });
	await row(alice, mentionText).scrollIntoViewIfNeeded();
	await shot(alice, 'actions-dark');

	for (const p of [alice, bob])
		check(p.problems.length === 0, `no errors in the page: ${JSON.stringify(p.problems)}`);
	carol.close();
	await pierd.stop();
});
