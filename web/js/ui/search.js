// search.js - searching the messages one may read (docs/PROTOCOL.md, search): a button in the
// chat's header (and Ctrl+K / ⌘K) opens a modal dialog with a search box, a choice between
// every conversation and the current one, and the results, newest first, each with the
// conversation, sender, time and an excerpt whose matched parts are <mark>ed (built with DOM
// nodes: text only ever goes in as text). "Older results" pages on. A click opens the
// conversation and scrolls to the message, loading older history (bounded) until it is there;
// the message flashes. Its styles are in /search.css, linked from here.

import { errorText, formatFull, formatTime, dayKey, formatDay, t } from '../i18n.js';
import { lower } from '../store.js';
import { avatar, h, icon } from './dom.js';

const QUERY_MAX = 256;        // bytes, as the server counts
const PAGE = 30;              // results a page
const AUTO_PAGES = 6;         // requests one search may make by itself: the server looks at a
                              // bounded number of matches per request, so a page can come back
                              // short (or empty) with more to come
const EXCERPT = 140;          // code points of text shown around the first match
const BEFORE_MATCH = 36;      // ... of which before it
const JUMP_STEPS = 80;        // history pages (or 100 ms waits) looked through to find a result
const FLASH_MS = 2600;

const SVG = 'http://www.w3.org/2000/svg';
const bytes = s => new TextEncoder().encode(s).length;
const sleep = ms => new Promise(r => setTimeout(r, ms));

/** The magnifier (dom.js's icons are other modules' set). */
function searchIcon() {
	const svg = document.createElementNS(SVG, 'svg');
	svg.setAttribute('viewBox', '0 0 24 24');
	svg.setAttribute('aria-hidden', 'true');
	svg.setAttribute('class', 'icon');
	const p = document.createElementNS(SVG, 'path');
	p.setAttribute('d', 'M11 18a7 7 0 1 0 0-14 7 7 0 0 0 0 14zM20 20l-4-4');
	svg.appendChild(p);
	return svg;
}

/** Who sent m: "王小明 (wang_xm)" when the server gave a display name, else the name. */
function sender(m) {
	return typeof m.display === 'string' && m.display ? `${m.display} (${m.from})` : m.from;
}

/** The stylesheet, once. */
function linkStyles() {
	if (!document.querySelector('link[data-pier="search"]'))
		document.head.appendChild(h('link', { rel: 'stylesheet', href: '/search.css', dataset: { pier: 'search' } }));
}

/**
 * Text (a string) with the code point ranges [[start, end], ...] marked: nodes to append.
 * With max, only about max code points around the first range, with … where cut.
 */
export function marked(text, ranges, max) {
	const cps = Array.from(String(text || ''));
	const spans = (Array.isArray(ranges) ? ranges : [])
		.filter(r => Array.isArray(r) && Number.isInteger(r[0]) && Number.isInteger(r[1]) && r[0] < r[1])
		.map(r => [Math.max(0, r[0]), Math.min(cps.length, r[1])])
		.sort((a, b) => a[0] - b[0]);
	let from = 0;
	let to = cps.length;
	if (max && cps.length > max) {
		from = spans.length ? Math.max(0, Math.min(spans[0][0] - BEFORE_MATCH, cps.length - max)) : 0;
		to = Math.min(cps.length, from + max);
	}
	const out = [];
	if (from > 0)
		out.push('…');
	let i = from;
	for (const [s, e] of spans) {
		const a = Math.max(s, i);
		const b = Math.min(e, to);
		if (b <= a)
			continue;
		if (a > i)
			out.push(cps.slice(i, a).join(''));
		out.push(h('mark', null, cps.slice(a, b).join('')));
		i = b;
	}
	if (i < to)
		out.push(cps.slice(i, to).join(''));
	if (to < cps.length)
		out.push('…');
	return out;
}

