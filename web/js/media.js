// media.js - sending files: a small tus 1.0 client (creation, then PATCH in pieces; after a
// dropped connection it asks the server for the offset with HEAD and goes on from there),
// with progress, then a chat message that carries the media id.
// The upload's URL is remembered per file (name, size, date) so that picking the same file
// again after a reload resumes it too. In an end-to-end encrypted chat the file is encrypted
// first and uploaded in one request (e2ee/device.js).

const CHUNK = 4 * 1024 * 1024;
const STALL_MS = 30000;          // no progress for this long: abort the request and resume
const RETRY_MAX = 40;
const RESUME_KEY = 'pier.v1.tus.';

export function kindOf(type) {
	const t = String(type || '').split('/')[0];
	return t === 'image' || t === 'video' || t === 'audio' ? t : 'file';
}

class HttpError extends Error {
	constructor(status, code, message) {
		super(message || code || ('HTTP ' + status));
		this.status = status;
		this.code = code || (status === 0 ? 'offline' : 'http_' + status);
	}
}

function b64(s) {
	const bytes = new TextEncoder().encode(s);
	let bin = '';
	for (const b of bytes)
		bin += String.fromCharCode(b);
	return btoa(bin);
}

/** One request with XMLHttpRequest (fetch has no upload progress). */
function xhr(method, url, { headers = {}, body = null, onProgress, signal } = {}) {
	return new Promise((resolve, reject) => {
		const x = new XMLHttpRequest();
		let stall = null;
		const arm = () => {
			clearTimeout(stall);
			stall = setTimeout(() => x.abort(), STALL_MS);
		};
		x.open(method, url);
		for (const [k, v] of Object.entries(headers))
			x.setRequestHeader(k, v);
		x.upload.onprogress = e => {
			arm();
			if (onProgress)
				onProgress(e.loaded);
		};
		x.onload = () => {
			clearTimeout(stall);
			let code = null;
			let message = null;
			if (x.status >= 400) {
				try {
					const j = JSON.parse(x.responseText);
					code = j.error;
					message = j.message;
				} catch { /* not JSON */ }
			}
			resolve({ status: x.status, header: n => x.getResponseHeader(n), code, message, text: x.responseText });
		};
		x.onerror = x.onabort = x.ontimeout = () => {
			clearTimeout(stall);
			reject(new HttpError(0, signal && signal.aborted ? 'cancelled' : 'offline'));
		};
		if (signal) {
			if (signal.aborted) {
				reject(new HttpError(0, 'cancelled'));
				return;
			}
			signal.addEventListener('abort', () => x.abort(), { once: true });
		}
		arm();
		x.send(body);
	});
}

const sleep = (ms, signal) => new Promise((resolve, reject) => {
	const t = setTimeout(resolve, ms);
	if (signal)
		signal.addEventListener('abort', () => {
			clearTimeout(t);
			reject(new HttpError(0, 'cancelled'));
		}, { once: true });
});

/**
 * Uploads a File with tus. opts: token(), onProgress(loaded), onState('uploading'|'resuming'),
 * signal, fingerprint. Resolves with the media id.
 */
