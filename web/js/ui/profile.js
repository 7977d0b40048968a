// profile.js - the display name, a section of the account dialog (docs/PROTOCOL.md, profile):
// set it (王小明), change it or remove it. The server checks it (letters, marks, digits, single
// spaces, one script, not like someone's login name...) and a refusal is said with its reason,
// translated; one change per 10 s (rate_limited says when to try again).

import { errorText, t } from '../i18n.js';
import { names } from '../names.js';
import { h } from './dom.js';

export const DISPLAY_MAX = 32;      // code points, as the server counts

export class ProfileSection {
	constructor({ store, client }) {
		this.store = store;
		this.client = client;
		this.busy = false;
		this.input = h('input', {
			id: 'profile-display', type: 'text', autocomplete: 'nickname', dir: 'auto',
			'aria-describedby': 'profile-status profile-hint', maxlength: 512,
		});
		this.status = h('p', { class: 'account-status', id: 'profile-status', role: 'status', 'aria-live': 'polite' });
		this.saveBtn = h('button', { type: 'submit', class: 'btn primary', id: 'profile-save' }, t('profile.save'));
		this.removeBtn = h('button', { type: 'button', class: 'btn', id: 'profile-remove', onclick: () => this.save('') },
			t('profile.remove'));
		this.form = h('form', {
			class: 'account-form', id: 'profile-form', novalidate: true,
			onsubmit: e => {
				e.preventDefault();
				this.save(this.input.value.trim());
			},
		}, h('label', { for: 'profile-display' }, t('profile.label')), this.input, this.status,
		h('div', { class: 'account-actions' }, this.removeBtn, this.saveBtn));
		this.hint = h('p', { class: 'muted', id: 'profile-hint' });
		this.el = h('section', { class: 'account-section', id: 'profile-section', 'aria-labelledby': 'profile-title' },
			h('h3', { id: 'profile-title' }, t('profile.title')), this.hint, this.form);
	}

	/** The dialog opens: the name as it is now. */
	reset() {
		const me = this.store.me || '';
		const shown = names.display(me);
		this.input.value = shown;
		this.input.removeAttribute('aria-invalid');
		this.hint.textContent = t('profile.hint', { user: me, n: DISPLAY_MAX });
		this.removeBtn.hidden = !shown;
		this.show('');
	}

	show(text, kind) {
		this.status.textContent = text;
		this.status.className = 'account-status' + (kind ? ' ' + kind : '');
		this.status.dataset.kind = kind || '';
	}

	async save(display) {
		if (this.busy)
			return;
		this.busy = true;
		this.saveBtn.disabled = this.removeBtn.disabled = true;
		this.input.removeAttribute('aria-invalid');
		this.show(t('account.working'), 'info');
		delete this.status.dataset.error;
		try {
			const r = await this.client.request({ op: 'profile', display: display || null });
			names.learn(r.user || this.store.me, r.display);
			this.input.value = r.display || '';
			this.removeBtn.hidden = !r.display;
			this.show(r.display ? t('profile.saved', { name: r.display }) : t('profile.removed'), 'ok');
		} catch (err) {
			this.input.setAttribute('aria-invalid', 'true');
			this.show(errorText(err.code, err.data), 'error');
			this.status.dataset.error = err.code || '';
			this.input.focus();
		} finally {
			this.busy = false;
			this.saveBtn.disabled = this.removeBtn.disabled = false;
		}
	}
}
