// social.mjs - read state, unread counts, typing, room members and topics, display names in
// the browser (issue 9). wang_xm (Chinese) on two devices, A and B, and alice_1 (English):
// - display names: registering with one (a refused one said with its reason, nobody
//   registered), setting one in the account dialog (one that looks like a user name refused),
//   shown in messages, the member list, typing, and changed live where they show;
// - read state: what A reads clears B's unread count (and B then shows no divider); reads are
//   coalesced (a burst of messages read as it comes costs few `read`s); a first login on a
//   third device shows the server's counts, 999+ when capped, and clears them when A reads;
// - typing: shown under the messages with the display name, cleared after a while, and at
//   once when the message comes; fewer `typing`s go out than keys are typed;
// - members: a page of 50, then the next one, online dots kept current by presence;
// - topic: set by one member (a bad one refused, translated), seen live by another; #lobby's
//   cannot be set.
// English and Chinese, light and dark (the new secondary texts reach 4.5:1), with screenshots.

import {
	check, checkRatio, launch, openConv, openPage, PASSWORD, Pierd, registerAndLogin, run, showOnline, say, shot,
	TcpClient, waitOnline, waitText,
} from './lib.mjs';

/** device: the login makes a device (lib.mjs), to send end-to-end encrypted private messages. */
async function tcpUser(pierd, user, { login = true, device = false } = {}) {
	const c = await TcpClient.connect(pierd.tcp);
	const r = await c.request({ op: 'register', user, password: PASSWORD });
	if (r.status !== 3)
		throw new Error(`${user} could not register: ${JSON.stringify(r)}`);
	if (login && device)
		check((await c.loginDevice(user)).status === 1, `${user} logs in over TCP, with a device`);
	else if (login)
		check((await c.request({ op: 'login', user, password: PASSWORD })).status === 1, `${user} logs in over TCP`);
	return c;
}

/** Records the requests a page sends over its WebSocket (before it opens one). */
function recordFrames(page) {
	const sent = [];
	page.on('websocket', ws => ws.on('framesent', f => {
		try {
			sent.push(JSON.parse(f.payload));
		} catch { /* not ours */ }
	}));
	return sent;
}

async function passwordLogin(page, user) {
	await page.fill('#login-user', user);
	await page.fill('#login-password', PASSWORD);
	await page.click('#login-button');
	await page.waitForSelector('#shell');
	await waitOnline(page);
}

const badge = (page, key) => page.$eval(`button[data-key="${key}"]`, b => b.querySelector('.badge')?.textContent || '');
const noBadge = (page, key) => page.waitForFunction(k => {
	const b = document.querySelector(`button[data-key="${k}"]`);
	return b && !b.querySelector('.badge');
}, key);
const readMark = (page, key) => page.evaluate(k => window.pier.store.convs.get(k)?.readUpTo, key);

/** The sender of the last message with this text: {label, login}. */
function senderOf(page, text) {
	return page.evaluate(t => {
		const li = [...document.querySelectorAll('#msg-list li.msg')].filter(x => x.querySelector('.msg-text')?.textContent === t).pop();
		let head = li;
		while (head && !head.querySelector('.sender'))
			head = head.previousElementSibling;
		const s = head?.querySelector('.sender');
		return s ? { label: s.textContent, login: s.nextElementSibling?.classList.contains('uname-login') ? s.nextElementSibling.textContent : null, title: s.title } : null;
	}, text);
}

async function openAccount(page) {
	await page.click('#account-button');
	await page.waitForSelector('#account-dialog[open]');
}

async function setDisplay(page, value) {
	await page.fill('#profile-display', value);
	await page.evaluate(() => { delete document.querySelector('#profile-status').dataset.kind; });
	await page.click('#profile-save');
	await page.waitForFunction(() => ['ok', 'error'].includes(document.querySelector('#profile-status').dataset.kind));
	return page.$eval('#profile-status', e => ({ kind: e.dataset.kind, text: e.textContent, error: e.dataset.error }));
}

