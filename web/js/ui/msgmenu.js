// msgmenu.js - what one can do with a message: a menu (a row of quick reactions, Reply, Edit
// and Recall (撤回) for one's own, Copy text) opened by the message's "…" button, a right click,
// a long press on a touch screen, or Shift+F10 / the context-menu key on a focused message;
// and the emoji picker ("More reactions…": common emoji, or any reaction typed, checked by
// pierd's rule before it is sent). Recall is offered only within the recall window. Both
// follow the WAI-ARIA menu pattern: arrow keys, Home and End move, Escape closes and gives
// the focus back to what opened it, Tab leaves.

import { errorText, t } from '../i18n.js';
import { reactionOk, recallable } from '../msgrules.js';
import { lower } from '../store.js';
import { h, icon } from './dom.js';

/** The quick reactions of the menu, as chat apps offer them. */
export const QUICK = ['👍', '❤️', '😂', '😮', '😢', '🙏'];
const WORD = /^[\p{L}\p{N}+]+$/u;     // a reaction that is a word (+1, 收到): drawn smaller
const GRID_COLUMNS = 8;         // as app.css lays out .emoji-grid
const MORE = [
	'👍', '👎', '❤️', '🔥', '🎉', '👏', '😂', '🤣', '😊', '😍', '🤔', '😮',
	'😢', '😭', '😡', '🙏', '💯', '✅', '❌', '👀', '🙌', '💪', '🤝', '👌',
	'🚀', '⭐', '☕', '🍉', '🌹', '🐶', '+1', '收到',
];

export class MessageMenu {
	/**
	 * store, client; onReply(m), onEdit(m): the composer takes over; onToast(text, isError).
	 * The menu and the picker are `el` (one element each, reused for every message).
	 */
	constructor({ store, client, onReply, onEdit, onToast, signal }) {
		this.store = store;
		this.client = client;
		this.onReply = onReply;
		this.onEdit = onEdit;
		this.onToast = onToast;
		this.m = null;
		this.opener = null;

		this.menu = h('div', {
			class: 'msg-menu', id: 'msg-menu', role: 'menu', hidden: true, 'aria-label': t('msg.actions'),
			onkeydown: e => this.onKey(e, this.menu),
		});
		this.pickerTitle = h('h2', { id: 'emoji-picker-title' }, t('picker.title'));
		this.pickerGrid = h('div', {
			class: 'emoji-grid', role: 'group', 'aria-labelledby': 'emoji-picker-title',
			onkeydown: e => this.onGridKey(e),
		});
		this.customInput = h('input', {
			id: 'emoji-custom', class: 'emoji-custom', autocomplete: 'off', maxlength: '32',
			'aria-label': t('picker.custom'), placeholder: t('picker.custom'), 'aria-describedby': 'emoji-custom-status',
		});
		this.customStatus = h('p', { class: 'emoji-status', id: 'emoji-custom-status', role: 'status' });
		this.picker = h('div', {
			class: 'emoji-picker', id: 'emoji-picker', role: 'dialog', 'aria-labelledby': 'emoji-picker-title', hidden: true,
			onkeydown: e => {
				if (e.key === 'Escape') {
					e.preventDefault();
					e.stopPropagation();
					this.close(true);
				}
			},
		},
		h('header', null, this.pickerTitle, h('button', {
			type: 'button', class: 'icon-btn small', 'aria-label': t('picker.close'), title: t('picker.close'),
			onclick: () => this.close(true),
		}, icon('x'))),
		this.pickerGrid,
		h('form', {
			class: 'emoji-form',
			onsubmit: e => {
				e.preventDefault();
				this.addCustom();
			},
		}, this.customInput, h('button', { type: 'submit', class: 'btn small', id: 'emoji-custom-add' }, t('picker.add'))),
		this.customStatus);
		this.customInput.addEventListener('input', () => {
			this.customStatus.textContent = '';
			this.customInput.removeAttribute('aria-invalid');
		});
		this.el = [this.menu, this.picker];

		// a press outside closes; so does a scroll of the page under a menu (it would float away)
		document.addEventListener('pointerdown', e => {
			if (this.isOpen() && !this.menu.contains(e.target) && !this.picker.contains(e.target) &&
			    !(this.opener && this.opener.contains(e.target)))
				this.close(false);
		}, { signal, capture: true });
		addEventListener('resize', () => this.close(false), { signal });
		store.addEventListener('active', () => this.close(false), { signal });
		store.addEventListener('messages', e => {
			// the message went (recalled, trimmed) while its menu was open
			if (this.m && e.detail.key === this.key && (this.m.recalled || !this.store.locate(this.key, this.m.id)))
				this.close(false);
		}, { signal });
	}

