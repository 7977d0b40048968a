// dom.js - building elements without HTML strings: every text goes in as a text node, so
// nothing a user typed can become markup. Icons are SVG built with createElementNS.

/**
 * h('div', {class: 'x', onclick: fn, dataset: {id: 1}}, child, 'text', [more])
 * Attributes starting with "on" become listeners; 'text' sets textContent; false/null skip.
 */
export function h(tag, attrs, ...children) {
	const el = document.createElement(tag);
	if (attrs) {
		for (const [k, v] of Object.entries(attrs)) {
			if (v === false || v === null || v === undefined)
				continue;
			if (k.startsWith('on') && typeof v === 'function')
				el.addEventListener(k.slice(2), v);
			else if (k === 'class')
				el.className = v;
			else if (k === 'dataset')
				Object.assign(el.dataset, v);
			else if (k === 'text')
				el.textContent = v;
			else if (k === 'style')
				for (const [p, val] of Object.entries(v))
					el.style.setProperty(p, val);
			else if (v === true)
				el.setAttribute(k, '');
			else
				el.setAttribute(k, String(v));
		}
	}
	append(el, children);
	return el;
}

function append(el, children) {
	for (const c of children) {
		if (c === null || c === undefined || c === false)
			continue;
		if (Array.isArray(c))
			append(el, c);
		else if (c instanceof Node)
			el.appendChild(c);
		else
			el.appendChild(document.createTextNode(String(c)));
	}
}

const SVG = 'http://www.w3.org/2000/svg';
const paths = {
	hash: 'M5 9h14M4 15h14M10 3 8 21M16 3l-2 18',
	lock: 'M7 11V8a5 5 0 0 1 10 0v3M6 11h12a1 1 0 0 1 1 1v8a1 1 0 0 1-1 1H6a1 1 0 0 1-1-1v-8a1 1 0 0 1 1-1z',
	send: 'M4 12 20 4l-6 16-3-7-7-1z',
	clip: 'M20 11.5 12.5 19a5 5 0 0 1-7-7L13 4.5a3.5 3.5 0 0 1 5 5L10.5 17a2 2 0 0 1-3-3L14 7.5',
	plus: 'M12 5v14M5 12h14',
	menu: 'M4 7h16M4 12h16M4 17h16',
	users: 'M16 19v-1a4 4 0 0 0-4-4H7a4 4 0 0 0-4 4v1M9.5 10a3.5 3.5 0 1 0 0-7 3.5 3.5 0 0 0 0 7zM21 19v-1a4 4 0 0 0-3-3.9M15.5 3.2a3.5 3.5 0 0 1 0 6.6',
	logout: 'M15 4h3a2 2 0 0 1 2 2v12a2 2 0 0 1-2 2h-3M10 16l-4-4 4-4M6 12h10',
	bell: 'M6 16V11a6 6 0 0 1 12 0v5l2 2H4zM10 20a2 2 0 0 0 4 0',
	x: 'M6 6l12 12M18 6 6 18',
	leave: 'M14 4h4a2 2 0 0 1 2 2v12a2 2 0 0 1-2 2h-4M9 8l-4 4 4 4M5 12h10',
	file: 'M14 3H7a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h10a2 2 0 0 0 2-2V8zM14 3v5h5',
	download: 'M12 4v11M7 10l5 5 5-5M5 20h14',
	retry: 'M4 12a8 8 0 1 0 2.3-5.7M4 4v5h5',
	wifiOff: 'M2 2l20 20M8.5 16.5a5 5 0 0 1 7 0M5 12.5a10 10 0 0 1 5.2-2.7M19 12.5a10 10 0 0 0-2-1.5M2 8.8a15 15 0 0 1 4.2-2.6M22 8.8A15 15 0 0 0 11 5M12 20h.01',
	chevronDown: 'M6 9l6 6 6-6',
	compass: 'M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18zM15.5 8.5l-2 5-5 2 2-5z',
	key: 'M12.4 11.6 21 3M17.5 6.5l3 3M15 9l2 2M14 15.5a5.5 5.5 0 1 1-11 0 5.5 5.5 0 0 1 11 0z',
	more: 'M5 12h.01M12 12h.01M19 12h.01',
	reply: 'M9 14 4 9l5-5M4 9h10a6 6 0 0 1 6 6v5',
	edit: 'M4 20h4L19 9l-4-4L4 16zM13.5 6.5l4 4',
	recall: 'M3 12a9 9 0 1 0 3-6.7M3 4v5h5M9 9l6 6M15 9l-6 6',
	copy: 'M9 9h10a1 1 0 0 1 1 1v10a1 1 0 0 1-1 1H9a1 1 0 0 1-1-1V10a1 1 0 0 1 1-1zM5 15H4a1 1 0 0 1-1-1V4a1 1 0 0 1 1-1h10a1 1 0 0 1 1 1v1',
	smile: 'M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18zM8.5 14a4 4 0 0 0 7 0M9 9.5h.01M15 9.5h.01',
	at: 'M16 12a4 4 0 1 1-8 0 4 4 0 0 1 8 0zM16 12v1.5a2.5 2.5 0 0 0 5 0V12a9 9 0 1 0-3.5 7.1',
};

