// main.js - pier's browser client: the login screen, or the three-pane chat (conversations,
// messages, who is online, the account dialog), wired to the store and the WebSocket client.
// Read state, typing, room topics and members, display names: readstate.js, typing.js,
// ui/room.js, names.js (hooked in here). End-to-end encryption of private chats: the device
// manager e2ee/device.js, loaded before the first login (a browser that cannot load it still
// chats, without encryption), with its screens ui/safety.js, ui/devices.js, ui/approval.js
// and ui/e2eeconv.js.

import { Client } from './connection.js';
import { errorText, lang, t } from './i18n.js';
import { Uploads } from './media.js';
import { names } from './names.js';
import { ReadSync, watchAttention } from './readstate.js';
import { loadToken, lower, Store } from './store.js';
import { onLogoutElsewhere } from './tabs.js';
import { Typing } from './typing.js';
import { Composer } from './ui/composer.js';
import { AccountPanel } from './ui/account.js';
import { ApproveDialog, NewDeviceDialog } from './ui/approval.js';
import { DevicesSection } from './ui/devices.js';
import { E2eeConv } from './ui/e2eeconv.js';
import { SafetyDialog } from './ui/safety.js';
import { h, icon } from './ui/dom.js';
import { renderLogin } from './ui/login.js';
import { MessageView } from './ui/messages.js';
import { nameLabel } from './ui/name.js';
import { ProfileSection } from './ui/profile.js';
import { RoomPanel } from './ui/room.js';
import { SearchPanel } from './ui/search.js';
import { Sidebar } from './ui/sidebar.js';
import { UsersPanel } from './ui/users.js';

const ROOMS_REFRESH = 200;   // rooms whose member counts a reconnect refreshes (one page)

document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';

const app = document.getElementById('app');
const store = new Store();
const client = new Client(store);
const uploads = new Uploads(client);
names.watch(client, store);
const readSync = new ReadSync({ store, client });
let shell = null;

// end-to-end encryption: the device manager hooks the client (sends to @user), the store
// (encrypted messages come without text) and the uploads (files are encrypted first)
let e2ee = null;
try {
	const { DeviceManager } = await import('./e2ee/device.js');
	e2ee = new DeviceManager({ client, store });
	client.e2ee = e2ee;
	uploads.e2ee = e2ee;
	store.decorate = m => e2ee.decorate(m);
} catch (err) {
	console.warn('pier: end-to-end encryption is not available in this browser', err);
}

// for the end-to-end tests and for debugging from the console
window.pier = { store, client, uploads, readSync, names, e2ee };

function showLogin(notice) {
	shell?.destroy();
	shell = null;
	document.title = 'pier';
	document.body.classList.remove('in-app');
	renderLogin(app, client, { notice, lastUser: loadToken()?.user });
}

function showApp() {
	if (!shell)
		shell = new Shell();
}

client.addEventListener('loggedin', () => {
	showApp();
	if (!store.activeKey || !store.convs.has(store.activeKey))
		store.setActive('#lobby');
	else
		store.emit('active', { key: store.activeKey });
});

const LOGGED_OUT = {
	expired: 'login.expired', revoked: 'login.revoked', logout_all: 'login.loggedOutAll', tab: 'login.loggedOutTab',
};

client.addEventListener('loggedout', e => {
	showLogin(t(LOGGED_OUT[e.detail.reason] || 'login.loggedOut'));
});

// a logout in another tab of this browser ends this tab's session too
onLogoutElsewhere(() => store.meKey, () => client.loggedOutElsewhere());

// messages on screen are read only while the page is shown and focused
watchAttention(store);

// ---- the chat screen ----

