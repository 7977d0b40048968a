// users.js - who is online (display names with the login name under them); clicking a name
// opens the private chat with that user. Presence keeps only the user's contacts live (the
// server sends no one else's); everyone online is a snapshot, asked for with paged users
// requests when the panel is opened or its refresh button pressed (bounded: at most
// EVERYONE_PAGES pages, not more often than every REFRESH_MIN_MS).

import { t } from '../i18n.js';
import { names as directory } from '../names.js';
import { unreadLabel } from '../readstate.js';
import { lower } from '../store.js';
import { avatar, h, icon } from './dom.js';
import { nameNodes } from './name.js';

const PAGE = 1000;               // the server's most per page
const EVERYONE_PAGES = 5;        // at most 5000 names listed; past them "N more online"
const REFRESH_MIN_MS = 3000;

export class UsersPanel {
	constructor({ store, client, onPick, onClose, signal }) {
		this.store = store;
		this.client = client;
		this.onPick = onPick;
		this.fetching = false;
		this.fetchedAt = 0;
		this.refreshBtn = h('button', {
			class: 'link-btn users-refresh', id: 'users-refresh', type: 'button',
			onclick: () => this.refresh({ force: true }),
		}, t('users.showAll'));
		this.count = h('span', { class: 'count', id: 'online-count' });
		this.list = h('ul', { class: 'user-list', id: 'user-list', 'aria-label': t('users.title') });
		this.more = h('p', { class: 'muted side-empty' });
		this.el = h('aside', { class: 'users', id: 'users', 'aria-label': t('conv.people') },
			h('header', { class: 'users-head' },
				h('h2', null, t('users.title'), ' ', this.count),
				h('button', {
					class: 'icon-btn drawer-close', type: 'button', 'aria-label': t('media.close'),
					onclick: () => onClose(),
				}, icon('x'))),
			h('div', { class: 'users-scroll' }, this.list, this.more, h('p', { class: 'users-actions' }, this.refreshBtn)));
		store.addEventListener('users', () => this.render(), { signal });
		store.addEventListener('convs', () => this.render(), { signal });
		this.render();
	}

	/**
	 * Asks for everyone online (paged users requests) and keeps it as the store's snapshot.
	 * Without `force`, not again within REFRESH_MIN_MS (the panel reopened).
	 */
	async refresh({ force = false } = {}) {
		if (this.fetching || !this.client || this.client.state !== 'online')
			return;
		if (!force && Date.now() - this.fetchedAt < REFRESH_MIN_MS)
			return;
		this.fetching = true;
		this.render();
		try {
			const all = [];
			let after = null, total = 0, more = true;
			for (let page = 0; page < EVERYONE_PAGES && more; page++) {
				const r = await this.client.request({ op: 'users', limit: PAGE, ...(after ? { after } : {}) });
				directory.fromServer(r);      // their display names
				const online = Array.isArray(r.online) ? r.online : [];
				all.push(...online);
				total = r.total ?? all.length;
				more = !!r.more && online.length > 0;
				after = online[online.length - 1];
			}
			this.fetchedAt = Date.now();
			this.store.setEveryone(all, total);
		} catch {
			// offline or timed out: the button stays to try again
		} finally {
			this.fetching = false;
			this.render();
		}
	}

	render() {
		const s = this.store;
		const shown = new Map(s.online);
		for (const [k, n] of s.everyone || [])
			shown.set(k, n);
		const names = [...shown.values()].sort((a, b) => {
			if (lower(a) === s.meKey)
				return -1;
			if (lower(b) === s.meKey)
				return 1;
			return directory.label(a).localeCompare(directory.label(b), undefined, { sensitivity: 'base' });
		});
		this.count.textContent = String(Math.max(s.onlineTotal, names.length));
		const activeKey = s.activeKey;
		this.list.replaceChildren(...names.map(n => {
			const me = lower(n) === s.meKey;
			const conv = s.convs.get('@' + lower(n));
			const unread = conv && conv.unread ? h('span', { class: 'badge' }, unreadLabel(conv.unread)) : null;
			return h('li', null, h('button', {
				type: 'button', class: 'user' + (me ? ' me' : ''), disabled: me,
				title: me ? n : t('users.chatWith', { name: n }),
				'aria-current': activeKey === '@' + lower(n) ? 'page' : false,
				dataset: { user: n },
				onclick: () => this.onPick(n),
			}, h('span', { class: 'presence-wrap' }, avatar(n, 'small'), h('span', { class: 'presence', 'aria-hidden': 'true' })),
			h('span', { class: 'user-names' }, nameNodes(n, { cls: 'user-name' })),
			me ? h('span', { class: 'you muted' }, t('users.you')) : unread));
		}));
		const others = names.length - (s.me && s.online.has(s.meKey) ? 1 : 0);
		const hiddenCount = s.onlineTotal - names.length;
		this.more.textContent = hiddenCount > 0 ? t(s.everyone ? 'users.notListed' : 'users.more', { n: hiddenCount })
			: others <= 0 ? t('users.none') : '';
		this.more.hidden = !this.more.textContent;
		this.list.dataset.everyone = s.everyone ? 'shown' : 'contacts';
		this.refreshBtn.disabled = this.fetching;
		this.refreshBtn.textContent = this.fetching ? t('users.loading')
			: s.everyone ? t('users.refresh') : t('users.showAll');
	}
}