export async function tusUpload(file, opts) {
	const auth = () => ({ Authorization: 'Bearer ' + opts.token(), 'Tus-Resumable': '1.0.0' });
	const fp = opts.fingerprint ? RESUME_KEY + opts.fingerprint : null;
	let url = null;
	let offset = 0;
	let failures = 0;
	let restarts = 0;

	if (fp) {
		try {
			url = localStorage.getItem(fp);
		} catch { /* ignore */ }
	}

	const remember = u => {
		try {
			if (fp && u)
				localStorage.setItem(fp, u);
			else if (fp)
				localStorage.removeItem(fp);
		} catch { /* ignore */ }
	};

	const fail = r => {
		throw new HttpError(r.status, r.code, r.message);
	};

	/** HEAD: where the server is; media id when already complete. */
	const head = async () => {
		const r = await xhr('HEAD', url, { headers: auth(), signal: opts.signal });
		if (r.status === 404 || r.status === 410) {
			url = null;
			remember(null);
			return null;
		}
		if (r.status !== 200 && r.status !== 204)
			fail(r);
		const done = r.header('Pier-Media-Id');
		if (done)
			return { id: Number(done) };
		offset = Number(r.header('Upload-Offset')) || 0;
		return {};
	};

	for (;;) {
		try {
			if (url) {
				const h = await head();
				if (h && h.id)
					return finish(h.id);
			}
			if (!url) {
				if (++restarts > 3)
					throw new HttpError(0, 'offline');
				const meta = 'filename ' + b64(file.name || 'file') +
					(file.type ? ',filetype ' + b64(file.type) : '');
				const r = await xhr('POST', '/api/tus', {
					headers: { ...auth(), 'Upload-Length': String(file.size), 'Upload-Metadata': meta },
					signal: opts.signal,
				});
				if (r.status !== 201)
					fail(r);
				url = new URL(r.header('Location'), location.href).pathname;
				offset = Number(r.header('Upload-Offset')) || 0;
				remember(url);
			}
			while (offset < file.size) {
				const end = Math.min(file.size, offset + CHUNK);
				const base = offset;
				const r = await xhr('PATCH', url, {
					headers: { ...auth(), 'Upload-Offset': String(offset),
						'Content-Type': 'application/offset+octet-stream' },
					body: file.slice(offset, end),
					signal: opts.signal,
					onProgress: n => opts.onProgress(Math.min(file.size, base + n)),
				});
				if (r.status === 409 && r.code === 'offset_mismatch') {
					await head();
					continue;
				}
				if (r.status === 404 || r.status === 410) {
					url = null;
					remember(null);
					break;
				}
				if (r.status !== 204 && r.status !== 200)
					fail(r);
				offset = Number(r.header('Upload-Offset')) || end;
				failures = 0;
				opts.onProgress(offset);
				opts.onState('uploading');
				const id = r.header('Pier-Media-Id');
				if (id)
					return finish(Number(id));
				if (offset >= file.size) {
					// complete, but the id did not come with it: ask for it
					const h = await head();
					if (h && h.id)
						return finish(h.id);
					await sleep(500, opts.signal);
				}
			}
		} catch (err) {
			const retriable = err.code === 'offline' || err.status >= 500 || err.status === 423 ||
				err.status === 408 || err.status === 429;
			if (!retriable || err.code === 'cancelled' || ++failures > RETRY_MAX)
				throw err;
			opts.onState('resuming');
			await sleep(Math.min(15000, 500 * 2 ** Math.min(failures, 5)) * (0.6 + Math.random() * 0.4), opts.signal);
		}
	}

	function finish(id) {
		remember(null);
		return id;
	}
}

/** Upload queue: each file to its conversation; events 'change'. */
export class Uploads extends EventTarget {
	constructor(client) {
		super();
		this.client = client;
		this.items = [];
		this.seq = 0;
		this.e2ee = null;       // the device manager, when end-to-end encryption is there
	}

	changed() {
		this.dispatchEvent(new CustomEvent('change'));
	}

	add(file, to) {
		const item = {
			id: ++this.seq, file, to, name: file.name || 'file', size: file.size, type: file.type,
			loaded: 0, state: 'uploading', error: null, ctl: new AbortController(),
		};
		this.items.push(item);
		this.changed();
		this.run(item);
		return item;
	}

	async run(item) {
		const client = this.client;
		if (item.size === 0) {
			this.failed(item, 'empty_file');
			return;
		}
		const e2ee = this.e2ee;
		if (e2ee && item.to[0] === '@' && e2ee.isE2ee(item.to.toLowerCase())) {
			// an end-to-end encrypted chat: encrypted here, uploaded as ciphertext (?e2ee=1);
			// the key, the real name and type go inside the encrypted message
			try {
				item.state = 'encrypting';
				this.changed();
				const up = await e2ee.uploadFile(item.file);
				item.state = 'done';
				item.loaded = item.size;
				client.send(item.to, '', {
					media: { ...up.media, e2ee: { key: up.file.key, header: up.file.header } },
					kind: kindOf(item.type), file: up.file,
				});
				this.remove(item.id);
			} catch (err) {
				this.failed(item, err.code || 'offline');
			}
			return;
		}
		try {
			const id = await tusUpload(item.file, {
				token: () => client.token || '',
				signal: item.ctl.signal,
				fingerprint: [client.store.meKey, item.name, item.size, item.file.lastModified || 0].join('/'),
				onProgress: n => {
					item.loaded = n;
					this.changed();
				},
				onState: s => {
					if (item.state !== s) {
						item.state = s;
						this.changed();
					}
				},
			});
			item.state = 'done';
			item.loaded = item.size;
			client.send(item.to, '', {
				media: { id, name: item.name, size: item.size, type: item.type || 'application/octet-stream' },
				kind: null,
			});
			this.remove(item.id);
		} catch (err) {
			if (err.code === 'cancelled') {
				this.remove(item.id);
				return;
			}
			this.failed(item, err.code);
		}
	}

	failed(item, code) {
		item.state = 'failed';
		item.error = code;
		this.changed();
	}

	cancel(id) {
		const item = this.items.find(i => i.id === id);
		if (!item)
			return;
		if (item.state === 'failed')
			this.remove(id);
		else
			item.ctl.abort();
	}

	remove(id) {
		this.items = this.items.filter(i => i.id !== id);
		this.changed();
	}
}
