// safety.js - the safety-number screen of a private chat (docs/E2EE.md, "Safety numbers"):
// the 60 digits in 12 groups of 5 that both people's clients show alike, to compare in
// person, and the "verified" mark (cleared by the client when the contact's identity
// changes). A modal <dialog> like the account dialog (ui/modal.js: focus kept inside,
// Escape and the backdrop close it, the focus goes back to the opener).

import { t } from '../i18n.js';
import { h, icon } from './dom.js';
import { modal } from './modal.js';

export class SafetyDialog {
	constructor({ e2ee, signal }) {
		this.e2ee = e2ee;
		this.user = null;
		this.titleEl = h('h2', { id: 'safety-title' });
		this.hint = h('p', { class: 'muted', id: 'safety-hint' });
		this.digits = h('div', { class: 'safety-digits', id: 'safety-digits', role: 'group', 'aria-label': t('safety.digits') });
		this.status = h('p', { class: 'safety-status', id: 'safety-status', role: 'status', 'aria-live': 'polite' });
		this.verifyBtn = h('button', { type: 'button', class: 'btn primary', id: 'safety-verify', onclick: () => this.toggle() });
		this.closeBtn = h('button', {
			type: 'button', class: 'icon-btn', id: 'safety-close', 'aria-label': t('safety.close'), title: t('safety.close'),
			onclick: () => this.el.close(),
		}, icon('x'));
		this.el = h('dialog', { class: 'account safety', id: 'safety-dialog', 'aria-labelledby': 'safety-title', 'aria-describedby': 'safety-hint' },
			h('header', { class: 'account-head' },
				h('span', { class: 'title-icon private', 'aria-hidden': 'true' }, icon('lock')),
				h('div', { class: 'account-titles' }, this.titleEl),
				this.closeBtn),
			h('section', { class: 'account-section' }, this.hint, this.digits, this.status,
				h('div', { class: 'account-actions' }, this.verifyBtn)));
		this.show = modal(this.el);
		e2ee.addEventListener('change', () => {
			if (this.el.open)
				this.render();
		}, { signal });
	}

	/** Opens the screen for the private chat with `user`. */
	open(user, opener) {
		this.user = user;
		this.render();
		this.show(opener);
		this.closeBtn.focus();
	}

	render() {
		const name = this.user;
		this.titleEl.textContent = t('safety.title', { name });
		const num = this.e2ee.safetyNumber(name);
		if (!num) {
			this.hint.textContent = t('safety.none', { name });
			this.digits.replaceChildren();
			this.digits.hidden = true;
			this.status.textContent = '';
			this.verifyBtn.hidden = true;
			return;
		}
		this.hint.textContent = t('safety.hint', { name });
		this.digits.hidden = false;
		const groups = num.match(/\d{5}/g) || [];
		this.digits.dataset.number = num;
		this.digits.replaceChildren(...groups.map(g => h('span', { class: 'safety-group' }, g)));
		const verified = this.e2ee.isVerified(name);
		this.status.textContent = verified ? t('safety.verified', { name }) : t('safety.notVerified', { name });
		this.status.className = 'safety-status' + (verified ? ' ok' : '');
		this.status.dataset.verified = String(verified);
		this.verifyBtn.hidden = false;
		this.verifyBtn.textContent = verified ? t('safety.unverify') : t('safety.verify');
		this.verifyBtn.className = 'btn' + (verified ? '' : ' primary');
		this.verifyBtn.setAttribute('aria-pressed', String(verified));
	}

	async toggle() {
		await this.e2ee.setVerified(this.user, !this.e2ee.isVerified(this.user));
		this.render();
		this.verifyBtn.focus();
	}
}
