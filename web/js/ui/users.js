// users.js - who is online (display names with the login name under them); clicking a name
// opens the private chat with that user.

import { t } from '../i18n.js';
import { names as directory } from '../names.js';
import { unreadLabel } from '../readstate.js';
import { lower } from '../store.js';
import { avatar, h, icon } from './dom.js';
import { nameNodes } from './name.js';

export class UsersPanel {
	constructor({ store, onPick, onClose, signal }) {
		this.store = store;
		this.onPick = onPick;
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
			h('div', { class: 'users-scroll' }, this.list, this.more));
		store.addEventListener('users', () => this.render(), { signal });
		store.addEventListener('convs', () => this.render(), { signal });
		this.render();
	}

	render() {
		const s = this.store;
		const names = [...s.online.values()].sort((a, b) => {
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
		this.more.textContent = hiddenCount > 0 ? t('users.more', { n: hiddenCount })
			: others <= 0 ? t('users.none') : '';
		this.more.hidden = !this.more.textContent;
	}
}
