// connection.js - the WebSocket session with pierd (docs/PROTOCOL.md): requests matched to
// replies by ref, login with a password or a saved token, and staying connected: when the
// socket drops (network, server restart) it tries again at once, then about once a second
// for a while, and backs off only after that (the network coming back, or the page being
// shown again, retries at once); it logs in again with the token, resends the outbox (same
// cid: the server stores each message once), then fetches what it missed with `sync` from
// the last id it had seen. Nothing is lost, nothing shown twice: the store de-duplicates by id.
// The same `sync` brings the changes made meanwhile to older messages (recalls, edits,
// reactions: changes_after the last change number seen), and live `recalled`, `edited` and
// `reaction` events change the stored messages as they come.

import { loadToken, lower, saveToken } from './store.js';
import { tellLogout } from './tabs.js';

const REQUEST_TIMEOUT = 20000;
const CONNECT_TIMEOUT = 10000;
const PING_EVERY = 25000;
const PING_TIMEOUT = 12000;
// Reconnecting: a restart of pierd takes a few seconds, and a client waiting in a long backoff
// then stays away for as long again. So the first retry goes at once (spread over 250 ms so
// that every client of a restarted server does not come in the same millisecond), the next
// ones about a second apart (a refused connection costs the server nothing), and only after
// FAST_TRIES failures does the wait double, up to BACKOFF_MAX.
const FIRST_RETRY = 250;
const FAST_RETRY = 1000;
const FAST_TRIES = 10;
const BACKOFF_MAX = 15000;
const PROBE_TIMEOUT = 5000;     // a ping after the network or the page comes back
const SYNC_PAGES = 25;          // past 25 * 200 missed messages, start afresh from the newest
const DISCOVER_IDS = 5000;      // a first login looks this far back for private conversations
const DISCOVER_PAGES = 10;

export class PierError extends Error {
	constructor(code, message, data) {
		super(message || code);
		this.code = code;
		this.data = data || {};
	}
}

