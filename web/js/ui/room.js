// room.js - a room's topic and members (docs/PROTOCOL.md, topic and members). The header of a
// room shows its member count and its topic (sub()); either opens the room dialog: the topic,
// who set it and when, a form to change or remove it (any member may; not #lobby's), and the
// members (ui/members.js). Topics come from the server when a room is opened (and again after
// a reconnect) and from live `topic` events; refusals (bad_topic and its reason, not_member,
// rate_limited) are said in the dialog, translated.

import { errorText, formatFull, t } from '../i18n.js';
import { names } from '../names.js';
import { lower } from '../store.js';
import { h, icon } from './dom.js';
import { MembersList } from './members.js';
import { modal } from './modal.js';
import { nameLabel } from './name.js';

export class RoomPanel {
	constructor({ store, client, onPick, signal }) {
		this.store = store;
		this.client = client;
		this.key = null;            // the room shown in the dialog
		this.asked = new Set();     // rooms whose topic was asked on this connection

		this.members = new MembersList({
			store, client, signal,
			onPick: user => {
				this.el.close();
				onPick(user);
			},
		});
		this.title = h('h2', { id: 'room-title', dir: 'auto' });
		this.closeBtn = h('button', {
			type: 'button', class: 'icon-btn', id: 'room-close', 'aria-label': t('room.close'),
			title: t('room.close'), onclick: () => this.el.close(),
		}, icon('x'));

		// the topic: shown, or being edited
		this.topicText = h('p', { class: 'room-topic', id: 'room-topic', dir: 'auto' });
		this.topicMeta = h('p', { class: 'room-topic-meta muted', id: 'room-topic-meta' });
		this.editBtn = h('button', { type: 'button', class: 'btn small', id: 'topic-edit', onclick: () => this.edit(true) });
		this.topicInput = h('input', {
			id: 'topic-input', type: 'text', autocomplete: 'off', dir: 'auto', maxlength: 1024,
			'aria-describedby': 'topic-status topic-hint',
		});
		this.saveBtn = h('button', { type: 'submit', class: 'btn small primary', id: 'topic-save' }, t('room.topicSave'));
		this.cancelBtn = h('button', { type: 'button', class: 'btn small', id: 'topic-cancel', onclick: () => this.edit(false) },
			t('room.cancel'));
		this.topicForm = h('form', {
			class: 'topic-form', id: 'topic-form', hidden: true, novalidate: true,
			onsubmit: e => {
				e.preventDefault();
				this.saveTopic();
			},
		}, h('label', { for: 'topic-input' }, t('room.topicLabel')), this.topicInput,
		h('p', { class: 'muted room-hint', id: 'topic-hint' }, t('room.topicHint')),
		h('div', { class: 'room-actions' }, this.cancelBtn, this.saveBtn));
		this.topicStatus = h('p', { class: 'room-status', id: 'topic-status', role: 'status' });
		this.topicView = h('div', { class: 'topic-view' }, this.topicText, this.topicMeta,
			h('div', { class: 'room-actions start' }, this.editBtn));

		this.el = h('dialog', { class: 'account room-dialog', id: 'room-dialog', 'aria-labelledby': 'room-title' },
			h('header', { class: 'account-head' },
				h('span', { class: 'title-icon room', 'aria-hidden': 'true' }, icon('hash')),
				h('div', { class: 'account-titles' }, this.title),
				this.closeBtn),
			h('section', { class: 'room-section', 'aria-labelledby': 'topic-title' },
				h('h3', { id: 'topic-title' }, t('room.topic')),
				this.topicView, this.topicForm, this.topicStatus),
			this.members.el);
		this.show = modal(this.el);
		this.el.addEventListener('close', () => {
			this.key = null;
			this.members.hide();
		});

		client.addEventListener('event', e => {
			if (e.detail.op === 'topic')
				this.setTopic(e.detail);
		}, { signal });
		client.addEventListener('state', e => {
			if (e.detail.state === 'online') {
				this.asked.clear();     // topics may have changed while away
				this.askTopic(store.activeKey);
			}
		}, { signal });
		store.addEventListener('active', e => this.askTopic(e.detail.key), { signal });
		store.addEventListener('convs', () => {
			if (this.key && !store.convs.has(this.key))
				this.el.close();        // left the room
		}, { signal });
		names.addEventListener('change', () => {
			if (this.key)
				this.renderTopic();
		}, { signal });
		signal.addEventListener('abort', () => this.el.close());     // logged out
	}

	/**
	 * Fills `el`, the header's line under a room's name, with its member count and its topic,
	 * each a button; left alone when they did not change (a focused button keeps its focus).
	 */
	renderSub(el, c) {
		const sig = JSON.stringify([c.key, c.members, c.topic]);
		if (el.dataset.sig === sig && el.childElementCount)
			return;
		el.dataset.sig = sig;
		el.replaceChildren(...this.sub(c));
	}

