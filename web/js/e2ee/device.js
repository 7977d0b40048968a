// device.js - the browser's device manager for end-to-end encrypted private chats
// (docs/E2EE.md, docs/PROTOCOL.md "End-to-end encryption"). It owns this browser's device and
// everything it knows: the device's keys and prekeys, the account key (AK) once it has it,
// the sessions with other devices, the signed device lists it trusts per contact (trust on
// first use; a new AK only with the reset flag, and then "safety number changed"), and the
// decrypted messages (keystore.js keeps them in IndexedDB; the server keeps only ciphertext).
//
// At login: a saved device says device_hello (proof over the login challenge); otherwise a
// new device is made and registered. The first device of a user publishes the first list
// (version 1) with a new AK and is active at once; a further one waits as pending, showing
// its approval code, until one of the user's devices approves it (a new list naming it, then
// a `grant` carrying the AK seed, the trusted contacts and, if asked, the history). A user
// who lost every device may reset: a new AK, a list with the reset flag.
//
// Sending: a private message to a user with a list is sealed once as a payload; its key goes
// in one envelope per device (the peer's and one's own others), through each pair's ratchet;
// `devices_changed` means refetch and encrypt again. Receiving: an `envelope` is decrypted in
// order, one at a time; the new session state and the decrypted message are committed to
// IndexedDB in one transaction, and only then acknowledged. A device the server reports that
// the user's signed list does not name is refused and the user warned. Files in encrypted
// chats are encrypted here before upload (?e2ee=1) and decrypted after download.
//
// Events: 'state' (this.state: 'off' | 'starting' | 'pending' | 'active' | 'revoked' |
// 'nostorage'), 'change' {key} (a conversation's E2EE status or notices), 'pending' (own
// devices waiting for approval: this.pendingDevices), 'devices' (own list changed).

import { quoteOf } from '../msgrules.js';
import { KeyStore } from './keystore.js';
import * as core from './glue.js';

const OPK_BATCH = 100;          // one-time prekeys published at a time (the server's most per request)
const OPK_LOW = 20;             // refill below this many (the server says prekeys_low)
const SPK_ROTATE_MS = 7 * 24 * 3600 * 1000;
const HISTORY_MAX = 10000;      // messages a history transfer carries (E2EE.md)
const SEND_TRIES = 3;           // devices_changed: fetch and encrypt again, this many times
const POLL_PENDING_MS = 15000;  // own devices asked again for pending ones while visible
const RESET_FLAG = 1;
const ACK_EVERY = 64;           // envelopes acknowledged at once at most...
const ACK_WAIT_MS = 100;        // ...or once none came for this long

const lower = s => String(s).toLowerCase();
// what decorate() fills in of an encrypted message (a redraw replaces all of them)
const SHOWN_FIELDS = ['text', 'media', 'kind', 'edited', 'e2eeMissing', 'edit_hidden'];

export class E2eeError extends Error {
	constructor(code, message) {
		super(message || code);
		this.code = code;
		this.data = {};
	}
}

export class DeviceManager extends EventTarget {
	constructor({ client, store }) {
		super();
		this.client = client;
		this.store = store;
		this.state = 'off';
		this.reset();
		this.chain = Promise.resolve();     // envelopes, sends and list changes, one at a time
		core.ready().catch(() => {});       // libsodium loads while the login screen shows

		client.addEventListener('loggedin', e => this.start(e.detail.reply));
		client.addEventListener('loggedout', () => this.stop());
		client.addEventListener('event', e => this.onEvent(e.detail));
		document.addEventListener('visibilitychange', () => {
			if (!document.hidden && this.state === 'active')
				this.checkPending();
		});
	}

	reset() {
		this.ks = null;
		this.user = null;
		this.dev = null;            // this device: {keys, id, name, created} (glue.js)
		this.account = null;        // {ak_seed, ak_pub, version}: the account key (base64url) and the own list's version
		this.trust = new Map();     // user -> {ak, version, verified, devices: [{id, sign_key, dh_key, name, created}]}
		this.sessions = null;       // every session with other devices (glue.js sessions, one state)
		this.notices = new Map();   // conversation key -> [{kind, at}]
		this.cache = new Map();     // message id -> decrypted message
		this.edits = new Map();     // message id -> the newest edit of it
		this.since = 0;             // the first message id this device could have an envelope for
		this.hasHistory = false;
		this.pendingDevices = [];
		this.ownDevices = [];       // `devices` reply's devices (own), for the device list
		this.rejected = new Set();
		this.challenge = null;
		this.bound = false;
		clearInterval(this.pollTimer);
	}

	emit(type, detail) {
		this.dispatchEvent(new CustomEvent(type, { detail }));
	}

	setState(s) {
		this.state = s;
		this.emit('state', { state: s });
		this.emit('change', {});
	}

	/** Runs fn after everything queued before it; its result or error is the promise's. */
	queue(fn) {
		const p = this.chain.then(fn);
		this.chain = p.catch(() => {});
		return p;
	}

	request(obj) {
		return this.client.request(obj);
	}

	// ---- starting: login, hello or register ----

	async start(reply) {
		this.challenge = null;
		const user = lower(reply.user);
		if (this.user !== user) {
			this.ks?.close();
			this.reset();
			this.user = user;
		}
		return this.queue(async () => {
			try {
				await core.ready();
				this.challenge = reply.challenge ? core.unb64(reply.challenge) : null;
				if (!this.ks)
					await this.load();
			} catch (err) {
				console.warn('e2ee: no key storage', err);
				this.setState('nostorage');
				return;
			}
			this.refreshShown();
			if (!this.challenge) {
				this.setState('off');        // a server without end-to-end encryption
				return;
			}
			this.setState('starting');
			try {
				if (this.dev)
					await this.hello();
				else
					await this.register();
			} catch (err) {
				console.warn('e2ee: start failed', err);
				if (this.state === 'starting')
					this.setState('off');
			}
		});
	}

