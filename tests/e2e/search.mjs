// search.mjs - search in the browser, in English (A) and Chinese (B). A TCP user (bob, with a
// display name that every result shows with his name) fills #lobby with Chinese, Japanese,
// Korean and English messages, an old one far back (150 messages later), markup that must stay
// text, and a private message to A (sent before A had a device: in plaintext, searchable). A
// opens the search
// from the header button: 电影 finds what A may read, newest first, each match in <mark>; the
// scope "only #lobby" leaves the private one out; a one-letter query is refused with a
// readable text; Ctrl+K opens, Escape closes and the focus goes back. A click on the old result
// opens #lobby and loads older history until the message is on screen, flashing; a private
// result opens the private chat. B (Chinese, not in bob's private chat) finds the room's
// messages only, in a Chinese dialog, on a desktop and on a phone-sized screen. Screenshots go
// to $PIER_SCREENSHOTS.

import {
	check, launch, openPage, PASSWORD, Pierd, registerAndLogin, run, shot, TcpClient, waitOnline,
} from './lib.mjs';

const A = 'anna_search';
const B = 'bei_search';
const BOB = 'bob_search';
const FILLERS = 150;

/** Types q, submits, and waits until the status settles; resolves with what is shown. */
async function search(page, q) {
	await page.fill('#search-input', q);
	await page.$eval('#search-status', e => { e.dataset.kind = ''; });
	await page.click('#search-go');
	await page.waitForFunction(() => ['ok', 'empty', 'error'].includes(document.querySelector('#search-status')?.dataset.kind));
	return page.evaluate(() => ({
		kind: document.querySelector('#search-status').dataset.kind,
		status: document.querySelector('#search-status').textContent,
		ids: [...document.querySelectorAll('#search-results .sr-item')].map(e => Number(e.dataset.id)),
		keys: [...document.querySelectorAll('#search-results .sr-item')].map(e => e.dataset.key),
		marks: [...document.querySelectorAll('#search-results mark')].map(e => e.textContent),
		texts: [...document.querySelectorAll('#search-results .sr-text')].map(e => e.textContent),
		from: [...document.querySelectorAll('#search-results .sr-from')].map(e => e.textContent),
		injected: document.querySelectorAll('#search-results img, #search-results script, #search-results b').length,
		more: !document.querySelector('#search-more').hidden,
	}));
}

const sameList = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