	isOpen() {
		return !this.menu.hidden || !this.picker.hidden;
	}

	/**
	 * Opens the menu of message m. at: {x, y} (a right click) or an element to place it by;
	 * opener: what gets the focus back.
	 */
	open(m, { at, opener }) {
		this.close(false);
		this.m = m;
		this.key = this.store.keyOf(m);
		this.opener = opener || null;
		const mine = lower(m.from) === this.store.meKey;
		// Reply and Edit move the focus to the composer; the others give it back
		const item = (id, label, ic, fn, extra = {}) => h('button', {
			type: 'button', role: 'menuitem', class: 'menu-item', id, tabindex: '-1', ...extra,
			onclick: () => {
				this.close(id !== 'menu-reply' && id !== 'menu-edit');
				fn();
			},
		}, icon(ic), h('span', null, label));
		const mineOf = emoji => !!(m.reactions || []).find(r => r.emoji === emoji && r.mine);
		const quick = h('div', { class: 'menu-quick', role: 'group', 'aria-label': t('msg.react') },
			QUICK.map(emoji => h('button', {
				type: 'button', role: 'menuitemcheckbox', class: 'quick-react', tabindex: '-1',
				'aria-checked': String(mineOf(emoji)), 'aria-label': t('msg.reactWith', { emoji }), title: t('msg.reactWith', { emoji }),
				dataset: { emoji },
				onclick: () => {
					this.close(true);
					this.react(m, emoji, !mineOf(emoji));
				},
			}, emoji)),
			h('button', {
				type: 'button', role: 'menuitem', class: 'quick-react more', id: 'menu-react-more', tabindex: '-1',
				'aria-label': t('msg.moreReactions'), title: t('msg.moreReactions'), 'aria-haspopup': 'dialog',
				onclick: () => this.openPicker(m),
			}, icon('smile')));
		const items = [quick, h('div', { class: 'menu-sep', role: 'separator' }),
			item('menu-reply', t('msg.reply'), 'reply', () => this.onReply(m))];
		if (mine && !m.e2eeMissing)       // an encrypted message this device cannot read cannot be edited here
			items.push(item('menu-edit', t('msg.edit'), 'edit', () => this.onEdit(m)));
		if (mine && recallable(m.ts, this.store.recallWindow))
			items.push(item('menu-recall', t('msg.recall'), 'recall', () => this.recall(m), {
				title: t('msg.recallHint', { n: Math.max(1, Math.round(this.store.recallWindow / 60)) }),
			}));
		if (m.text)
			items.push(item('menu-copy', t('msg.copy'), 'copy', () => this.copy(m.text)));
		this.menu.replaceChildren(...items);
		this.menu.setAttribute('aria-label', t('msg.actionsOf', { name: m.from }));
		this.menu.hidden = false;
		this.place(this.menu, at);
		if (this.opener)
			this.opener.setAttribute('aria-expanded', 'true');
		// the first action (the quick reactions are a row above it, one arrow key away)
		this.menu.querySelector('#menu-reply').focus({ preventScroll: true });
	}

	/** Closes the menu and the picker; focus: give the focus back to the opener. */
	close(focus) {
		const was = this.isOpen();
		this.menu.hidden = true;
		this.picker.hidden = true;
		if (this.opener)
			this.opener.setAttribute('aria-expanded', 'false');
		if (was && focus && this.opener && this.opener.isConnected)
			this.opener.focus({ preventScroll: true });
	}

	/** Puts a floating box at a point or by an element, inside the window. */
	place(box, at) {
		box.style.left = box.style.top = '0px';
		const r = box.getBoundingClientRect();
		let x;
		let y;
		if (at && typeof at.x === 'number') {
			x = at.x;
			y = at.y;
		} else {
			const a = (at || this.opener || document.body).getBoundingClientRect();
			x = a.right - r.width;
			y = a.bottom + 4;
			if (y + r.height > innerHeight - 8)
				y = a.top - r.height - 4;
		}
		x = Math.max(8, Math.min(x, innerWidth - r.width - 8));
		y = Math.max(8, Math.min(y, innerHeight - r.height - 8));
		box.style.left = Math.round(x) + 'px';
		box.style.top = Math.round(y) + 'px';
	}