export class SearchPanel {
	/**
	 * store, client: the app's. onPick(key): opens a conversation (closing drawers).
	 * onToast(text): a short notice. signal: ends the document listener with the shell.
	 */
	constructor({ store, client, onPick, onToast, signal }) {
		this.store = store;
		this.client = client;
		this.onPick = onPick;
		this.onToast = onToast;
		this.seq = 0;              // answers to an older search are dropped
		this.opener = null;
		this.last = null;          // { q, with, next } of the search on screen
		linkStyles();

		this.button = h('button', {
			type: 'button', class: 'icon-btn search-btn', id: 'search-button',
			'aria-label': t('search.open'), title: t('search.openTitle'), 'aria-haspopup': 'dialog',
			onclick: e => this.open(e.currentTarget),
		}, searchIcon());

		this.input = h('input', {
			id: 'search-input', type: 'search', name: 'q', autocomplete: 'off', spellcheck: 'false',
			enterkeyhint: 'search', placeholder: t('search.placeholder'), 'aria-label': t('search.label'),
			'aria-describedby': 'search-status',
		});
		this.scope = h('select', { id: 'search-scope', 'aria-label': t('search.scope'), onchange: () => this.rerun() });
		this.go = h('button', { type: 'submit', class: 'btn primary', id: 'search-go' }, t('search.go'));
		this.form = h('form', {
			class: 'search-form', id: 'search-form', role: 'search',
			onsubmit: e => {
				e.preventDefault();
				this.run();
			},
		}, h('div', { class: 'search-row' }, h('span', { class: 'search-lead', 'aria-hidden': 'true' }, searchIcon()),
			this.input, this.go), this.scope);
		this.status = h('p', { class: 'search-status', id: 'search-status', role: 'status', 'aria-live': 'polite' });
		this.list = h('ol', { class: 'search-results', id: 'search-results', 'aria-label': t('search.results') });
		this.more = h('button', {
			type: 'button', class: 'btn small', id: 'search-more', hidden: true, onclick: () => this.run(true),
		}, t('search.more'));
		this.closeBtn = h('button', {
			type: 'button', class: 'icon-btn', id: 'search-close', 'aria-label': t('search.close'),
			title: t('search.close'), onclick: () => this.close(),
		}, icon('x'));
		this.el = h('dialog', { class: 'search', id: 'search-dialog', 'aria-labelledby': 'search-title' },
			h('header', { class: 'search-head' },
				h('h2', { id: 'search-title' }, t('search.title')), this.closeBtn),
			this.form, this.status,
			h('div', { class: 'search-scroll' }, this.list, h('div', { class: 'search-foot' }, this.more)));
		this.el.addEventListener('close', () => {
			const o = this.opener;
			this.opener = null;
			if (o && o.isConnected)
				o.focus();
		});
		this.el.addEventListener('click', e => {
			if (e.target === this.el) {
				const r = this.el.getBoundingClientRect();
				if (e.clientX < r.left || e.clientX > r.right || e.clientY < r.top || e.clientY > r.bottom)
					this.close();
			}
		});
		document.addEventListener('keydown', e => {
			if ((e.ctrlKey || e.metaKey) && !e.altKey && !e.shiftKey && e.key.toLowerCase() === 'k') {
				e.preventDefault();
				this.open();
			}
		}, { signal });
	}

	get isOpen() {
		return this.el.open;
	}

	/** Opens the dialog (the focus goes back to opener, or what had it, when it closes). */
	open(opener) {
		if (this.el.open) {
			this.input.focus();
			this.input.select();
			return;
		}
		this.opener = opener || document.activeElement;
		this.renderScope();
		this.el.showModal();
		this.input.focus();
		this.input.select();
	}

	close() {
		if (this.el.open)
			this.el.close();
	}

	destroy() {
		this.opener = null;
		this.close();
	}

	/** "Everywhere" and, when a conversation is open, "in #room" / "with name". */
	renderScope() {
		const c = this.store.active();
		const keep = this.scope.value;
		const opts = [h('option', { value: '' }, t('search.everywhere'))];
		if (c) {
			const target = c.kind === 'room' ? c.name : '@' + c.name;
			opts.push(h('option', { value: target },
				c.kind === 'room' ? t('search.inRoom', { room: c.name }) : t('search.withUser', { name: c.name })));
		}
		this.scope.replaceChildren(...opts);
		this.scope.value = opts.some(o => o.value === keep) ? keep : '';
		this.scope.hidden = opts.length < 2;
	}

	rerun() {
		if (this.input.value.trim())
			this.run();
	}

	say(text, kind) {
		this.status.textContent = text;
		this.status.className = 'search-status' + (kind ? ' ' + kind : '');
		this.status.dataset.kind = kind || '';
	}