class Shell {
	constructor() {
		// every listener on the store, client and document goes when the shell does
		this.ac = new AbortController();
		const signal = this.ac.signal;
		this.sidebar = new Sidebar({
			store, client, e2ee, signal,
			onPick: (key, opts) => this.pick(key, opts),
			onNotify: () => this.askNotify(),
			onAccount: opener => this.account.open(opener),
			onLogout: () => client.logout(),
		});
		this.users = new UsersPanel({
			store, client, signal,
			onPick: name => this.openPrivate(name),
			onClose: () => this.drawer(null),
		});
		this.view = new MessageView({
			store, client, e2ee, signal, onOpenImage: md => this.lightbox(md), onToast: (text, error) => this.toast(text, error),
			onReply: m => this.composer.startReply(m), onEdit: m => this.composer.startEdit(m),
		});
		this.composer = new Composer({ store, client, uploads, signal });
		const sections = [new ProfileSection({ store, client })];
		if (e2ee) {
			this.approve = new ApproveDialog({ e2ee, signal, onToast: text => this.toast(text) });
			this.newDevice = new NewDeviceDialog({ e2ee, signal });
			this.safety = new SafetyDialog({ e2ee, signal });
			this.e2eeConv = new E2eeConv({ store, e2ee, signal, onSafety: (name, opener) => this.safety.open(name, opener) });
			sections.push(new DevicesSection({ e2ee, signal, onApprove: id => this.approve.open(id) }));
			e2ee.addEventListener('state', () => {
				this.renderHead();
				if (e2ee.state === 'revoked')
					this.toast(t('e2ee.revoked'), true);
			}, { signal });
			e2ee.addEventListener('change', () => this.renderHead(), { signal });
			e2ee.addEventListener('approved', () => this.toast(t('approve.active')), { signal });
		}
		this.account = new AccountPanel({ store, client, sections });
		this.room = new RoomPanel({ store, client, signal, onPick: name => this.openPrivate(name) });
		this.typing = new Typing({ store, client, signal, input: this.composer.input });
		this.search = new SearchPanel({
			store, client, signal, onPick: key => this.pick(key), onToast: text => this.toast(text),
		});

		this.titleIcon = h('span', { class: 'title-icon', 'aria-hidden': 'true' });
		this.titleName = h('h1', { class: 'title-name', id: 'conv-title', dir: 'auto' });
		this.titleSub = h('p', { class: 'title-sub', id: 'conv-sub' });
		this.leaveBtn = h('button', { type: 'button', class: 'btn ghost small', id: 'leave-button', onclick: () => this.leave() },
			icon('leave'), h('span', { class: 'label' }, t('conv.leave')));
		this.closeBtn = h('button', {
			type: 'button', class: 'btn ghost small', id: 'close-button', title: t('conv.closeTitle'),
			onclick: () => store.hideConv(store.activeKey),
		}, icon('x'), h('span', { class: 'label' }, t('conv.close')));
		this.menuBtn = h('button', {
			type: 'button', class: 'icon-btn only-narrow', id: 'menu-button', 'aria-label': t('conv.menu'),
			title: t('conv.menu'), onclick: () => this.drawer('side'),
		}, icon('menu'), h('span', { class: 'menu-dot', hidden: true }));
		this.peopleBtn = h('button', {
			type: 'button', class: 'icon-btn people-btn', id: 'people-button', 'aria-label': t('conv.people'),
			title: t('conv.people'), onclick: () => this.drawer(this.open === 'users' ? null : 'users'),
		}, icon('users'));
		this.banner = h('div', { class: 'banner', id: 'banner', role: 'status', hidden: true });
		this.toastEl = h('div', { class: 'toast', role: 'status', hidden: true });
		this.dropZone = h('div', { class: 'drop-zone', hidden: true }, h('div', null, icon('clip'), h('p', { class: 'drop-text' })));

		this.header = h('header', { class: 'chat-head' },
			this.menuBtn,
			h('div', { class: 'title' }, this.titleIcon, h('div', { class: 'title-text' }, this.titleName, this.titleSub)),
			h('div', { class: 'head-actions' }, this.e2eeConv?.button, this.search.button, this.leaveBtn, this.closeBtn, this.peopleBtn));
		this.main = h('main', { class: 'chat', id: 'chat' },
			this.header, this.banner, this.newDevice?.banner, this.approve?.banner, this.e2eeConv?.el, this.view.el, this.typing.el, this.composer.el, this.dropZone, this.toastEl);
		this.scrim = h('div', { class: 'scrim', onclick: () => this.drawer(null) });
		this.box = h('dialog', { class: 'lightbox', id: 'lightbox' });
		this.box.addEventListener('click', e => {
			if (e.target === this.box)
				this.box.close();
		});
		this.el = h('div', { class: 'shell', id: 'shell' }, this.sidebar.el, this.main, this.users.el, this.scrim, this.box,
			this.account.el, this.room.el, this.search.el, this.safety?.el, this.approve?.el, this.newDevice?.el);
		app.replaceChildren(this.el);
		document.body.classList.add('in-app');

		this.dragDepth = 0;
		this.main.addEventListener('dragenter', e => this.onDrag(e, 1));
		this.main.addEventListener('dragleave', e => this.onDrag(e, -1));
		this.main.addEventListener('dragover', e => {
			if (hasFiles(e)) {
				e.preventDefault();
				e.dataTransfer.dropEffect = 'copy';
			}
		});
		this.main.addEventListener('drop', e => {
			if (!hasFiles(e))
				return;
			e.preventDefault();
			this.dragDepth = 0;
			this.dropZone.hidden = true;
			this.composer.addFiles([...e.dataTransfer.files]);
		});
		document.addEventListener('keydown', e => {
			// Escape in a dialog closes the dialog only
			if (e.key === 'Escape' && this.open && !this.account.isOpen && !this.search.isOpen)
				this.drawer(null);
		}, { signal });
		const head = () => this.renderHead();
		store.addEventListener('convs', head, { signal });
		store.addEventListener('users', head, { signal });
		store.addEventListener('active', head, { signal });
		names.addEventListener('change', head, { signal });
		store.addEventListener('active', () => {
			// member counts change without events (registrations join #lobby): refresh them
			if (client.state === 'online' && Date.now() - (this.roomsAt || 0) > 2000)
				this.refreshRooms();
		}, { signal });
		client.addEventListener('state', e => this.renderState(e.detail), { signal });
		client.addEventListener('notify', e => this.notify(e.detail.msg), { signal });
		this.renderState({ state: client.state, retryAt: client.retryAt });
		this.renderHead();
		if (store.activeKey)
			store.emit('active', { key: store.activeKey });
	}