	stop() {
		this.bound = false;
		clearInterval(this.pollTimer);
		if (this.state !== 'off')
			this.setState('off');
	}

	/** Reads what IndexedDB keeps of this user. */
	async load() {
		this.ks = await KeyStore.open(this.user);
		this.listen();
		const dev = await this.ks.get('device');
		this.dev = dev ? core.deviceFromState(dev) : null;
		this.account = (await this.ks.get('account')) || null;
		const meta = (await this.ks.get('meta')) || {};
		this.since = meta.since || 0;
		this.hasHistory = !!meta.hasHistory;
		this.rejected = new Set(meta.rejected || []);
		this.trust = new Map(Object.entries((await this.ks.get('trust')) || {}));
		this.notices = new Map(Object.entries((await this.ks.get('notices')) || {}));
		const ss = await this.ks.get('sessions');
		this.sessions = ss ? core.sessions.fromJSON(ss) : core.sessions.create();
		this.lastQid = (await this.ks.get('qid')) || 0;
		this.cache = new Map();
		for (const m of await this.ks.messages()) {
			if (m.type === 'edit')
				this.noteEdit(m);
			else
				this.cache.set(m.id, m);
		}
	}

	/**
	 * Other tabs of this browser share the device (and IndexedDB): the server binds it to one
	 * session at a time (device_moved tells the others). A tab that stored decrypted messages
	 * says so on a BroadcastChannel, and the others read them from IndexedDB; a tab that lost
	 * the device reads the state again and takes the device back (hello) before it encrypts.
	 */
	listen() {
		this.bc?.close();
		this.bc = typeof BroadcastChannel === 'function' ? new BroadcastChannel('pier-e2ee.' + this.user) : null;
		if (this.bc)
			this.bc.onmessage = e => this.queue(() => this.fromOtherTab(e.data)).catch(() => {});
	}

	tellTabs(ids) {
		try {
			this.bc?.postMessage({ ids });
		} catch { /* closed */ }
	}

	async fromOtherTab(data) {
		if (!data || !Array.isArray(data.ids) || !this.ks)
			return;
		for (const id of data.ids) {
			const m = await this.ks.message(id);
			if (!m)
				continue;
			if (m.type === 'edit')
				this.noteEdit(m);
			else
				this.cache.set(m.id, m);
		}
		this.refreshShown();
	}

	/** Takes the device back from another tab: its state as that tab left it, then hello. */
	async rebind() {
		const dev = await this.ks.get('device');
		if (dev)
			this.dev = core.deviceFromState(dev);
		const ss = await this.ks.get('sessions');
		if (ss)
			this.sessions = core.sessions.fromJSON(ss);
		this.lastQid = (await this.ks.get('qid')) || 0;
		this.trust = new Map(Object.entries((await this.ks.get('trust')) || {}));
		this.account = (await this.ks.get('account')) || this.account;
		const r = await this.request({ op: 'device_hello', id: this.dev.id, proof: core.proof(this.dev, this.challenge) });
		this.bound = r.state === 'active' || r.state === 'pending';
	}

	metaState() {
		return ['meta', { since: this.since, hasHistory: this.hasHistory, rejected: [...this.rejected] }];
	}

	trustState() {
		return ['trust', Object.fromEntries(this.trust)];
	}

	/** The sessions and the device (a pre-key envelope used a one-time prekey), to commit
	 * together after every encryption and decryption. */
	cryptoState() {
		return [['sessions', core.sessions.toJSON(this.sessions)], ['device', core.deviceState(this.dev)], ['qid', this.lastQid || 0]];
	}

	async hello() {
		let r;
		try {
			r = await this.request({ op: 'device_hello', id: this.dev.id, proof: core.proof(this.dev, this.challenge) });
		} catch (err) {
			if (err.code === 'device_revoked' || err.code === 'no_such_device') {
				// removed (from another device, or a reset elsewhere): start again as a new device
				await this.forgetDevice();
				return this.register();
			}
			throw err;
		}
		this.bound = true;
		if (r.state === 'active')
			await this.activated();
		else
			await this.waitApproval();
		if (typeof r.opk_count === 'number' && r.opk_count < OPK_LOW)
			this.refill(r.opk_count).catch(() => {});
	}

	/** Forgets this browser's device (and its sessions and messages). */
	async forgetDevice() {
		const user = this.user;
		this.ks?.close();
		await KeyStore.destroy(user);
		this.reset();
		this.user = user;
		this.ks = await KeyStore.open(user);
	}

	async register() {
		const own = await this.request({ op: 'devices' });
		const dev = core.newDevice(deviceName());
		const bundle = core.registerBundle(dev, OPK_BATCH);
		// the secrets first: never a published key this browser does not have
		await this.ks.commit([['device', core.deviceState(dev)]]);
		const r = await this.request({ op: 'device_register', ...bundle, name: dev.name, proof: core.proof(dev, this.challenge) });
		this.dev = dev;
		this.sessions = this.sessions || core.sessions.create();
		this.bound = true;
		if (!own.version) {
			// the user's first device: a new account key and the first list
			await this.publishFirst();
			this.hasHistory = true;     // nothing came before it
			await this.ks.commit([this.metaState()]);
			await this.activated();
		} else {
			await this.waitApproval();
		}
		return r;
	}

	async publishFirst(reset = false) {
		const ak = core.newAccountKey();
		const list = core.encodeList({
			user: this.user, version: reset ? this.account.version + 1 : 1, reset, ak: ak.pub, devices: [this.devEntry()],
		});
		const sig = core.signList(ak.seed, list);
		const r = await this.request({ op: 'devices_publish', list: core.b64(list), sig });
		this.account = { ak_seed: ak.seed, ak_pub: ak.pub, version: r.version };
		this.trust.set(this.user, { ak: ak.pub, version: r.version, verified: true, devices: [this.devEntry()] });
		await this.ks.commit([['account', this.account], this.trustState()]);
	}

