// approval.js - approving a new device (docs/E2EE.md, "Approving a new device"): on the new
// browser, a bar above the chat and a screen that show its approval code while it waits for
// one of the user's devices to approve it (with a way out for a user who lost every other device: reset the identity,
// after a plain warning); on an existing device, the prompt for a pending device with the
// same code and Approve / Reject (and whether to send the earlier private messages). Both
// are modal <dialog>s: focus kept inside, labelled, every action a button.

import { errorText, t } from '../i18n.js';
import { h, icon } from './dom.js';
import { modal } from './modal.js';

const spaced = code => (code && code.length === 8 ? code.slice(0, 4) + ' ' + code.slice(4) : code || '');

/** The new device's screen: its code, "waiting for approval". */
export class NewDeviceDialog {
	constructor({ e2ee, signal }) {
		this.e2ee = e2ee;
		this.code = h('p', { class: 'approve-code', id: 'new-device-code', 'aria-describedby': 'new-device-hint' });
		this.status = h('p', { class: 'account-status', id: 'new-device-status', role: 'status', 'aria-live': 'polite' });
		this.resetConfirm = h('div', { class: 'account-confirm', id: 'new-device-reset', role: 'group', 'aria-labelledby': 'new-device-warning', hidden: true },
			h('p', { id: 'new-device-warning', class: 'reset-warning' }, t('reset.warning')),
			h('div', { class: 'account-actions' },
				h('button', { type: 'button', class: 'btn', id: 'new-device-reset-cancel', onclick: () => this.askReset(false) }, t('reset.cancel')),
				h('button', { type: 'button', class: 'btn danger solid', id: 'new-device-reset-yes', onclick: () => this.reset() }, t('reset.confirm'))));
		this.lostBtn = h('button', {
			type: 'button', class: 'link-btn', id: 'new-device-lost', 'aria-expanded': 'false', 'aria-controls': 'new-device-reset',
			onclick: () => this.askReset(true),
		}, t('approve.lost'));
		this.laterBtn = h('button', { type: 'button', class: 'btn', id: 'new-device-later', onclick: () => this.el.close() }, t('approve.later'));
		this.el = h('dialog', { class: 'account approve', id: 'new-device-dialog', 'aria-labelledby': 'new-device-title', 'aria-describedby': 'new-device-hint' },
			h('header', { class: 'account-head' },
				h('span', { class: 'title-icon private', 'aria-hidden': 'true' }, icon('key')),
				h('div', { class: 'account-titles' }, h('h2', { id: 'new-device-title' }, t('approve.newTitle')))),
			h('section', { class: 'account-section' },
				h('p', { class: 'muted', id: 'new-device-hint' }, t('approve.newHint')),
				h('p', { class: 'approve-label' }, t('approve.code')),
				this.code,
				h('p', { class: 'approve-wait' }, h('span', { class: 'spinner small', 'aria-hidden': 'true' }), t('approve.waiting')),
				this.status,
				h('div', { class: 'account-actions' }, this.lostBtn, this.laterBtn),
				this.resetConfirm));
		this.show = modal(this.el);
		// the app stays usable while the device waits (rooms are not end-to-end encrypted): a
		// bar above the chat says so and opens this screen
		this.bannerText = h('span', { id: 'new-device-banner-text' });
		this.banner = h('div', { class: 'e2ee-notice pending', id: 'new-device-banner', role: 'status', hidden: true },
			icon('key'), h('p', null, this.bannerText),
			h('button', { type: 'button', class: 'link-btn', id: 'new-device-open', 'aria-haspopup': 'dialog', 'aria-controls': 'new-device-dialog',
				onclick: e => this.open(e.currentTarget) }, t('approve.show')));
		e2ee.addEventListener('state', () => this.update(), { signal });
		queueMicrotask(() => this.update());        // once the shell has put it in the page
	}

	update() {
		if (!this.el.isConnected)
			return;
		const st = this.e2ee.state;
		this.banner.hidden = st !== 'pending';
		if (st === 'pending') {
			this.code.textContent = this.e2ee.approvalCode();
			this.code.dataset.code = (this.e2ee.code || '');
			this.bannerText.textContent = t('approve.banner', { code: this.e2ee.approvalCode() });
		} else if (this.el.open) {
			this.el.close();
		}
	}

	open(opener) {
		if (this.el.open || this.e2ee.state !== 'pending')
			return;
		this.status.textContent = '';
		this.askReset(false, true);
		this.show(opener);
		this.laterBtn.focus();
	}

