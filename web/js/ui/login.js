// login.js - the login and register screen. Each status code of the report has its text
// (login: -1 wrong password, 0 no such user, 1 logged in; register: 2 name taken,
// 3 registered, 4 too short); other answers get a clear sentence of their own. Registering
// may give a display name (optional; a refused one, bad_display, is said with its reason).

import { errorText, t } from '../i18n.js';
import { h, icon } from './dom.js';

export function renderLogin(root, client, { notice, lastUser } = {}) {
	const user = h('input', {
		id: 'login-user', name: 'username', autocomplete: 'username', required: true,
		autocapitalize: 'off', autocorrect: 'off', spellcheck: 'false', maxlength: 64,
	});
	const password = h('input', {
		id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password',
		required: true,
	});
	// optional, read only when registering: how others see the new user (王小明)
	const display = h('input', {
		id: 'login-display', name: 'nickname', autocomplete: 'nickname', dir: 'auto', maxlength: 512,
		'aria-describedby': 'login-display-hint',
	});
	const status = h('p', { class: 'login-status', id: 'login-status', role: 'status', 'aria-live': 'polite' });
	const loginBtn = h('button', { type: 'submit', class: 'btn primary', id: 'login-button' }, t('login.login'));
	const registerBtn = h('button', { type: 'button', class: 'btn', id: 'register-button' }, t('login.register'));

	if (lastUser)
		user.value = lastUser;

	const show = (text, kind) => {
		status.textContent = text;
		status.className = 'login-status' + (kind ? ' ' + kind : '');
		status.dataset.kind = kind || '';
	};
	if (notice)
		show(notice, 'info');

	let busy = false;
	const run = async what => {
		if (busy)
			return;
		const name = user.value.trim();
		const pw = password.value;
		if (!name || !pw) {
			show(t('err.required'), 'error');
			(name ? password : user).focus();
			return;
		}
		busy = true;
		form.classList.add('busy');
		loginBtn.disabled = registerBtn.disabled = true;
		show(t('login.working'), 'info');
		try {
			if (what === 'register') {
				display.removeAttribute('aria-invalid');
				const r = await client.register(name, pw, display.value.trim());
				if (r.status === 3) {
					show(t('status.3'), 'ok');
					loginBtn.focus();
				} else if (r.status === 2 || r.status === 4) {
					show(t('status.' + r.status), 'error');
				} else {
					show(errorText(r.error || 'generic'), 'error');
				}
				status.dataset.status = String(r.status);
			} else {
				const r = await client.login(name, pw);
				status.dataset.status = String(r.status);
				if (r.status === 1) {
					show(t('status.1'), 'ok');
					return;         // the app replaces this screen
				}
				show(t('status.' + r.status), 'error');
				(r.status === 0 ? user : password).select();
			}
		} catch (err) {
			status.dataset.status = '';
			status.dataset.error = err.code || '';
			show(errorText(err.code, err.data), 'error');
			if (err.code === 'bad_display') {
				display.setAttribute('aria-invalid', 'true');
				display.focus();
			}
		} finally {
			busy = false;
			form.classList.remove('busy');
			loginBtn.disabled = registerBtn.disabled = false;
		}
	};

	const form = h('form', {
		class: 'login-card', novalidate: true,
		onsubmit: e => {
			e.preventDefault();
			run('login');
		},
	},
	h('div', { class: 'login-brand' },
		h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, icon('send')),
		h('span', { class: 'brand-name' }, 'pier')),
	h('h1', null, t('login.title')),
	h('p', { class: 'muted' }, t('login.subtitle')),
	h('label', { for: 'login-user' }, t('login.user')), user,
	h('label', { for: 'login-password' }, t('login.password')), password,
	h('label', { for: 'login-display' }, t('login.display')), display,
	h('p', { class: 'login-hint muted', id: 'login-display-hint' }, t('login.displayHint')),
	status,
	h('div', { class: 'login-actions' }, loginBtn, registerBtn),
	h('p', { class: 'login-rules muted' }, t('login.rules')));

	registerBtn.addEventListener('click', () => run('register'));

	root.replaceChildren(h('div', { class: 'login-screen' }, form));
	(lastUser ? password : user).focus();
}