	/** A new search (or, with more, the next page of the one on screen). */
	async run(more) {
		const seq = ++this.seq;
		let q;
		let scope;
		let before = 0;
		if (more && this.last) {
			({ q, with: scope } = this.last);
			before = this.last.next;
		} else {
			q = this.input.value.trim();
			scope = this.scope.value;
			if (!q) {
				this.say(errorText('query_too_short'), 'error');
				return;
			}
			if (bytes(q) > QUERY_MAX) {
				this.say(errorText('query_too_long'), 'error');
				return;
			}
			this.list.replaceChildren();
			this.last = null;
		}
		this.more.hidden = true;
		this.el.setAttribute('aria-busy', 'true');
		this.say(t('search.searching'), 'info');
		try {
			let r;
			let got = 0;
			for (let asked = 1; ; asked++) {
				const req = { op: 'search', q, limit: PAGE - got };
				if (scope)
					req.with = scope;
				if (before)
					req.before = before;
				r = await this.client.request(req);
				if (seq !== this.seq)
					return;
				const msgs = Array.isArray(r.messages) ? r.messages : [];
				this.list.append(...msgs.map(m => this.item(m)));
				got += msgs.length;
				this.last = { q, with: scope, next: r.more ? r.next_before : 0 };
				if (!r.more || got >= PAGE || asked >= AUTO_PAGES)
					break;
				before = r.next_before;
			}
			const n = this.list.childElementCount;
			this.list.dataset.count = String(n);
			this.say(n === 0 && !r.more ? t('search.none', { q })
				: n === 1 && !r.more ? t('search.one') : t(r.more ? 'search.countMore' : 'search.count', { n }),
			n === 0 && !r.more ? 'empty' : 'ok');
			this.more.hidden = !r.more;
		} catch (err) {
			if (seq !== this.seq)
				return;
			this.say(errorText(err.code, err.data), 'error');
			this.status.dataset.error = err.code || '';
		} finally {
			if (seq === this.seq)
				this.el.removeAttribute('aria-busy');
		}
	}

	/** One result: where, who, when, and the excerpt (or the file's name) marked. */
	item(m) {
		const key = this.store.keyOf(m);
		const name = this.store.nameOf(m);
		const room = key[0] === '#';
		const when = h('time', { datetime: new Date(m.ts).toISOString(), title: formatFull(m.ts) },
			dayKey(m.ts) === dayKey(Date.now()) ? formatTime(m.ts) : formatDay(m.ts) + ' ' + formatTime(m.ts));
		const where = h('span', { class: 'sr-conv ' + (room ? 'room' : 'private') },
			icon(room ? 'hash' : 'lock'), h('bdi', null, room ? name.slice(1) : name));
		const body = [];
		if (m.text)
			body.push(h('p', { class: 'sr-text', dir: 'auto' }, marked(m.text, m.highlight, EXCERPT)));
		if (m.media && typeof m.media.name === 'string')
			body.push(h('p', { class: 'sr-file' }, icon('file'),
				h('bdi', null, marked(m.media.name, m.name_highlight))));
		return h('li', null, h('button', {
			type: 'button', class: 'sr-item', dataset: { id: m.id, key },
			onclick: () => this.jump(key, name, m.id),
		},
		avatar(m.from, 'small'),
		h('span', { class: 'sr-main' },
			h('span', { class: 'sr-head' }, h('bdi', { class: 'sr-from', title: m.from }, sender(m)), where, when),
			body)));
	}

	/**
	 * Opens the conversation of a result and brings the message into view: older history is
	 * loaded a page at a time until it is there (at most JUMP_STEPS pages or waits).
	 */
	async jump(key, name, id) {
		const store = this.store;
		store.ensure(key, name);
		this.close();
		this.onPick(key);
		for (let step = 0; step < JUMP_STEPS; step++) {
			if (store.activeKey !== key)
				return;                             // the user went elsewhere meanwhile
			const el = document.querySelector(`#msg-list li.msg[data-id="${Number(id)}"]`);
			if (el) {
				el.scrollIntoView({ block: 'center' });
				el.classList.add('search-found');
				setTimeout(() => el.classList.remove('search-found'), FLASH_MS);
				return;
			}
			const c = store.convs.get(key);
			if (!c || (c.more === false && !c.loading) || this.client.state !== 'online' ||
			    (c.messages.length && c.messages[0].id < id && !c.loading && c.more !== null))
				break;
			if (c.loading)
				await sleep(100);
			else
				await this.client.loadOlder(key);
		}
		this.onToast(t('search.notLoaded'));
	}
}
