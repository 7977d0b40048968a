// composer.js - writing: Enter sends, Shift+Enter starts a new line (and Enter while an input
// method is composing is left to it); files come from the attach button, drag and drop, or
// pasting; each shows its upload progress above the text box until it is sent. A line is
// read as the terminal client reads it (command.js): `text~user` and `/msg` send privately,
// `/join`, `/part`, `/help`; what looks meant for someone else is never sent to the
// conversation without asking (an unknown command is refused, a `~word` that is no user asks).
// A reply shows the message it quotes above the text box (with a cancel button); an edit
// puts the message's text in the box (Enter saves, Escape cancels; ↑ in an empty box edits
// one's last message); '@' in a room completes names (ui/mentions.js).

import { parseLine } from '../command.js';
import { errorText, formatSize, t } from '../i18n.js';
import { quoteOf } from '../msgrules.js';
import { lower } from '../store.js';
import { h, icon } from './dom.js';
import { MentionCompleter } from './mentions.js';

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
		this.help = this.helpPanel();
		this.askText = h('p', { class: 'composer-ask-text', id: 'composer-ask-text', role: 'status' });
		this.askSend = h('button', { type: 'button', class: 'btn small', id: 'ask-send', onclick: () => this.sendAsWritten() });
		this.askEdit = h('button', { type: 'button', class: 'btn small primary', id: 'ask-edit', onclick: () => this.hideAsk(true) },
			t('composer.edit'));
		this.ask = h('div', { class: 'composer-ask', id: 'composer-ask', role: 'group', 'aria-labelledby': 'composer-ask-text', hidden: true },
			this.askText, h('div', { class: 'composer-ask-actions' }, this.askSend, this.askEdit));
		this.busy = false;
		this.reply = null;      // {key, id, quote}: the message the next one answers
		this.editing = null;    // {key, m, draft}: the message being edited, the draft put aside
		this.contextText = h('p', { class: 'composer-context-text', id: 'composer-context-text' });
		this.contextQuote = h('p', { class: 'composer-context-quote', dir: 'auto' });
		this.contextCancel = h('button', {
			type: 'button', class: 'icon-btn small', id: 'composer-context-cancel', onclick: () => this.cancelContext(true),
		}, icon('x'));
		this.contextIcon = h('span', { class: 'composer-context-icon', 'aria-hidden': 'true' });
		this.context = h('div', { class: 'composer-context', id: 'composer-context', hidden: true },
			this.contextIcon, h('div', { class: 'composer-context-main' }, this.contextText, this.contextQuote), this.contextCancel);
		this.mention = new MentionCompleter({ store, input: this.input, convKey: () => this.key });

		this.form = h('form', {
			class: 'composer', id: 'composer',
			onsubmit: e => {
				e.preventDefault();
				this.submit();
			},
		}, this.file, this.attach, this.input, this.sendBtn);
		this.el = h('div', { class: 'composer-wrap' }, this.help, this.tray, this.ask, this.mention.el, this.context, this.form, this.note);

		this.input.addEventListener('keydown', e => {
			if (this.mention.onKey(e))
				return;
			if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
				e.preventDefault();
				this.submit();
			} else if (e.key === 'Escape' && (!this.help.hidden || !this.ask.hidden)) {
				e.stopPropagation();
				this.help.hidden = true;
				this.hideAsk();
			} else if (e.key === 'Escape' && (this.reply || this.editing)) {
				e.stopPropagation();
				this.cancelContext(true);
			} else if (e.key === 'ArrowUp' && !this.input.value && !this.editing && !e.shiftKey && !e.altKey &&
			           !e.ctrlKey && !e.metaKey) {
				const m = this.lastOwn();
				if (m) {
					e.preventDefault();
					this.startEdit(m);
				}
			}
		});
		this.input.addEventListener('input', () => {
			this.autosize();
			if (!this.editing)
				this.drafts.set(this.key, this.input.value);
			this.hideAsk();
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
		store.addEventListener('messages', e => {
			// the message replied to or being edited was recalled (elsewhere) meanwhile
			const d = e.detail;
			const gone = x => x && d.key === x.key && d.changed && d.changed.includes(x.id) &&
				this.store.locate(x.key, x.id)?.m.recalled;
			if (gone(this.reply)) {
				this.cancelContext(false);
				this.setNote(t('composer.replyGone'), 'error');
			} else if (this.editing && gone({ key: this.editing.key, id: this.editing.m.id })) {
				this.cancelContext(false);
				this.setNote(t('composer.editGone'), 'error');
			}
		}, { signal });
	}

	open(key) {
		if (this.key !== key)
			this.cancelContext(false);
		this.mention.close();
		if (this.key !== null)
			this.drafts.set(this.key, this.input.value);
		this.key = key;
		const c = key ? this.store.convs.get(key) : null;
		this.input.value = this.drafts.get(key) || '';
		this.input.placeholder = !c ? '' : c.kind === 'room'
			? t('composer.room', { conv: c.name }) : t('composer.private', { name: c.name });
		this.form.classList.toggle('private', !!c && c.kind === 'private');
		this.input.disabled = this.attach.disabled = this.sendBtn.disabled = !c;
		this.hideAsk();
		this.autosize();
		this.setNote();
		this.renderTray();
	}

	helpPanel() {
		const rows = [
			['help.tilde', 'help.tildeWhat'], ['help.msg', 'help.msgWhat'], ['help.join', 'help.joinWhat'],
			['help.part', 'help.partWhat'], ['help.help', 'help.helpWhat'], ['help.slash', 'help.slashWhat'],
			['help.at', 'help.atWhat'], ['help.mention', 'help.mentionWhat'], ['help.up', 'help.upWhat'],
		];
		const close = h('button', {
			type: 'button', class: 'icon-btn small', id: 'composer-help-close', 'aria-label': t('help.close'),
			title: t('help.close'), onclick: () => { this.help.hidden = true; this.focus(); },
		}, icon('x'));
		return h('section', { class: 'composer-help', id: 'composer-help', 'aria-labelledby': 'composer-help-title', hidden: true },
			h('header', null, h('h2', { id: 'composer-help-title' }, t('help.title')), close),
			h('dl', null, rows.map(([k, v]) => [h('dt', null, h('code', null, t(k))), h('dd', null, t(v))])));
	}

	focus() {
		if (!this.input.disabled)
			this.input.focus({ preventScroll: true });
	}

	autosize() {
		this.input.style.height = 'auto';
		this.input.style.height = Math.min(this.input.scrollHeight, 200) + 'px';
	}

	/**
	 * The line under the text box: `text` of `kind` ('error', 'ok'), or the hint (or that the
	 * text is too long). Changed only when it changes: it is a status region, and a screen
	 * reader would read the same hint again at every key. Returns false when too long.
	 */
	setNote(text, kind) {
		const tooLong = new TextEncoder().encode(this.input.value).length > MAX_TEXT;
		if (!text && tooLong) {
			text = t('composer.tooLong');
			kind = 'error';
		}
		text = text || t(this.editing ? 'composer.editHint' : 'composer.hint');
		if (this.note.textContent !== text)
			this.note.textContent = text;
		this.note.className = 'composer-note' + (kind ? ' ' + kind : '');
		this.note.dataset.kind = kind || '';
		return !tooLong;
	}

	target(c) {
		return c.kind === 'room' ? c.name : '@' + c.name;
	}

	/** Empties the text box (after the line was acted on), unless it changed meanwhile. */
	done(key, line) {
		if (this.key !== key) {
			// the command went elsewhere (/join): the line is not left as that conversation's draft
			if (this.drafts.get(key) === line)
				this.drafts.delete(key);
			return;
		}
		if (this.input.value !== line)
			return;
		this.input.value = '';
		this.drafts.delete(key);
		this.autosize();
		this.input.focus();
	}

	async submit() {
		const c = this.key ? this.store.convs.get(this.key) : null;
		const line = this.input.value;
		if (!c || this.busy)
			return;
		if (this.editing) {
			await this.saveEdit(line);
			return;
		}
		if (!line.trim())
			return;
		if (!this.setNote())
			return;
		this.hideAsk();
		const key = this.key;
		const cmd = parseLine(line);
		switch (cmd.op) {
		case 'text':
			this.client.send(this.target(c), cmd.text, null, this.takeReply());
			this.done(key, line);
			break;
		case 'private':
			await this.sendPrivate(key, line, cmd);
			break;
		case 'join':
			await this.run(key, line, async () => {
				const r = await this.client.join(cmd.room);
				return t(r.created ? 'side.created' : 'side.joined', { room: r.room });
			});
			break;
		case 'part': {
			const room = cmd.room || (c.kind === 'room' ? c.name : null);
			if (!room) {
				this.setNote(t('composer.usage.part'), 'error');
				break;
			}
			await this.run(key, line, async () => {
				await this.client.part(room);
				return t('composer.left', { room });
			});
			break;
		}
		case 'help':
			this.help.hidden = false;
			this.done(key, line);
			break;
		case 'usage':
			this.setNote(t('composer.usage.' + cmd.cmd), 'error');
			break;
		case 'unknown':
			this.setNote(t('composer.unknown', { name: cmd.name }), 'error');
			break;
		case 'ask':
			this.showAsk(t('composer.askWord', { word: cmd.word }), line);
			break;
		}
	}

	/** A request for a command: the text box empties when it succeeds, the note says how it went. */
	async run(key, line, fn) {
		this.busy = true;
		try {
			const ok = await fn();
			this.done(key, line);
			this.setNote(ok, 'ok');
		} catch (err) {
			this.setNote(errorText(err.code, err.data), 'error');
		} finally {
			this.busy = false;
		}
	}

	/**
	 * `text~user` or `/msg user text`. A user not seen yet (not online, no conversation) is
	 * looked up first: a name that is nobody's is refused (`~word`: asked whether the line
	 * was meant as it is). Offline, it is queued as it is (the server refuses a user that does
	 * not exist, and the message shows why).
	 */
	async sendPrivate(key, line, { user, text, how }) {
		const conv = this.store.convs.get('@' + lower(user));
		const known = this.store.online.has(lower(user)) || (conv && conv.messages.length > 0);
		if (!known && (this.client.state === 'online' || this.client.state === 'syncing')) {
			this.busy = true;
			this.setNote(t('composer.checking', { name: user }));
			let exists;
			try {
				exists = await this.client.checkUser(user);
			} finally {
				this.busy = false;
			}
			if (this.key !== key || this.input.value !== line)
				return;
			if (exists === 'no') {
				if (how === 'tilde')
					this.showAsk(t('composer.askNoUser', { name: user }), line);
				else
					this.setNote(t('composer.noUser', { name: user }), 'error');
				return;
			}
		}
		this.client.send('@' + (this.store.online.get(lower(user)) || conv?.name || user), text);
		this.done(key, line);
		this.setNote(t('composer.sentPrivate', { name: user }), 'ok');
	}

	/** Asks whether `line` goes to the conversation as it is (it looks like `text~user`). */
	showAsk(question, line) {
		const c = this.key ? this.store.convs.get(this.key) : null;
		if (!c)
			return;
		this.askLine = line;
		this.askText.textContent = question;
		this.askSend.textContent = t('composer.sendAsWritten', { conv: c.name });
		this.ask.hidden = false;
		this.setNote('');
	}

	hideAsk(focus) {
		this.ask.hidden = true;
		this.askLine = null;
		if (focus)
			this.focus();
	}

	sendAsWritten() {
		const c = this.key ? this.store.convs.get(this.key) : null;
		const line = this.askLine;
		this.hideAsk();
		if (!c || line === null || line === undefined || this.input.value !== line)
			return;
		this.client.send(this.target(c), line, null, this.takeReply());
		this.done(this.key, line);
	}

	// ---- replying and editing ----

	/** Answers message m: its quote shows above the text box until sent or cancelled. */
	startReply(m) {
		if (this.editing)
			this.cancelContext(false);
		this.reply = { key: this.store.keyOf(m), id: m.id, quote: quoteOf(m) };
		this.renderContext();
		this.focus();
	}

	/** The reply for the message being sent (and the reply is done), or null. */
	takeReply() {
		const r = this.reply && this.reply.key === this.key ? this.reply : null;
		if (r)
			this.cancelContext(false);
		return r ? { id: r.id, quote: r.quote } : null;
	}

	/** Edits one's own message m in the text box; what was typed comes back afterwards. */
	startEdit(m) {
		if (this.editing)
			this.cancelContext(false);
		this.reply = null;
		this.editing = { key: this.store.keyOf(m), m, draft: this.input.value };
		this.input.value = m.text || '';
		this.renderContext();
		this.autosize();
		this.setNote();
		this.focus();
		this.input.setSelectionRange(this.input.value.length, this.input.value.length);
	}

	/** The user's last message in this conversation that can be edited, or null. */
	lastOwn() {
		const c = this.key ? this.store.convs.get(this.key) : null;
		if (!c)
			return null;
		for (let i = c.messages.length - 1; i >= 0; i--) {
			const m = c.messages[i];
			if (lower(m.from) === this.store.meKey && !m.recalled)
				return m;
		}
		return null;
	}

	async saveEdit(text) {
		const { m } = this.editing;
		if (text === (m.text || '')) {
			this.cancelContext(true);
			return;
		}
		if (!text.trim() && !m.media) {
			this.setNote(errorText('empty_message'), 'error');
			return;
		}
		if (!this.setNote())
			return;
		this.busy = true;
		try {
			await this.client.edit(m, text);
			if (this.editing && this.editing.m === m && this.input.value === text) {
				this.cancelContext(true);
				this.setNote(t('composer.saved'), 'ok');
			}
		} catch (err) {
			this.setNote(errorText(err.code, err.data), 'error');
		} finally {
			this.busy = false;
		}
	}

	/** Ends a reply or an edit (an edit gives the text box its draft back). */
	cancelContext(focus) {
		if (this.editing) {
			this.input.value = this.editing.draft;
			this.editing = null;
			this.autosize();
		}
		this.reply = null;
		this.renderContext();
		this.setNote();
		if (focus)
			this.focus();
	}

	renderContext() {
		const r = this.reply;
		const e = this.editing;
		this.context.hidden = !r && !e;
		this.context.classList.toggle('editing', !!e);
		this.sendBtn.setAttribute('aria-label', t(e ? 'composer.save' : 'composer.send'));
		this.sendBtn.title = t(e ? 'composer.save' : 'composer.send');
		this.attach.disabled = !!e || !this.key;
		if (!r && !e) {
			this.input.removeAttribute('aria-describedby');
			return;
		}
		const q = r ? r.quote : quoteOf(e.m);
		this.contextIcon.replaceChildren(icon(r ? 'reply' : 'edit'));
		this.contextText.textContent = r ? t('composer.replyTo', { name: q.from }) : t('composer.editing');
		this.contextQuote.textContent = (q.text || (q.kind ? t('msg.kind.' + q.kind) : '')) + (q.cut ? '…' : '');
		const label = t(r ? 'composer.cancelReply' : 'composer.cancelEdit');
		this.contextCancel.setAttribute('aria-label', label);
		this.contextCancel.title = label;
		this.input.setAttribute('aria-describedby', 'composer-context-text');
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