	destroy() {
		this.ac.abort();
		for (const d of [this.safety, this.approve, this.newDevice])
			if (d?.el.open)
				d.el.close();
		this.account.destroy();
		this.search.destroy();
		clearInterval(this.tick);
		clearTimeout(this.toastTimer);
	}

	/** The private chat with `name` (a click on a name). */
	openPrivate(name) {
		if (lower(name) === store.meKey)
			return;
		store.ensure('@' + name, name);
		this.pick('@' + lower(name));
	}

	pick(key, opts = {}) {
		store.setActive(key);
		this.drawer(null);
		if (opts.toast)
			this.toast(opts.toast);
		if (matchMedia('(hover: hover)').matches)
			this.composer.focus();
	}

	drawer(which) {
		this.open = which;
		this.el.classList.toggle('show-side', which === 'side');
		this.el.classList.toggle('show-users', which === 'users');
		this.peopleBtn.classList.toggle('active', which === 'users');
		this.peopleBtn.setAttribute('aria-expanded', String(which === 'users'));
		// opening the people panel asks who is online (presence keeps only contacts live)
		if (which === 'users')
			this.users.refresh();
	}

	renderHead() {
		const c = store.active();
		const total = store.totalUnread();
		document.title = total ? `(${total}) pier` : 'pier';
		this.menuBtn.querySelector('.menu-dot').hidden = !total;
		this.main.classList.toggle('private', !!c && c.kind === 'private');
		this.main.classList.toggle('room', !!c && c.kind === 'room');
		if (!c) {
			this.titleName.textContent = '';
			this.titleSub.textContent = t('conv.choose');
			this.titleIcon.replaceChildren();
			this.leaveBtn.hidden = this.closeBtn.hidden = true;
			return;
		}
		// the lock only on a private chat that is end-to-end encrypted (both users have devices)
		const locked = c.kind === 'private' && !!e2ee?.isE2ee(c.key);
		this.titleIcon.className = 'title-icon ' + c.kind + (locked ? ' e2ee' : '');
		this.titleIcon.replaceChildren(icon(c.kind === 'room' ? 'hash' : locked ? 'lock' : 'at'));
		this.main.classList.toggle('e2ee', locked);
		if (c.kind === 'room') {
			this.titleName.textContent = c.name.slice(1);
			this.room.renderSub(this.titleSub, c);
		} else {
			// the display name in the title, the login name on the line under it
			this.titleName.replaceChildren(nameLabel(c.name));
			const on = store.online.has(c.key.slice(1));
			const shown = names.display(c.name);
			delete this.titleSub.dataset.sig;
			const sub = [h('span', { class: 'presence-dot' + (on ? ' on' : '') })];
			if (shown)
				sub.push(h('bdi', { class: 'title-login' }, c.name), ' · ');
			const how = locked ? t('e2ee.convOn')
				: e2ee && e2ee.state !== 'active' && e2ee.state !== 'off' ? t('e2ee.convNoDevice')
					: e2ee && e2ee.state === 'active' ? t('e2ee.convOff', { name: c.name }) : '';
			this.titleSub.replaceChildren(...sub, t('conv.private'), ...(how ? [' · ', h('span', { class: 'title-e2ee', id: 'conv-e2ee', dataset: { on: String(locked) } }, how)] : []));
		}
		this.leaveBtn.hidden = c.kind !== 'room' || c.key === '#lobby';
		this.leaveBtn.title = t('conv.leaveTitle', { room: c.name });
		this.closeBtn.hidden = c.kind !== 'private';
		this.dropZone.querySelector('.drop-text').textContent = t('composer.drop', { conv: c.name });
	}

