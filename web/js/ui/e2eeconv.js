// e2eeconv.js - what a private chat shows of its end-to-end encryption, above its messages:
// the header's safety-number button (a lock, only when the chat is end-to-end encrypted:
// both users have devices), and the chat's notices from the device manager: "safety number
// changed", "a device not approved by bob was offered by the server", "a message could not
// be decrypted", each dismissable; and a removed device says so once.

import { t } from '../i18n.js';
import { h, icon } from './dom.js';

const TEXT = {
	changed: 'e2ee.safetyChanged',
	unsigned: 'e2ee.unsigned',
	failed: 'e2ee.failed',
	verifiedLost: 'e2ee.verifiedLost',
};

export class E2eeConv {
	constructor({ store, e2ee, signal, onSafety }) {
		this.store = store;
		this.e2ee = e2ee;
		this.button = h('button', {
			type: 'button', class: 'btn ghost small', id: 'safety-button', hidden: true, 'aria-haspopup': 'dialog',
			'aria-controls': 'safety-dialog', onclick: e => {
				const c = store.active();
				if (c && c.kind === 'private')
					onSafety(c.name, e.currentTarget);
			},
		}, icon('lock'), h('span', { class: 'label' }, t('e2ee.safetyButton')));
		this.el = h('div', { class: 'e2ee-notices', id: 'e2ee-notices', role: 'status', 'aria-live': 'polite', hidden: true });
		const render = () => this.render();
		store.addEventListener('active', render, { signal });
		e2ee.addEventListener('change', render, { signal });
		e2ee.addEventListener('state', render, { signal });
		store.addEventListener('active', e => {
			const key = e.detail.key;
			if (key && key[0] === '@')
				e2ee.lookup(key.slice(1));
		}, { signal });
		e2ee.addEventListener('state', () => {
			const key = store.activeKey;
			if (e2ee.state === 'active' && key && key[0] === '@')
				e2ee.lookup(key.slice(1));
		}, { signal });
	}

	render() {
		const c = this.store.active();
		const priv = !!c && c.kind === 'private';
		this.button.hidden = !priv || !this.e2ee.isE2ee(c.key);
		const notices = priv ? this.e2ee.noticesFor(c.key) : [];
		const rows = notices.filter(n => TEXT[n.kind]).map(n => h('div', { class: 'e2ee-notice ' + n.kind, dataset: { kind: n.kind } },
			icon(n.kind === 'failed' ? 'x' : 'lock'),
			h('p', null, t(TEXT[n.kind], { name: n.who || c.name })),
			n.kind === 'changed' || n.kind === 'verifiedLost'
				? h('button', { type: 'button', class: 'link-btn', onclick: () => this.button.click() }, t('e2ee.safetyButton'))
				: null,
			h('button', {
				type: 'button', class: 'icon-btn small', 'aria-label': t('e2ee.dismiss'), title: t('e2ee.dismiss'),
				onclick: () => this.e2ee.dismiss(c.key, n.kind),
			}, icon('x'))));
		this.el.replaceChildren(...rows);
		this.el.hidden = rows.length === 0;
	}
}
