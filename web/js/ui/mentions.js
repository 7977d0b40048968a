// mentions.js - completion of @names in the composer of a room: typing '@' (or the full-width
// '＠' of Chinese input methods) lists the people the client knows (online users, who spoke or
// was mentioned in the conversation, private chat partners) whose name starts with (then
// contains) what follows; arrow keys choose, Enter or Tab inserts "@name ", Escape closes,
// a click works too. The list is a listbox the text box controls (aria-activedescendant), so
// the focus stays in the text box.

import { t } from '../i18n.js';
import { mentionAt } from '../msgrules.js';
import { lower } from '../store.js';
import { avatar, h } from './dom.js';

const MAX_SHOWN = 8;

export class MentionCompleter {
	/** input: the composer's textarea; convKey(): the conversation being written in. */
	constructor({ store, input, convKey }) {
		this.store = store;
		this.input = input;
		this.convKey = convKey;
		this.items = [];
		this.index = 0;
		this.range = null;
		this.list = h('ul', {
			class: 'mention-list', id: 'mention-list', role: 'listbox', hidden: true, 'aria-label': t('composer.mentions'),
		});
		this.el = h('div', { class: 'mention-box' }, this.list);
		input.setAttribute('aria-autocomplete', 'list');
		input.setAttribute('aria-controls', 'mention-list');
		input.setAttribute('aria-expanded', 'false');
		input.addEventListener('input', () => this.update());
		input.addEventListener('click', () => this.update());
		input.addEventListener('blur', () => setTimeout(() => {
			if (document.activeElement !== input)
				this.close();
		}, 150));
	}

	isOpen() {
		return !this.list.hidden;
	}

	/** Everyone the client knows by name in conversation `key`, the most likely first. */
	candidates(key) {
		const s = this.store;
		const seen = new Map();         // lower name -> {name, rank}
		const add = (name, rank) => {
			if (typeof name !== 'string' || !name || lower(name) === s.meKey)
				return;
			const k = lower(name);
			const was = seen.get(k);
			if (!was || was.rank > rank)
				seen.set(k, { name, rank });
		};
		const c = s.convs.get(key);
		if (c) {
			// who spoke last ranks first
			const msgs = c.messages;
			for (let i = msgs.length - 1, r = 0; i >= 0; i--, r++) {
				add(msgs[i].from, r);
				for (const n of msgs[i].mentions || [])
					add(n, r + 0.5);
				if (msgs[i].quote)
					add(msgs[i].quote.from, r + 0.5);
			}
		}
		const base = 1e6;
		for (const n of s.online.values())
			add(n, base);
		for (const conv of s.convs.values())
			if (conv.kind === 'private')
				add(conv.name, base + 1);
		return [...seen.values()];
	}

	/** Opens, updates or closes the list for the text before the caret. */
	update() {
		const key = this.convKey();
		const c = key ? this.store.convs.get(key) : null;
		const caret = this.input.selectionStart;
		const at = c && c.kind === 'room' && caret === this.input.selectionEnd ? mentionAt(this.input.value, caret) : null;
		if (!at) {
			this.close();
			return;
		}
		const q = lower(at.query);
		const all = this.candidates(key);
		const starts = all.filter(x => lower(x.name).startsWith(q));
		const inside = all.filter(x => !lower(x.name).startsWith(q) && lower(x.name).includes(q));
		const byRank = (a, b) => a.rank - b.rank || a.name.localeCompare(b.name);
		this.items = [...starts.sort(byRank), ...inside.sort(byRank)].slice(0, MAX_SHOWN).map(x => x.name);
		// nothing to complete once the name is whole (Enter then sends)
		if (!this.items.length || (this.items.length === 1 && lower(this.items[0]) === q)) {
			this.close();
			return;
		}
		this.range = at;
		this.index = Math.min(this.index, this.items.length - 1);
		this.render();
	}

	render() {
		const online = this.store.online;
		this.list.replaceChildren(...this.items.map((name, i) => h('li', {
			role: 'option', id: 'mention-opt-' + i, class: 'mention-opt' + (i === this.index ? ' active' : ''),
			'aria-selected': String(i === this.index), dataset: { user: name },
			onmousedown: e => e.preventDefault(),       // keep the focus in the text box
			onclick: () => this.pick(i),
		}, avatar(name, 'tiny'), h('bdi', { class: 'mention-name' }, name),
		online.has(lower(name)) ? h('span', { class: 'presence-dot on', 'aria-hidden': 'true' }) : null)));
		this.list.hidden = false;
		this.input.setAttribute('aria-expanded', 'true');
		this.input.setAttribute('aria-activedescendant', 'mention-opt-' + this.index);
	}

	close() {
		this.list.hidden = true;
		this.items = [];
		this.index = 0;
		this.range = null;
		this.input.setAttribute('aria-expanded', 'false');
		this.input.removeAttribute('aria-activedescendant');
	}

	/** Replaces the @text being typed with "@name ". */
	pick(i) {
		const name = this.items[i];
		const r = this.range;
		if (!name || !r)
			return;
		const v = this.input.value;
		const ins = '@' + name + ' ';
		this.input.value = v.slice(0, r.start) + ins + v.slice(r.end);
		const caret = r.start + ins.length;
		this.input.setSelectionRange(caret, caret);
		this.close();
		this.input.dispatchEvent(new Event('input'));      // drafts, size, the note
		this.input.focus();
	}

	/** The composer's keydown: true when the key was for the list (and is used up). */
	onKey(e) {
		if (!this.isOpen() || e.isComposing || e.keyCode === 229)
			return false;
		switch (e.key) {
		case 'ArrowDown':
			this.index = (this.index + 1) % this.items.length;
			break;
		case 'ArrowUp':
			this.index = (this.index - 1 + this.items.length) % this.items.length;
			break;
		case 'Enter':
		case 'Tab':
			if (e.shiftKey)
				return false;
			this.pick(this.index);
			e.preventDefault();
			return true;
		case 'Escape':
			this.close();
			e.preventDefault();
			e.stopPropagation();
			return true;
		default:
			return false;
		}
		e.preventDefault();
		this.render();
		return true;
	}
}
