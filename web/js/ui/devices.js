// devices.js - the user's devices, a section of the account dialog (docs/E2EE.md): each
// device with its name, when it was added, "this device" and "waiting for approval"; rename
// (a new signed list carries the name) and remove (after a confirmation); and resetting the
// identity, for a user who lost every other device, behind a plain warning.

import { errorText, locale, t } from '../i18n.js';
import { h, icon } from './dom.js';

const NAME_MAX = 64;        // bytes, as the list's codec allows
const dateFmt = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' });

const bytes = s => new TextEncoder().encode(s).length;

export class DevicesSection {
	constructor({ e2ee, onApprove, signal }) {
		this.e2ee = e2ee;
		this.onApprove = onApprove;
		this.editing = null;
		this.asking = null;
		this.list = h('ul', { class: 'device-list', id: 'device-list', 'aria-labelledby': 'devices-title' });
		this.status = h('p', { class: 'account-status', id: 'devices-status', role: 'status', 'aria-live': 'polite' });
		this.resetBtn = h('button', {
			type: 'button', class: 'btn danger', id: 'reset-button', 'aria-expanded': 'false', 'aria-controls': 'reset-confirm',
			onclick: () => this.askReset(true),
		}, t('reset.button'));
		this.resetConfirm = h('div', { class: 'account-confirm', id: 'reset-confirm', role: 'group', 'aria-labelledby': 'reset-warning', hidden: true },
			h('p', { id: 'reset-warning', class: 'reset-warning' }, t('reset.warning')),
			h('div', { class: 'account-actions' },
				h('button', { type: 'button', class: 'btn', id: 'reset-cancel', onclick: () => this.askReset(false) }, t('reset.cancel')),
				h('button', { type: 'button', class: 'btn danger solid', id: 'reset-yes', onclick: () => this.resetIdentity() }, t('reset.confirm'))));
		this.resetPart = h('div', { class: 'reset-part', id: 'reset-part' },
			h('h4', null, t('reset.title')), h('p', { class: 'muted' }, t('reset.hint')),
			h('div', { class: 'account-actions start' }, this.resetBtn), this.resetConfirm);
		this.el = h('section', { class: 'account-section', id: 'devices-section', 'aria-labelledby': 'devices-title' },
			h('h3', { id: 'devices-title' }, t('devices.title')),
			h('p', { class: 'muted' }, t('devices.hint')),
			this.list, this.status, this.resetPart);
		this.input = null;
		for (const ev of ['devices', 'state', 'pending'])
			e2ee.addEventListener(ev, () => this.render(), { signal });
	}

	/** The dialog opens: the list as it is now (and asked again). */
	reset() {
		this.editing = null;
		this.asking = null;
		this.show('');
		this.askReset(false, true);
		this.render();
		if (this.e2ee.state === 'active')
			this.e2ee.checkPending();
	}

	show(text, kind) {
		this.status.textContent = text;
		this.status.className = 'account-status' + (kind ? ' ' + kind : '');
		this.status.dataset.kind = kind || '';
	}

	render() {
		const devs = this.e2ee.deviceList();
		this.el.hidden = this.e2ee.state === 'off' && !devs.length;
		if (!devs.length) {
			this.list.replaceChildren(h('li', { class: 'muted' }, t('devices.none')));
			return;
		}
		const active = this.e2ee.state === 'active';
		this.list.replaceChildren(...devs.map(d => this.row(d, active)));
		// a reset is for a browser that cannot be approved: one waiting, or on its own
		this.resetPart.hidden = !(this.e2ee.state === 'pending' || this.e2ee.state === 'active');
	}

