// members.js - the members of a room, online or not (docs/PROTOCOL.md, members): a page at a
// time by name (a "show more" button asks the next one), each with an online dot, the display
// name and the login name; a click opens the private chat. Kept current while shown: presence
// events move the dots, member events add (when it falls in the pages shown) or remove a row
// and the count. Shown in the room dialog (ui/room.js).

import { errorText, t } from '../i18n.js';
import { lower } from '../store.js';
import { avatar, h } from './dom.js';
import { nameNodes } from './name.js';

export const MEMBERS_PAGE = 50;

export class MembersList {
	constructor({ store, client, onPick, signal }) {
		this.store = store;
		this.client = client;
		this.onPick = onPick;
		this.room = null;
		this.gen = 0;
		this.more = false;
		this.total = 0;
		this.last = null;           // the last name of the pages shown (the next `after`)

		this.count = h('span', { class: 'count', id: 'members-count' });
		this.list = h('ul', { class: 'member-list', id: 'members-list', 'aria-labelledby': 'members-title' });
		this.moreBtn = h('button', {
			type: 'button', class: 'btn small', id: 'members-more', hidden: true, onclick: () => this.page(),
		});
		this.status = h('p', { class: 'room-status', id: 'members-status', role: 'status' });
		this.el = h('section', { class: 'room-section members', 'aria-labelledby': 'members-title' },
			h('h3', { id: 'members-title' }, t('members.title'), ' ', this.count),
			this.list, this.status, h('div', { class: 'members-more' }, this.moreBtn));

		client.addEventListener('event', e => this.onEvent(e.detail), { signal });
	}

	/** Shows the first page of `room` ('#dev'). */
	show(room) {
		this.room = room;
		this.gen++;
		this.list.replaceChildren();
		this.more = false;
		this.last = null;
		this.total = 0;
		this.count.textContent = '';
		this.moreBtn.hidden = true;
		this.page();
	}

	hide() {
		this.room = null;
		this.gen++;
	}

	/** The next page (after the last name shown). */
	async page() {
		const gen = this.gen;
		const req = { op: 'members', room: this.room, limit: MEMBERS_PAGE };
		if (this.last)
			req.after = this.last;
		this.moreBtn.disabled = true;
		this.setStatus(t('members.loading'));
		try {
			const r = await this.client.request(req);
			if (gen !== this.gen)
				return;
			const list = Array.isArray(r.members) ? r.members : [];
			this.list.append(...list.map(m => this.row(m)));
			if (list.length)
				this.last = list[list.length - 1].user;
			this.more = !!r.more && list.length > 0;
			this.total = typeof r.total === 'number' ? r.total : this.list.childElementCount;
			this.setStatus('');
		} catch (err) {
			if (gen !== this.gen)
				return;
			this.setStatus(errorText(err.code, err.data), 'error');
		} finally {
			if (gen === this.gen) {
				this.moreBtn.disabled = false;
				this.renderMore();
			}
		}
	}

	renderMore() {
		const shown = this.list.childElementCount;
		this.count.textContent = String(Math.max(this.total, shown));
		this.moreBtn.hidden = !this.more;
		this.moreBtn.textContent = t('members.more', { n: Math.max(0, this.total - shown) });
		this.el.dataset.shown = String(shown);
	}

	setStatus(text, kind) {
		this.status.textContent = text;
		this.status.className = 'room-status' + (kind ? ' ' + kind : '');
	}

	row({ user, online, display }) {
		const me = lower(user) === this.store.meKey;
		const [name, login] = nameNodes(user, { cls: 'member-name', fallback: display });
		const dot = h('span', { class: 'member-dot' + (online ? ' on' : ''), 'aria-hidden': 'true' });
		const state = h('span', { class: 'sr-only member-state' }, online ? t('members.online') : t('members.offline'));
		return h('li', { dataset: { user: lower(user) } }, h('button', {
			type: 'button', class: 'member' + (me ? ' me' : ''), disabled: me,
			title: me ? user : t('users.chatWith', { name: user }),
			dataset: { user, online: online ? '1' : '0' },
			onclick: () => this.onPick(user),
		}, h('span', { class: 'presence-wrap' }, avatar(user, 'small'), dot),
		h('span', { class: 'member-names' }, name, login),
		state,
		me ? h('span', { class: 'you muted' }, t('users.you')) : null));
	}

	setOnline(user, online) {
		const li = this.find(user);
		if (!li)
			return;
		const b = li.firstElementChild;
		b.dataset.online = online ? '1' : '0';
		b.querySelector('.member-dot').classList.toggle('on', online);
		b.querySelector('.member-state').textContent = online ? t('members.online') : t('members.offline');
	}

	find(user) {
		return this.list.querySelector(`li[data-user="${CSS.escape(lower(user))}"]`);
	}

	onEvent(m) {
		if (!this.room)
			return;
		if (m.op === 'presence' && typeof m.user === 'string') {
			this.setOnline(m.user, !!m.online);
		} else if (m.op === 'member' && typeof m.user === 'string' && lower(m.room || '') === lower(this.room)) {
			const li = this.find(m.user);
			const key = lower(m.user);
			if (m.joined && !li) {
				this.total++;
				// in name order, when it falls within the pages shown (a later page brings it)
				if (!this.more || (this.last && key < lower(this.last))) {
					const next = [...this.list.children].find(x => x.dataset.user > key);
					this.list.insertBefore(this.row({ user: m.user, online: true, display: m.display }), next || null);
				}
			} else if (!m.joined) {
				this.total = Math.max(0, this.total - 1);
				li?.remove();
			}
			this.renderMore();
		}
	}
}
