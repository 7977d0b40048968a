// keystore.js - what this browser keeps of a user's end-to-end encryption, in IndexedDB
// (docs/E2EE.md, "Keys at rest"): the device's keys, the account key, sessions, trust in
// contacts, and the decrypted messages of encrypted chats (the server keeps only ciphertext).
//
// Every record is encrypted with an AES-GCM key that WebCrypto made non-extractable and that
// IndexedDB keeps as a CryptoKey: script on the page can use it, nothing can read it out (a
// copy of the database files is useless without the browser's own key storage). libsodium's
// keys are bytes, so they live decrypted in memory only while the page is open.
//
// One database per user ("pier-e2ee.<user>"); three object stores:
//   wrap   'key' -> the CryptoKey
//   state  name  -> {iv, ct}: one JSON value per name ('device', 'account', 'trust', 's.<device id>'...)
//   msgs   id    -> {id, conv, iv, ct}: a decrypted message (conv in clear for the index: the
//                   server knows who talks to whom anyway)
// commit() writes state and messages in ONE transaction and resolves only when it is durable:
// the device manager acknowledges an envelope only after that (nothing lost, no key reused).

const VERSION = 1;
const IV_BYTES = 12;

const enc = new TextEncoder();
const dec = new TextDecoder();

function req(r) {
	return new Promise((resolve, reject) => {
		r.onsuccess = () => resolve(r.result);
		r.onerror = () => reject(r.error);
	});
}

function done(tx) {
	return new Promise((resolve, reject) => {
		tx.oncomplete = () => resolve();
		tx.onerror = () => reject(tx.error);
		tx.onabort = () => reject(tx.error || new Error('transaction aborted'));
	});
}

export function dbName(user) {
	return 'pier-e2ee.' + String(user).toLowerCase();
}

export class KeyStore {
	/** Opens (creating if needed) the store of `user`. Rejects where IndexedDB or WebCrypto
	 * is missing (a private window of some browsers): the client then has no device. */
	static async open(user) {
		if (typeof indexedDB === 'undefined' || !globalThis.crypto || !crypto.subtle)
			throw new Error('no IndexedDB or WebCrypto');
		const open = indexedDB.open(dbName(user), VERSION);
		open.onupgradeneeded = () => {
			const db = open.result;
			if (!db.objectStoreNames.contains('wrap'))
				db.createObjectStore('wrap');
			if (!db.objectStoreNames.contains('state'))
				db.createObjectStore('state');
			if (!db.objectStoreNames.contains('msgs'))
				db.createObjectStore('msgs', { keyPath: 'id' }).createIndex('conv', 'conv');
		};
		const db = await req(open);
		const ks = new KeyStore(db);
		await ks.loadKey();
		return ks;
	}

	/** Removes the user's store from this browser (a reset, or "forget this device"). */
	static async destroy(user) {
		if (typeof indexedDB === 'undefined')
			return;
		await req(indexedDB.deleteDatabase(dbName(user))).catch(() => {});
	}

	constructor(db) {
		this.db = db;
		this.key = null;
		// another tab upgrading or deleting the database: let it
		db.onversionchange = () => db.close();
	}

	close() {
		this.db.close();
	}

	async loadKey() {
		let key = await req(this.db.transaction('wrap').objectStore('wrap').get('key'));
		if (!key) {
			key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
			const tx = this.db.transaction('wrap', 'readwrite');
			// two tabs at once: the first key written wins, and both use it
			const had = await req(tx.objectStore('wrap').get('key'));
			if (had)
				key = had;
			else
				tx.objectStore('wrap').put(key, 'key');
			await done(tx);
		}
		this.key = key;
	}

	/** Whether the key is what the spec asks: AES-GCM, not extractable. */
	get keyInfo() {
		return { algorithm: this.key.algorithm.name, extractable: this.key.extractable };
	}

	async seal(value) {
		const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
		const ct = await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, this.key, enc.encode(JSON.stringify(value)));
		return { iv, ct: new Uint8Array(ct) };
	}

	async unseal({ iv, ct }) {
		const pt = await crypto.subtle.decrypt({ name: 'AES-GCM', iv }, this.key, ct);
		return JSON.parse(dec.decode(pt));
	}

	/** The value kept under `name`, or undefined. */
	async get(name) {
		const rec = await req(this.db.transaction('state').objectStore('state').get(name));
		return rec ? this.unseal(rec) : undefined;
	}

	/** Every state name starting with `prefix` and its value ('s.' gives the sessions). */
	async getPrefix(prefix) {
		const range = IDBKeyRange.bound(prefix, prefix + '\uffff');
		const store = this.db.transaction('state').objectStore('state');
		const [keys, recs] = await Promise.all([req(store.getAllKeys(range)), req(store.getAll(range))]);
		const out = new Map();
		for (let i = 0; i < keys.length; i++)
			out.set(keys[i], await this.unseal(recs[i]));
		return out;
	}

	/**
	 * Writes, in one transaction: `state` (a Map or [[name, value]]; a value of undefined
	 * deletes the name) and `messages` ({id, conv, ...}: the decrypted message). Resolves when
	 * the transaction has completed.
	 */
	async commit(state = [], messages = []) {
		// encrypt first: an IndexedDB transaction ends when it is left idle across an await
		const puts = [];
		for (const [name, value] of state)
			puts.push([name, value === undefined ? undefined : await this.seal(value)]);
		const recs = [];
		for (const m of messages)
			recs.push({ id: m.id, conv: m.conv, ...(await this.seal(m)) });
		const tx = this.db.transaction(['state', 'msgs'], 'readwrite', { durability: 'strict' });
		const st = tx.objectStore('state');
		for (const [name, rec] of puts) {
			if (rec === undefined)
				st.delete(name);
			else
				st.put(rec, name);
		}
		const ms = tx.objectStore('msgs');
		for (const r of recs)
			ms.put(r);
		await done(tx);
	}

	put(name, value) {
		return this.commit([[name, value]]);
	}

	/** Every decrypted message kept (newest last), or those of conversation `conv`. */
	async messages(conv) {
		const store = this.db.transaction('msgs').objectStore('msgs');
		const recs = await req(conv ? store.index('conv').getAll(conv) : store.getAll());
		const out = [];
		for (const r of recs)
			out.push(await this.unseal(r));
		out.sort((a, b) => a.id - b.id);
		return out;
	}

	/** The decrypted message `id`, or undefined. */
	async message(id) {
		const rec = await req(this.db.transaction('msgs').objectStore('msgs').get(id));
		return rec ? this.unseal(rec) : undefined;
	}

	/** Forgets the decrypted messages `ids` (recalled by their sender). */
	async forget(ids) {
		const tx = this.db.transaction('msgs', 'readwrite');
		for (const id of ids)
			tx.objectStore('msgs').delete(id);
		await done(tx);
	}

	/** Forgets every decrypted message (a reset starts a new identity without them). */
	async clearMessages() {
		const tx = this.db.transaction('msgs', 'readwrite');
		tx.objectStore('msgs').clear();
		await done(tx);
	}
}