	devEntry() {
		return core.deviceEntry(this.dev);
	}

	async waitApproval() {
		const own = await this.request({ op: 'devices' });
		// the AK of the list the server gives: the code shows it, so a swapped one shows
		this.ownAk = own.list ? core.peekList(own.list).ak : null;
		this.code = this.ownAk ? core.code(this.ownAk, this.devEntry()) : null;
		this.setState('pending');
	}

	/** The approval code this pending device shows ("1234 5678"). */
	approvalCode() {
		return this.code ? this.code.slice(0, 4) + ' ' + this.code.slice(4) : '';
	}

	async activated() {
		if (!this.since) {
			// messages from here on have envelopes for this device; earlier ones do not
			this.since = this.store.lastId + 1;
			await this.ks.commit([this.metaState()]);
		}
		await this.refreshOwn();
		this.setState('active');
		clearInterval(this.pollTimer);
		this.pollTimer = setInterval(() => {
			if (!document.hidden && this.state === 'active')
				this.checkPending();
		}, POLL_PENDING_MS);
		this.refreshShown();
		this.maybeRotateSpk().catch(() => {});
	}

	// ---- the own device list ----

	/** Asks the server for the own devices and list; trusts the list with the AK held. */
	async refreshOwn() {
		const r = await this.request({ op: 'devices' });
		this.ownDevices = r.devices || [];
		if (r.list && this.account) {
			const l = core.openList(r.list, r.sig, this.user);
			if (l.ak !== this.account.ak_pub) {
				// another AK: a reset from another device took the account away from this one
				this.setState('revoked');
				return r;
			}
			if (l.version >= this.account.version) {
				this.account.version = l.version;
				this.trust.set(this.user, { ak: l.ak, version: l.version, verified: true, devices: l.devices });
				await this.ks.commit([['account', this.account], this.trustState()]);
			}
			if (!l.devices.some(d => d.id === this.dev.id)) {
				this.setState('revoked');
				return r;
			}
			if ((r.devices || []).some(d => d.state !== 'pending' && !listed(l.devices, d)))
				await this.warnUnsigned(this.user);
		}
		this.pendingDevices = this.ownDevices.filter(d => d.state === 'pending' && !this.rejected.has(d.id))
			.map(d => ({ ...d, code: this.account ? core.code(this.account.ak_pub, d) : '' }));
		this.emit('pending', {});
		this.emit('devices', {});
		return r;
	}

	checkPending() {
		return this.queue(() => this.refreshOwn()).catch(() => {});
	}

	/** The device list for the account dialog: [{id, name, created, state, self}]. */
	deviceList() {
		const listed = this.trust.get(this.user)?.devices || [];
		const out = listed.map(d => ({ ...d, state: 'active', self: d.id === this.dev?.id }));
		for (const d of this.pendingDevices)
			out.push({ id: d.id, name: d.name, created: d.created, state: 'pending', self: d.id === this.dev?.id });
		if (this.dev && !out.some(d => d.self))
			out.push({ id: this.dev.id, name: this.dev.name, created: this.dev.created, state: this.state, self: true });
		return out;
	}

	/** Publishes the own list changed by `edit(devices) -> devices`. */
	async publishOwn(edit) {
		if (!this.account?.ak_seed)
			throw new E2eeError('no_device');
		const cur = this.trust.get(this.user)?.devices || [];
		const devices = edit(cur.map(d => ({ ...d })));
		const list = core.encodeList({ user: this.user, version: this.account.version + 1, reset: false, ak: this.account.ak_pub, devices });
		const sig = core.signList(this.account.ak_seed, list);
		const r = await this.request({ op: 'devices_publish', list: core.b64(list), sig });
		this.account.version = r.version;
		this.trust.set(this.user, { ak: this.account.ak_pub, version: r.version, verified: true, devices });
		await this.ks.commit([['account', this.account], this.trustState()]);
		this.emit('devices', {});
	}

	rename(id, name) {
		return this.queue(async () => {
			await this.publishOwn(ds => ds.map(d => d.id === id ? { ...d, name } : d));
			if (id === this.dev.id) {
				this.dev.name = name;
				await this.ks.commit([['device', core.deviceState(this.dev)]]);
			}
		});
	}

	remove(id) {
		return this.queue(() => this.publishOwn(ds => ds.filter(d => d.id !== id)));
	}

	reject(id) {
		this.rejected.add(id);
		this.pendingDevices = this.pendingDevices.filter(d => d.id !== id);
		this.emit('pending', {});
		return this.ks.commit([this.metaState()]);
	}

	/**
	 * Approves the pending device `id` (its code was compared): a new list naming it, then a
	 * grant with the AK seed, the trusted contacts and (withHistory) the decrypted history.
	 */
	approve(id, withHistory) {
		return this.queue(async () => {
			const d = this.ownDevices.find(x => x.id === id && x.state === 'pending');
			if (!d)
				throw new E2eeError('no_such_device');
			await this.publishOwn(ds => [...ds, { id: d.id, sign_key: d.sign_key, dh_key: d.dh_key, created: d.created, name: d.name }]);
			const grant = {
				v: 1, type: 'grant', peer: this.user, ak: this.account.ak_seed,
				contacts: [...this.trust].filter(([u]) => u !== this.user).map(([user, tr]) => ({ user, ak: tr.ak, verified: !!tr.verified })),
				ts: Date.now(),
			};
			if (withHistory)
				grant.history = await this.packHistory();
			const keys = await this.request({ op: 'keys', user: this.user });
			const bundle = (keys.devices || []).find(x => x.id === id);
			if (!bundle)
				throw new E2eeError('no_such_device');
			const { payload, inner } = core.seal(grant);
			const body = this.encryptTo({ id: d.id, sign_key: d.sign_key, dh_key: d.dh_key }, bundle, inner);
			await this.ks.commit(this.cryptoState());
			await this.request({ op: 'device_send', device: id, payload: core.b64(payload), body: core.b64(body) });
			this.pendingDevices = this.pendingDevices.filter(x => x.id !== id);
			this.emit('pending', {});
			await this.refreshOwn();
		});
	}

