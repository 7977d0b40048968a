// sidebar.js - the conversations: rooms (with join/create and the list of all rooms) and
// private chats, each with its unread count; the user, notifications, the account dialog
// (ui/account.js) and log-out below. The join box takes `#room` (or `room`) and `@user`: a
// private chat with anyone, online or not (a name that is nobody's is refused).

import { isUserName } from '../command.js';
import { errorText, t } from '../i18n.js';
import { unreadLabel } from '../readstate.js';
import { lower } from '../store.js';
import { avatar, h, icon } from './dom.js';
import { nameLabel } from './name.js';

const ROOMS_PAGE = 100;   // rooms the "all rooms" list loads at a time

export class Sidebar {
	constructor({ store, client, e2ee, onPick, onNotify, onAccount, onLogout, signal }) {
		this.store = store;
		this.client = client;
		this.e2ee = e2ee;
		this.onPick = onPick;
		this.joinOpen = false;

		this.roomList = h('ul', { class: 'conv-list', id: 'room-list', 'aria-label': t('side.rooms') });
		this.privList = h('ul', { class: 'conv-list', id: 'private-list', 'aria-label': t('side.private') });
		this.privEmpty = h('p', { class: 'side-empty muted' }, t('side.noPrivate'));

		this.joinInput = h('input', {
			id: 'join-room', 'aria-label': t('side.join'), placeholder: t('side.joinPlaceholder'),
			autocomplete: 'off', autocapitalize: 'off', spellcheck: 'false', maxlength: 33,
			'aria-describedby': 'join-status',
		});
		this.joinStatus = h('p', { class: 'join-status', id: 'join-status', role: 'status' });
		this.allRooms = h('ul', { class: 'all-rooms', 'aria-label': t('side.browse') });
		this.joinForm = h('form', {
			class: 'join-form', hidden: true, id: 'join-form',
			onsubmit: e => {
				e.preventDefault();
				this.join(this.joinInput.value);
			},
		},
		h('div', { class: 'join-row' },
			this.joinInput,
			h('button', { class: 'btn small primary', type: 'submit', id: 'join-button' }, t('side.joinButton'))),
		this.joinStatus,
		h('p', { class: 'side-label' }, t('side.browse')),
		this.allRooms);

		this.joinToggle = h('button', {
			class: 'icon-btn', type: 'button', id: 'join-toggle', title: t('side.join'),
			'aria-label': t('side.join'), 'aria-expanded': 'false', 'aria-controls': 'join-form',
			onclick: () => this.toggleJoin(),
		}, icon('plus'));

		this.status = h('span', { class: 'conn-pill', id: 'conn-pill', role: 'status' });
		this.meBox = h('div', { class: 'me' });
		this.notifyBtn = h('button', {
			class: 'icon-btn', type: 'button', id: 'notify-button', onclick: () => onNotify(),
		}, icon('bell'));
		this.accountBtn = h('button', {
			class: 'icon-btn', type: 'button', id: 'account-button', title: t('menu.account'),
			'aria-label': t('menu.account'), 'aria-haspopup': 'dialog', 'aria-controls': 'account-dialog',
			onclick: e => onAccount(e.currentTarget),
		}, icon('key'));
		this.logoutBtn = h('button', {
			class: 'icon-btn', type: 'button', id: 'logout-button', title: t('menu.logout'),
			'aria-label': t('menu.logout'), onclick: () => onLogout(),
		}, icon('logout'));

		this.el = h('aside', { class: 'sidebar', id: 'sidebar', 'aria-label': t('side.conversations') },
			h('header', { class: 'side-head' },
				h('span', { class: 'brand' },
					h('span', { class: 'brand-mark small', 'aria-hidden': 'true' }, icon('send')),
					h('span', { class: 'brand-name' }, 'pier')),
				this.status),
			h('nav', { class: 'side-scroll' },
				h('div', { class: 'side-section' },
					h('div', { class: 'side-title' }, h('h2', null, t('side.rooms')), this.joinToggle),
					this.joinForm,
					this.roomList),
				h('div', { class: 'side-section' },
					h('div', { class: 'side-title' }, h('h2', null, t('side.private'))),
					this.privList,
					this.privEmpty)),
			h('footer', { class: 'side-foot' }, this.meBox, this.notifyBtn, this.accountBtn, this.logoutBtn));

		store.addEventListener('convs', () => this.render(), { signal });
		store.addEventListener('users', () => this.render(), { signal });
		e2ee?.addEventListener('change', () => this.render(), { signal });
		client.addEventListener('state', e => this.renderState(e.detail), { signal });
		this.renderState({ state: client.state });
		this.render();
		this.renderNotify();
	}

