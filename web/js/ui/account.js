// account.js - the account dialog, opened from the sidebar's footer: the display name
// (ui/profile.js, given as a section), change the password (the
// current one, the new one twice; a mismatch or a too short one is caught here before it is
// sent) and log out everywhere (after a confirmation). A modal <dialog>: the rest of the page
// is inert, Tab and Shift+Tab go round inside it, Escape closes it, and the focus goes back to
// the button that opened it.

import { errorText, t } from '../i18n.js';
import { avatar, h, icon } from './dom.js';

const PASSWORD_MIN = 6;          // bytes, as the server counts (docs/PROTOCOL.md)
const PASSWORD_MAX = 1024;

const FOCUSABLE = 'button, input, select, textarea, a[href], [tabindex]:not([tabindex="-1"])';

const bytes = s => new TextEncoder().encode(s).length;

export class AccountPanel {
	/** `sections`: more parts of the dialog ({el, reset()}: ui/profile.js), shown first. */
	constructor({ store, client, sections = [] }) {
		this.store = store;
		this.client = client;
		this.sections = sections;
		this.opener = null;
		this.busy = false;

		// ---- change the password ----
		const field = (id, label, autocomplete) => {
			const input = h('input', {
				id, type: 'password', autocomplete, required: true, maxlength: PASSWORD_MAX,
				'aria-describedby': 'account-pw-status',
			});
			return [h('label', { for: id }, label), input];
		};
		const [curLabel, cur] = field('account-current', t('account.current'), 'current-password');
		const [newLabel, next] = field('account-new', t('account.new'), 'new-password');
		const [againLabel, again] = field('account-again', t('account.again'), 'new-password');
		Object.assign(this, { cur, next, again });
		// for password managers: whose password this is
		this.userField = h('input', { type: 'text', autocomplete: 'username', hidden: true, readonly: true, tabindex: -1 });
		this.pwStatus = h('p', { class: 'account-status', id: 'account-pw-status', role: 'status', 'aria-live': 'polite' });
		this.pwButton = h('button', { type: 'submit', class: 'btn primary', id: 'account-pw-button' }, t('account.change'));
		this.pwForm = h('form', {
			class: 'account-form', id: 'account-pw-form', novalidate: true,
			onsubmit: e => {
				e.preventDefault();
				this.changePassword();
			},
		}, this.userField, curLabel, cur, newLabel, next, againLabel, again, this.pwStatus,
		h('div', { class: 'account-actions' }, this.pwButton));

		// ---- log out everywhere ----
		this.allButton = h('button', {
			type: 'button', class: 'btn danger', id: 'logout-all-button', 'aria-expanded': 'false',
			'aria-controls': 'logout-all-confirm', onclick: () => this.askAll(true),
		}, icon('logout'), t('account.everywhere'));
		this.allNo = h('button', { type: 'button', class: 'btn', id: 'logout-all-cancel', onclick: () => this.askAll(false) },
			t('account.cancel'));
		this.allYes = h('button', { type: 'button', class: 'btn danger solid', id: 'logout-all-yes', onclick: () => this.logoutAll() },
			t('account.everywhereYes'));
		this.allStatus = h('p', { class: 'account-status', id: 'logout-all-status', role: 'status', 'aria-live': 'polite' });
		this.allConfirm = h('div', {
			class: 'account-confirm', id: 'logout-all-confirm', role: 'group', 'aria-labelledby': 'logout-all-ask', hidden: true,
		}, h('p', { id: 'logout-all-ask' }, t('account.everywhereAsk')),
		h('div', { class: 'account-actions' }, this.allNo, this.allYes));

		// ---- the dialog ----
		this.who = h('p', { class: 'muted account-user', id: 'account-user' });
		this.face = h('span', { class: 'account-face' });
		this.closeBtn = h('button', {
			type: 'button', class: 'icon-btn', id: 'account-close', 'aria-label': t('account.close'),
			title: t('account.close'), onclick: () => this.close(),
		}, icon('x'));
		this.el = h('dialog', { class: 'account', id: 'account-dialog', 'aria-labelledby': 'account-title', 'aria-describedby': 'account-user' },
			h('header', { class: 'account-head' },
				this.face,
				h('div', { class: 'account-titles' }, h('h2', { id: 'account-title' }, t('account.title')), this.who),
				this.closeBtn),
			sections.map(x => x.el),
			h('section', { class: 'account-section', 'aria-labelledby': 'account-pw-title' },
				h('h3', { id: 'account-pw-title' }, t('account.password')),
				h('p', { class: 'muted' }, t('account.passwordHint')),
				this.pwForm),
			h('section', { class: 'account-section', 'aria-labelledby': 'account-all-title' },
				h('h3', { id: 'account-all-title' }, t('account.everywhere')),
				h('p', { class: 'muted' }, t('account.everywhereHint')),
				h('div', { class: 'account-actions start' }, this.allButton),
				this.allConfirm,
				this.allStatus));

		this.el.addEventListener('keydown', e => this.trapTab(e));
		this.el.addEventListener('close', () => this.closed());
		// a click on the backdrop (outside the box) closes, as Escape does
		this.el.addEventListener('click', e => {
			if (e.target === this.el && !inside(this.el.getBoundingClientRect(), e))
				this.close();
		});
	}