	/** The decrypted private history (newest HISTORY_MAX) as an encrypted upload. */
	async packHistory() {
		const all = await this.ks.messages();
		const msgs = all.slice(-HISTORY_MAX);
		const blob = new Blob([JSON.stringify({ v: 1, messages: msgs })], { type: 'application/json' });
		const f = await this.encryptFile(blob);
		return { media: f.media, key: f.key, header: f.header, name: 'history.json', type: 'application/json', size: blob.size };
	}

	/** A user with no device left: a new AK, a list with only this device and the reset flag. */
	resetIdentity() {
		return this.queue(async () => {
			if (!this.dev)
				throw new E2eeError('no_device');
			const own = await this.request({ op: 'devices' });
			this.account = { version: own.version || 0 };
			await this.publishFirst(own.version > 0);
			this.hasHistory = true;
			this.since = this.store.lastId + 1;
			await this.ks.commit([this.trustState(), this.metaState()]);
			await this.activated();
		});
	}

	// ---- prekeys ----

	async refill(count) {
		return this.queue(async () => {
			const want = Math.max(0, OPK_BATCH - (count || 0));
			if (!want)
				return;
			const opks = core.morePrekeys(this.dev, want);
			if (!opks.length)
				return;
			await this.ks.commit([['device', core.deviceState(this.dev)]]);     // the secrets first: never a published key we lost
			await this.request({ op: 'prekeys', opks });
		});
	}

	async maybeRotateSpk() {
		const meta = (await this.ks.get('spk_made')) || this.dev.created;
		if (Date.now() - meta < SPK_ROTATE_MS)
			return;
		return this.queue(async () => {
			const spk = core.newSpk(this.dev);
			await this.ks.commit([['device', core.deviceState(this.dev)], ['spk_made', Date.now()]]);
			await this.request({ op: 'prekeys', spk, opks: [] });
		});
	}

	// ---- trust in other users' lists ----

	/**
	 * Checks a `devices` or `keys` reply for `user` against what is trusted; returns the
	 * trusted devices (null: the user has no list). Devices the server gives that the list
	 * does not name are refused and warned of. Throws E2eeError('untrusted') for a list
	 * that may not replace the trusted one.
	 */
	async trustList(user, r) {
		user = lower(user);
		if (!r.version || !r.list)
			return null;
		let l;
		let how;
		const prev = this.trust.get(user);
		try {
			l = core.openList(r.list, r.sig, user);
			how = core.trustRule(prev && prev.version ? prev : null, l);
			// a contact learned from a grant: its AK without a version yet
			if (prev && !prev.version && how === 'tofu' && prev.ak !== l.ak && !l.reset)
				throw new E2eeError('untrusted', 'not the AK the grant named');
		} catch (err) {
			throw new E2eeError('untrusted', err.message);
		}
		if (user === this.user && this.account && l.ak !== this.account.ak_pub)
			throw new E2eeError('untrusted', 'own list with another AK');
		const key = '@' + user;
		const changed = how === 'reset' || (!!prev && prev.ak !== l.ak);
		const t = { ak: l.ak, version: l.version, verified: changed ? false : !!prev?.verified, devices: l.devices };
		if (!prev || changed || l.version !== prev.version) {
			this.trust.set(user, t);
			const state = [this.trustState()];
			if (changed) {
				this.addNotice(key, 'changed');
				if (prev.verified)
					this.addNotice(key, 'verifiedLost');
				state.push(['notices', Object.fromEntries(this.notices)]);
			}
			await this.ks.commit(state);
			this.emit('change', { key });
		}
		// devices the server reports that the signed list does not name
		const unsigned = (r.devices || []).filter(d => d.state !== 'pending' && !listed(t.devices, d));
		if (unsigned.length)
			await this.warnUnsigned(user);
		return t.devices;
	}

	async warnUnsigned(user) {
		const key = user === this.user ? this.store.activeKey || '@' + user : '@' + user;
		if (this.addNotice(key, 'unsigned', user)) {
			await this.ks.commit([['notices', Object.fromEntries(this.notices)]]);
			this.emit('change', { key });
		}
	}

	/** Adds a notice to a conversation (once per kind until dismissed); true if new. */
	addNotice(key, kind, who) {
		const list = this.notices.get(key) || [];
		if (list.some(n => n.kind === kind))
			return false;
		list.push({ kind, who: who || key.slice(1), at: Date.now() });
		this.notices.set(key, list);
		return true;
	}

	noticesFor(key) {
		return this.notices.get(key) || [];
	}

	dismiss(key, kind) {
		const list = (this.notices.get(key) || []).filter(n => n.kind !== kind);
		if (list.length)
			this.notices.set(key, list);
		else
			this.notices.delete(key);
		this.emit('change', { key });
		return this.ks.commit([['notices', Object.fromEntries(this.notices)]]);
	}

	/** Whether the private chat `key` ('@bob') is end-to-end encrypted: this browser has an
	 * active device and the contact has a trusted list (both users have devices). */
	isE2ee(key) {
		if (this.state !== 'active' || !key || key[0] !== '@')
			return false;
		const tr = this.trust.get(key.slice(1));
		return !!tr && tr.devices.length > 0;
	}

