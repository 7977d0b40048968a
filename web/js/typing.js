// typing.js - typing indicators (docs/PROTOCOL.md, typing). While the user types a message in
// the composer, `typing` goes to the conversation at most once every 3 s (the server's rate:
// more would be dropped); lines that are commands (/join...) are not messages and tell
// nothing. Others' `typing` events show under the message list of their conversation, as
// "王小明 is typing…", each for about 5 s after its last event, or until that person's message
// comes. Nothing here is stored or sent again later.

import { t } from './i18n.js';
import { names } from './names.js';
import { lower } from './store.js';
import { h } from './ui/dom.js';

const SEND_EVERY = 3000;        // the server lets one through per user and conversation per 3 s
const SHOW_FOR = 5500;          // an indicator lasts this long after its last event

export class Typing {
	/** `input`: the composer's text box. */
	constructor({ store, client, input, signal }) {
		this.store = store;
		this.client = client;
		this.sentAt = new Map();    // conversation key -> when `typing` last went
		this.who = new Map();       // conversation key -> Map(user key -> {user, display, timer})
		this.el = h('div', { class: 'typing', id: 'typing', role: 'status', 'aria-live': 'polite' });
		this.shown = '';

		input.addEventListener('input', () => this.typed(input.value), { signal });
		client.addEventListener('event', e => this.onEvent(e.detail), { signal });
		client.addEventListener('state', e => {
			if (e.detail.state !== 'online' && e.detail.state !== 'syncing')
				this.clearAll();        // indicators are live or nothing
		}, { signal });
		store.addEventListener('active', () => this.render(), { signal });
		names.addEventListener('change', () => this.render(), { signal });
		signal.addEventListener('abort', () => this.clearAll());
	}

	/** The text box changed: tell the conversation, unless told within 3 s or not a message. */
	typed(text) {
		const c = this.store.active();
		if (!c || this.client.state !== 'online' || !text.trim())
			return;
		if (text[0] === '/' && text[1] !== '/')
			return;                     // a command, not a message
		const now = Date.now();
		if (now - (this.sentAt.get(c.key) || 0) < SEND_EVERY)
			return;
		const ws = this.client.ws;
		if (!ws || ws.readyState !== WebSocket.OPEN)
			return;
		this.sentAt.set(c.key, now);
		// no reply when it goes through (a request matched by ref would wait for one); an
		// error (the room was left meanwhile) comes as an event and is of no interest
		ws.send(JSON.stringify({ op: 'typing', to: c.kind === 'room' ? c.name : '@' + c.name }));
	}

	onEvent(m) {
		if (m.op === 'typing' && typeof m.from === 'string' && typeof m.to === 'string') {
			if (lower(m.from) === this.store.meKey)
				return;
			const key = m.to[0] === '#' ? lower(m.to) : '@' + lower(m.from);
			let people = this.who.get(key);
			if (!people) {
				people = new Map();
				this.who.set(key, people);
			}
			const ukey = lower(m.from);
			const had = people.get(ukey);
			clearTimeout(had?.timer);
			people.set(ukey, {
				user: m.from, display: m.display,
				timer: setTimeout(() => this.stop(key, ukey), SHOW_FOR),
			});
			if (!had && key === this.store.activeKey)
				this.render();
		} else if (m.op === 'msg' && typeof m.from === 'string' && typeof m.to === 'string') {
			// the message they were typing came
			this.stop(this.store.keyOf(m), lower(m.from));
		}
	}

	stop(key, ukey) {
		const people = this.who.get(key);
		const p = people && people.get(ukey);
		if (!p)
			return;
		clearTimeout(p.timer);
		people.delete(ukey);
		if (!people.size)
			this.who.delete(key);
		if (key === this.store.activeKey)
			this.render();
	}

	clearAll() {
		for (const people of this.who.values())
			for (const p of people.values())
				clearTimeout(p.timer);
		this.who.clear();
		this.render();
	}

	/** Who types in the conversation on screen, in the order they started. */
	render() {
		const people = [...(this.who.get(this.store.activeKey)?.values() || [])];
		const label = p => names.label(p.user, p.display);
		let nodes = [];
		if (people.length === 1)
			nodes = withNames('typing.one', { name: label(people[0]) });
		else if (people.length === 2)
			nodes = withNames('typing.two', { a: label(people[0]), b: label(people[1]) });
		else if (people.length > 2)
			nodes = withNames('typing.many', { a: label(people[0]), b: label(people[1]), n: people.length - 2 });
		const text = nodes.map(n => (typeof n === 'string' ? n : n.textContent)).join('');
		if (text === this.shown)
			return;
		this.shown = text;
		this.el.replaceChildren(...nodes);
		this.el.title = people.map(p => p.user).join(', ');
		this.el.dataset.count = String(people.length);
	}
}

/** t(key, vars) as nodes, each value in a <bdi> (a right-to-left name keeps the sentence). */
function withNames(key, vars) {
	const values = Object.values(vars);
	const marks = {};
	Object.keys(vars).forEach((k, i) => { marks[k] = `\u0000${i}\u0000`; });
	return t(key, marks).split('\u0000').map((part, j) =>
		(j % 2 ? h('bdi', null, String(values[Number(part)])) : part)).filter(p => p !== '');
}