run('e2e/search', 300, async () => {
	const pierd = await new Pierd().start();
	const bob = await TcpClient.connect(pierd.tcp);
	await bob.request({ op: 'register', user: BOB, password: PASSWORD });
	check((await bob.request({ op: 'login', user: BOB, password: PASSWORD })).status === 1, 'bob logs in over TCP');
	check((await bob.request({ op: 'profile', display: '鲍勃' })).display === '鲍勃', 'bob takes a display name');

	// A registers before bob writes to A privately, and opens the browser (which makes A's
	// device) after: the private message was sent in plaintext and the server can search it;
	// private messages to a user with a device are end-to-end encrypted and never found
	const pre = await TcpClient.connect(pierd.tcp);
	check((await pre.request({ op: 'register', user: A, password: PASSWORD })).status === 3, `${A} registers over TCP`);
	pre.close();
	const browser = await launch();
	const bz = await openPage(browser, pierd, { locale: 'zh-CN' });
	await registerAndLogin(bz, B);

	const send = async (to, text) => (await bob.request({ op: 'send', to, text })).id;
	const old = await send('#lobby', '很久以前看过的一部老电影');
	for (let i = 0; i < FILLERS; i++)
		await send('#lobby', `filler message ${i}`);
	const ja = await send('#lobby', '昨日、映画館で電影と映画の話をした');
	const ko = await send('#lobby', '이 문서를 번역을 해 주세요');
	const evil = await send('#lobby', '好电影 <img src=x onerror=alert(1)> <b>bold</b> <script>alert(2)</script>');
	const zh = await send('#lobby', '我们今天晚上去看电影吧');
	const pm = await send('@' + A, '私聊：电影票已经买好了');
	const a = await openPage(browser, pierd, { locale: 'en-US' });
	await a.fill('#login-user', A);
	await a.fill('#login-password', PASSWORD);
	await a.click('#login-button');
	await waitOnline(a);
	await a.waitForFunction(id => window.pier.store.lastId >= id, pm);

	// ---- A: the dialog from the header ----
	const btn = await a.$eval('#search-button', e => ({
		label: e.getAttribute('aria-label'), popup: e.getAttribute('aria-haspopup'), inHead: !!e.closest('.chat-head'),
	}));
	check(btn.label === 'Search messages' && btn.popup === 'dialog' && btn.inHead,
		`a search button in the header, labelled: ${JSON.stringify(btn)}`);
	await a.click('#search-button');
	await a.waitForSelector('#search-dialog[open]');
	check(await a.evaluate(() => document.activeElement?.id) === 'search-input', 'the search box has the focus');
	check(await a.$eval('#search-title', e => e.textContent) === 'Search messages', 'an English title');

	let r = await search(a, '电影');
	check(sameList(r.ids, [pm, zh, evil, old]), `电影: the private message, then #lobby's, newest first (${r.ids} / ${[pm, zh, evil, old]})`);
	check(r.marks.length >= 4 && r.marks.every(m => m === '电影'), `every match is marked, only it: ${JSON.stringify(r.marks)}`);
	check(r.injected === 0 && r.texts.some(t => t.includes('<img src=x onerror=alert(1)>')),
		'markup in a message is shown as text, never made into elements');
	check(r.status === '4 messages', `the count is said: ${r.status}`);
	check(r.from.length === 4 && r.from.every(f => f === '鲍勃 (bob_search)'),
		`the sender with its display name: ${JSON.stringify(r.from)}`);
	check(r.keys[0] === '@' + BOB && r.keys[1] === '#lobby', `results know their conversation: ${r.keys}`);
	await shot(a, 'search-en-results');

	// scope: only the conversation on screen (#lobby)
	await a.selectOption('#search-scope', '#lobby');
	await a.waitForFunction(() => document.querySelector('#search-status')?.dataset.kind === 'ok' &&
		document.querySelectorAll('#search-results .sr-item').length === 3);
	r = await search(a, '电影');
	check(sameList(r.ids, [zh, evil, old]), `only in #lobby: ${r.ids}`);
	await a.selectOption('#search-scope', '');

	r = await search(a, '映画');
	check(sameList(r.ids, [ja]) && sameList(r.marks, ['映画', '映画']), `Japanese: ${JSON.stringify(r)}`);
	r = await search(a, '번역');
	check(sameList(r.ids, [ko]) && sameList(r.marks, ['번역']), `Korean inside 번역을: ${JSON.stringify(r.marks)}`);
	r = await search(a, '影');
	check(sameList(r.ids, [pm, zh, evil, ja, old]) && r.marks.every(m => m === '影'),
		`one character (電影 has it too): ${r.ids}`);
	r = await search(a, 'filler');
	check(r.ids.length === 30 && r.more, 'a page of 30, and older results to load');
	await a.click('#search-more');
	await a.waitForFunction(() => document.querySelectorAll('#search-results .sr-item').length === 60);
	check(true, 'older results are appended');
	r = await search(a, 'a');
	check(r.kind === 'error' && r.status.startsWith('Type a word of two or more letters'), `one letter: "${r.status}"`);
	r = await search(a, 'nothing like this');
	check(r.kind === 'empty' && r.status === 'No messages match “nothing like this”.', `nothing found: "${r.status}"`);

	// Escape closes and the focus goes back to the button; Ctrl+K opens again
	await a.keyboard.press('Escape');
	await a.waitForFunction(() => !document.querySelector('#search-dialog').open);
	check(await a.evaluate(() => document.activeElement?.id) === 'search-button', 'Escape closes; the focus is back on the button');
	await a.click('#composer-input');
	await a.keyboard.press('Control+k');
	await a.waitForSelector('#search-dialog[open]');
	check(true, 'Ctrl+K opens the search');

	// ---- A: a click jumps to the message, loading older history as needed ----
	// (after a reload the page holds only the newest page of #lobby, not the old message)
	await a.keyboard.press('Escape');
	await a.reload();
	await a.waitForSelector('#shell');
	await waitOnline(a);
	await a.waitForFunction(() => window.pier.store.convs.get('#lobby')?.messages.length > 0 &&
		!window.pier.store.convs.get('#lobby').loading);
	await a.click('#search-button');
	r = await search(a, '老电影');
	check(sameList(r.ids, [old]), '老电影 finds the old message only');
	const loadedBefore = await a.evaluate(() => window.pier.store.convs.get('#lobby').messages.length);
	await a.click(`#search-results .sr-item[data-id="${old}"]`);
	await a.waitForFunction(() => !document.querySelector('#search-dialog').open);
	await a.waitForSelector(`#msg-list li.msg[data-id="${old}"].search-found`);
	const jump = await a.evaluate(id => {
		const el = document.querySelector(`#msg-list li.msg[data-id="${id}"]`);
		const box = el.getBoundingClientRect();
		const view = document.querySelector('#messages').getBoundingClientRect();
		return { active: window.pier.store.activeKey, inView: box.top >= view.top && box.bottom <= view.bottom,
			loaded: window.pier.store.convs.get('#lobby').messages.length };
	}, old);
	check(jump.active === '#lobby' && jump.inView, `#lobby opened with the old message in view: ${JSON.stringify(jump)}`);
	check(jump.loaded > loadedBefore && loadedBefore < FILLERS,
		`older history was loaded to reach it (${loadedBefore} -> ${jump.loaded})`);
	await shot(a, 'search-en-jump');

	await a.click('#search-button');
	r = await search(a, '电影票');
	await a.click(`#search-results .sr-item[data-id="${pm}"]`);
	await a.waitForSelector(`#msg-list li.msg[data-id="${pm}"].search-found`);
	check(await a.evaluate(() => window.pier.store.activeKey) === '@' + BOB, 'a private result opens the private chat');

	// ---- B, in Chinese: no private message of others; the dialog in Chinese ----
	await bz.click('#search-button');
	await bz.waitForSelector('#search-dialog[open]');
	check(await bz.$eval('#search-title', e => e.textContent) === '搜索消息' &&
		await bz.$eval('#search-button', e => e.getAttribute('aria-label')) === '搜索消息', 'the dialog in Chinese');
	r = await search(bz, '电影');
	check(sameList(r.ids, [zh, evil, old]), `B finds #lobby's, not A's private message: ${r.ids}`);
	check(r.status === '3 条消息', `the count in Chinese: ${r.status}`);
	await shot(bz, 'search-zh-results');
	r = await search(bz, 'x');
	check(r.status === '请输入至少两个字母的词，或一个中文、日文或韩文字符。', `refusal in Chinese: ${r.status}`);
	r = await search(bz, '没有的词');
	check(r.status === '没有消息匹配“没有的词”。', `nothing found, in Chinese: ${r.status}`);

	// a phone-sized screen: the dialog fills it
	const phone = await openPage(browser, pierd, { locale: 'zh-CN', viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
	await phone.fill('#login-user', B);
	await phone.fill('#login-password', PASSWORD);
	await phone.click('#login-button');
	await phone.waitForSelector('#shell');
	await waitOnline(phone);
	await phone.click('#search-button');
	r = await search(phone, '电影');
	const full = await phone.$eval('#search-dialog', e => e.getBoundingClientRect().width);
	check(r.ids.length === 3 && full >= 389, `on a phone: results, the dialog full width (${full})`);
	await shot(phone, 'search-zh-phone');

	for (const p of [a, bz, phone])
		check(p.problems.length === 0, `no errors in the page: ${JSON.stringify(p.problems)}`);
	check(a.dialogs.length === 0, 'no alert() ran (markup stayed text)');
	await pierd.stop();
});