	/** Learns (once per page) whether `user` has devices, for the lock on their chat. */
	async lookup(user) {
		user = lower(user);
		if (this.state !== 'active' || user === this.user)
			return;
		this.looked = this.looked || new Set();
		if (this.looked.has(user))
			return;
		this.looked.add(user);
		try {
			const r = await this.request({ op: 'devices', user });
			await this.queue(() => this.trustList(user, r));
		} catch (err) {
			this.looked.delete(user);
			if (err.code === 'untrusted')
				this.addNotice('@' + user, 'unsigned', user);
		}
		this.emit('change', { key: '@' + user });
	}

	safetyNumber(user) {
		user = lower(user);
		const mine = this.account?.ak_pub;
		const theirs = this.trust.get(user)?.ak;
		if (!mine || !theirs)
			return null;
		return core.safety(this.user, mine, user, theirs);
	}

	isVerified(user) {
		return !!this.trust.get(lower(user))?.verified;
	}

	async setVerified(user, on) {
		const tr = this.trust.get(lower(user));
		if (!tr)
			return;
		tr.verified = !!on;
		if (on)
			await this.dismissKinds('@' + lower(user), ['changed', 'verifiedLost']);
		await this.ks.commit([this.trustState()]);
		this.emit('change', { key: '@' + lower(user) });
	}

	async dismissKinds(key, kinds) {
		const list = (this.notices.get(key) || []).filter(n => !kinds.includes(n.kind));
		if (list.length)
			this.notices.set(key, list);
		else
			this.notices.delete(key);
		await this.ks.commit([['notices', Object.fromEntries(this.notices)]]);
	}

	// ---- sessions ----

	/** Encrypts `inner` for the remote device `entry` (from a trusted list) through the
	 * existing session, or a new one from `bundle` (the `keys` reply's). */
	encryptTo(entry, bundle, inner) {
		return core.encryptFor(this.sessions, this.dev, entry, bundle, inner);
	}

	/**
	 * The envelopes for a message to `peer`: one per listed device of the peer and per other
	 * listed device of one's own. Claims keys (`keys`) for a user when a device of theirs has
	 * no session yet, or when the server said the devices changed (`fresh`). Null: the peer
	 * has no devices.
	 */
	async envelopesFor(peer, inner, fresh) {
		const out = [];
		for (const user of peer === this.user ? [this.user] : [peer, this.user]) {
			let devices = fresh.has(user) ? null : this.trust.get(user)?.devices;
			if (user !== this.user && devices && !devices.length)
				devices = null;
			let bundles = new Map();
			const need = d => d.id !== this.dev.id && !core.sessions.has(this.sessions, d.id);
			if (!devices || devices.some(need)) {
				const r = await this.request({ op: 'keys', user });
				try {
					core.checkKeys(r);
				} catch (err) {
					throw new E2eeError('untrusted', err.message);
				}
				devices = await this.trustList(user, r);
				if (!devices) {
					if (user === peer)
						return null;        // the peer has no devices: not encrypted
					devices = [];
				}
				bundles = new Map((r.devices || []).filter(d => listed(devices, d)).map(d => [d.id, d]));
			}
			for (const d of devices) {
				if (d.id === this.dev.id)
					continue;
				const b = bundles.get(d.id) || null;
				if (!b && !core.sessions.has(this.sessions, d.id))
					continue;       // listed, but the server has no keys for it: it says devices_changed
				out.push({ device: d.id, body: core.b64(this.encryptTo(d, b, inner)) });
			}
		}
		return out;
	}

	/**
	 * Sends a private message encrypted (the outbox item `o`; connection.js calls it for every
	 * private send). Resolves with the server's `sent` reply, or null when the peer has no
	 * devices (then it goes as plaintext). Rejects with PierError-like errors.
	 */
	sendPrivate(o) {
		const peer = lower(o.to.slice(1));
		if (this.state === 'pending' || this.state === 'revoked') {
			return this.lookupHasList(peer).then(has => {
				if (has)
					throw new E2eeError('no_device');
				return null;
			});
		}
		if (this.state !== 'active')
			return Promise.resolve(null);
		return this.queue(async () => {
			if (!this.bound)
				await this.rebind();
			const body = { v: 1, type: o.edit_of ? 'edit' : 'message', peer, text: o.text || '', ts: o.ts };
			if (o.edit_of)
				body.edit_of = o.edit_of;
			if (o.file) {
				body.kind = o.kind || 'file';
				body.file = o.file;
			} else {
				body.kind = 'text';
			}
			if (o.reply_to)
				body.reply_to = o.reply_to;
			const { payload, inner } = core.seal(body);
			let fresh = new Set();
			for (let i = 0; ; i++) {
				const keys = await this.envelopesFor(peer, inner, fresh);
				if (!keys)
					return null;
				await this.ks.commit(this.cryptoState());     // before it leaves: no message key used twice
				const req = { op: 'send', to: o.to, cid: o.cid, e2ee: { payload: core.b64(payload), keys } };
				if (o.media)
					req.media = o.media.id;
				if (o.reply_to)
					req.reply_to = o.reply_to;
				try {
					const r = await this.request(req);
					await this.ks.commit([], [{ ...body, id: r.id, ts: r.ts, from: this.store.me, to: o.to, conv: '@' + peer, media: o.media || null }]);
					this.tellTabs([r.id]);
					const m = { ...body, id: r.id, from: this.store.me, to: o.to, ts: r.ts, media: o.media || null };
					if (body.type === 'edit')
						this.noteEdit(m);
					else
						this.cache.set(r.id, m);
					return r;
				} catch (err) {
					if (err.code !== 'devices_changed' || i + 1 >= SEND_TRIES)
						throw err;
					fresh = new Set(Object.keys(err.data?.devices || { [peer]: 1, [this.user]: 1 }).map(lower));
				}
			}
		});
	}

