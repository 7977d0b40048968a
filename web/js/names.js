// names.js - who is shown how: each user's display name (王小明), learnt from what the server
// says about users (docs/PROTOCOL.md, profile): the login reply, `users`, `presence`, `member`,
// `typing` and `profile` events, messages (`display` next to `from`: the sender's name as it is
// when the server sends it), `members` pages. The login name stays the handle; a display name
// is only ever shown as text next to it (ui/name.js). Pure: no DOM.
//
// A user the directory has heard of has an entry: '' when that user has no display name (so
// a removal is remembered too). Unknown users fall back to what a message carried.

import { lower } from './store.js';

export class Names extends EventTarget {
	constructor() {
		super();
		this.map = new Map();       // lower(user) -> display name ('' for none)
		this.spelling = new Map();  // lower(user) -> the server's spelling of the login name
	}

	clear() {
		this.map.clear();
		this.spelling.clear();
	}

	/**
	 * What the server says now: `user` has display name `display` (absent, null or '': none).
	 * Emits 'change' {key, user, display} when it changed.
	 */
	learn(user, display) {
		if (typeof user !== 'string' || !user)
			return;
		const key = lower(user);
		const v = typeof display === 'string' ? display : '';
		this.spelling.set(key, user);
		if (this.map.get(key) === v)
			return;
		this.map.set(key, v);
		this.dispatchEvent(new CustomEvent('change', { detail: { key, user, display: v } }));
	}

	/** The display name of `user` ('' for none); `fallback` when the user is not known. */
	display(user, fallback) {
		const v = this.map.get(lower(user));
		if (v !== undefined)
			return v;
		return typeof fallback === 'string' ? fallback : '';
	}

	/** What to show for `user`: its display name, else its login name. */
	label(user, fallback) {
		return this.display(user, fallback) || String(user);
	}

	/** Learns from one event or reply of the server (anything without names is ignored). */
	fromServer(m) {
		switch (m && m.op) {
		case 'msg':
		case 'typing':
		case 'edited':
		case 'recalled':
			this.learn(m.from, m.display);
			break;
		case 'presence':
		case 'member':
		case 'profile':
		case 'reaction':
			this.learn(m.user, m.display);
			break;
		case 'users': {
			const shown = m.display && typeof m.display === 'object' ? m.display : {};
			for (const u of Array.isArray(m.online) ? m.online : [])
				this.learn(u, shown[u]);
			break;
		}
		case 'members':
			for (const e of Array.isArray(m.members) ? m.members : [])
				this.learn(e && e.user, e && e.display);
			break;
		default:
			break;
		}
	}

	/**
	 * Keeps the directory current from `client` (connection.js: its 'event' for every event,
	 * 'loggedin' with the login reply) and the messages the store adds (sync pages).
	 */
	watch(client, store) {
		client.addEventListener('event', e => this.fromServer(e.detail));
		client.addEventListener('loggedin', e => {
			const r = e.detail.reply || {};
			this.learn(r.user, r.display);
		});
		client.addEventListener('loggedout', () => this.clear());
		store.addEventListener('messages', e => {
			if (e.detail.source === 'sync')
				for (const m of e.detail.added || [])
					this.learn(m.from, m.display);
		});
	}
}

/** The one directory of the page. */
export const names = new Names();