	get isOpen() {
		return this.el.open;
	}

	/** Opens the dialog; the focus comes back to `opener` (or what had it) when it closes. */
	open(opener) {
		if (this.el.open)
			return;
		this.opener = opener || document.activeElement;
		const me = this.store.me || '';
		const [before, after] = t('side.me', { name: '\u0000' }).split('\u0000');
		this.who.replaceChildren(before, h('bdi', { class: 'account-name' }, me), after || '');
		this.face.replaceChildren(avatar(me));
		this.userField.value = me;
		if (!this.busy)
			this.reset();
		for (const x of this.sections)
			x.reset();
		this.el.showModal();
		(this.sections.length ? this.sections[0].input : this.cur).focus();
	}

	close() {
		if (this.el.open)
			this.el.close();
	}

	/** When the shell goes (logged out): closed, without giving the focus back. */
	destroy() {
		this.opener = null;
		this.close();
	}

	closed() {
		this.askAll(false, true);
		for (const f of [this.cur, this.next, this.again])
			f.value = '';
		const o = this.opener;
		this.opener = null;
		if (o && o.isConnected)
			o.focus();
	}

	reset() {
		for (const f of [this.cur, this.next, this.again]) {
			f.value = '';
			f.removeAttribute('aria-invalid');
		}
		this.show(this.pwStatus, '');
		this.show(this.allStatus, '');
		this.askAll(false, true);
	}

	/** Tab and Shift+Tab go round the dialog's controls. */
	trapTab(e) {
		if (e.key !== 'Tab')
			return;
		const els = [...this.el.querySelectorAll(FOCUSABLE)]
			.filter(x => !x.disabled && x.tabIndex >= 0 && x.getClientRects().length > 0);
		if (!els.length)
			return;
		const first = els[0];
		const last = els[els.length - 1];
		if (e.shiftKey && (document.activeElement === first || !this.el.contains(document.activeElement))) {
			e.preventDefault();
			last.focus();
		} else if (!e.shiftKey && (document.activeElement === last || !this.el.contains(document.activeElement))) {
			e.preventDefault();
			first.focus();
		}
	}

	show(el, text, kind) {
		el.textContent = text;
		el.className = 'account-status' + (kind ? ' ' + kind : '');
		el.dataset.kind = kind || '';
	}

	/** A field's problem: said, marked and focused. */
	invalid(field, text) {
		field.setAttribute('aria-invalid', 'true');
		this.show(this.pwStatus, text, 'error');
		field.focus();
		field.select();
	}

	async changePassword() {
		if (this.busy)
			return;
		const { cur, next, again } = this;
		for (const f of [cur, next, again])
			f.removeAttribute('aria-invalid');
		const empty = [cur, next, again].find(f => !f.value);
		if (empty)
			return this.invalid(empty, t('account.required'));
		if (bytes(next.value) < PASSWORD_MIN)
			return this.invalid(next, errorText('too_short'));
		if (bytes(next.value) > PASSWORD_MAX)
			return this.invalid(next, errorText('bad_password'));
		if (next.value !== again.value)
			return this.invalid(again, t('account.mismatch'));

		this.setBusy(true);
		this.show(this.pwStatus, t('account.working'), 'info');
		try {
			const r = await this.client.changePassword(cur.value, next.value);
			const n = Number(r.revoked) || 0;
			for (const f of [cur, next, again])
				f.value = '';
			this.show(this.pwStatus, n === 0 ? t('account.changed0') : n === 1 ? t('account.changed1')
				: t('account.changedN', { n }), 'ok');
			this.pwStatus.dataset.revoked = String(n);
		} catch (err) {
			if (err.code === 'wrong_password')
				this.invalid(cur, errorText(err.code));
			else if (err.code === 'too_short' || err.code === 'bad_password')
				this.invalid(next, errorText(err.code));
			else
				this.show(this.pwStatus, errorText(err.code, err.data), 'error');
			this.pwStatus.dataset.error = err.code || '';
		} finally {
			this.setBusy(false);
		}
	}

	setBusy(busy) {
		this.busy = busy;
		this.pwForm.classList.toggle('busy', busy);
		this.pwForm.setAttribute('aria-busy', String(busy));
		this.pwButton.disabled = this.allButton.disabled = this.allYes.disabled = busy;
	}

	/** Shows (or hides) the "are you sure?" for logging out everywhere. */
	askAll(ask, quiet) {
		this.allConfirm.hidden = !ask;
		this.allButton.hidden = ask;
		this.allButton.setAttribute('aria-expanded', String(ask));
		if (quiet)
			return;
		if (ask) {
			this.show(this.allStatus, '');
			this.allNo.focus();
		} else {
			this.allButton.focus();
		}
	}

	async logoutAll() {
		if (this.busy)
			return;
		this.setBusy(true);
		this.show(this.allStatus, t('account.working'), 'info');
		try {
			await this.client.logoutAll();
			// the login screen replaces the app (and this dialog)
		} catch (err) {
			this.show(this.allStatus, errorText(err.code, err.data), 'error');
			this.allStatus.dataset.error = err.code || '';
			this.setBusy(false);
			this.askAll(false);
		}
	}
}

function inside(r, e) {
	return e.clientX >= r.left && e.clientX <= r.right && e.clientY >= r.top && e.clientY <= r.bottom;
}