	/** Forgets what was looked up of `user` (the server said they have devices now). */
	async forget(user) {
		this.looked?.delete(lower(user));
	}

	async lookupHasList(peer) {
		try {
			const r = await this.request({ op: 'devices', user: peer });
			return !!r.version;
		} catch {
			return false;
		}
	}

	/** An encrypted edit of one's own message m (a `send` whose payload says edit_of). */
	async edit(m, text) {
		const o = { to: m.to, cid: 'e-' + m.id + '-' + Date.now(), text, ts: Date.now(), edit_of: m.id };
		const r = await this.sendPrivate(o);
		if (!r)
			throw new E2eeError('e2ee_required');
		this.applyEdit({ edit_of: m.id, text, ts: r.ts, from: this.store.me, to: m.to });
		return r;
	}

	noteEdit(e) {
		const prev = this.edits.get(e.edit_of);
		if (!prev || prev.ts <= e.ts)
			this.edits.set(e.edit_of, e);
	}

	applyEdit(e) {
		this.noteEdit(e);
		const key = this.store.keyOf(e);
		const at = this.store.locate(key, e.edit_of);
		if (!at || lower(at.m.from) !== lower(e.from))
			return;
		at.m.text = e.text;
		at.m.edited = e.ts;
		this.store.emitChanged(this.store.touch(at.c, at.m));
	}

	// ---- receiving ----

	onEvent(m) {
		switch (m.op) {
		case 'envelope':
			this.queue(() => this.receive(m)).catch(err => console.warn('e2ee: envelope', err));
			break;
		case 'devices_changed':
			this.queue(async () => {
				if (lower(m.user || this.user) === this.user && this.state !== 'off') {
					if (this.state === 'pending')
						return this.pendingChanged();
					return this.refreshOwn();
				}
			}).catch(() => {});
			break;
		case 'recalled':
			this.forgetMessage(m.id);
			break;
		case 'prekeys_low':
			if (this.state === 'active' || this.state === 'pending')
				this.refill(m.count).catch(() => {});
			break;
		case 'device_revoked':
			this.setState('revoked');
			break;
		case 'device_moved':
			// another tab of this browser took the device: its state in memory is stale here
			// (rebind() reads it again before this tab encrypts)
			this.bound = false;
			break;
		default:
			break;
		}
	}

	/** A recalled encrypted message: this device's decrypted copy goes too. */
	forgetMessage(id) {
		if (this.cache.has(id)) {
			this.cache.delete(id);
			this.ks?.forget([id]).catch(() => {});
		}
	}

	async pendingChanged() {
		const own = await this.request({ op: 'devices' });
		if (own.list) {
			const l = core.peekList(own.list);
			this.ownAk = l.ak;
			this.code = core.code(this.ownAk, this.devEntry());
		}
		this.emit('state', { state: this.state });
	}

	/**
	 * Acknowledges the queue up to `qid` (everything before it was saved). A backlog is
	 * acknowledged a batch at a time: one `ack` when the envelopes stop coming for a moment or
	 * every ACK_EVERY of them, not one per envelope.
	 */
	ack(qid) {
		if (typeof qid !== 'number')
			return;
		this.ackUpto = Math.max(this.ackUpto || 0, qid);
		this.acksDue = (this.acksDue || 0) + 1;
		clearTimeout(this.ackTimer);
		if (this.acksDue >= ACK_EVERY)
			this.flushAck();
		else
			this.ackTimer = setTimeout(() => this.flushAck(), ACK_WAIT_MS);
	}

	flushAck() {
		clearTimeout(this.ackTimer);
		const upto = this.ackUpto;
		this.acksDue = 0;
		if (!upto || upto <= (this.acked || 0))
			return;
		this.acked = upto;
		this.request({ op: 'ack', upto }).catch(() => {
			this.acked = 0;     // it comes again at the next hello
		});
	}

