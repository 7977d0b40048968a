// readstate.js - the read state kept on the server (docs/PROTOCOL.md, read and unread), so that
// every device of a user counts the same unread messages:
// - what is seen here (the store's read mark moved by what the view showed, in a visible and
//   focused tab: store.markReadUpTo with how 'seen') is sent as `read`, coalesced: at most one
//   per conversation every 2 s (the first at once, the next ones carry the highest id seen);
// - once online (after a login or a reconnect) it asks `unread`, page by page, and the
//   server's counts replace this browser's (capped counts show as "999+");
// - a `read` event (another device read) raises the mark and counts again what is left: from
//   the loaded messages when they reach back to the new mark, else by asking `unread` again.
// The divider ("N new messages") follows the mark (store.setReadState).

import { lower } from './store.js';

const READ_EVERY = 2000;        // ms between two `read`s of one conversation
const UNREAD_PAGE = 100;        // the server's most per page
const UNREAD_PAGES = 20;        // 2000 conversations at most at a login
const RECOUNT_AFTER = 400;      // ms: read events that come together are counted once

/** An unread count as shown: 999+ from 1000 on (the server's counts stop at 1000). */
export const unreadLabel = n => (n >= 1000 ? '999+' : String(n));

/**
 * Whether the user can be looking at the page: shown (not a hidden tab) and focused (not a
 * window behind another). Only then do messages on screen count as read (store.setVisible).
 */
export function watchAttention(store) {
	const update = () => store.setVisible(!document.hidden && document.hasFocus());
	document.addEventListener('visibilitychange', update);
	addEventListener('focus', update);
	addEventListener('blur', update);
	update();
}

export class ReadSync {
	constructor({ store, client }) {
		this.store = store;
		this.client = client;
		this.want = new Map();      // key -> highest id seen here, not sent yet
		this.flying = new Map();    // key -> highest id of a `read` in flight
		this.sentAt = new Map();    // key -> when its last `read` went
		this.timers = new Map();    // key -> the timer that sends it
		this.fetching = false;
		this.fetchAgain = false;
		this.recountTimer = null;

		store.addEventListener('read', e => {
			if (e.detail.how === 'seen')
				this.queue(e.detail.key, e.detail.id);
		});
		client.addEventListener('event', e => {
			if (e.detail.op === 'read' && typeof e.detail.with === 'string')
				this.serverRead(lower(e.detail.with), e.detail.id);
		});
		client.addEventListener('state', e => {
			if (e.detail.state === 'online') {
				this.flushAll();        // before `unread`: its counts then include these
				this.fetchUnread();
			}
		});
		client.addEventListener('loggedout', () => this.reset());
		addEventListener('pagehide', () => this.flushAll());
	}

	reset() {
		for (const t of this.timers.values())
			clearTimeout(t);
		clearTimeout(this.recountTimer);
		this.want.clear();
		this.flying.clear();
		this.sentAt.clear();
		this.timers.clear();
	}

	/** Conversation `key` was read up to `id` here: send it (now, or when its 2 s are up). */
	queue(key, id) {
		if (!(id > (this.want.get(key) || 0)))
			return;
		this.want.set(key, id);
		if (this.timers.has(key))
			return;
		const wait = Math.max(0, (this.sentAt.get(key) || 0) + READ_EVERY - Date.now());
		this.timers.set(key, setTimeout(() => {
			this.timers.delete(key);
			this.flush(key);
		}, wait));
	}

	/** Sends every waiting position now (coming online, the page going away). */
	flushAll() {
		for (const key of [...this.want.keys()]) {
			clearTimeout(this.timers.get(key));
			this.timers.delete(key);
			this.flush(key);
		}
	}

	flush(key) {
		const id = this.want.get(key);
		const c = this.store.convs.get(key);
		if (!id || !c) {
			this.want.delete(key);
			return;
		}
		if (this.client.state !== 'online' && this.client.state !== 'syncing')
			return;                     // kept: sent when online again
		this.want.delete(key);
		this.sentAt.set(key, Date.now());
		this.flying.set(key, Math.max(this.flying.get(key) || 0, id));
		const landed = () => {
			if (this.flying.get(key) === id)
				this.flying.delete(key);
		};
		this.client.request({ op: 'read', with: c.kind === 'room' ? c.name : '@' + c.name, id }).then(r => {
			landed();
			if (typeof r.id === 'number')
				this.serverRead(key, r.id);     // further than ours: read on another device
		}, err => {
			landed();
			if (err.code === 'offline' || err.code === 'timeout')
				this.queue(key, id);            // again once online
			else if (err.code === 'rate_limited')
				setTimeout(() => this.queue(key, id), err.data.retry_after_ms || READ_EVERY);
			// anything else (not_member, no_such_room...): the conversation is gone
		});
	}

	/** The server's mark of `key` is `id` (a `read` event or reply): raise ours, count again. */
	serverRead(key, id) {
		const store = this.store;
		const c = store.convs.get(key);
		if (!c || !(id > c.readUpTo))
			return;
		store.markReadUpTo(c, id, 'server');
		if (c.unread === 0)
			return;
		// the loaded messages count what is left when they reach back to the mark (or to the
		// conversation's start); otherwise the server counts
		if (c.more === false || (c.messages.length && c.messages[0].id <= id)) {
			const left = c.messages.filter(m => m.id > id && lower(m.from) !== store.meKey).length;
			store.setReadState(c, id, left);
		} else {
			clearTimeout(this.recountTimer);
			this.recountTimer = setTimeout(() => this.fetchUnread(), RECOUNT_AFTER);
		}
	}

	/** Asks the server's unread counts, page by page, and shows them. */
	async fetchUnread() {
		if (this.fetching) {
			this.fetchAgain = true;
			return;
		}
		const gen = this.client.generation;
		this.fetching = true;
		try {
			let after = null;
			for (let page = 0; page < UNREAD_PAGES; page++) {
				const req = { op: 'unread', limit: UNREAD_PAGE };
				if (after)
					req.after = after;
				const r = await this.client.request(req);
				if (gen !== this.client.generation)
					return;
				const list = Array.isArray(r.conversations) ? r.conversations : [];
				for (const e of list)
					this.apply(e);
				if (!r.more || !list.length)
					break;
				after = list[list.length - 1].with;
			}
		} catch {
			/* offline: asked again at the next login */
		} finally {
			this.fetching = false;
			if (this.fetchAgain) {
				this.fetchAgain = false;
				this.fetchUnread();
			}
		}
	}

	/** One entry of an `unread` page. */
	apply(e) {
		if (!e || typeof e.with !== 'string' || typeof e.read !== 'number' || typeof e.unread !== 'number')
			return;
		const store = this.store;
		const key = lower(e.with);
		let c = store.convs.get(key);
		if (!c) {
			// a private chat this browser has not seen: listed when something in it is unread
			if (key[0] !== '@' || e.unread <= 0)
				return;
			c = store.ensure(key, e.with.slice(1));
		}
		if (Math.max(this.want.get(key) || 0, this.flying.get(key) || 0) > e.read)
			return;                     // a read of ours is on its way: these counts are older
		store.setReadState(c, e.read, e.unread);
	}
}