function wsUrl() {
	return (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws';
}

/** The wait before retry number `attempt` (0: the first after a drop), in ms. */
function retryDelay(attempt) {
	if (attempt === 0)
		return Math.round(Math.random() * FIRST_RETRY);
	if (attempt < FAST_TRIES)
		return Math.round(FAST_RETRY * (0.75 + Math.random() * 0.5));
	const base = Math.min(BACKOFF_MAX, FAST_RETRY * 2 ** (attempt - FAST_TRIES + 1));
	return Math.round(base * (0.6 + Math.random() * 0.4));
}

function newCid() {
	const b = new Uint8Array(12);
	crypto.getRandomValues(b);
	return 'w-' + Array.from(b, x => x.toString(16).padStart(2, '0')).join('');
}

/**
 * Events: 'state' {state, retryAt, reason}: 'idle' (no session), 'connecting', 'syncing',
 * 'online', 'offline'; 'loggedin' {reply}; 'loggedout' {reason}: 'logout' or 'logout_all'
 * (asked here), 'tab' (another tab of this browser logged out), 'expired' (the token was
 * refused), 'revoked' (ended from elsewhere: a logout everywhere, a password change);
 * 'notify' {msg} for a live message from someone else; 'event' (detail: the object) for every
 * event the server sends (read state, typing, topics, names: readstate.js, typing.js...).
 */
export class Client extends EventTarget {
	constructor(store) {
		super();
		this.store = store;
		this.ws = null;
		this.refSeq = 0;
		this.pending = new Map();     // ref -> {resolve, reject, timer}
		this.token = null;
		this.state = 'idle';
		this.retryAt = 0;
		this.attempt = 0;
		this.reconnectTimer = null;
		this.pingTimer = null;
		this.synced = false;          // caught up on this connection: live ids may raise lastId
		this.seenMax = 0;             // the highest id seen on this connection
		this.changeMax = 0;           // the highest change number seen on this connection
		this.generation = 0;          // bumps at every new socket; stale work checks it
		this.sessionCookie = null;    // promise of POST /api/session (the media cookie)
		this.ends = 0;                // sessions ended (loggedOut calls)
		this.tries = 0;               // sockets opened (the tests count retries)
		this.e2ee = null;             // the device manager (e2ee/device.js), once loaded

		addEventListener('online', () => this.wake('online'));
		document.addEventListener('visibilitychange', () => {
			if (!document.hidden)
				this.wake('visible');
		});
	}

	/** Reconnecting after failures (the screen shows "offline" rather than a flicker). */
	get retrying() {
		return this.state === 'offline' || (this.state === 'connecting' && this.attempt > 0);
	}

	emit(type, detail) {
		this.dispatchEvent(new CustomEvent(type, { detail }));
	}

	setState(state, extra = {}) {
		this.state = state;
		this.emit('state', { state, ...extra });
	}

	// ---- the socket ----

	/** Opens a socket if there is none. Resolves when it is open. */
	open() {
		if (this.ws && this.ws.readyState === WebSocket.OPEN)
			return Promise.resolve();
		if (this.opening)
			return this.opening;
		if (this.ws)
			this.detach();      // a socket still closing: let it go
		const gen = ++this.generation;
		this.opening = new Promise((resolve, reject) => {
			let ws;
			try {
				ws = new WebSocket(wsUrl());
			} catch (e) {
				this.opening = null;
				reject(new PierError('offline', String(e)));
				return;
			}
			this.ws = ws;
			this.tries++;
			this.synced = false;
			this.seenMax = 0;
			this.changeMax = 0;
			const timer = setTimeout(() => ws.close(), CONNECT_TIMEOUT);
			ws.onopen = () => {
				clearTimeout(timer);
				this.opening = null;
				this.startPing(gen);
				resolve();
			};
			ws.onmessage = e => this.onFrame(e.data);
			ws.onerror = () => { /* onclose follows */ };
			ws.onclose = e => {
				clearTimeout(timer);
				if (this.opening) {
					this.opening = null;
					reject(new PierError('offline', 'closed ' + e.code));
				}
				if (this.ws === ws)
					this.onClose(e);
			};
		});
		return this.opening;
	}

	/** Gives up on the current socket now (a dead connection may take long to close). */
	drop(reason) {
		if (this.ws)
			this.onClose({ reason });
	}

	onClose(e) {
		this.detach();
		if (this.token && this.state !== 'connecting')
			this.scheduleReconnect(e && e.reason);    // while connecting, connect() does it
		else if (this.state !== 'idle')
			this.setState('idle');
	}

	/** Forgets the current socket: its requests fail, its unanswered sends wait again. */
	detach() {
		const ws = this.ws;
		this.ws = null;
		if (ws) {
			ws.onclose = ws.onmessage = ws.onopen = null;
			if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING)
				ws.close();
		}
		clearInterval(this.pingTimer);
		for (const [, p] of this.pending) {
			clearTimeout(p.timer);
			p.reject(new PierError('offline', 'connection closed'));
		}
		this.pending.clear();
		for (const o of this.store.outbox)
			if (o.state === 'sending')
				this.store.setPendingState(o.cid, 'queued');
	}

	startPing(gen) {
		clearInterval(this.pingTimer);
		this.pingTimer = setInterval(() => {
			if (gen !== this.generation || !this.ws)
				return;
			const ws = this.ws;
			this.request({ op: 'ping' }, PING_TIMEOUT).catch(err => {
				if (err.code === 'timeout' && this.ws === ws)
					this.drop('ping_timeout');      // a dead connection: reconnect
			});
		}, PING_EVERY);
	}

	/** Sends a request; resolves with its reply, rejects with PierError (error replies too). */
	request(obj, timeout = REQUEST_TIMEOUT) {
		const ws = this.ws;
		if (!ws || ws.readyState !== WebSocket.OPEN)
			return Promise.reject(new PierError('offline', 'not connected'));
		const ref = 'r' + (++this.refSeq);
		return new Promise((resolve, reject) => {
			const timer = setTimeout(() => {
				this.pending.delete(ref);
				reject(new PierError('timeout', 'no answer to ' + obj.op));
			}, timeout);
			this.pending.set(ref, { resolve, reject, timer });
			ws.send(JSON.stringify({ ...obj, ref }));
		});
	}

	onFrame(data) {
		let m;
		try {
			m = JSON.parse(data);
		} catch {
			return;
		}
		if (!m || typeof m !== 'object')
			return;
		if (typeof m.ref === 'string' && this.pending.has(m.ref)) {
			const p = this.pending.get(m.ref);
			this.pending.delete(m.ref);
			clearTimeout(p.timer);
			if (m.op === 'error')
				p.reject(new PierError(m.error, m.message, m));
			else
				p.resolve(m);
			return;
		}
		this.onEvent(m);
	}

	onEvent(m) {
		const store = this.store;
		this.emit('event', m);      // every event, for the modules that read their own ops
		switch (m.op) {
		case 'msg': {
			if (!store.me)
				return;
			const added = store.addMessages([m], m.offline ? 'offline' : 'live');
			if (!m.offline) {
				this.seenMax = Math.max(this.seenMax, m.id);
				if (this.synced)
					store.seen(m.id);
			}
			if (added.length && !m.offline && lower(m.from) !== store.meKey)
				this.emit('notify', { msg: m });
			break;
		}
		case 'recalled':
			store.applyRecalled(store.keyOf(m), m.id, m.changed);
			this.seenChange(m.changed);
			break;
		case 'edited':
			store.applyEdited(store.keyOf(m), m.id, m);
			this.seenChange(m.changed);
			break;
		case 'reaction':
			store.applyReaction(store.keyOf(m), m.id, m);
			this.seenChange(m.changed);
			break;
		case 'users':
			store.setOnline(m.online || [], { replace: true, total: m.total });
			break;
		case 'presence':
			store.presence(m.user, !!m.online);
			break;
		case 'member':
			if (lower(m.user) === store.meKey) {
				// another session of ours joined or left a room
				if (m.joined) {
					store.ensure(m.room, m.room).joined = true;
					store.emit('convs');
				} else {
					store.removeRoom(m.room);
				}
			} else {
				const c = store.convs.get(lower(m.room));
				if (c && typeof c.members === 'number') {
					c.members += m.joined ? 1 : -1;
					store.emit('convs');
				}
			}
			break;
		case 'offline':
			break;          // the sync after login fetches the rest
		case 'error':
			// an error without a ref: fatal ones are followed by a close
			if (m.error === 'bad_token')
				this.loggedOut('expired');
			else if (m.error === 'logged_out')
				this.loggedOut('revoked');      // logout_all, a password change, a logout elsewhere
			break;
		default:
			break;
		}
	}

	// ---- logging in ----

	/** `display` (optional): the new user's display name (docs/PROTOCOL.md, register). */
	async register(user, password, display) {
		await this.open();
		return this.request({ op: 'register', user, password, ...(display ? { display } : {}) });
	}

	/** Password login. Resolves with the reply (status 1, 0, -1). */
	async login(user, password) {
		await this.open();
		const r = await this.request({ op: 'login', user, password });
		if (r.status === 1)
			await this.established(r);
		return r;
	}

	/** Starts (or keeps) a session from a saved token; reconnects by itself. */
	resume(token) {
		this.token = token;
		this.connect();
	}

	async connect() {
		clearTimeout(this.reconnectTimer);
		this.reconnectTimer = null;
		if (!this.token || this.state === 'connecting')
			return;
		this.setState('connecting');
		try {
			await this.open();
			const r = await this.request({ op: 'login', token: this.token });
			if (r.status !== 1) {
				this.loggedOut('expired');
				return;
			}
			await this.established(r);
		} catch (err) {
			if (!this.token)
				return;
			if (err.code === 'bad_token') {
				this.loggedOut('expired');
				return;
			}
			this.detach();
			this.scheduleReconnect(err.code, err.code === 'rate_limited' ? err.data.retry_after_ms : 0);
		}
	}

	scheduleReconnect(reason, minWait = 0) {
		if (!this.token)
			return;
		clearTimeout(this.reconnectTimer);
		const delay = Math.max(minWait || 0, retryDelay(this.attempt));
		this.attempt = Math.min(this.attempt + 1, FAST_TRIES + 8);
		this.retryAt = Date.now() + delay;
		this.setState('offline', { retryAt: this.retryAt, reason });
		this.reconnectTimer = setTimeout(() => this.connect(), delay);
	}

	/** The retry button: at once, and the next failures retry fast again. */
	retryNow() {
		if (this.token && this.state === 'offline') {
			this.attempt = 0;
			this.connect();
		}
	}

	/**
	 * The network came back ('online') or the page is shown again ('visible'): while offline,
	 * retry at once; while a connection attempt hangs (opened while the network was down),
	 * give it up for a new one; while connected, check with a ping that the socket is alive
	 * (a laptop waking up holds a dead one).
	 */
	wake(why) {
		if (!this.token)
			return;
		if (this.state === 'offline') {
			this.retryNow();
		} else if (this.state === 'connecting') {
			if (why === 'online' && this.opening && this.ws) {
				this.attempt = 0;
				this.ws.close();        // open() rejects, connect() retries at once
			}
		} else if (this.ws && (this.state === 'online' || this.state === 'syncing')) {
			const ws = this.ws;
			this.request({ op: 'ping' }, PROBE_TIMEOUT).catch(err => {
				if (err.code === 'timeout' && this.ws === ws)
					this.drop('ping_timeout');
			});
		}
	}

	/** After a login with status 1 (password or token). */
	async established(r) {
		const store = this.store;
		const gen = this.generation;
		this.token = r.token || this.token;
		saveToken(this.token, r.user);
		store.setMe(r.user);
		store.setRooms(r.rooms || ['#lobby']);
		store.setRecallWindow(r.recall_window);
		this.emit('loggedin', { reply: r });
		this.setState('syncing');
		// the outbox goes first, so that what was typed offline keeps its order
		const after = store.lastId;
		this.flushOutbox();
		const cookie = this.sessionCookie = this.makeSessionCookie();
		try {
			if (store.fresh && after === 0) {
				await this.baseline();
				this.changeMax = Math.max(this.changeMax, r.change_seq || 0);
				store.fresh = false;
			} else {
				await this.catchUp(after, gen, r);
			}
			await cookie;
			if (gen !== this.generation)
				return;
			this.synced = true;
			store.seen(this.seenMax);
			store.seenChange(this.changeMax);
			store.saveNow();
			this.attempt = 0;
			this.setState('online');
		} catch (err) {
			if (gen === this.generation && err.code !== 'offline')
				this.drop(err.code);
		}
	}

	/** Sets the cookie that lets <img> and <video> fetch /media/... (POST /api/session). */
	makeSessionCookie() {
		const token = this.token;
		return fetch('/api/session', {
			method: 'POST', headers: { Authorization: 'Bearer ' + token },
			credentials: 'same-origin', cache: 'no-store',
		}).then(res => res.ok).catch(() => false).then(ok => {
			if (!ok && this.token === token)
				this.sessionCookie = null;      // try again at the next login
			return ok;
		});
	}

	/**
	 * A first login in this browser (or after a gap too large to fill): start from the newest
	 * message of the user's rooms, and find the recent private conversations with a `sync` of
	 * the last few thousand ids (their messages come with history when they are opened).
	 */
	async baseline() {
		const store = this.store;
		const rooms = [...store.convs.values()].filter(c => c.kind === 'room');
		const replies = await Promise.all(rooms.map(c =>
			this.request({ op: 'history', with: c.name, limit: 1 }).catch(() => null)));
		let max = 0;
		replies.forEach((h, i) => {
			for (const m of (h && h.messages) || []) {
				max = Math.max(max, m.id);
				store.markReadUpTo(rooms[i], m.id);     // a first look starts at the newest
			}
		});
		let after = Math.max(0, max - DISCOVER_IDS);
		for (let page = 0; page < DISCOVER_PAGES; page++) {
			const r = await this.request({ op: 'sync', after, limit: 200 });
			const msgs = r.messages || [];
			for (const m of msgs) {
				const key = store.keyOf(m);
				if (key[0] !== '@' && !store.convs.has(key))
					continue;
				const c = store.ensure(key, store.nameOf(m));
				// delivered before (to another device): not new here. Messages that waited for
				// this user come as `offline` msgs and stay unread whatever this says.
				store.markReadUpTo(c, m.id);
				c.lastTs = Math.max(c.lastTs, m.ts);
			}
			if (msgs.length)
				after = msgs[msgs.length - 1].id;
			max = Math.max(max, after);
			if (!r.more || !msgs.length)
				break;
		}
		this.seenMax = Math.max(this.seenMax, max);
		store.lastId = Math.max(store.lastId, max);
		store.save();
		store.emit('convs');
	}

	/**
	 * Everything after `after`, page by page (sync), and the changes to the messages the store
	 * holds since the last change number it caught up with (changes_after): each comes as the
	 * message is now, and replaces what is shown. `login` is the login reply (its change_seq).
	 */
	async catchUp(after, gen, login) {
		const store = this.store;
		// after a reload the store holds no messages (sync and history bring them as they are
		// now): no change can be missed, and none is asked for
		let changesAfter = store.hasMessages() ? store.changeSeq : Math.max(store.changeSeq, login.change_seq || 0);
		for (let page = 0; ; page++) {
			if (page === SYNC_PAGES) {
				// too much missed to show it all: start again from the newest messages
				store.dropMessages();
				await this.baseline();
				this.changeMax = Math.max(this.changeMax, login.change_seq || 0);
				return;
			}
			const r = await this.request({ op: 'sync', after, changes_after: changesAfter, limit: 200 });
			if (gen !== this.generation)
				return;
			const msgs = r.messages || [];
			store.addMessages(msgs, 'sync');
			if (msgs.length) {
				after = msgs[msgs.length - 1].id;
				this.seenMax = Math.max(this.seenMax, after);
				store.seen(after);
			}
			const changes = r.changes || [];
			store.applyMessages(changes);
			for (const m of changes)
				changesAfter = Math.max(changesAfter, m.changed || 0);
			const more = !!r.more && msgs.length > 0;
			const changesMore = !!r.changes_more && changes.length > 0;
			if (!more && !changesMore) {
				// both complete: the server's change_seq is where the next catch-up starts
				this.changeMax = Math.max(this.changeMax, changesAfter, r.change_seq || 0);
				return;
			}
		}
	}

	/** A change number seen live: raised in the store once this connection has caught up. */
	seenChange(changed) {
		if (typeof changed !== 'number')
			return;
		this.changeMax = Math.max(this.changeMax, changed);
		if (this.synced)
			this.store.seenChange(changed);
	}

	// ---- changes to messages ----

	/** Recalls (撤回) one's own message m. Rejects with PierError (recall_expired: the
	 * server's window is remembered, so that the menu stops offering it). */
	async recall(m) {
		const key = this.store.keyOf(m);
		try {
			const r = await this.request({ op: 'recall', id: m.id });
			this.store.applyRecalled(key, m.id, r.already ? undefined : r.changed);
			this.e2ee?.forgetMessage(m.id);
			this.seenChange(r.changed);
			return r;
		} catch (err) {
			if (err.code === 'recall_expired')
				this.store.setRecallWindow(typeof err.data.window_s === 'number' ? err.data.window_s : 0);
			throw err;
		}
	}

	/** Replaces the text of one's own message m. */
	async edit(m, text) {
		if (m.e2ee && this.e2ee)
			return this.e2ee.edit(m, text);     // an encrypted edit payload (the server cannot read it)
		const r = await this.request({ op: 'edit', id: m.id, text });
		this.store.applyEdited(this.store.keyOf(m), m.id, { text, edited: r.edited, mentions: r.mentions, changed: r.changed });
		this.seenChange(r.changed);
		return r;
	}

	/** Adds (on) or removes this user's reaction `emoji` to message m. */
	async react(m, emoji, on) {
		const r = await this.request({ op: 'react', id: m.id, emoji, on });
		this.store.applyReaction(this.store.keyOf(m), m.id, {
			user: this.store.me, emoji, on, count: r.count, changed: r.already ? undefined : r.changed,
		});
		this.seenChange(r.changed);
		return r;
	}

	// ---- sending ----

	/**
	 * Queues a message (text, or media with an optional caption) and sends it when online.
	 * reply: the message it quotes ({id, quote}: what the quote shows until the server's comes).
	 */
	send(to, text, media, reply) {
		const item = this.store.addPending({
			cid: newCid(), to, text, media: media ? media.media : null, kind: media ? media.kind : null,
			file: media ? media.file || null : null,
			reply_to: reply ? reply.id : null, quote: reply ? reply.quote : null,
		});
		if (this.state === 'online' || this.state === 'syncing')
			this.sendItem(item);
		return item;
	}

	flushOutbox() {
		for (const o of this.store.outbox)
			if (o.state === 'queued')
				this.sendItem(o);
	}

	retry(cid) {
		const o = this.store.outbox.find(x => x.cid === cid);
		if (!o)
			return;
		this.store.setPendingState(cid, 'queued');
		if (this.state === 'online' || this.state === 'syncing')
			this.sendItem(o);
	}

	sendItem(o) {
		const req = { op: 'send', to: o.to, text: o.text, cid: o.cid };
		if (o.media) {
			req.media = o.media.id;
			if (o.kind)
				req.kind = o.kind;      // else the server picks it from the file's type
		}
		if (o.reply_to)
			req.reply_to = o.reply_to;
		this.store.setPendingState(o.cid, 'sending');
		const ws = this.ws;
		// a private message goes end-to-end encrypted when the peer has devices (e2ee/device.js
		// says null: not encrypted); a plaintext send refused with e2ee_required (the peer got
		// a device meanwhile) goes again, encrypted
		const plain = () => {
			if (o.file)
				return Promise.reject(new PierError('e2ee_required', 'encrypted file to a user without devices'));
			return this.request(req).catch(err => {
				if (err.code === 'e2ee_required' && this.e2ee && this.e2ee.state === 'active')
					return this.e2ee.forget(o.to.slice(1)).then(() => this.e2ee.sendPrivate(o)).then(r => r || Promise.reject(err));
				throw err;
			});
		};
		const go = o.to[0] === '@' && this.e2ee
			? this.e2ee.sendPrivate(o).then(r => r || plain())
			: this.request(req);
		go.then(r => {
			if (this.synced && !r.duplicate) {
				this.seenMax = Math.max(this.seenMax, r.id);
				this.store.seen(r.id);
			}
			this.store.confirm(o.cid, r);
		}, err => {
			if (err.code === 'offline')
				return;                 // onClose re-queued it; it goes again after login
			if (err.code === 'timeout') {
				this.store.setPendingState(o.cid, 'queued');
				if (this.ws === ws && ws)
					this.drop('timeout');       // no answer: treat the connection as dead
				return;
			}
			if (err.code === 'rate_limited') {
				setTimeout(() => this.retry(o.cid), err.data.retry_after_ms || 1000);
				return;
			}
			this.store.setPendingState(o.cid, 'failed', err.code);
		});
	}

	// ---- rooms and history ----

	async join(room) {
		const r = await this.request({ op: 'join', room });
		const c = this.store.ensure(r.room, r.room);
		c.joined = true;
		c.members = r.members;
		this.store.setActive(c.key);
		return r;
	}

	async part(room) {
		const r = await this.request({ op: 'part', room });
		this.store.removeRoom(room);
		return r;
	}

	/**
	 * One page of the rooms (#lobby first, then by name): those after the room `after`
	 * (none: from the start), at most `limit` (the server's default and most: 1000).
	 * Resolves to { rooms, more, total }; ask again with after = the last room while `more`.
	 */
	async rooms({ after, limit } = {}) {
		const req = { op: 'rooms' };
		if (after)
			req.after = after;
		if (limit)
			req.limit = limit;
		const r = await this.request(req);
		return { rooms: r.rooms || [], more: !!r.more, total: r.total ?? (r.rooms || []).length };
	}

	/**
	 * Whether the user `name` exists: 'yes', 'no', or 'unknown' (offline, or no answer). The
	 * protocol has no lookup of its own: a `history` of the private conversation (one message)
	 * answers `no_such_user` for a name that is nobody's.
	 */
	async checkUser(name) {
		try {
			await this.request({ op: 'history', with: '@' + name, limit: 1 });
			return 'yes';
		} catch (err) {
			return err.code === 'no_such_user' ? 'no' : 'unknown';
		}
	}

	/** Loads older messages of a conversation (before its oldest one). */
	async loadOlder(key) {
		const c = this.store.convs.get(key);
		if (!c || c.loading || c.more === false || this.state !== 'online')
			return;
		c.loading = true;
		this.store.emit('messages', { key, how: 'loading' });
		try {
			const before = c.messages.length ? c.messages[0].id : 0;
			const r = await this.request({ op: 'history', with: c.kind === 'room' ? c.name : '@' + c.name,
				before, limit: 50 });
			c.loading = false;
			this.store.addHistory(key, r.messages || [], r.more);
		} catch (err) {
			c.loading = false;
			if (err.code === 'not_member' || err.code === 'no_such_room') {
				c.more = false;
				if (c.kind === 'room')
					this.store.removeRoom(c.key);
			} else if (err.code === 'no_such_user') {
				c.more = false;
			}
			this.store.emit('messages', { key, how: 'update' });
		}
	}

	// ---- logging out ----

	async logout() {
		const ws = this.ws;
		const token = this.token;
		const user = this.store.me;
		this.token = null;
		clearTimeout(this.reconnectTimer);
		// the other tabs of this browser share the token: they log out now, not later
		tellLogout(user);
		if (ws && ws.readyState === WebSocket.OPEN) {
			try {
				await this.request({ op: 'logout' }, 5000);
			} catch { /* closing anyway */ }
		}
		this.detach();
		if (token)
			fetch('/api/session', { method: 'DELETE', credentials: 'same-origin' }).catch(() => {});
		this.loggedOut('logout', token);
	}

	/**
	 * Another tab of this browser logged out (tabs.js): this one ends too, without a request
	 * (that tab revoked the token), and lands on the login screen.
	 */
	loggedOutElsewhere() {
		if (this.token || this.state !== 'idle')
			this.loggedOut('tab');
	}

	/**
	 * Revokes every token of the user (every device, this one included); the server closes
	 * this socket after its reply. Resolves with the reply ({revoked}); on an error the
	 * session goes on as before.
	 */
	async logoutAll() {
		const token = this.token;
		const ends = this.ends;
		if (!token || this.state !== 'online')
			throw new PierError('offline', 'not connected');
		this.token = null;      // the close that follows the reply must not reconnect
		clearTimeout(this.reconnectTimer);
		let r;
		try {
			r = await this.request({ op: 'logout_all' });
		} catch (err) {
			if (this.ends === ends) {
				// the session is still ours: it goes on (a token revoked after all, its reply
				// lost, is refused at the reconnect and the login screen says so)
				this.token = token;
				if (!this.ws)
					this.connect();
				else if (err.code === 'timeout')
					this.drop('timeout');
			}
			throw err;
		}
		this.detach();
		fetch('/api/session', { method: 'DELETE', credentials: 'same-origin' }).catch(() => {});
		tellLogout(this.store.me);
		this.loggedOut('logout_all', token);
		return r;
	}

	/**
	 * Changes the password (the current one is checked like a login). Resolves with the reply:
	 * `revoked` is the number of other logins (tokens) ended; this one stays.
	 */
	changePassword(oldPassword, newPassword) {
		return this.request({ op: 'password', old: oldPassword, new: newPassword });
	}

	/**
	 * The session ended: `reason` 'logout', 'logout_all' (asked here), 'tab' (another tab
	 * logged out), 'expired', 'revoked'. What this browser keeps of the user goes with a
	 * logout; after an expiry it stays for the next login. The saved token is removed only if
	 * it is still this session's: another tab may have logged out (and forgotten the user's
	 * state, which must not be written back) or in again.
	 */
	loggedOut(reason, token = this.token) {
		this.ends++;
		this.token = null;
		this.sessionCookie = null;
		clearTimeout(this.reconnectTimer);
		const saved = loadToken();
		const ours = !!saved && saved.token === token;
		if (ours)
			saveToken(null);
		if (reason === 'logout' || reason === 'logout_all' || reason === 'tab')
			this.store.forgetUser();
		else if (ours)
			this.store.saveNow();
		else
			this.store.reset();
		this.detach();
		this.attempt = 0;
		this.setState('idle');
		this.emit('loggedout', { reason });
	}
}