	renderState({ state }) {
		if (state === 'connecting' && this.client.retrying)
			state = 'offline';          // fast retries: no flicker (see main.js)
		const s = state === 'online' ? 'online' : state === 'offline' || state === 'idle' ? 'offline' : 'connecting';
		this.status.className = 'conn-pill ' + s;
		this.status.dataset.state = state;
		this.status.replaceChildren(h('span', { class: 'dot', 'aria-hidden': 'true' }),
			state === 'online' ? t('conn.online') : state === 'syncing' ? t('conn.syncing')
				: state === 'connecting' ? t('conn.connecting') : t('conn.pillOffline'));
	}

	renderNotify() {
		const supported = 'Notification' in window;
		this.notifyBtn.hidden = !supported;
		if (!supported)
			return;
		const p = Notification.permission;
		const label = p === 'granted' ? t('menu.notifyOn') : p === 'denied' ? t('menu.notifyDenied') : t('menu.notify');
		this.notifyBtn.title = label;
		this.notifyBtn.setAttribute('aria-label', label);
		this.notifyBtn.classList.toggle('on', p === 'granted');
		this.notifyBtn.setAttribute('aria-pressed', p === 'granted' ? 'true' : 'false');
	}

	render() {
		const { rooms, priv } = this.store.list();
		const active = this.store.activeKey;
		this.roomList.replaceChildren(...rooms.map(c => this.item(c, active)));
		this.privList.replaceChildren(...priv.map(c => this.item(c, active)));
		this.privEmpty.hidden = priv.length > 0;
		const me = this.store.me || '';
		const meName = nameLabel(me, { cls: 'me-name' });
		meName.title = t('side.me', { name: me });
		this.meBox.replaceChildren(avatar(me, 'small'), meName);
	}

	item(c, active) {
		const online = c.kind === 'private' && this.store.online.has(lower(c.name));
		const badge = c.unread > 0
			? h('span', { class: 'badge', 'aria-label': c.unread >= 1000 ? t('side.unreadMany') : t('side.unread', { n: c.unread }) },
				unreadLabel(c.unread))
			: null;
		// unread messages that mention the user count apart: an @ badge before the count
		const mentions = c.mentions > 0
			? h('span', { class: 'badge mention', 'aria-label': t('side.mentions', { n: c.mentions }), title: t('msg.mentionsYou') },
				'@' + (c.mentions > 1 ? (c.mentions > 99 ? '99+' : String(c.mentions)) : ''))
			: null;
		const lead = c.kind === 'room'
			? h('span', { class: 'conv-icon room', 'aria-hidden': 'true' }, icon('hash'))
			: h('span', { class: 'conv-icon person' + (online ? ' online' : '') }, avatar(c.name, 'tiny'));
		return h('li', null, h('button', {
			type: 'button',
			class: 'conv ' + c.kind + (c.unread ? ' unread' : ''),
			'aria-current': c.key === active ? 'page' : false,
			dataset: { key: c.key },
			onclick: () => this.onPick(c.key),
		}, lead,
		c.kind === 'room' ? h('bdi', { class: 'conv-name' }, c.name.slice(1)) : nameLabel(c.name, { cls: 'conv-name' }),
		// the lock only on chats that are end-to-end encrypted (both users have devices)
		c.kind === 'private' && this.e2ee?.isE2ee(c.key)
			? h('span', { class: 'conv-lock', title: t('e2ee.lock') }, icon('lock'), h('span', { class: 'sr-only' }, t('e2ee.lock')))
			: null,
		mentions, badge));
	}