	/**
	 * One `envelope` event: check the sending device against its user's signed list, open the
	 * envelope and the payload, commit the sessions and the message, then ack. A failure
	 * (tampered, replayed, unsigned device) is reported in the conversation and acknowledged:
	 * it would fail the same way every time.
	 */
	async receive(ev) {
		// an envelope saved before and not yet acknowledged comes again after a reconnect: its
		// key is used up (it would fail as a replay), and what it carried is kept already
		if (typeof ev.qid === 'number' && ev.qid <= (this.lastQid || 0)) {
			this.ack(ev.qid);
			return;
		}
		const from = lower(ev.from || this.user);
		const convKey = ev.to ? (from === this.user ? lower(ev.to) : '@' + from) : null;
		let devices = this.trust.get(from)?.devices;
		if (!devices || !devices.some(d => d.id === ev.from_device)) {
			try {
				const r = await this.request({ op: 'devices', user: from === this.user ? undefined : from });
				devices = from === this.user ? (await this.ownTrusted(r)) : await this.trustList(from, r);
			} catch {
				devices = null;
			}
		}
		const sender = devices?.find(d => d.id === ev.from_device);
		if (!sender) {
			// a device the user's signed list does not name: refused, never shown
			await this.warnUnsigned(from);
			this.ack(ev.qid);
			return;
		}
		let body;
		try {
			const inner = core.decryptFrom(this.sessions, this.dev, sender, core.unb64(ev.body));
			if (ev.recalled && ev.payload === undefined && typeof ev.id === 'number') {
				// recalled before this device took it: the envelope still moves the ratchet;
				// the message is shown as recalled, and nothing of it is kept
				this.lastQid = Math.max(this.lastQid || 0, ev.qid || 0);
				await this.ks.commit(this.cryptoState());
				this.ack(ev.qid);
				this.showRecalled(ev, convKey);
				return;
			}
			body = core.open(core.unb64(ev.payload), inner);
		} catch (err) {
			// nothing changed (the crypto core keeps the state on a failure): reported, never
			// shown; the message's place says it could not be decrypted
			await this.failed(convKey || '@' + from, err, ev);
			this.ack(ev.qid);
			return;
		}
		this.lastQid = Math.max(this.lastQid || 0, ev.qid || 0);
		if (ev.id === undefined) {
			// device to device: a grant or history, only from one's own devices
			if (from !== this.user) {
				this.ack(ev.qid);
				return;
			}
			await this.ks.commit(this.cryptoState());
			if (body.type === 'grant')
				await this.granted(body);
			this.ack(ev.qid);
			return;
		}
		// the payload says which conversation it belongs to: the server cannot move it
		const peerOk = from === this.user ? lower(body.peer) === lower(ev.to).slice(1) : lower(body.peer) === this.user;
		if (!peerOk || !convKey) {
			await this.failed(convKey || '@' + from, new Error('peer mismatch'));
			this.ack(ev.qid);
			return;
		}
		const m = {
			id: ev.id, from: ev.from, to: ev.to, ts: ev.ts, conv: convKey, type: body.type || 'message',
			text: typeof body.text === 'string' ? body.text : '', kind: body.kind || 'text',
			file: body.file || null, reply_to: ev.reply_to || body.reply_to || null, edit_of: body.edit_of || null,
			media: ev.media ? { ...(typeof ev.media === 'object' ? ev.media : { id: ev.media }) } : null,
		};
		await this.ks.commit(this.cryptoState(), [m]);
		this.ack(ev.qid);
		this.tellTabs([m.id]);
		if (m.type === 'edit') {
			this.applyEdit(m);
			return;
		}
		this.cache.set(m.id, m);
		// shown already (a history page or a `msg` without text came first): filled in;
		// otherwise it arrives like any message
		const shown = this.store.locate(convKey, m.id);
		if (shown) {
			this.redraw(shown);
		} else {
			const added = this.store.addMessages([this.toStore(m)], ev.offline ? 'offline' : 'live');
			if (added.length && from !== this.user)
				this.client.emit('notify', { msg: added[0] });
		}
	}

	async ownTrusted(r) {
		if (!this.account?.ak_pub) {
			// a pending device: the list whose AK the approval code showed
			const l = core.openList(r.list, r.sig, this.user);
			return l.ak === this.ownAk ? l.devices : null;
		}
		return this.trustList(this.user, r);
	}

	/** A message recalled before this device opened it: shown as recalled where it is. */
	showRecalled(ev, key) {
		if (!key)
			return;
		const at = this.store.locate(key, ev.id);
		if (at)
			this.store.applyRecalled(key, ev.id);
		else
			this.store.addMessages([{ id: ev.id, from: ev.from, to: ev.to, ts: ev.ts, e2ee: true, recalled: true }], 'live');
	}

	/** An envelope that could not be opened (changed on the way, replayed, from a device
	 * not in the list): a notice in the chat, and in the message's place (ev.id) an error. */
	async failed(key, err, ev) {
		console.warn('e2ee: refused', err?.message || err);
		this.addNotice(key, 'failed');
		const msgs = [];
		if (ev && typeof ev.id === 'number' && ev.to && !this.cache.has(ev.id)) {
			const m = { id: ev.id, from: ev.from, to: ev.to, ts: ev.ts, conv: key, type: 'message', failed: true };
			this.cache.set(m.id, m);
			msgs.push(m);
		}
		await this.ks.commit([['notices', Object.fromEntries(this.notices)]], msgs);
		this.emit('change', { key });
		if (msgs.length) {
			const at = this.store.locate(key, ev.id);
			if (at) {
				this.redraw(at);
			} else {
				this.store.addMessages([this.toStore(msgs[0])], 'live');
			}
		}
	}

	/** A grant from one of one's own devices: the AK, trusted contacts, maybe history. */
	async granted(g) {
		if (this.state !== 'pending' || !g.ak)
			return;
		const ak = core.accountKey(g.ak);
		if (ak.pub !== this.ownAk)
			throw new E2eeError('untrusted', 'grant AK is not the one of the code');
		const own = await this.request({ op: 'devices' });
		const l = core.openList(own.list, own.sig, this.user);
		if (l.ak !== ak.pub || !l.devices.some(d => d.id === this.dev.id))
			throw new E2eeError('untrusted', 'own list does not name this device');
		this.account = { ak_seed: g.ak, ak_pub: ak.pub, version: l.version };
		this.trust.set(this.user, { ak: ak.pub, version: l.version, verified: true, devices: l.devices });
		for (const c of Array.isArray(g.contacts) ? g.contacts : []) {
			if (c && typeof c.user === 'string' && typeof c.ak === 'string' && !this.trust.has(lower(c.user)))
				this.trust.set(lower(c.user), { ak: c.ak, version: 0, verified: !!c.verified, devices: [] });
		}
		await this.ks.commit([['account', this.account], this.trustState()]);
		if (g.history)
			await this.importHistory(g.history).catch(err => console.warn('e2ee: history', err));
		await this.activated();
		this.emit('approved', {});
	}

	async importHistory(h) {
		const blob = await this.fetchDecrypted({ id: h.media, key: h.key, header: h.header, type: 'application/json' });
		const data = JSON.parse(await blob.text());
		const msgs = (data.messages || []).filter(m => m && typeof m.id === 'number' && typeof m.conv === 'string');
		this.hasHistory = true;
		await this.ks.commit([this.metaState()], msgs);
		for (const m of msgs) {
			if (m.type === 'edit')
				this.noteEdit(m);
			else
				this.cache.set(m.id, m);
		}
		this.refreshShown();
		this.emit('history', {});
	}

	// ---- what the store shows ----

