// store.js - what the client knows: conversations (rooms and private chats) with their
// messages in id order, unread counts, who is online, and the outbox of messages not yet
// confirmed by the server. Messages are de-duplicated by id; pending ones by cid.
// A little of it (last id seen, the conversation list, read marks, the outbox) is kept in
// localStorage per user so that a reload catches up with `sync` and keeps its unread counts.
//
// Read state: each conversation's read mark (`readUpTo`, the last id read) is loaded with the
// saved state and raised only in markReadUpTo(), which emits 'read' {key, id, how}: 'seen'
// when the view showed it (readstate.js sends those to the server as `read`), 'server' when
// the server said so, 'local' for this browser's own guesses (a first look starts at the
// newest). setReadState() puts the server's mark and count in place (readstate.js: `unread`,
// a read on another device). A message from someone else is unread when its id is above the
// mark, unless it came live while its conversation was on screen, scrolled to the end, with
// nothing unread before it: what a catch-up brings (sync after a reconnect or a reload,
// messages that waited offline) stays unread until the view has been scrolled to it, and the
// view shows a "N new messages" divider before the first of them (`newAfter`, `newCount`).
// Unread messages that mention the user are counted apart as well (`mentions`).
//
// Changes to messages (docs/PROTOCOL.md, "Changes to messages"): recalls, edits and reactions
// change the stored message objects in place, from live events or from a catch-up's
// `changes` (the message as it is now). Each message remembers the change number it shows
// (`changed`), so a change older than what is shown is ignored and applying one twice is
// harmless; `changeSeq` is the newest change the client has fully caught up with (kept with
// the saved state, for `sync`'s changes_after). Replies that quote a changed message follow
// it. Every change bumps the message's `_rev`, which tells the view to draw it again.

import { quoteOf, RECALL_WINDOW_S } from './msgrules.js';

const PREFIX = 'pier.v1.';
const MAX_KEEP = 1200;      // messages kept per conversation not on screen...
const TRIM_TO = 600;        // ...trimmed down to this many (older ones come back with history)

export const lower = s => String(s).toLowerCase();

export function loadToken() {
	try {
		const v = JSON.parse(localStorage.getItem(PREFIX + 'session') || 'null');
		return v && typeof v.token === 'string' ? v : null;
	} catch {
		return null;
	}
}

export function saveToken(token, user) {
	try {
		if (token)
			localStorage.setItem(PREFIX + 'session', JSON.stringify({ token, user }));
		else
			localStorage.removeItem(PREFIX + 'session');
	} catch { /* private mode: the session lasts as long as the page */ }
}

export class Store extends EventTarget {
	constructor() {
		super();
		// end-to-end encrypted messages come from the server without text: the device manager
		// (e2ee/device.js) fills in what this device decrypted (m -> m)
		this.decorate = m => m;
		this.reset();
	}

	reset() {
		this.me = null;
		this.meKey = null;
		this.convs = new Map();
		this.online = new Map();        // lower name -> display name
		this.onlineTotal = 0;
		// everyone online as the last paged users request listed them (the people panel asks
		// when looked at; presence only keeps contacts live); null: not asked for yet
		this.everyone = null;           // lower name -> name
		this.lastId = 0;
		this.changeSeq = 0;             // changes to messages caught up with (sync changes_after)
		this.recallWindow = RECALL_WINDOW_S;
		this.fresh = true;              // no saved state for this user in this browser
		this.activeKey = null;
		this.outbox = [];               // pending sends, in the order they were made
		this.visible = typeof document === 'undefined' || !document.hidden;
		this.atBottom = false;          // the view shows the end of the active conversation
		clearTimeout(this._saveTimer);
	}

	emit(type, detail) {
		this.dispatchEvent(new CustomEvent(type, { detail }));
	}

	// ---- the user and saved state ----

