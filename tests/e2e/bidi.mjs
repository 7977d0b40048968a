// bidi.mjs - no user-supplied text can reorder the browser client's layout. A user sends a
// message whose text starts with U+202E (RIGHT-TO-LEFT OVERRIDE) and a file named
// "U+202E gpj.exe": the server stores the name without the control (it would show as
// "exe.jpg"), the message text is isolated (dir="auto"), and names and file names are <bdi>
// elements, so the sender column, the time and the next message stay where they are.

import { check, launch, openPage, PASSWORD, Pierd, registerAndLogin, run, TcpClient, waitText } from './lib.mjs';

const RLO = '\u202E';

run('e2e/bidi', 200, async () => {
	const pierd = await new Pierd().start();
	const browser = await launch();
	const page = await openPage(browser, pierd);
	await registerAndLogin(page, 'alice_bidi');

	const m = await TcpClient.connect(pierd.tcp);
	await m.request({ op: 'register', user: 'mallory_1', password: PASSWORD });
	const login = await m.request({ op: 'login', user: 'mallory_1', password: PASSWORD });
	check(login.status === 1 && login.token, 'mallory logs in over TCP');

	// A file whose name hides its type behind U+202E.
	const up = await fetch(pierd.base + '/api/media?name=' + encodeURIComponent(RLO + 'gpj.exe'), {
		method: 'POST', headers: { Authorization: 'Bearer ' + login.token, 'Content-Type': 'application/octet-stream' },
		body: Buffer.from('MZ not really a program'),
	});
	const media = await up.json();
	check(up.status === 201 && media.name === 'gpj.exe',
		`the server strips U+202E from the file name (${up.status} ${JSON.stringify(media.name)})`);
	const sent = await m.request({ op: 'send', to: '#lobby', kind: 'file', media: media.id, text: 'see file' });
	check(sent.op === 'sent', `the file is sent (${sent.op} ${sent.error || ''})`);
	await m.request({ op: 'send', to: '#lobby', text: RLO + 'evil text 123' });
	await m.request({ op: 'send', to: '#lobby', text: 'plain after' });
	await waitText(page, 'plain after');

	const layout = await page.evaluate(() => {
		const items = [...document.querySelectorAll('#msg-list li.msg')];
		const find = s => items.find(li => (li.querySelector('.msg-text')?.textContent || '').includes(s));
		const evil = find('evil text');
		const plain = find('plain after');
		const file = document.querySelector('#msg-list .file-name');
		const sender = document.querySelector('#msg-list .sender');
		const text = evil?.querySelector('.msg-text');
		const r = el => el ? el.getBoundingClientRect() : null;
		return {
			textDir: text?.getAttribute('dir'),
			textBidi: text ? getComputedStyle(text).unicodeBidi : null,
			senderTag: sender?.tagName,
			fileTag: file?.tagName,
			fileName: file?.textContent,
			evilLeft: r(evil)?.left, plainLeft: r(plain)?.left,
			gutterEvil: r(evil?.querySelector('.msg-gutter'))?.left,
			gutterPlain: r(plain?.querySelector('.msg-gutter'))?.left,
			bdiNames: [...document.querySelectorAll('.conv-name, .user-name, .me-name')].every(e => e.tagName === 'BDI'),
		};
	});
	check(layout.textDir === 'auto' && /isolate/.test(layout.textBidi || ''),
		`message text is isolated: dir=${layout.textDir}, unicode-bidi ${layout.textBidi}`);
	check(layout.senderTag === 'BDI', `the sender's name is a <bdi> (${layout.senderTag})`);
	check(layout.fileTag === 'BDI' && layout.fileName === 'gpj.exe',
		`the file name is a <bdi> and shows without the control (${layout.fileTag} ${JSON.stringify(layout.fileName)})`);
	check(layout.bdiNames, 'room, user and own names in the sidebar and people list are <bdi>');
	check(layout.evilLeft === layout.plainLeft && layout.gutterEvil === layout.gutterPlain,
		`the message with U+202E keeps the layout of the others (left ${layout.evilLeft} vs ${layout.plainLeft}, ` +
		`gutter ${layout.gutterEvil} vs ${layout.gutterPlain})`);
	check(page.problems.length === 0, `no page errors (${page.problems.join('; ')})`);
	m.close();
	await pierd.stop();
});