	row(d, active) {
		const name = d.name || t('devices.unnamed');
		const meta = [t('devices.created', { when: dateFmt.format(new Date(Number(d.created) || 0)) })];
		const tags = [];
		if (d.self)
			tags.push(h('span', { class: 'device-tag self' }, t('devices.this')));
		if (d.state === 'pending')
			tags.push(h('span', { class: 'device-tag pending' }, t('devices.pending')));
		const li = h('li', { class: 'device', dataset: { id: d.id, state: d.state, self: String(!!d.self) } });
		if (this.editing === d.id) {
			this.input = h('input', {
				type: 'text', id: 'device-name-input', value: d.name || '', maxlength: NAME_MAX, dir: 'auto',
				'aria-label': t('devices.renameLabel', { name }),
			});
			li.append(h('form', {
				class: 'device-rename', onsubmit: e => {
					e.preventDefault();
					this.rename(d.id, this.input.value.trim());
				},
			}, this.input,
			h('button', { type: 'submit', class: 'btn small primary', id: 'device-name-save' }, t('devices.save')),
			h('button', { type: 'button', class: 'btn small', onclick: () => this.edit(null) }, t('devices.cancel'))));
			queueMicrotask(() => this.input.focus());
			return li;
		}
		const actions = [];
		if (active && d.state === 'active') {
			actions.push(h('button', {
				type: 'button', class: 'btn small device-rename-btn', 'aria-label': t('devices.rename') + ': ' + name,
				onclick: () => this.edit(d.id),
			}, icon('edit'), h('span', { class: 'label' }, t('devices.rename'))));
			if (!d.self)
				actions.push(h('button', {
					type: 'button', class: 'btn small danger device-remove-btn', 'aria-label': t('devices.remove') + ': ' + name,
					onclick: () => this.ask(d.id),
				}, icon('x'), h('span', { class: 'label' }, t('devices.remove'))));
		}
		if (active && d.state === 'pending' && !d.self && this.onApprove)
			actions.push(h('button', { type: 'button', class: 'btn small primary device-approve-btn', onclick: () => this.onApprove(d.id) },
				t('devices.approve')));
		li.append(h('div', { class: 'device-main' },
			h('span', { class: 'device-icon', 'aria-hidden': 'true' }, icon('key')),
			h('div', { class: 'device-text' },
				h('bdi', { class: 'device-name' }, name), ' ', ...tags,
				h('p', { class: 'device-meta muted' }, meta.join(' · '))),
			h('div', { class: 'device-actions' }, actions)));
		if (this.asking === d.id) {
			li.append(h('div', { class: 'account-confirm', role: 'group' },
				h('p', null, t('devices.removeAsk', { name })),
				h('div', { class: 'account-actions' },
					h('button', { type: 'button', class: 'btn', onclick: () => this.ask(null) }, t('devices.cancel')),
					h('button', { type: 'button', class: 'btn danger solid', id: 'device-remove-yes', onclick: () => this.remove(d.id, name) },
						t('devices.removeYes')))));
		}
		return li;
	}

	edit(id) {
		this.editing = id;
		this.asking = null;
		this.render();
	}

	ask(id) {
		this.asking = id;
		this.editing = null;
		this.render();
		if (id)
			this.list.querySelector('#device-remove-yes')?.focus();
	}

	async rename(id, name) {
		if (bytes(name) > NAME_MAX)
			return;
		this.show(t('devices.working'), 'info');
		try {
			await this.e2ee.rename(id, name);
			this.editing = null;
			this.render();
			this.show(t('devices.renamed'), 'ok');
		} catch (err) {
			this.show(errorText(err.code, err.data), 'error');
		}
	}

	async remove(id, name) {
		this.show(t('devices.working'), 'info');
		try {
			await this.e2ee.remove(id);
			this.asking = null;
			this.render();
			this.show(t('devices.removed', { name }), 'ok');
		} catch (err) {
			this.show(errorText(err.code, err.data), 'error');
		}
	}

	askReset(on, quiet) {
		this.resetConfirm.hidden = !on;
		this.resetBtn.hidden = on;
		this.resetBtn.setAttribute('aria-expanded', String(on));
		if (quiet)
			return;
		(on ? this.resetConfirm.querySelector('#reset-cancel') : this.resetBtn).focus();
	}

	async resetIdentity() {
		this.show(t('devices.working'), 'info');
		try {
			await this.e2ee.resetIdentity();
			this.askReset(false, true);
			this.render();
			this.show(t('reset.done'), 'ok');
		} catch (err) {
			this.show(errorText(err.code, err.data), 'error');
		}
	}
}