	sub(c) {
		const count = typeof c.members === 'number'
			? (c.members === 1 ? t('side.member1') : t('side.members', { n: c.members })) : t('members.title');
		const nodes = [h('button', {
			type: 'button', class: 'head-link', id: 'members-button', 'aria-haspopup': 'dialog',
			title: t('room.membersTitle', { room: c.name }), onclick: e => this.open(c.key, e.currentTarget),
		}, icon('users'), count)];
		if (c.topic) {
			nodes.push(h('span', { class: 'head-sep', 'aria-hidden': 'true' }, '·'), h('button', {
				type: 'button', class: 'head-link head-topic', id: 'head-topic', dir: 'auto', 'aria-haspopup': 'dialog',
				title: c.topic, onclick: e => this.open(c.key, e.currentTarget),
			}, c.topic));
		} else if (c.key !== '#lobby' && c.topic === null) {
			nodes.push(h('span', { class: 'head-sep', 'aria-hidden': 'true' }, '·'), h('button', {
				type: 'button', class: 'head-link head-topic empty', id: 'head-topic', 'aria-haspopup': 'dialog',
				onclick: e => this.open(c.key, e.currentTarget, true),
			}, t('room.addTopic')));
		}
		return nodes;
	}

	/** Opens the dialog of room `key`; `editing`: at the topic's form. */
	open(key, opener, editing) {
		const c = this.store.convs.get(key);
		if (!c || c.kind !== 'room')
			return;
		this.key = key;
		this.title.textContent = c.name;
		this.topicStatus.textContent = '';
		this.edit(false, true);
		this.renderTopic();
		this.members.show(c.name);
		this.show(opener);
		if (editing && key !== '#lobby')
			this.edit(true);
		else
			this.closeBtn.focus();
	}

	/** Asks the topic of room `key` once per connection (events keep it current after that). */
	async askTopic(key) {
		const c = key ? this.store.convs.get(key) : null;
		if (!c || c.kind !== 'room' || key === '#lobby' || this.asked.has(key) || this.client.state !== 'online')
			return;
		this.asked.add(key);
		try {
			const r = await this.client.request({ op: 'topic', room: c.name });
			this.setTopic(r);
		} catch {
			this.asked.delete(key);     // asked again when opened next time
		}
	}

	/** A topic reply or event: {room, topic, by, ts} (no topic: none). */
	setTopic(m) {
		if (typeof m.room !== 'string')
			return;
		const c = this.store.convs.get(lower(m.room));
		if (!c)
			return;
		c.topic = typeof m.topic === 'string' && m.topic ? m.topic : null;
		c.topicBy = typeof m.by === 'string' ? m.by : null;
		c.topicTs = typeof m.ts === 'number' ? m.ts : null;
		this.store.emit('convs');
		if (this.key === c.key)
			this.renderTopic();
	}

	renderTopic() {
		const c = this.key ? this.store.convs.get(this.key) : null;
		if (!c)
			return;
		const lobby = c.key === '#lobby';
		this.topicText.textContent = c.topic || (lobby ? t('room.lobbyTopic') : t('room.noTopic'));
		this.topicText.classList.toggle('muted', !c.topic);
		this.topicMeta.replaceChildren();
		if (c.topic && c.topicBy) {
			const [before, after] = t('room.topicBy', { name: '\u0000', when: c.topicTs ? formatFull(c.topicTs) : '' })
				.split('\u0000');
			this.topicMeta.append(before, nameLabel(c.topicBy), after || '');
		}
		this.topicMeta.hidden = !this.topicMeta.childNodes.length;
		this.editBtn.hidden = lobby;
		this.editBtn.textContent = c.topic ? t('room.topicEdit') : t('room.addTopic');
	}

	/** Shows the topic's form (true) or the topic (false). */
	edit(on, quiet) {
		const c = this.key ? this.store.convs.get(this.key) : null;
		this.topicForm.hidden = !on;
		this.topicView.hidden = on;
		if (!on) {
			this.topicInput.removeAttribute('aria-invalid');
			if (!quiet && this.el.open)
				this.editBtn.focus();
			return;
		}
		this.topicInput.value = c?.topic || '';
		this.topicStatus.textContent = '';
		this.topicInput.focus();
		this.topicInput.select();
	}

	async saveTopic() {
		const c = this.key ? this.store.convs.get(this.key) : null;
		if (!c || this.busy)
			return;
		const topic = this.topicInput.value.trim();
		this.busy = true;
		this.saveBtn.disabled = true;
		this.setStatus(t('room.working'), 'info');
		try {
			const r = await this.client.request({ op: 'topic', room: c.name, topic });
			this.setTopic(r);
			this.edit(false);
			this.setStatus(r.topic ? t('room.topicSaved') : t('room.topicRemoved'), 'ok');
		} catch (err) {
			this.topicInput.setAttribute('aria-invalid', 'true');
			this.setStatus(err.code === 'forbidden' ? t('room.lobbyForbidden') : errorText(err.code, err.data), 'error');
			this.topicStatus.dataset.error = err.code || '';
			this.topicInput.focus();
		} finally {
			this.busy = false;
			this.saveBtn.disabled = false;
		}
	}

	setStatus(text, kind) {
		this.topicStatus.textContent = text;
		this.topicStatus.className = 'room-status' + (kind ? ' ' + kind : '');
		this.topicStatus.dataset.kind = kind || '';
	}
}