export function icon(name, cls) {
	const svg = document.createElementNS(SVG, 'svg');
	svg.setAttribute('viewBox', '0 0 24 24');
	svg.setAttribute('aria-hidden', 'true');
	svg.setAttribute('class', 'icon' + (cls ? ' ' + cls : ''));
	const p = document.createElementNS(SVG, 'path');
	p.setAttribute('d', paths[name] || '');
	svg.appendChild(p);
	return svg;
}

/** A hue from a name, so each person keeps one colour. */
export function hueOf(name) {
	let x = 0;
	for (const ch of String(name).toLowerCase())
		x = (x * 31 + ch.codePointAt(0)) >>> 0;
	return x % 360;
}

export function avatar(name, cls) {
	const first = Array.from(String(name).replace(/^[#@]/, ''))[0] || '?';
	return h('span', { class: 'avatar' + (cls ? ' ' + cls : ''), 'aria-hidden': 'true',
		style: { '--hue': String(hueOf(name)) } }, first.toUpperCase());
}

// http(s) links, with trailing punctuation left out (a sentence's full stop is not the URL's)
const URL_RE = /\bhttps?:\/\/[^\s<>"'`]+/gi;
const TRAIL = /[.,;:!?)\]}'"。，；：！？）】」』]+$/;

/**
 * The text as nodes: text nodes and <a> for http/https links (rel noopener noreferrer,
 * target _blank). Never HTML.
 */
export function linkify(text) {
	const out = [];
	let last = 0;
	for (const m of text.matchAll(URL_RE)) {
		let url = m[0];
		const trail = url.match(TRAIL);
		if (trail) {
			// keep a closing bracket that has its opening one inside the URL
			let cut = trail[0];
			if (cut.startsWith(')') && url.slice(0, -cut.length).includes('('))
				cut = cut.slice(1);
			url = url.slice(0, url.length - cut.length);
		}
		let href = null;
		try {
			const u = new URL(url);
			if (u.protocol === 'http:' || u.protocol === 'https:')
				href = u.href;
		} catch { /* not a URL after all */ }
		if (!href)
			continue;
		if (m.index > last)
			out.push(document.createTextNode(text.slice(last, m.index)));
		out.push(h('a', { href, target: '_blank', rel: 'noopener noreferrer nofollow' }, url));
		last = m.index + url.length;
	}
	if (last < text.length)
		out.push(document.createTextNode(text.slice(last)));
	return out;
}

export function clear(el) {
	while (el.firstChild)
		el.removeChild(el.firstChild);
}