	askReset(on, quiet) {
		this.resetConfirm.hidden = !on;
		this.lostBtn.setAttribute('aria-expanded', String(on));
		if (!quiet)
			(on ? this.resetConfirm.querySelector('#new-device-reset-cancel') : this.lostBtn).focus();
	}

	async reset() {
		this.status.textContent = t('devices.working');
		try {
			await this.e2ee.resetIdentity();
		} catch (err) {
			this.status.textContent = errorText(err.code, err.data);
		}
	}
}

/** On an existing device: a pending device asks to be approved. */
export class ApproveDialog {
	constructor({ e2ee, onToast, signal }) {
		this.e2ee = e2ee;
		this.onToast = onToast;
		this.device = null;
		this.hint = h('p', { class: 'muted', id: 'approve-hint' });
		this.code = h('p', { class: 'approve-code', id: 'approve-code' });
		this.history = h('input', { type: 'checkbox', id: 'approve-history', checked: true });
		this.status = h('p', { class: 'account-status', id: 'approve-status', role: 'status', 'aria-live': 'polite' });
		this.yes = h('button', { type: 'button', class: 'btn primary', id: 'approve-yes', onclick: () => this.approve() }, t('approve.approve'));
		this.no = h('button', { type: 'button', class: 'btn', id: 'approve-no', onclick: () => this.reject() }, t('approve.reject'));
		this.el = h('dialog', { class: 'account approve', id: 'approve-dialog', 'aria-labelledby': 'approve-title', 'aria-describedby': 'approve-hint' },
			h('header', { class: 'account-head' },
				h('span', { class: 'title-icon private', 'aria-hidden': 'true' }, icon('key')),
				h('div', { class: 'account-titles' }, h('h2', { id: 'approve-title' }, t('approve.askTitle')))),
			h('section', { class: 'account-section' },
				this.hint,
				h('p', { class: 'approve-label' }, t('approve.code')),
				this.code,
				h('label', { class: 'approve-check', for: 'approve-history' }, this.history, ' ', t('approve.history')),
				this.status,
				h('div', { class: 'account-actions' }, this.no, this.yes)));
		this.show = modal(this.el);
		this.el.addEventListener('close', () => {
			this.device = null;
		});
		// a bar above the chat says that a device waits; the prompt opens from it (a modal that
		// came by itself would take the keyboard from whatever the user was doing)
		this.bannerText = h('span', { id: 'approve-banner-text' });
		this.banner = h('div', { class: 'e2ee-notice pending', id: 'approve-banner', role: 'status', hidden: true },
			icon('key'), h('p', null, this.bannerText),
			h('button', { type: 'button', class: 'link-btn', id: 'approve-review', 'aria-haspopup': 'dialog', 'aria-controls': 'approve-dialog',
				onclick: () => {
					const d = this.first();
					if (d)
						this.open(d.id);
				} }, t('approve.review')));
		e2ee.addEventListener('pending', () => this.update(), { signal });
		e2ee.addEventListener('state', () => this.update(), { signal });
	}

	/** The first pending device not yet answered. */
	first() {
		return this.e2ee.state === 'active' ? this.e2ee.pendingDevices.find(x => !x.self && x.id !== this.e2ee.dev?.id) : null;
	}

	update() {
		const d = this.first();
		this.banner.hidden = !d;
		if (d)
			this.bannerText.textContent = t('approve.bannerAsk', { name: d.name || t('devices.unnamed') });
		if (this.el.open && this.device && !this.e2ee.pendingDevices.some(x => x.id === this.device.id))
			this.el.close();
	}

	open(id) {
		const d = this.e2ee.pendingDevices.find(x => x.id === id);
		if (!d)
			return;
		if (this.el.open)
			this.el.close();
		this.device = d;
		const name = d.name || t('devices.unnamed');
		this.hint.textContent = t('approve.askHint', { name });
		this.code.textContent = spaced(d.code);
		this.code.dataset.code = d.code;
		this.status.textContent = '';
		this.yes.disabled = this.no.disabled = false;
		this.show(document.activeElement);
		this.no.focus();        // the safe choice has the focus
	}

	async approve() {
		const d = this.device;
		if (!d)
			return;
		this.yes.disabled = this.no.disabled = true;
		this.status.textContent = t('devices.working');
		try {
			await this.e2ee.approve(d.id, this.history.checked);
			this.el.close();
			this.onToast?.(t('approve.done', { name: d.name || t('devices.unnamed') }));
		} catch (err) {
			this.status.textContent = errorText(err.code, err.data);
			this.yes.disabled = this.no.disabled = false;
		}
	}

	async reject() {
		const d = this.device;
		if (d)
			await this.e2ee.reject(d.id);
		this.el.close();
		this.onToast?.(t('approve.rejected'));
	}
}