	/** The stored message at ({c, m}) with what this device has of it now, drawn again. */
	redraw(at) {
		const d = this.decorate({ ...at.m });
		for (const f of SHOWN_FIELDS)
			delete at.m[f];
		Object.assign(at.m, d);
		this.store.emitChanged(this.store.touch(at.c, at.m));
	}

	/** Draws again the encrypted messages the store holds, with what this device has now
	 * (its messages loaded from IndexedDB, a history that arrived, a state that changed). */
	refreshShown() {
		for (const c of this.store.convs.values()) {
			if (c.kind !== 'private')
				continue;
			const touched = new Map();
			for (const m of c.messages) {
				if (!m.e2ee)
					continue;
				const d = this.decorate(m);
				if (d.text !== m.text || d.e2eeMissing !== m.e2eeMissing || d.edit_hidden !== m.edit_hidden || !!d.media !== !!m.media) {
					for (const f of SHOWN_FIELDS)
						delete m[f];
					Object.assign(m, d);
					this.store.touch(c, m, touched);
				}
			}
			this.store.emitChanged(touched);
		}
	}

	/** A decrypted message as the store holds messages. */
	toStore(m) {
		const out = { id: m.id, from: m.from, to: m.to, ts: m.ts, e2ee: true, text: m.text || '' };
		if (m.failed) {
			out.e2eeMissing = 'failed';
			return out;
		}
		if (m.file) {
			out.kind = m.kind || 'file';
			out.media = { id: Number(m.file.media ?? m.media?.id), name: m.file.name, size: m.file.size, type: m.file.type, e2ee: { key: m.file.key, header: m.file.header } };
		}
		if (m.reply_to) {
			// the quote comes from what this device decrypted (the server cannot give it)
			out.reply_to = m.reply_to;
			const q = this.cache.get(m.reply_to);
			if (q && !q.failed)
				out.quote = quoteOf(this.toStore(q));
		}
		const e = this.edits.get(m.id);
		if (e && lower(e.from) === lower(m.from)) {
			out.text = e.text;
			out.edited = e.ts;
		}
		return out;
	}

	/**
	 * Fills in an encrypted message from the server (history, sync, msg with e2ee:true: no
	 * text) with what this device decrypted. A message it has no copy of says so (sent before
	 * this device existed: on the other devices; after: its envelope is on its way).
	 */
	decorate(m) {
		if (!m || !m.e2ee || m.recalled)
			return m;
		if (m.edit_hidden)
			return m;
		const d = this.cache.get(m.id);
		if (d) {
			const s = this.toStore(d);
			const out = { ...m, text: s.text };
			if (s.media) {
				out.media = s.media;
				out.kind = s.kind;
			} else {
				delete out.media;
				delete out.kind;
			}
			if (s.edited)
				out.edited = s.edited;
			if (s.quote && !out.quote)
				out.quote = s.quote;
			delete out.e2eeMissing;
			if (s.e2eeMissing)
				out.e2eeMissing = s.e2eeMissing;
			return out;
		}
		if (this.isEditRecord(m.id))
			return { ...m, edit_hidden: true };
		const out = { ...m, text: '' };
		delete out.media;
		out.kind = undefined;
		out.e2eeMissing = m.id < this.since || !this.since ? 'earlier' : 'waiting';
		return out;
	}

	isEditRecord(id) {
		for (const e of this.edits.values())
			if (e.id === id)
				return true;
		return false;
	}

	// ---- files ----

	async encryptFile(blob) {
		const { data, key, header } = await core.encryptFile(blob);
		const res = await fetch('/api/media?e2ee=1&name=encrypted', {
			method: 'POST', body: data,
			headers: { Authorization: 'Bearer ' + this.client.token, 'Content-Type': 'application/octet-stream' },
		});
		const j = await res.json().catch(() => ({}));
		if (!res.ok)
			throw new E2eeError(j.error || 'http_' + res.status);
		return { media: j.id, key, header };
	}

	/** Encrypts and uploads a File for a private chat; resolves with what the message carries. */
	async uploadFile(file) {
		const f = await this.encryptFile(file);
		return {
			media: { id: f.media, name: file.name || 'file', size: file.size, type: file.type || 'application/octet-stream' },
			file: { media: f.media, key: f.key, header: f.header, name: file.name || 'file', type: file.type || 'application/octet-stream', size: file.size },
		};
	}

	/** Downloads /media/ID and decrypts it; resolves with a Blob of the real type. */
	async fetchDecrypted(md) {
		const res = await fetch('/media/' + encodeURIComponent(md.id), {
			headers: { Authorization: 'Bearer ' + this.client.token }, credentials: 'same-origin',
		});
		if (!res.ok)
			throw new E2eeError('http_' + res.status);
		const data = await res.blob();
		return core.decryptFile(data, md.key, md.header, md.type);
	}
}

/** Whether the device `d` the server gave is one of the signed list's, with the same keys. */
function listed(devices, d) {
	return devices.some(x => x.id === d.id && x.sign_key === d.sign_key && x.dh_key === d.dh_key);
}

/** A name for this browser's device: the browser and the system, as the user agent says. */
function deviceName() {
	const ua = navigator.userAgent || '';
	const browser = /Edg\//.test(ua) ? 'Edge' : /Firefox\//.test(ua) ? 'Firefox' : /Chrom(e|ium)\//.test(ua) ? 'Chromium'
		: /Safari\//.test(ua) ? 'Safari' : 'Browser';
	const os = /Android/.test(ua) ? 'Android' : /iPhone|iPad/.test(ua) ? 'iOS' : /Mac OS X/.test(ua) ? 'macOS'
		: /Windows/.test(ua) ? 'Windows' : /Linux/.test(ua) ? 'Linux' : '';
	return os ? `${browser} on ${os}` : browser;
}
