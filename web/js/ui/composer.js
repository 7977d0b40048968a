// composer.js - writing: Enter sends, Shift+Enter starts a new line (and Enter while an input
// method is composing is left to it); files come from the attach button, drag and drop, or
// pasting; each shows its upload progress above the text box until it is sent.

import { errorText, formatSize, t } from '../i18n.js';
import { h, icon } from './dom.js';

const MAX_TEXT = 16 * 1024;

export class Composer {
	constructor({ store, client, uploads, signal }) {
		this.store = store;
		this.client = client;
		this.uploads = uploads;
		this.drafts = new Map();
		this.key = null;

		this.input = h('textarea', {
			id: 'composer-input', rows: '1', 'aria-label': t('composer.send'),
			enterkeyhint: 'send', autocomplete: 'off',
		});
		this.file = h('input', { type: 'file', multiple: true, hidden: true, id: 'file-input', tabindex: '-1' });
		this.attach = h('button', {
			type: 'button', class: 'icon-btn attach', id: 'attach-button', title: t('composer.attach'),
			'aria-label': t('composer.attach'), onclick: () => this.file.click(),
		}, icon('clip'));
		this.sendBtn = h('button', {
			type: 'submit', class: 'send', id: 'send-button', title: t('composer.send'), 'aria-label': t('composer.send'),
		}, icon('send'));
		this.note = h('p', { class: 'composer-note', id: 'composer-note', role: 'status' }, t('composer.hint'));
		this.tray = h('ul', { class: 'upload-tray', id: 'upload-tray', hidden: true, 'aria-label': t('composer.attach') });

		this.form = h('form', {
			class: 'composer', id: 'composer',
			onsubmit: e => {
				e.preventDefault();
				this.submit();
			},
		}, this.file, this.attach, this.input, this.sendBtn);
		this.el = h('div', { class: 'composer-wrap' }, this.tray, this.form, this.note);

		this.input.addEventListener('keydown', e => {
			if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
				e.preventDefault();
				this.submit();
			}
		});
		this.input.addEventListener('input', () => {
			this.autosize();
			this.drafts.set(this.key, this.input.value);
			this.setNote();
		});
		this.input.addEventListener('paste', e => {
			const files = [...(e.clipboardData?.files || [])];
			if (files.length) {
				e.preventDefault();
				this.addFiles(files);
			}
		});
		this.file.addEventListener('change', () => {
			this.addFiles([...this.file.files]);
			this.file.value = '';
		});
		uploads.addEventListener('change', () => this.renderTray(), { signal });
		store.addEventListener('active', e => this.open(e.detail.key), { signal });
	}

	open(key) {
		if (this.key !== null)
			this.drafts.set(this.key, this.input.value);
		this.key = key;
		const c = key ? this.store.convs.get(key) : null;
		this.input.value = this.drafts.get(key) || '';
		this.input.placeholder = !c ? '' : c.kind === 'room'
			? t('composer.room', { conv: c.name }) : t('composer.private', { name: c.name });
		this.form.classList.toggle('private', !!c && c.kind === 'private');
		this.input.disabled = this.attach.disabled = this.sendBtn.disabled = !c;
		this.autosize();
		this.setNote();
		this.renderTray();
	}

	focus() {
		if (!this.input.disabled)
			this.input.focus({ preventScroll: true });
	}

	autosize() {
		this.input.style.height = 'auto';
		this.input.style.height = Math.min(this.input.scrollHeight, 200) + 'px';
	}

	setNote(err) {
		const tooLong = new TextEncoder().encode(this.input.value).length > MAX_TEXT;
		this.note.textContent = err || (tooLong ? t('composer.tooLong') : t('composer.hint'));
		this.note.classList.toggle('error', !!err || tooLong);
		return !tooLong;
	}

	submit() {
		const c = this.key ? this.store.convs.get(this.key) : null;
		const text = this.input.value;
		if (!c || !text.trim())
			return;
		if (!this.setNote())
			return;
		this.client.send(c.kind === 'room' ? c.name : '@' + c.name, text);
		this.input.value = '';
		this.drafts.delete(this.key);
		this.autosize();
		this.input.focus();
	}

	addFiles(files) {
		const c = this.key ? this.store.convs.get(this.key) : null;
		if (!c)
			return;
		for (const f of files)
			this.uploads.add(f, c.kind === 'room' ? c.name : '@' + c.name);
	}

	renderTray() {
		const items = this.uploads.items;
		this.tray.hidden = items.length === 0;
		this.tray.replaceChildren(...items.map(u => {
			const pct = u.size ? Math.floor((u.loaded / u.size) * 100) : 0;
			const bar = h('progress', { max: '100', value: String(pct), 'aria-label': u.name });
			let line;
			if (u.state === 'failed') {
				const reason = u.error === 'too_large' ? t('upload.tooLarge') : u.error === 'empty_file'
					? t('upload.empty') : /quota/.test(u.error || '') ? t('upload.quota') : errorText(u.error);
				line = t('upload.failed', { reason });
			} else if (u.state === 'resuming') {
				line = t('upload.resuming');
			} else {
				line = t('upload.uploading', { done: formatSize(u.loaded), total: formatSize(u.size) });
			}
			const c = this.store.convs.get(u.to.toLowerCase());
			const where = this.key && c && c.key !== this.key ? ' → ' + (c.kind === 'room' ? c.name : c.name) : '';
			return h('li', { class: 'upload ' + u.state, dataset: { state: u.state } },
				h('span', { class: 'file-icon', 'aria-hidden': 'true' }, icon('file')),
				h('div', { class: 'upload-main' },
					h('div', { class: 'upload-line' },
						h('span', { class: 'upload-name' }, h('bdi', null, u.name), where),
						h('span', { class: 'upload-pct' }, u.state === 'failed' ? '' : pct + '%')),
					u.state === 'failed' ? null : bar,
					h('span', { class: 'upload-state' }, line)),
				h('button', {
					type: 'button', class: 'icon-btn small', onclick: () => this.uploads.cancel(u.id),
					'aria-label': u.state === 'failed' ? t('upload.dismiss') : t('upload.cancel'),
					title: u.state === 'failed' ? t('upload.dismiss') : t('upload.cancel'),
				}, icon('x')));
		}));
	}
}