	setMe(name) {
		if (this.meKey === lower(name)) {
			this.me = name;
			return;
		}
		this.reset();
		this.me = name;
		this.meKey = lower(name);
		let saved = null;
		try {
			saved = JSON.parse(localStorage.getItem(PREFIX + 'u.' + this.meKey) || 'null');
		} catch { /* ignore */ }
		if (saved && typeof saved === 'object') {
			this.fresh = false;
			this.lastId = Number(saved.lastId) || 0;
			this.changeSeq = Number(saved.changeSeq) || 0;
			for (const c of saved.convs || []) {
				if (typeof c.key !== 'string' || !/^[#@]/.test(c.key))
					continue;
				const conv = this.ensure(c.key, c.name);
				conv.readUpTo = Number(c.readUpTo) || 0;
				conv.unread = Number(c.unread) || 0;
				conv.mentions = Math.min(conv.unread, Number(c.mentions) || 0);
				if (conv.unread > 0) {
					conv.newAfter = conv.readUpTo;
					conv.newCount = conv.unread;
				}
				conv.hidden = !!c.hidden;
				conv.lastTs = Number(c.lastTs) || 0;
				conv.members = c.members;
			}
			for (const o of saved.outbox || []) {
				if (o && o.cid && o.to && typeof o.text === 'string')
					this.addPending({ cid: o.cid, to: o.to, text: o.text, ts: o.ts || Date.now(),
						media: o.media || null, kind: o.kind || null,
						reply_to: o.reply_to || null, quote: o.quote || null }, true);
			}
			this.activeKey = this.convs.has(saved.active) ? saved.active : null;
		}
		this.emit('convs');
	}

	save() {
		clearTimeout(this._saveTimer);
		this._saveTimer = setTimeout(() => this.saveNow(), 250);
	}

	saveNow() {
		clearTimeout(this._saveTimer);
		if (!this.meKey)
			return;
		const data = {
			lastId: this.lastId,
			changeSeq: this.changeSeq,
			active: this.activeKey,
			convs: [...this.convs.values()].map(c => ({
				key: c.key, name: c.name, readUpTo: c.readUpTo, unread: c.unread, mentions: c.mentions,
				hidden: c.hidden, lastTs: c.lastTs, members: c.members,
			})),
			// an encrypted file's key is not written to localStorage: such a send is not kept
			outbox: this.outbox.filter(o => o.state !== 'failed' && !o.file).map(o => ({
				cid: o.cid, to: o.to, text: o.text, ts: o.ts, media: o.media, kind: o.kind,
				reply_to: o.reply_to, quote: o.quote,
			})),
		};
		try {
			localStorage.setItem(PREFIX + 'u.' + this.meKey, JSON.stringify(data));
		} catch { /* full or private mode */ }
	}

	forgetUser() {
		if (this.meKey) {
			try {
				localStorage.removeItem(PREFIX + 'u.' + this.meKey);
			} catch { /* ignore */ }
		}
		this.reset();
	}

	// ---- conversations ----

	ensure(key, name) {
		key = lower(key);
		let c = this.convs.get(key);
		if (!c) {
			const room = key[0] === '#';
			c = {
				key, name: name || (room ? key : key.slice(1)), kind: room ? 'room' : 'private',
				messages: [], ids: new Set(), unread: 0, mentions: 0, readUpTo: 0, newAfter: null, newCount: 0,
				more: null, loading: false,
				lastTs: 0, members: undefined, hidden: false, joined: room,
			};
			this.convs.set(key, c);
		} else if (name && name !== c.name && lower(name) === lower(c.name)) {
			c.name = name;      // the server's spelling
		}
		return c;
	}

	/** The conversation key of a message: the room, or '@' + the other user. */
	keyOf(m) {
		if (m.to[0] === '#')
			return lower(m.to);
		if (lower(m.from) === this.meKey)
			return lower(m.to);
		return '@' + lower(m.from);
	}

	nameOf(m) {
		if (m.to[0] === '#')
			return m.to;
		return lower(m.from) === this.meKey ? m.to.slice(1) : m.from;
	}

	/** The rooms the user is in (login reply): adds them, drops rooms it is no longer in. */
	setRooms(rooms) {
		const keep = new Set(rooms.map(lower));
		for (const r of rooms)
			this.ensure(r, r).joined = true;
		for (const [key, c] of this.convs) {
			if (c.kind === 'room' && !keep.has(key)) {
				this.convs.delete(key);
				if (this.activeKey === key)
					this.activeKey = null;
			}
		}
		this.save();
		this.emit('convs');
	}

	removeRoom(room) {
		const key = lower(room);
		this.convs.delete(key);
		this.outbox = this.outbox.filter(o => lower(o.to) !== key);
		if (this.activeKey === key)
			this.setActive('#lobby');
		this.save();
		this.emit('convs');
	}

	hideConv(key) {
		const c = this.convs.get(key);
		if (!c)
			return;
		c.hidden = true;
		if (this.activeKey === key)
			this.setActive('#lobby');
		this.save();
		this.emit('convs');
	}

	/** Rooms first (#lobby, then by name), then private chats by last activity. */
	list() {
		const all = [...this.convs.values()].filter(c => !c.hidden);
		const rooms = all.filter(c => c.kind === 'room').sort((a, b) =>
			a.key === '#lobby' ? -1 : b.key === '#lobby' ? 1 : a.key.localeCompare(b.key));
		const priv = all.filter(c => c.kind === 'private').sort((a, b) =>
			(b.lastTs - a.lastTs) || a.key.localeCompare(b.key));
		return { rooms, priv };
	}

	totalUnread() {
		let n = 0;
		for (const c of this.convs.values())
			n += c.unread;
		return n;
	}

	setActive(key) {
		key = key ? lower(key) : null;
		const c = key ? this.convs.get(key) : null;
		const left = this.active();
		if (left && left !== c && left.unread === 0)
			left.newAfter = null;       // read, and left: its divider goes
		if (c) {
			c.hidden = false;
			if (c.unread > 0 && c.newAfter === null) {
				c.newAfter = c.readUpTo;
				c.newCount = c.unread;
			}
		}
		this.activeKey = c ? key : null;
		this.atBottom = false;          // until the view has shown it
		this.save();
		this.emit('active', { key: this.activeKey });
		this.emit('convs');
	}

	active() {
		return this.activeKey ? this.convs.get(this.activeKey) || null : null;
	}

	setVisible(v) {
		this.visible = v;
		if (v)
			this.markRead();
	}

	/** The message view says whether it shows the end of the active conversation. */
	setAtBottom(v) {
		this.atBottom = !!v;
		if (v)
			this.markRead();
	}

	/**
	 * Raises conversation c's read mark to `id` (never lowers it). The one place where a
	 * read mark rises: 'read' {key, id, how} tells who keeps it elsewhere. `how`: 'seen' (shown
	 * to the user), 'server' (read on the server already), 'local' (a guess of this browser).
	 */
	markReadUpTo(c, id, how = 'local') {
		if (!c || !(id > c.readUpTo))
			return false;
		c.readUpTo = id;
		this.save();
		this.emit('read', { key: c.key, id, how });
		return true;
	}

	/**
	 * The server's read state of c: its mark `read` (it wins over this browser's guesses, so it
	 * may be lower) and `unread` messages after it. The divider goes where reading stopped; in
	 * the conversation on screen, one already shown stays until it is left.
	 */
	setReadState(c, read, unread) {
		c.readUpTo = read;
		c.unread = unread;
		if (unread > 0) {
			c.newAfter = read;
			c.newCount = unread;
			if (c.kind === 'private')
				c.hidden = false;
		} else if (c.key !== this.activeKey) {
			c.newAfter = null;
		}
		this.save();
		this.emit('convs');
		if (c.key === this.activeKey)
			this.emit('messages', { key: c.key, how: 'update' });
	}

	/** The active conversation, on screen and shown to its end, has nothing unread. */
	markRead() {
		const c = this.active();
		// an empty view (its history still coming) has shown nothing: the server's count stays
		if (!c || !this.visible || !this.atBottom || !c.messages.length)
			return;
		const last = c.messages[c.messages.length - 1].id;
		if (c.unread !== 0 || last > c.readUpTo) {
			c.unread = 0;
			c.mentions = 0;
			this.markReadUpTo(c, last, 'seen');
			this.save();
			this.emit('convs');
		}
	}

	/** Counts m (from someone else, not read) as unread in c, and places c's divider. */
	countUnread(c, m) {
		if (c.unread === 0 || c.newAfter === null) {
			c.newAfter = Math.min(c.readUpTo, m.id - 1);
			c.newCount = 0;
		} else if (m.id - 1 < c.newAfter) {
			c.newAfter = m.id - 1;      // an offline message older than the mark (see addMessages)
		}
		c.unread++;
		c.newCount++;
		if (m.mentioned)
			c.mentions++;
	}

	// ---- messages ----

	/**
	 * Adds messages (msg events, sync pages, sent replies). Returns those that were new.
	 * source: 'live' | 'sync' | 'offline' | 'sent'.
	 */
	addMessages(list, source) {
		const added = [];
		const touched = new Map();      // key -> the messages added there
		for (let m of list) {
			if (!m || typeof m.id !== 'number' || typeof m.to !== 'string' || typeof m.from !== 'string')
				continue;
			m = this.decorate(m);
			const key = this.keyOf(m);
			const c = this.ensure(key, this.nameOf(m));
			if (c.ids.has(m.id)) {
				this.applyMessage(m);      // a sync page may know a newer state
				continue;
			}
			insertSorted(c.messages, m);
			c.ids.add(m.id);
			if (m.ts > c.lastTs)
				c.lastTs = m.ts;
			const mine = lower(m.from) === this.meKey;
			// a message that waited offline was never shown anywhere, whatever the read mark
			// says (a first login's look back may have passed it)
			const isNew = !mine && (m.id > c.readUpTo || source === 'offline');
			if (isNew && source !== 'history') {
				const seen = source === 'live' && key === this.activeKey && this.visible &&
					this.atBottom && c.unread === 0;
				if (seen)
					this.markReadUpTo(c, m.id, 'seen');
				else
					this.countUnread(c, m);
			}
			if (c.kind === 'private' && source !== 'history')
				c.hidden = false;
			if (!touched.has(key))
				touched.set(key, []);
			touched.get(key).push(m);
			added.push(m);
		}
		for (const key of touched.keys()) {
			const c = this.convs.get(key);
			if (key !== this.activeKey && c.messages.length > MAX_KEEP) {
				const drop = c.messages.splice(0, c.messages.length - TRIM_TO);
				for (const m of drop)
					c.ids.delete(m.id);
				c.more = true;
			}
		}
		if (touched.size) {
			this.save();
			for (const [key, msgs] of touched)
				this.emit('messages', { key, how: 'append', added: msgs, source });
			this.emit('convs');
		}
		return added;
	}

	/** Raises the id that a later `sync` starts after. */
	seen(id) {
		if (id > this.lastId) {
			this.lastId = id;
			this.save();
		}
	}

	/** Older messages of one conversation (history reply), with whether there are more. */
	addHistory(key, messages, more) {
		const c = this.convs.get(lower(key));
		if (!c)
			return;
		let n = 0;
		for (let m of messages) {
			if (typeof m.id !== 'number')
				continue;
			m = this.decorate(m);
			if (c.ids.has(m.id)) {
				this.applyMessage(m);
				continue;
			}
			insertSorted(c.messages, m);
			c.ids.add(m.id);
			if (m.ts > c.lastTs)
				c.lastTs = m.ts;
			n++;
		}
		c.more = !!more;
		// read or not is the view's to say once it has shown them (setAtBottom): the end shown
		// before they came says nothing of them
		this.emit('messages', { key: c.key, how: 'prepend', n });
	}

	/** Whether any conversation holds messages (a reload starts with none). */
	hasMessages() {
		for (const c of this.convs.values())
			if (c.messages.length)
				return true;
		return false;
	}

	/** Forgets every conversation's messages (after a gap too large to fill with sync). */
	dropMessages() {
		for (const c of this.convs.values()) {
			c.messages = [];
			c.ids = new Set();
			c.more = null;
		}
		this.emit('messages', { key: this.activeKey, how: 'reset' });
	}

	// ---- changes to messages: recall, edit, reactions ----

	/** {c, m}: the stored message `id` of conversation `key`, or null when it is not here. */
	locate(key, id) {
		const c = this.convs.get(key);
		if (!c || !c.ids.has(id))
			return null;
		const i = indexOfId(c.messages, id);
		return i < 0 ? null : { c, m: c.messages[i] };
	}

	/** The same for a message or an event about one (its `from` and `to` are the message's). */
	locateOf(ev) {
		if (!ev || typeof ev.id !== 'number' || typeof ev.to !== 'string' || typeof ev.from !== 'string')
			return null;
		return this.locate(this.keyOf(ev), ev.id);
	}

	/**
	 * Changes from a catch-up (`sync` changes: each message as it is now), or messages that a
	 * history or sync page brought again: those newer than what is shown replace it.
	 */
	applyMessages(list) {
		const touched = new Map();
		for (let n of list || []) {
			const at = this.locateOf(n);
			if (!at || !newer(at.m, n.changed))
				continue;
			n = this.decorate(n);
			const m = at.m;
			for (const f of STATE_FIELDS)
				delete m[f];
			for (const f of STATE_FIELDS)
				if (n[f] !== undefined)
					m[f] = n[f];
			m.changed = n.changed;
			this.touch(at.c, m, touched);
		}
		this.emitChanged(touched);
		return touched.size > 0;
	}

	applyMessage(m) {
		return this.applyMessages([m]);
	}

	/** A `recalled` event, or the reply to one's own recall ({id, changed} with the key). */
	applyRecalled(key, id, changed) {
		const at = this.locate(key, id);
		if (!at || (changed !== undefined && !newer(at.m, changed)))
			return;
		const m = at.m;
		for (const f of STATE_FIELDS)
			delete m[f];
		m.recalled = true;
		if (changed !== undefined)
			m.changed = changed;
		this.emitChanged(this.touch(at.c, m));
	}

	/** An `edited` event, or the reply to one's own edit (with the text sent). */
	applyEdited(key, id, { text, edited, mentions, changed }) {
		const at = this.locate(key, id);
		if (!at || at.m.recalled || !newer(at.m, changed))
			return;
		const m = at.m;
		m.text = text;
		m.edited = edited;
		m.changed = changed;
		if (Array.isArray(mentions) && mentions.length)
			m.mentions = mentions;
		else
			delete m.mentions;
		// an edit finds the mentions again; it does not notify, but the highlight follows it
		m.mentioned = m.to[0] === '#' && !!m.mentions && m.mentions.some(n => lower(n) === this.meKey);
		this.emitChanged(this.touch(at.c, m));
	}

	/**
	 * A `reaction` event ({user, emoji, on, count, changed}), or the reply to one's own
	 * (user: this user; changed absent when it changed nothing: `already`).
	 */
	applyReaction(key, id, { user, emoji, on, count, changed }) {
		const at = this.locate(key, id);
		if (!at || at.m.recalled || (changed !== undefined && !newer(at.m, changed)))
			return;
		const m = at.m;
		const list = m.reactions ? m.reactions.slice() : [];
		const i = list.findIndex(r => r.emoji === emoji);
		const r = i >= 0 ? { ...list[i], users: [...(list[i].users || [])] } : { emoji, count: 0, users: [], mine: false };
		const has = r.users.some(u => lower(u) === lower(user));
		if (on && !has && r.users.length < REACTION_NAMES)
			r.users.push(user);
		else if (!on && has)
			r.users = r.users.filter(u => lower(u) !== lower(user));
		if (lower(user) === this.meKey)
			r.mine = !!on;
		r.count = typeof count === 'number' ? count : Math.max(0, r.count + (on ? 1 : -1));
		if (r.count <= 0) {
			if (i >= 0)
				list.splice(i, 1);
		} else if (i >= 0) {
			list[i] = r;
		} else {
			list.push(r);
		}
		if (list.length)
			m.reactions = list;
		else
			delete m.reactions;
		if (changed !== undefined)
			m.changed = changed;
		this.emitChanged(this.touch(at.c, m));
	}

	/** Raises the change number that the next catch-up starts after. */
	seenChange(changed) {
		if (changed > this.changeSeq) {
			this.changeSeq = changed;
			this.save();
		}
	}

	/** The server said how long its messages may be recalled (the login reply's recall_window,
	 * or recall_expired's window_s). */
	setRecallWindow(s) {
		if (typeof s === 'number' && s >= 0)
			this.recallWindow = s;
	}

	/**
	 * Message m of c changed: it is drawn again, and so are the replies that quote it (their
	 * quote says what m says now, or that it was recalled), sent or still in the outbox.
	 */
	touch(c, m, touched = new Map()) {
		m._rev = (m._rev || 0) + 1;
		const quote = m.recalled ? { id: m.id, from: m.from, recalled: true } : quoteOf(m);
		const quoters = [...c.messages, ...this.pendingFor(c.key)].filter(x => x.reply_to === m.id && x.quote);
		for (const x of quoters) {
			x.quote = quote;
			x._rev = (x._rev || 0) + 1;
		}
		if (!touched.has(c.key))
			touched.set(c.key, []);
		touched.get(c.key).push(m.id);
		return touched;
	}

	emitChanged(touched) {
		for (const [key, ids] of touched)
			this.emit('messages', { key, how: 'update', changed: ids });
	}

	// ---- the outbox ----

	addPending(item, quiet) {
		const p = {
			cid: item.cid, to: item.to, text: item.text ?? '', ts: item.ts ?? Date.now(),
			media: item.media || null, kind: item.kind || null, state: 'queued', error: null, file: item.file || null,
			from: this.me, pending: true, reply_to: item.reply_to || null, quote: item.quote || null,
		};
		this.outbox.push(p);
		const c = this.ensure(p.to, p.to[0] === '#' ? p.to : p.to.slice(1));
		c.hidden = false;
		if (!quiet) {
			this.save();
			this.emit('messages', { key: c.key, how: 'append' });
			this.emit('convs');
		}
		return p;
	}

	pendingFor(key) {
		return this.outbox.filter(o => lower(o.to) === key);
	}

	setPendingState(cid, state, error) {
		const p = this.outbox.find(o => o.cid === cid);
		if (!p)
			return;
		p.state = state;
		p.error = error || null;
		this.save();
		this.emit('messages', { key: lower(p.to), how: 'update' });
	}

	/** A `sent` reply: the pending message becomes a stored one (unless sync brought it). */
	confirm(cid, reply) {
		const i = this.outbox.findIndex(o => o.cid === cid);
		if (i < 0)
			return;
		const p = this.outbox[i];
		this.outbox.splice(i, 1);
		const m = {
			id: reply.id, ts: reply.ts, from: this.me, to: reply.to || p.to, text: p.text,
		};
		if (reply.e2ee)
			m.e2ee = true;
		if (p.file) {
			// an encrypted file: the server knows it only as "encrypted"; the name, type and
			// key are what this client sent inside the message
			m.media = p.media;
			m.kind = p.kind || 'file';
		} else if (reply.media || p.media) {
			m.media = reply.media || p.media;
			m.kind = reply.kind || p.kind || 'file';
		}
		if (reply.reply_to || p.reply_to) {
			m.reply_to = reply.reply_to || p.reply_to;
			m.quote = reply.quote || p.quote;
		}
		if (Array.isArray(reply.mentions))
			m.mentions = reply.mentions;
		const to = typeof reply.to === 'string' && lower(reply.to) === lower(p.to) ? reply.to : p.to;
		const c = this.ensure(lower(p.to), to[0] === '#' ? to : to.slice(1));     // the server's spelling
		if (!c.ids.has(m.id)) {
			insertSorted(c.messages, m);
			c.ids.add(m.id);
		}
		if (m.ts > c.lastTs)
			c.lastTs = m.ts;
		this.markRead();
		this.save();
		this.emit('messages', { key: c.key, how: 'confirm', cid });
		this.emit('convs');
	}

	discard(cid) {
		const i = this.outbox.findIndex(o => o.cid === cid);
		if (i < 0)
			return;
		const [p] = this.outbox.splice(i, 1);
		this.save();
		this.emit('messages', { key: lower(p.to), how: 'update' });
	}

	// ---- presence ----

	setOnline(names, { replace = true, total } = {}) {
		if (replace) {
			this.online.clear();
			this.everyone = null;       // a new login: the old snapshot is stale
		}
		for (const n of names)
			this.online.set(lower(n), n);
		this.onlineTotal = Math.max(total ?? 0, this.online.size);
		this.emit('users');
	}

	/** The snapshot of everyone online (a paged users request), with the total online. */
	setEveryone(names, total) {
		this.everyone = new Map(names.map(n => [lower(n), n]));
		this.onlineTotal = Math.max(total ?? 0, this.online.size);
		this.emit('users');
	}

	presence(user, isOnline) {
		const had = this.online.has(lower(user));
		if (isOnline)
			this.online.set(lower(user), user);
		else
			this.online.delete(lower(user));
		// a contact's presence corrects the snapshot of everyone too
		if (this.everyone && isOnline)
			this.everyone.set(lower(user), user);
		else if (this.everyone)
			this.everyone.delete(lower(user));
		if (had !== isOnline)
			this.onlineTotal = Math.max(0, this.onlineTotal + (isOnline ? 1 : -1));
		this.onlineTotal = Math.max(this.onlineTotal, this.online.size);
		this.emit('users');
	}
}

/** What a message says, all of which a recall takes away and a newer state replaces. */
const STATE_FIELDS = ['text', 'media', 'kind', 'reply_to', 'quote', 'mentions', 'mentioned', 'edited',
	'reactions', 'recalled', 'e2eeMissing', 'edit_hidden'];
const REACTION_NAMES = 10;      // names the server lists per reaction

/** Whether a change numbered `changed` is newer than what message m shows. */
function newer(m, changed) {
	return typeof changed === 'number' && changed > (m.changed || 0);
}

/** The index of the message `id` in arr (sorted by id), or -1. */
function indexOfId(arr, id) {
	let lo = 0;
	let hi = arr.length - 1;
	while (lo <= hi) {
		const mid = (lo + hi) >> 1;
		if (arr[mid].id === id)
			return mid;
		if (arr[mid].id < id)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

/** Inserts m into arr (sorted by id), searching from the end (new messages come last). */
function insertSorted(arr, m) {
	let i = arr.length;
	while (i > 0 && arr[i - 1].id > m.id)
		i--;
	arr.splice(i, 0, m);
}