	/** Arrow keys, Home, End in a menu (and in the picker's grid); Escape; Tab leaves. */
	onKey(e, box) {
		const items = [...box.querySelectorAll('[role^="menuitem"]')];
		const i = items.indexOf(document.activeElement);
		let next = null;
		switch (e.key) {
		case 'ArrowDown':
		case 'ArrowRight':
			next = items[(i + 1) % items.length];
			break;
		case 'ArrowUp':
		case 'ArrowLeft':
			next = items[(i - 1 + items.length) % items.length];
			break;
		case 'Home':
			next = items[0];
			break;
		case 'End':
			next = items[items.length - 1];
			break;
		case 'Escape':
			e.preventDefault();
			e.stopPropagation();
			this.close(true);
			return;
		case 'Tab':
			this.close(true);
			return;
		default:
			return;
		}
		e.preventDefault();
		next?.focus();
	}

	openPicker(m) {
		this.m = m;
		this.menu.hidden = true;
		const mine = new Set((m.reactions || []).filter(r => r.mine).map(r => r.emoji));
		this.pickerGrid.replaceChildren(...MORE.map(emoji => h('button', {
			type: 'button', class: 'emoji' + (WORD.test(emoji) ? ' word' : '') + (mine.has(emoji) ? ' mine' : ''),
			'aria-pressed': String(mine.has(emoji)),
			'aria-label': t('msg.reactWith', { emoji }), title: emoji, dataset: { emoji },
			onclick: () => {
				this.close(true);
				this.react(m, emoji, !mine.has(emoji));
			},
		}, emoji)));
		this.customInput.value = '';
		this.customStatus.textContent = '';
		this.customInput.removeAttribute('aria-invalid');
		this.picker.hidden = false;
		this.place(this.picker, this.opener);
		this.pickerGrid.firstElementChild.focus({ preventScroll: true });
	}

	/** Arrow keys move in the picker's grid (GRID_COLUMNS a row), Home and End to its ends. */
	onGridKey(e) {
		const all = [...this.pickerGrid.children];
		const i = all.indexOf(document.activeElement);
		if (i < 0)
			return;
		const step = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: GRID_COLUMNS, ArrowUp: -GRID_COLUMNS }[e.key];
		let j;
		if (step)
			j = Math.max(0, Math.min(all.length - 1, i + step));
		else if (e.key === 'Home')
			j = 0;
		else if (e.key === 'End')
			j = all.length - 1;
		else
			return;
		e.preventDefault();
		all[j].focus();
	}

	/** A reaction typed: checked as pierd checks it, so a refusal costs no request. */
	addCustom() {
		const emoji = this.customInput.value.trim();
		if (!reactionOk(emoji)) {
			this.customStatus.textContent = t('picker.bad');
			this.customInput.setAttribute('aria-invalid', 'true');
			this.customInput.focus();
			return;
		}
		const m = this.m;
		this.close(true);
		const r = (m.reactions || []).find(x => x.emoji === emoji);
		this.react(m, emoji, !(r && r.mine));
	}

	async react(m, emoji, on) {
		try {
			await this.client.react(m, emoji, on);
		} catch (err) {
			this.onToast(errorText(err.code, err.data), true);
		}
	}

	async recall(m) {
		try {
			await this.client.recall(m);
		} catch (err) {
			this.onToast(errorText(err.code, err.data), true);
		}
	}

	async copy(text) {
		let ok = false;
		try {
			await navigator.clipboard.writeText(text);
			ok = true;
		} catch {
			// not a secure context (http on a LAN address): the older way
			const ta = h('textarea', { class: 'sr-only', readonly: true, 'aria-hidden': 'true' });
			ta.value = text;
			document.body.appendChild(ta);
			ta.select();
			try {
				ok = document.execCommand('copy');
			} catch { /* refused */ }
			ta.remove();
		}
		this.onToast(ok ? t('msg.copied') : t('msg.copyFailed'), !ok);
	}
}