	renderState({ state, retryAt }) {
		clearInterval(this.tick);
		const b = this.banner;
		// the fast retries go connecting, offline, connecting...: it reads as one "offline"
		if (state === 'connecting' && client.retrying)
			state = 'offline';
		b.dataset.state = state;
		if (state === 'offline') {
			// built once and its text changed only when it changes (a status region: a screen
			// reader reads every change; a focused retry button keeps the focus). A retry due
			// within 2 s is "reconnecting", not a countdown.
			let text = b.querySelector('.banner-text');
			if (!text || !b.querySelector('#retry-button')) {
				text = h('span', { class: 'banner-text' });
				b.replaceChildren(icon('wifiOff'), text,
					h('button', { type: 'button', class: 'link-btn', id: 'retry-button', onclick: () => client.retryNow() }, t('conn.retry')));
			}
			const draw = () => {
				const s = Math.max(0, Math.ceil(((retryAt || client.retryAt) - Date.now()) / 1000));
				const now = client.state !== 'offline' || s <= 2 ? t('conn.offlineNow') : t('conn.offline', { s });
				if (text.textContent !== now)
					text.textContent = now;
			};
			draw();
			this.tick = setInterval(draw, 1000);
			b.hidden = false;
		} else if (state === 'connecting') {
			b.replaceChildren(h('span', { class: 'spinner small', 'aria-hidden': 'true' }), h('span', null, t('conn.connecting')));
			b.hidden = false;
		} else {
			b.hidden = true;
		}
		b.className = 'banner ' + state;
		this.el.classList.toggle('offline', state !== 'online' && state !== 'syncing');
		if (state === 'online')
			this.refreshRooms();
	}