run('e2e/social', 360, async () => {
	const pierd = await new Pierd().start();
	const browser = await launch();

	// ---- registering with a display name (Chinese) ----
	const a = await openPage(browser, pierd, { locale: 'zh-CN' });
	const framesA = recordFrames(a);
	await a.fill('#login-user', 'wang_xm');
	await a.fill('#login-password', PASSWORD);
	await a.fill('#login-display', '王小明😀');
	await a.click('#register-button');
	await a.waitForFunction(() => document.querySelector('#login-status')?.dataset.error === 'bad_display');
	const refused = await a.evaluate(() => ({
		text: document.querySelector('#login-status').textContent,
		invalid: document.querySelector('#login-display').getAttribute('aria-invalid'),
		focused: document.activeElement?.id,
	}));
	check(refused.text === '显示名称只能使用字母、数字、单个空格和 - _ . \' ·（不能用符号或表情）。' && refused.invalid === 'true' &&
		refused.focused === 'login-display', `a display name with an emoji is refused, said in Chinese (${JSON.stringify(refused)})`);
	await shot(a, 'social-register-refused-zh');
	await a.fill('#login-display', '王小明');
	await a.evaluate(() => { delete document.querySelector('#login-status').dataset.status; });
	await a.click('#register-button');
	await a.waitForFunction(() => document.querySelector('#login-status')?.dataset.status);
	check(await a.$eval('#login-status', e => e.dataset.status) === '3', 'the same user name registers then (nobody was registered by the refusal)');
	await a.click('#login-button');
	await a.waitForSelector('#shell');
	await waitOnline(a);
	const me = await a.$eval('.me-name', e => ({ text: e.textContent, title: e.title }));
	check(me.text === '王小明' && /wang_xm/.test(me.title), `the sidebar shows the display name, the login name in the tooltip (${JSON.stringify(me)})`);

	// ---- alice (English): a display name from the account dialog ----
	const alice = await openPage(browser, pierd, { locale: 'en-US' });
	const framesAlice = recordFrames(alice);
	await registerAndLogin(alice, 'alice_1');
	await openAccount(alice);
	let st = await setDisplay(alice, 'WANG_XM');
	check(st.kind === 'error' && st.error === 'bad_display' && st.text === 'That display name looks like another user\'s name.',
		`a display name that looks like a user name is refused (${JSON.stringify(st)})`);
	check(await alice.$eval('#profile-display', e => e.getAttribute('aria-invalid')) === 'true', 'the field is marked invalid');
	await shot(alice, 'social-display-refused-en');
	st = await setDisplay(alice, 'Alice 张');
	check(st.kind === 'ok' && st.text === 'Others now see you as Alice 张.', `a display name is set (${st.text})`);
	await alice.keyboard.press('Escape');
	check(await alice.$eval('.me-name', e => e.textContent) === 'Alice 张', 'and shown in the sidebar');

	// ---- wang's second device, a room, and carol (TCP) ----
	const b = await openPage(browser, pierd, { locale: 'zh-CN', colorScheme: 'dark' });
	const framesB = recordFrames(b);
	await passwordLogin(b, 'wang_xm');
	await alice.evaluate(() => window.pier.client.join('#dev'));
	await a.evaluate(() => window.pier.client.join('#dev'));
	await b.waitForSelector('#room-list button[data-key="#dev"]');
	await openConv(a, '#lobby');
	const carol = await tcpUser(pierd, 'carol_33', { device: true });
	await carol.request({ op: 'join', room: '#dev' });

	// ---- read on device A clears the unread count on device B ----
	for (let i = 1; i <= 3; i++)
		await say(alice, `你好 ${i}`);
	await b.waitForFunction(() => document.querySelector('button[data-key="#dev"] .badge')?.textContent === '3');
	await a.waitForFunction(() => document.querySelector('button[data-key="#dev"] .badge')?.textContent === '3');
	check(true, 'both devices count 3 unread in #dev');
	await shot(b, 'social-unread-before-zh');
	await openConv(a, '#dev');
	await waitText(a, '你好 3');
	const s1 = await senderOf(a, '你好 1');
	check(s1 && s1.label === 'Alice 张' && s1.login === 'alice_1' && s1.title === 'alice_1',
		`messages show the display name, the login name beside it (${JSON.stringify(s1)})`);
	await noBadge(b, '#dev');
	check(true, 'A read them: B\'s unread count is gone');
	const last = (await carol.request({ op: 'history', with: '#dev', limit: 1 })).messages[0].id;
	check(await readMark(b, '#dev') === last, 'B\'s read mark is the last message');
	check(framesA.filter(f => f.op === 'read' && f.with === '#dev' && f.id === last).length === 1, 'A sent that read once');
	check(framesB.filter(f => f.op === 'read').length === 0, 'B sent no read of its own');
	await openConv(b, '#dev');
	await waitText(b, '你好 3');
	check(await b.$('#new-sep') === null, 'B opens #dev without a "new messages" divider: it was read elsewhere');
	await checkRatio(b, '#msg-list .msg-head .uname-login', 'dark: the login name beside a display name');
	await checkRatio(b, '#members-button', 'dark: the member count in the header');
	await shot(b, 'social-unread-after-zh');
	await openConv(b, '#lobby');

	// reads are coalesced: a burst read as it comes (A shows #dev) costs few `read`s
	const readsBefore = framesA.filter(f => f.op === 'read').length;
	const BURST = 30;
	await Promise.all(Array.from({ length: BURST }, (_, i) => carol.request({ op: 'send', to: '#dev', text: `burst ${i + 1}` })));
	const burstLast = (await carol.request({ op: 'history', with: '#dev', limit: 1 })).messages[0].id;
	await waitText(a, `burst ${BURST}`);
	await b.waitForFunction(([id]) => window.pier.store.convs.get('#dev').readUpTo === id, [burstLast]);
	await noBadge(b, '#dev');
	const burstReads = framesA.filter(f => f.op === 'read').length - readsBefore;
	check(burstReads >= 1 && burstReads * 3 <= BURST, `${BURST} messages read as they came cost ${burstReads} reads`);

	// a first login on a third device: the server's counts, 999+ when capped
	const CAP = 1001;
	for (let i = 0; i < CAP; i += 200)
		for (let j = 0; j < Math.min(200, CAP - i); j++)
			await carol.sendE2ee('@wang_xm', `私信 ${i + j + 1}`);        // in order: one ratchet
	const c = await openPage(browser, pierd, { locale: 'zh-CN' });
	await passwordLogin(c, 'wang_xm');
	await c.waitForSelector('button[data-key="@carol_33"] .badge');
	check(await badge(c, '@carol_33') === '999+', `a first login shows the server's count, capped: ${await badge(c, '@carol_33')}`);
	check(await c.$eval('button[data-key="@carol_33"] .badge', e => e.getAttribute('aria-label')) === '超过 999 条未读', 'labelled for screen readers');
	check(await badge(c, '#dev') === '', 'and nothing unread in #dev (read on A)');
	// A, the device they were encrypted for, decrypts them one by one as its queue comes
	await a.waitForFunction(() => document.querySelector('button[data-key="@carol_33"] .badge')?.textContent === '999+');
	check(await badge(a, '@carol_33') === '999+', `A counts them too: ${await badge(a, '@carol_33')}`);
	await shot(c, 'social-unread-capped-zh');
	await openConv(a, '@carol_33');
	await waitText(a, `私信 ${CAP}`);
	const head = await a.evaluate(() => ({ title: document.querySelector('#conv-title').textContent, sub: document.querySelector('#conv-sub').textContent }));
	check(head.title === 'carol_33' && head.sub === '私聊 · 端到端加密', `a private chat's header, without a display name (${JSON.stringify(head)})`);
	await a.evaluate(() => {
		// opened at the divider (more than a screenful is new): read to the end
		const m = document.querySelector('#messages');
		m.scrollTop = m.scrollHeight;
	});
	await noBadge(a, '@carol_33');
	await noBadge(c, '@carol_33');
	await noBadge(b, '@carol_33');
	check(true, 'A read them: the new device and B count nothing any more');
	await c.context().close();
	await openConv(a, '#dev');

	// ---- typing ----
	await openConv(alice, '#dev');
	const typingBefore = framesAlice.filter(f => f.op === 'typing').length;
	const typed = 'is anyone there';
	await alice.type('#composer-input', typed, { delay: 20 });
	await a.waitForSelector('#typing[data-count="1"]');
	const ind = await a.$eval('#typing', e => ({ text: e.textContent, title: e.title }));
	check(ind.text === 'Alice 张 正在输入…' && ind.title === 'alice_1', `A shows who is typing (${JSON.stringify(ind)})`);
	await shot(a, 'social-typing-zh');
	await checkRatio(a, '#typing', 'light: the typing line');
	const typings = framesAlice.filter(f => f.op === 'typing').length - typingBefore;
	check(typings >= 1 && typings * 3 <= typed.length, `${typed.length} keys typed sent ${typings} typing notices`);
	check(framesAlice.filter(f => f.op === 'typing').every(f => f.to === '#dev' && !('ref' in f)), 'each to #dev, without a ref (no reply comes)');
	await a.waitForSelector('#typing[data-count="0"]', { state: 'attached', timeout: 15000 });
	check(await a.$eval('#typing', e => e.textContent) === '', 'the indicator goes when the typing stops');
	await alice.fill('#composer-input', '');

	await a.type('#composer-input', '我来了', { delay: 20 });
	await alice.waitForSelector('#typing[data-count="1"]');
	check(await alice.$eval('#typing', e => e.textContent) === '王小明 is typing…', 'alice sees "王小明 is typing…"');
	await shot(alice, 'social-typing-en');
	await a.press('#composer-input', 'Enter');
	await waitText(alice, '我来了');
	check(await alice.$eval('#typing', e => e.dataset.count) === '0', 'the message came: the indicator is gone with it');
	const s2 = await senderOf(alice, '我来了');
	check(s2 && s2.label === '王小明' && s2.login === 'wang_xm', `alice sees wang's display name on the message (${JSON.stringify(s2)})`);
	await checkRatio(alice, '#msg-list .msg-head .uname-login', 'light: the login name beside a display name');

	// ---- topic: set by one member, seen live by another ----
	await a.waitForSelector('#head-topic.empty');
	check(await a.$eval('#head-topic', e => e.textContent) === '添加话题', 'a room without a topic offers to add one');
	await checkRatio(a, '#head-topic', 'light: "add a topic"');
	await a.click('#head-topic');
	await a.waitForSelector('#room-dialog[open] #topic-form:not([hidden])');
	check(await a.evaluate(() => document.activeElement?.id) === 'topic-input', 'the topic field has the focus');
	await a.fill('#topic-input', '发布 \u202Eevil');
	await a.click('#topic-save');
	await a.waitForSelector('#topic-status[data-kind="error"]');
	const bad = await a.$eval('#topic-status', e => e.textContent);
	check(bad === '话题不能包含不可见字符或文字方向控制字符。', `a bidi control is refused, said in Chinese (${bad})`);
	await a.fill('#topic-input', 'x'.repeat(300));
	await a.click('#topic-save');
	await a.waitForFunction(() => document.querySelector('#topic-status').textContent === '话题最多 256 字节（约 85 个汉字）。');
	check(true, 'a topic too long is refused');
	const TOPIC = '周五发布 Release on Friday';
	await a.fill('#topic-input', TOPIC);
	await a.click('#topic-save');
	await a.waitForSelector('#topic-status[data-kind="ok"]');
	check(await a.$eval('#room-topic', e => e.textContent) === TOPIC, 'saved: the dialog shows it');
	await shot(a, 'social-topic-zh');
	await a.keyboard.press('Escape');
	check(await a.$eval('#head-topic', e => e.textContent) === TOPIC, 'and the header');
	await alice.waitForFunction(t => document.querySelector('#head-topic')?.textContent === t, TOPIC);
	check(true, 'alice sees the new topic at once');
	await alice.click('#head-topic');
	await alice.waitForSelector('#room-dialog[open]');
	const meta = await alice.$eval('#room-topic-meta', e => e.textContent);
	check(/^Set by 王小明, /.test(meta), `who set it, by display name (${meta})`);
	await alice.waitForFunction(() => document.querySelectorAll('#members-list li').length === 3);
	const devMembers = await alice.$$eval('#members-list li', els => els.map(li => ({
		user: li.dataset.user, name: li.querySelector('.member-name').textContent,
		login: li.querySelector('.uname-login')?.textContent || null, online: li.firstElementChild.dataset.online,
	})));
	check(JSON.stringify(devMembers) === JSON.stringify([
		{ user: 'alice_1', name: 'Alice 张', login: 'alice_1', online: '1' },
		{ user: 'carol_33', name: 'carol_33', login: null, online: '1' },
		{ user: 'wang_xm', name: '王小明', login: 'wang_xm', online: '1' },
	]), `#dev's members, by name, with display names and online state (${JSON.stringify(devMembers)})`);
	await shot(alice, 'social-room-en');
	await checkRatio(alice, '#members-list .uname-login', 'light: a member\'s login name');
	await alice.keyboard.press('Escape');
	check(await alice.evaluate(() => document.activeElement?.id) === 'head-topic', 'Escape closes the dialog, the focus back on the topic');

	// ---- members of #lobby: paged, online dots ----
	const MANY = 55;
	const extra = [];
	for (let i = 1; i <= MANY; i++) {
		const name = 'member_' + String(i).padStart(2, '0');
		extra.push(await tcpUser(pierd, name, { login: i <= 3 }));
	}
	const total = MANY + 3;     // and alice_1, carol_33, wang_xm
	await openConv(alice, '#lobby');
	await alice.click('#members-button');
	await alice.waitForSelector('#room-dialog[open]');
	await alice.waitForFunction(() => document.querySelectorAll('#members-list li').length === 50);
	check(await alice.$('#topic-edit:not([hidden])') === null, '#lobby: no topic to set');
	const page1 = await alice.evaluate(() => ({
		count: document.querySelector('#members-count').textContent,
		more: document.querySelector('#members-more').hidden ? null : document.querySelector('#members-more').textContent,
		first: document.querySelector('#members-list li').dataset.user,
		online: Object.fromEntries([...document.querySelectorAll('#members-list li')].map(li => [li.dataset.user, li.firstElementChild.dataset.online])),
	}));
	check(page1.count === String(total) && page1.more === `Show more (${total - 50} not shown)` && page1.first === 'alice_1',
		`a first page of 50 (${JSON.stringify({ count: page1.count, more: page1.more, first: page1.first })})`);
	check(page1.online.member_01 === '1' && page1.online.member_03 === '1' && page1.online.member_04 === '0' && page1.online.member_10 === '0',
		'online members have their dot, the others not');
	await alice.click('#members-more');
	await alice.waitForFunction(n => document.querySelectorAll('#members-list li').length === n, total);
	check(await alice.$eval('#members-more', e => e.hidden), 'the second page is the last');
	const wangRow = await alice.$eval('#members-list li[data-user="wang_xm"]', li => ({
		name: li.querySelector('.member-name').textContent, login: li.querySelector('.uname-login')?.textContent,
		state: li.querySelector('.member-state').textContent,
	}));
	check(wangRow.name === '王小明' && wangRow.login === 'wang_xm' && wangRow.state === 'online',
		`the next page has wang, by display name (${JSON.stringify(wangRow)})`);
	// #lobby makes nobody a contact (no presence through it): member_10 joins alice's #dev
	// first, leaves, and comes back
	const m10 = await TcpClient.connect(pierd.tcp);
	check((await m10.request({ op: 'login', user: 'member_10', password: PASSWORD })).status === 1, 'member_10 logs in');
	const joined = await m10.request({ op: 'join', room: '#dev' });
	check(joined.op === 'join', `and joins #dev (${JSON.stringify(joined)})`);
	m10.close();
	await extra[9].request({ op: 'login', user: 'member_10', password: PASSWORD });
	await alice.waitForSelector('#members-list li[data-user="member_10"] button[data-online="1"]');
	check(true, 'a contact logs in: the dot turns on while the list is open');
	await shot(alice, 'social-members-en');
	await alice.keyboard.press('Escape');

	await openConv(a, '#lobby');
	await a.click('#members-button');
	await a.waitForFunction(() => document.querySelectorAll('#members-list li').length === 50);
	check(await a.$eval('#members-more', e => e.textContent) === `显示更多（还有 ${total - 50} 位）`, 'Chinese: the "show more" button');
	await shot(a, 'social-members-zh');
	await a.keyboard.press('Escape');

	// ---- a display name changed: shown anew where it was ----
	await openConv(alice, '#dev');
	await openAccount(a);
	st = await setDisplay(a, '小明');
	check(st.kind === 'ok' && st.text === '别人现在看到的你是 小明。', `Chinese: the display name changed (${st.text})`);
	await a.keyboard.press('Escape');
	await alice.waitForFunction(() => [...document.querySelectorAll('#msg-list .sender')].some(s => s.textContent === '小明'));
	const s3 = await senderOf(alice, '我来了');
	check(s3 && s3.label === '小明' && s3.login === 'wang_xm', `alice's view follows at once (${JSON.stringify(s3)})`);
	check(await b.$eval('.me-name', e => e.textContent) === '小明', 'and wang\'s other device');
	await showOnline(alice, 'wang_xm');
	await alice.click('#user-list button[data-user="wang_xm"]');
	await alice.waitForSelector('#private-list button[data-key="@wang_xm"][aria-current="page"]');
	const phead = await alice.evaluate(() => ({
		title: document.querySelector('#conv-title').textContent, sub: document.querySelector('#conv-sub').textContent,
		side: document.querySelector('#private-list button[data-key="@wang_xm"] .conv-name').textContent,
		online: [...document.querySelectorAll('#user-list .user-name')].map(e => e.textContent),
	}));
	check(phead.title === '小明' && phead.sub === 'wang_xm · Private conversation · End-to-end encrypted' && phead.side === '小明',
		`a private chat with wang: its header and the sidebar show the display name, the login under it (${JSON.stringify(phead)})`);
	check(phead.online.includes('小明') && phead.online.includes('Alice 张'), `the online list too (${JSON.stringify(phead.online)})`);
	await shot(alice, 'social-private-en');
	await openConv(alice, '#dev');
	await alice.setViewportSize({ width: 390, height: 844 });
	const fits = await alice.evaluate(() => {
		const box = s => document.querySelector(s).getBoundingClientRect();
		const topic = box('#head-topic');
		return {
			inside: topic.right <= box('.head-actions').left + 1, apart: box('#members-button').right <= topic.left,
			cut: document.querySelector('#head-topic').scrollWidth > topic.width,
			whole: document.querySelector('#members-button').scrollWidth <= document.querySelector('#members-button').clientWidth,
		};
	});
	check(fits.inside && fits.apart && fits.cut && fits.whole, `on a phone the header line keeps the count whole and cuts the topic (${JSON.stringify(fits)})`);
	await shot(alice, 'social-phone-room-en');

	for (const p of [a, b, alice])
		check(p.problems.length === 0, `no errors in the page: ${JSON.stringify(p.problems)}`);
	for (const x of [carol, ...extra])
		x.close();
	await pierd.stop();
});