	toggleJoin(force) {
		this.joinOpen = force ?? !this.joinOpen;
		this.joinForm.hidden = !this.joinOpen;
		this.joinToggle.setAttribute('aria-expanded', String(this.joinOpen));
		this.joinToggle.classList.toggle('active', this.joinOpen);
		if (this.joinOpen) {
			this.joinStatus.textContent = '';
			this.joinInput.focus();
			this.loadRooms();
		}
	}

	/** The list of all rooms, a page at a time: the first page, then a "more" button that
	 * appends the next one (after the last room shown). */
	async loadRooms(after) {
		try {
			const page = await this.client.rooms({ after, limit: ROOMS_PAGE });
			const last = page.rooms.length ? page.rooms[page.rooms.length - 1].room : null;
			const items = page.rooms.filter(r => !r.joined).map(r => h('li', null, h('button', {
				type: 'button', class: 'room-pick', onclick: () => this.join(r.room),
			}, h('bdi', { class: 'room-pick-name' }, r.room),
			h('span', { class: 'muted' }, r.members === 1 ? t('side.member1') : t('side.members', { n: r.members })))));
			if (page.more && last)
				items.push(h('li', { class: 'rooms-more' }, h('button', {
					type: 'button', class: 'link-btn', id: 'rooms-more',
					onclick: (e) => { e.currentTarget.closest('li').remove(); this.loadRooms(last); },
				}, t('side.moreRooms', { n: page.total }))));
			if (after)
				this.allRooms.append(...items);
			else
				this.allRooms.replaceChildren(...(items.length ? items
					: [h('li', { class: 'muted side-empty' }, t('side.browseEmpty'))]));
		} catch (err) {
			this.allRooms.replaceChildren(h('li', { class: 'muted side-empty' }, errorText(err.code)));
		}
	}

	async join(raw) {
		let room = String(raw || '').trim();
		if (!room)
			return;
		if (room[0] === '@')
			return this.openPrivate(room.slice(1));
		if (room[0] !== '#')
			room = '#' + room;
		this.joinStatus.textContent = '';
		this.joinStatus.className = 'join-status';
		try {
			const r = await this.client.join(room);
			this.joinInput.value = '';
			this.toggleJoin(false);
			this.onPick(lower(r.room), { toast: t(r.created ? 'side.created' : 'side.joined', { room: r.room }) });
		} catch (err) {
			this.joinStatus.textContent = errorText(err.code, err.data);
			this.joinStatus.className = 'join-status error';
		}
	}

	joinError(text) {
		this.joinStatus.textContent = text;
		this.joinStatus.className = 'join-status error';
		this.joinInput.focus();
	}

	/** `@name` in the join box: the private chat with that user, who may be offline. */
	async openPrivate(name) {
		const store = this.store;
		this.joinStatus.textContent = '';
		this.joinStatus.className = 'join-status';
		if (!isUserName(name))
			return this.joinError(t('side.badUser'));
		if (lower(name) === store.meKey)
			return this.joinError(t('side.self'));
		const key = '@' + lower(name);
		const conv = store.convs.get(key);
		if (!store.online.has(lower(name)) && !(conv && conv.messages.length)) {
			const exists = await this.client.checkUser(name);
			if (exists === 'no')
				return this.joinError(t('side.noUser', { name }));
			if (exists !== 'yes')
				return this.joinError(errorText(this.client.state === 'online' ? 'timeout' : 'offline'));
		}
		store.ensure(key, store.online.get(lower(name)) || conv?.name || name);
		this.joinInput.value = '';
		this.toggleJoin(false);
		this.onPick(key);
	}
}