	/** Member counts of the rooms on the first page only: a reconnect never asks for every
	 * room (there may be 100 000). */
	async refreshRooms() {
		this.roomsAt = Date.now();
		try {
			const { rooms } = await client.rooms({ limit: ROOMS_REFRESH });
			for (const r of rooms) {
				const c = store.convs.get(lower(r.room));
				if (c && c.kind === 'room')
					c.members = r.members;
			}
			store.emit('convs');
		} catch { /* shown next time */ }
	}

	async leave() {
		const c = store.active();
		if (!c || c.kind !== 'room' || c.key === '#lobby')
			return;
		if (!confirm(t('conv.leaveConfirm', { room: c.name })))
			return;
		try {
			await client.part(c.name);
		} catch (err) {
			if (err.code === 'not_member')
				store.removeRoom(c.name);
			else
				this.toast(errorText(err.code, err.data), true);
		}
	}

	toast(text, error) {
		this.toastEl.textContent = text;
		this.toastEl.className = 'toast' + (error ? ' error' : '');
		this.toastEl.hidden = false;
		clearTimeout(this.toastTimer);
		this.toastTimer = setTimeout(() => { this.toastEl.hidden = true; }, 3500);
	}

	onDrag(e, d) {
		if (!hasFiles(e) || !store.active())
			return;
		this.dragDepth = Math.max(0, this.dragDepth + d);
		this.dropZone.hidden = this.dragDepth === 0;
	}

	lightbox(md) {
		const url = md.url || '/media/' + encodeURIComponent(md.id);       // md.url: a decrypted file's object URL
		const img = h('img', { src: url, alt: md.name, class: 'full', id: 'lightbox-image' });
		const close = h('button', { type: 'button', class: 'icon-btn', 'aria-label': t('media.close'), onclick: () => this.box.close() }, icon('x'));
		this.box.replaceChildren(h('figure', null, img,
			h('figcaption', null, h('bdi', { class: 'file-name' }, md.name),
				h('a', { href: url, download: md.name, class: 'btn small' }, icon('download'), t('media.download')),
				close)));
		this.box.showModal();
		close.focus();
	}

	async askNotify() {
		if (!('Notification' in window))
			return;
		if (Notification.permission === 'default') {
			try {
				await Notification.requestPermission();
			} catch { /* old browsers */ }
		}
		this.sidebar.renderNotify();
	}

	/** A browser notification, while the tab is hidden, for a private message or a message
	 * that mentions the user (in a room too). */
	notify(m) {
		if ((m.to[0] !== '@' && !m.mentioned) || !document.hidden || !('Notification' in window) ||
		    Notification.permission !== 'granted')
			return;
		const key = store.keyOf(m);
		const body = m.text || (m.media ? t('notify.file', { name: m.media.name }) : '');
		const who = names.label(m.from, m.display);
		const title = m.to[0] === '@' ? t('notify.private', { name: who }) : t('notify.mention', { name: who, conv: m.to });
		try {
			const n = new Notification(title, {
				body: body.length > 200 ? body.slice(0, 200) + '…' : body, tag: 'pier-' + key, lang: document.documentElement.lang,
			});
			n.onclick = () => {
				window.focus();
				store.setActive(key);
				n.close();
			};
		} catch { /* some platforms allow notifications only from a service worker */ }
	}
}

function hasFiles(e) {
	return !!e.dataTransfer && [...e.dataTransfer.types].includes('Files');
}

// ---- start ----

const saved = loadToken();
if (saved) {
	store.setMe(saved.user);
	store.ensure('#lobby', '#lobby');
	showApp();
	if (!store.activeKey)
		store.setActive('#lobby');
	client.resume(saved.token);
} else {
	showLogin();
}
addEventListener('pagehide', () => store.saveNow());
