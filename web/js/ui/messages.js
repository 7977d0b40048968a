// messages.js - the message view of one conversation: day separators, sender and local time,
// text as text (links made clickable, nothing else), media inline, pending and failed sends.
// Scrolling near the top loads older history; the view keeps its place while it arrives
// (the height added above is added to scrollTop), and media boxes are sized before they load
// so that nothing moves under the reader.
//
// Unread: a "N new messages" divider goes before the first message that was not read when it
// came (store.js: newAfter); a catch-up that brings more than a screenful scrolls to it, and
// the conversation counts as read only once the view has been scrolled to its end
// (store.setAtBottom). The list is updated in place (only new rows are inserted), and new
// messages are announced to screen readers, politely, by one small live region of their own:
// history loaded above is not announced, nor is a list redrawn.
//
// What happened to a message after it was sent shows in place: a recalled one becomes a line
// saying who recalled it, an edited one says "(edited)", reactions are chips under it (click
// to toggle one's own), a reply shows the message it quotes (a click goes there, loading older
// history until it is on screen), and a message that mentions the user stands out. The
// actions on a message are its menu (ui/msgmenu.js).
//
// End-to-end encryption (docs/E2EE.md): a private message that was encrypted carries a lock,
// one sent in plaintext (before either user had a device) says "not encrypted". Encrypted
// messages this device has no copy of are never a wall of errors: those from before it
// existed fold into one line, "earlier messages are on your other devices"; one whose
// envelope is still coming says so. An encrypted file is fetched, decrypted here and shown
// from an object URL (this client makes the picture; the server has only ciphertext).

import { dayKey, errorText, formatDay, formatFull, formatSize, formatTime, t } from '../i18n.js';
import { kindOf } from '../media.js';
import { names } from '../names.js';
import { unreadLabel } from '../readstate.js';
import { lower } from '../store.js';
import { avatar, h, icon, linkify } from './dom.js';
import { MessageMenu } from './msgmenu.js';
import { nameNodes } from './name.js';

const GROUP_MS = 5 * 60 * 1000;
const THUMB_MAX_W = 320;
const THUMB_MAX_H = 280;
const NEAR_TOP = 400;
const NEAR_BOTTOM = 80;
const ANNOUNCE_EACH = 3;        // more new messages at once are announced as a count
const ANNOUNCE_KEEP = 5;        // lines kept in the live region
const JUMP_PAGES = 20;          // history pages (50 each) a click on a quote may load to find it
const LONG_PRESS = 500;         // ms a touch must rest on a message to open its menu
const FLASH_MS = 2400;          // how long the message a quote leads to stays highlighted

export class MessageView {
	constructor({ store, client, e2ee, onOpenImage, onReply, onEdit, onToast, signal }) {
		this.store = store;
		this.client = client;
		this.e2ee = e2ee;
		this.onOpenImage = onOpenImage;
		this.onToast = onToast;
		this.key = null;
		this.cache = new Map();

		this.top = h('div', { class: 'msg-top', id: 'msg-top' });
		this.list = h('ol', { class: 'msg-list', id: 'msg-list' });
		this.jump = h('button', {
			type: 'button', class: 'jump', id: 'jump', hidden: true,
			onclick: () => this.toBottom(true),
		}, t('msg.jump'), icon('chevronDown'));
		this.newSep = h('li', { class: 'new-sep', id: 'new-sep', role: 'separator' }, h('span'));
		// the one live region of the chat: a line for each new message (not the list itself,
		// which also grows by history loaded above)
		this.announcer = h('div', {
			class: 'sr-only', id: 'msg-announce', role: 'log', 'aria-live': 'polite', 'aria-relevant': 'additions',
		});
		this.scroller = h('div', {
			class: 'messages', id: 'messages', role: 'region', 'aria-label': t('msg.region'), tabindex: '0',
			onscroll: () => this.onScroll(),
		}, this.top, this.list, this.announcer);
		this.menu = new MessageMenu({ store, client, onReply, onEdit, onToast, signal });
		this.el = h('div', { class: 'messages-wrap' }, this.scroller, this.jump, this.menu.el);
		this.watchGestures();

		store.addEventListener('messages', e => {
			const d = e.detail;
			if (d.how === 'reset' || d.key === this.key)
				this.render(d.how);
			if (d.key === this.key && d.added)
				this.announce(d.added, d.source);
		}, { signal });
		store.addEventListener('active', e => this.open(e.detail.key), { signal });
		client.addEventListener('state', e => {
			if (e.detail.state === 'online')
				this.maybeLoad();
			this.renderTop();
		}, { signal });
		e2ee?.addEventListener('change', () => this.renderTop(), { signal });
	}

	conv() {
		return this.key ? this.store.convs.get(this.key) : null;
	}

	/** The stored message an element of the list belongs to, or null (pending, gone). */
	messageOf(el) {
		const li = el && el.closest && el.closest('#msg-list li.msg');
		if (!li || !li.dataset.id || li.classList.contains('recalled'))
			return null;
		const at = this.store.locate(this.key, Number(li.dataset.id));
		return at ? at.m : null;
	}

	/**
	 * The other ways to a message's menu than its button: a right click (not on a link or a
	 * picture, whose own menu stays), a long press on a touch screen, and Shift+F10 or the
	 * context-menu key when the focus is in a message.
	 */
	watchGestures() {
		const list = this.list;
		list.addEventListener('contextmenu', e => {
			if (e.target.closest('a, img, video, audio'))
				return;
			const m = this.messageOf(e.target);
			if (!m)
				return;
			e.preventDefault();
			const li = e.target.closest('li.msg');
			this.menu.open(m, { at: { x: e.clientX, y: e.clientY }, opener: li.querySelector('.msg-more') });
		});
		let press = null;
		const cancel = () => {
			if (press)
				clearTimeout(press.timer);
			press = null;
		};
		list.addEventListener('pointerdown', e => {
			cancel();
			if (e.pointerType !== 'touch')
				return;
			const m = this.messageOf(e.target);
			if (!m)
				return;
			const li = e.target.closest('li.msg');
			press = {
				x: e.clientX, y: e.clientY,
				timer: setTimeout(() => {
					press = null;
					this.menu.open(m, { at: li.querySelector('.msg-body'), opener: li.querySelector('.msg-more') });
				}, LONG_PRESS),
			};
		});
		list.addEventListener('pointermove', e => {
			if (press && Math.hypot(e.clientX - press.x, e.clientY - press.y) > 10)
				cancel();
		});
		for (const type of ['pointerup', 'pointercancel'])
			list.addEventListener(type, cancel);
		list.addEventListener('keydown', e => {
			if (e.key !== 'ContextMenu' && !(e.shiftKey && e.key === 'F10'))
				return;
			const m = this.messageOf(e.target);
			if (!m)
				return;
			e.preventDefault();
			const btn = e.target.closest('li.msg').querySelector('.msg-more');
			this.menu.open(m, { at: btn, opener: btn });
		});
	}

	/**
	 * Shows the message `id` of this conversation (a quote was clicked): loads older history
	 * until it is there (at most JUMP_PAGES pages), scrolls to it, highlights it and gives it
	 * the focus.
	 */
	async jumpTo(id) {
		const c = this.conv();
		if (!c || !Number.isSafeInteger(id))
			return;
		const key = c.key;
		for (let page = 0; page < JUMP_PAGES && !c.ids.has(id); page++) {
			if (c.more === false || this.client.state !== 'online' || (c.messages.length && c.messages[0].id < id))
				break;
			if (c.loading)
				await this.loaded(key);
			else
				await this.client.loadOlder(key);
			if (this.key !== key)
				return;
		}
		const li = this.list.querySelector(`li.msg[data-id="${id}"]`);
		if (!li) {
			this.onToast(t('msg.notFound'), true);
			return;
		}
		li.scrollIntoView({ block: 'center' });
		li.classList.remove('flash');
		void li.offsetWidth;        // restart the animation
		li.classList.add('flash');
		clearTimeout(li.flashTimer);
		li.flashTimer = setTimeout(() => li.classList.remove('flash'), FLASH_MS);
		li.focus({ preventScroll: true });
		this.store.setAtBottom(this.isAtBottom());
	}

	/** Resolves when a history page that is loading for `key` has come (or after 10 s). */
	loaded(key) {
		return new Promise(resolve => {
			const done = () => {
				clearTimeout(timer);
				this.store.removeEventListener('messages', on);
				resolve();
			};
			const on = e => {
				if (e.detail.key === key && (e.detail.how === 'prepend' || e.detail.how === 'update'))
					done();
			};
			const timer = setTimeout(done, 10000);
			this.store.addEventListener('messages', on);
		});
	}

	open(key) {
		if (key === this.key && this.list.childElementCount) {
			this.store.setAtBottom(this.isAtBottom());
			return;
		}
		this.key = key;
		this.cache = new Map();
		this.list.replaceChildren();
		this.render('open');
		this.maybeLoad();
	}

	/** Loads older messages when the view is near the top, or does not fill the screen. */
	maybeLoad() {
		const c = this.conv();
		if (!c || c.loading || c.more === false)
			return;
		const sc = this.scroller;
		if (sc.scrollTop < NEAR_TOP || sc.scrollHeight <= sc.clientHeight + NEAR_TOP)
			this.client.loadOlder(c.key);
	}

	onScroll() {
		const sc = this.scroller;
		const atBottom = this.isAtBottom();
		if (atBottom)
			this.jump.hidden = true;
		if (this.key && this.key === this.store.activeKey)
			this.store.setAtBottom(atBottom);
		if (sc.scrollTop < NEAR_TOP)
			this.maybeLoad();
	}

	isAtBottom() {
		const sc = this.scroller;
		return sc.scrollHeight - sc.scrollTop - sc.clientHeight < NEAR_BOTTOM;
	}

	/**
	 * Scrolls so that the "new messages" divider is at the top, when what follows it does not
	 * fit on the screen. False when there is no divider or all of it fits (then the end shows).
	 */
	scrollToNew() {
		const sc = this.scroller;
		if (!this.newSep.isConnected)
			return false;
		const y = sc.scrollTop + this.newSep.getBoundingClientRect().top - sc.getBoundingClientRect().top - 8;
		if (sc.scrollHeight - y <= sc.clientHeight)
			return false;
		sc.scrollTop = y;
		return true;
	}

	/** Tells screen readers about new messages from others in this conversation. */
	announce(added, source) {
		const me = this.store.meKey;
		const theirs = added.filter(m => lower(m.from) !== me);
		if (!theirs.length)
			return;
		const lines = source === 'live' && theirs.length <= ANNOUNCE_EACH
			? theirs.map(m => t('msg.announce', {
				name: names.label(m.from, m.display), text: m.text ? m.text.slice(0, 300) : m.media ? m.media.name : '' }))
			: [theirs.length === 1 ? t('msg.new1') : t('msg.newN', { n: theirs.length })];
		for (const line of lines)
			this.announcer.appendChild(h('p', null, line));
		while (this.announcer.childElementCount > ANNOUNCE_KEEP)
			this.announcer.firstElementChild.remove();
	}

	toBottom(smooth) {
		const sc = this.scroller;
		sc.scrollTo({ top: sc.scrollHeight, behavior: smooth ? 'smooth' : 'instant' });
		this.jump.hidden = true;
	}

	renderTop() {
		const c = this.conv();
		let content = null;
		if (c && c.loading)
			content = h('span', { class: 'loader' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), t('msg.loadingOlder'));
		else if (c && c.more === false)
			content = h('div', { class: 'beginning' },
				h('span', { class: 'beginning-icon ' + c.kind, 'aria-hidden': 'true' },
					icon(c.kind === 'room' ? 'hash' : this.e2ee?.isE2ee(c.key) ? 'lock' : 'at')),
				h('p', null, c.kind === 'room' ? t('msg.beginning', { conv: c.name })
					: t('msg.beginningPrivate', { name: c.name })));
		this.top.replaceChildren(...(content ? [content] : []));
		this.top.className = 'msg-top' + (c && c.more === false ? ' start' : '');
	}

	render(how) {
		const c = this.conv();
		const sc = this.scroller;
		const fromBottom = sc.scrollHeight - sc.scrollTop - sc.clientHeight;
		const atBottom = fromBottom < NEAR_BOTTOM;
		const prevHeight = sc.scrollHeight;
		const prevTop = sc.scrollTop;
		const prevTopHeight = this.top.offsetHeight;
		const prevCount = this.list.querySelectorAll('.msg').length;
		const prevLast = this.list.lastElementChild;
		const hadSep = this.newSep.isConnected;

		this.renderTop();
		if (!c) {
			this.list.replaceChildren();
			return;
		}
		const items = [...c.messages, ...this.store.pendingFor(c.key)];
		const nodes = [];
		const keep = new Map();
		const me = this.store.meKey;
		let sepAt = c.newAfter === null ? null
			: items.find(m => !m.pending && m.id > c.newAfter && lower(m.from) !== me) || null;
		let prev = null;
		let folded = false;
		for (const m of items) {
			if (m.edit_hidden)
				continue;           // an encrypted edit: it changed the message it names
			if (m.e2eeMissing === 'earlier') {
				// one line for all of them, where the first was
				if (!folded) {
					folded = true;
					const entry = this.cache.get('earlier') || { el: h('li', { class: 'e2ee-earlier', id: 'e2ee-earlier', role: 'note' },
						icon('lock'), h('span', null, t('e2ee.earlier'))) };
					keep.set('earlier', entry);
					nodes.push(entry.el);
				}
				continue;
			}
			const day = dayKey(m.ts);
			if (!prev || dayKey(prev.ts) !== day) {
				const dk = 'd' + day;
				const entry = this.cache.get(dk) || { el: h('li', { class: 'day-sep', role: 'separator' }, h('span', null, formatDay(m.ts))) };
				keep.set(dk, entry);
				nodes.push(entry.el);
			}
			if (m === sepAt) {
				this.newSep.firstChild.textContent = c.newCount === 1 ? t('msg.new1') : t('msg.newN', { n: unreadLabel(c.newCount) });
				nodes.push(this.newSep);
				sepAt = null;
			}
			const start = !prev || dayKey(prev.ts) !== day || lower(prev.from) !== lower(m.from) ||
				m.ts - prev.ts > GROUP_MS || !!prev.recalled || (c.kind === 'private' && !prev.e2ee !== !this.encrypted(m));
			const key = m.pending ? 'c' + m.cid : 'i' + m.id;
			const sig = (start ? 's' : 'c') + (m.pending ? m.state + (m.error || '') : '') + '.' + (m._rev || 0);
			let entry = this.cache.get(key);
			if (!entry || entry.sig !== sig)
				entry = { el: this.message(c, m, start), sig };
			keep.set(key, entry);
			nodes.push(entry.el);
			prev = m;
		}
		this.cache = keep;
		reconcile(this.list, nodes);
		this.list.classList.toggle('private', c.kind === 'private');

		if (how === 'open' || how === 'reset' || (how === 'prepend' && prevCount === 0)) {
			if (!this.scrollToNew())
				this.toBottom(false);
			if (how !== 'open')
				requestAnimationFrame(() => this.maybeLoad());
		} else if (how === 'prepend') {
			// what was on screen stays where it was: add the height that came above it
			sc.scrollTop = prevTop + (sc.scrollHeight - prevHeight);
			requestAnimationFrame(() => this.maybeLoad());
		} else if (how === 'loading' || how === 'update') {
			if (atBottom)
				this.toBottom(false);
			else if (this.top.offsetHeight !== prevTopHeight)
				sc.scrollTop = prevTop + (this.top.offsetHeight - prevTopHeight);
		} else {
			const grew = this.list.querySelectorAll('.msg').length > prevCount ||
				this.list.lastElementChild !== prevLast;
			const last = items[items.length - 1];
			const mine = last && lower(last.from) === this.store.meKey;
			const sepCame = !hadSep && this.newSep.isConnected;
			if (atBottom && sepCame && this.scrollToNew())
				this.jump.hidden = false;       // a catch-up: from where reading stopped
			else if (atBottom || (mine && how !== 'confirm'))
				this.toBottom(false);
			else if (grew && how === 'append')
				this.jump.hidden = false;
		}
		if (c.key === this.store.activeKey)
			this.store.setAtBottom(this.isAtBottom());
	}

	message(c, m, start) {
		const mine = lower(m.from) === this.store.meKey;
		const priv = c.kind === 'private';
		if (m.recalled)
			return this.recalledRow(c, m, mine);
		const cls = ['msg', priv ? 'private' : 'group', start ? 'start' : 'cont'];
		if (mine)
			cls.push('mine');
		if (m.pending)
			cls.push('pending', m.state);
		if (m.mentioned && !mine && !priv)
			cls.push('mentioned');
		const time = h('time', {
			datetime: new Date(m.ts).toISOString(), title: formatFull(m.ts), class: 'msg-time',
		}, formatTime(m.ts));
		const head = start ? h('div', { class: 'msg-head' },
			nameNodes(m.from, { cls: 'sender', fallback: m.display }),
			priv ? this.privateTag(m) : null,
			time) : null;
		const body = h('div', { class: 'msg-body' }, head);
		if (m.quote)
			body.appendChild(this.quote(m.quote));
		if (m.text) {
			const text = h('div', { class: 'msg-text', dir: 'auto' }, withMentions(linkify(m.text), m.mentions, this.store.meKey));
			if (m.edited) {
				// "(edited)" is drawn after the text (CSS ::after, which screen readers read), so
				// that the text stays exactly what was written
				text.dataset.edited = t('msg.edited');
				text.title = formatFull(m.edited);
			}
			body.appendChild(text);
		}
		if (m.e2eeMissing)
			body.appendChild(h('div', { class: 'msg-text e2ee-missing', dataset: { missing: m.e2eeMissing } },
				m.e2eeMissing === 'waiting' ? t('e2ee.waitingKey') : m.e2eeMissing === 'failed' ? t('e2ee.failedOne') : t('e2ee.onOtherDevices')));
		if (m.media)
			body.appendChild(m.media.e2ee ? this.encryptedMedia(m) : this.media(m));
		if (m.edited && !m.text) {
			body.appendChild(h('div', { class: 'msg-edited', title: formatFull(m.edited) }, t('msg.edited')));
		}
		if (m.reactions && m.reactions.length)
			body.appendChild(this.reactions(m));
		if (m.pending) {
			if (m.state === 'failed') {
				body.appendChild(h('div', { class: 'msg-status failed' },
					h('span', null, t('msg.failed', { reason: errorText(m.error) })),
					h('button', { type: 'button', class: 'link-btn', onclick: () => this.client.retry(m.cid) }, t('msg.retry')),
					h('button', { type: 'button', class: 'link-btn', onclick: () => this.store.discard(m.cid) }, t('msg.discard'))));
			} else {
				body.appendChild(h('div', { class: 'msg-status' },
					h('span', { class: 'spinner small', 'aria-hidden': 'true' }),
					m.state === 'queued' && this.client.state !== 'online' ? t('msg.queued') : t('msg.sending')));
			}
		}
		const more = m.pending ? null : h('button', {
			type: 'button', class: 'msg-more', 'aria-label': t('msg.actionsOf', { name: m.from }), title: t('msg.actions'),
			'aria-haspopup': 'menu', 'aria-expanded': 'false', 'aria-controls': 'msg-menu',
			onclick: e => {
				const btn = e.currentTarget;
				if (this.menu.isOpen() && this.menu.opener === btn)
					this.menu.close(true);
				else
					this.menu.open(m, { at: btn, opener: btn });
			},
		}, icon('more'));
		return h('li', {
			class: cls.join(' '),
			dataset: { id: m.id ?? '', cid: m.cid ?? '', from: m.from },
			tabindex: m.pending ? null : '-1',
		},
		h('div', { class: 'msg-gutter' }, start ? avatar(m.from) : h('time', {
			class: 'msg-time gutter', datetime: new Date(m.ts).toISOString(), title: formatFull(m.ts),
		}, formatTime(m.ts))),
		body, more);
	}

	/** Whether message m was sent end-to-end encrypted (a pending one: whether it will be). */
	encrypted(m) {
		return m.pending ? !!this.e2ee?.isE2ee(lower(m.to)) : !!m.e2ee;
	}

	/** The tag after a private message's sender: a lock when it was end-to-end encrypted,
	 * "not encrypted" for one sent in plaintext. */
	privateTag(m) {
		if (this.encrypted(m))
			return h('span', { class: 'private-tag e2ee', title: t('e2ee.msgOn') }, icon('lock'), t('msg.privateTag'),
				h('span', { class: 'sr-only' }, ' · ' + t('e2ee.msgOn')));
		return h('span', { class: 'private-tag plain', title: t('e2ee.msgOffTitle') }, t('msg.privateTag') + ' · ' + t('e2ee.msgOff'));
	}

	/**
	 * An encrypted file: fetched and decrypted by this client, shown from an object URL (an
	 * image drawn as its own thumbnail, sized to fit). A failed decryption says so and shows
	 * nothing of the file.
	 */
	encryptedMedia(m) {
		const md = m.media;
		const kind = m.kind || kindOf(md.type);
		const box = h('div', { class: 'msg-media e2ee ' + kind, dataset: { mediaId: md.id } },
			h('span', { class: 'loader' }, h('span', { class: 'spinner small', 'aria-hidden': 'true' }), t('e2ee.decrypting')));
		decrypted(this.e2ee, md).then(url => {
			let el;
			if (kind === 'image') {
				const img = h('img', { src: url, alt: md.name, class: 'thumb', dataset: { mediaId: md.id } });
				img.style.maxWidth = THUMB_MAX_W + 'px';
				img.style.maxHeight = THUMB_MAX_H + 'px';
				el = h('button', {
					type: 'button', class: 'thumb-btn', 'aria-label': t('media.open', { name: md.name }), title: md.name,
					onclick: () => this.onOpenImage({ ...md, url }),
				}, img);
			} else if (kind === 'video') {
				el = h('div', { class: 'video-box' }, h('video', { src: url, controls: true, preload: 'metadata', class: 'video-el', 'aria-label': md.name }));
			} else if (kind === 'audio') {
				el = h('audio', { src: url, controls: true, preload: 'metadata', class: 'audio-el' });
			}
			const link = h('a', {
				class: el ? 'file-chip compact' : 'file-chip', href: url, download: md.name, dataset: { mediaId: md.id },
				title: md.name + ' · ' + formatSize(md.size),
			}, h('span', { class: 'file-icon', 'aria-hidden': 'true' }, icon('file')),
			h('span', { class: 'file-meta' }, h('bdi', { class: 'file-name' }, md.name), h('span', { class: 'file-size' }, formatSize(md.size))),
			h('span', { class: 'file-dl', 'aria-hidden': 'true' }, icon('download')));
			box.replaceChildren(...(el && kind !== 'image' ? [el, link] : el ? [el] : [link]));
			box.dataset.ready = '1';
		}, () => {
			box.replaceChildren(h('p', { class: 'e2ee-file-failed', role: 'alert' }, t('e2ee.fileFailed')));
			box.dataset.failed = '1';
		});
		return box;
	}

	/** A recalled message: one line saying who recalled it (撤回), where it was. */
	recalledRow(c, m, mine) {
		return h('li', {
			class: 'msg recalled ' + (c.kind === 'private' ? 'private' : 'group') + (mine ? ' mine' : ''),
			dataset: { id: m.id, from: m.from }, tabindex: '-1',
		}, h('p', { class: 'recalled-text' },
			h('span', null, mine ? t('msg.recalledMe') : t('msg.recalledBy', { name: m.from })),
			' ', h('time', { class: 'msg-time', datetime: new Date(m.ts).toISOString(), title: formatFull(m.ts) }, formatTime(m.ts))));
	}

	/** The quoted message of a reply: its sender and first words (or that it was recalled);
	 * a click goes to it. */
	quote(q) {
		const text = q.recalled ? t('msg.quoteRecalled')
			: (q.text || '') + (q.cut ? '…' : '') || (q.kind ? t('msg.kind.' + q.kind) : '');
		const kind = !q.recalled && q.kind && q.text ? t('msg.kind.' + q.kind) + ' · ' : '';
		return h('button', {
			type: 'button', class: 'msg-quote' + (q.recalled ? ' recalled' : ''), dataset: { replyTo: q.id },
			'aria-label': t('msg.quoteOpen', { name: q.from, text }),
			onclick: () => this.jumpTo(Number(q.id)),
		}, h('bdi', { class: 'quote-from' }, q.from),
		h('span', { class: 'quote-text', dir: 'auto' }, kind, text));
	}

	/** Reaction chips: emoji and count, the user's own pressed; a click toggles it. Who
	 * reacted is the tooltip and the label (the names the server lists, and how many more). */
	reactions(m) {
		const sep = t('msg.namesSep');
		return h('div', { class: 'reactions', role: 'group', 'aria-label': t('msg.reactions') },
			m.reactions.map(r => {
				const users = r.users || [];
				const names = users.length < r.count
					? t('msg.namesMore', { names: users.join(sep), more: r.count - users.length, n: r.count })
					: users.join(sep);
				const label = t('msg.reactedBy', { emoji: r.emoji, n: r.count, names });
				return h('button', {
					type: 'button', class: 'reaction' + (r.mine ? ' mine' : ''), 'aria-pressed': String(!!r.mine),
					'aria-label': label, title: label, dataset: { emoji: r.emoji },
					onclick: async () => {
						try {
							await this.client.react(m, r.emoji, !r.mine);
						} catch (err) {
							this.onToast(errorText(err.code, err.data), true);
						}
					},
				}, h('span', { class: 'reaction-emoji' }, r.emoji), h('span', { class: 'reaction-count' }, String(r.count)));
			}));
	}

	media(m) {
		const md = m.media;
		const kind = m.kind || kindOf(md.type);
		const url = '/media/' + encodeURIComponent(md.id);
		const retry = el => {
			// a missing session cookie (first login, or it expired): set it, then try once more
			el.addEventListener('error', async () => {
				if (el.dataset.retried)
					return el.classList.add('broken');
				el.dataset.retried = '1';
				await (this.client.sessionCookie || this.client.makeSessionCookie());
				const src = el.getAttribute('src');
				el.setAttribute('src', src + (src.includes('?') ? '&' : '?') + 'r=1');
			});
		};
		const fileLink = (cls) => h('a', {
			class: cls, href: url, download: md.name, dataset: { mediaId: md.id },
			title: md.name + ' · ' + formatSize(md.size),
		}, h('span', { class: 'file-icon', 'aria-hidden': 'true' }, icon('file')),
		h('span', { class: 'file-meta' }, h('bdi', { class: 'file-name' }, md.name),
			h('span', { class: 'file-size' }, formatSize(md.size))),
		h('span', { class: 'file-dl', 'aria-hidden': 'true' }, icon('download')));

		if (kind === 'image') {
			const img = h('img', {
				src: url + '/thumb', alt: md.name, loading: 'lazy', decoding: 'async', class: 'thumb',
				dataset: { mediaId: md.id },
			});
			const box = fitBox(md.width, md.height, THUMB_MAX_W, THUMB_MAX_H);
			img.style.width = box.w + 'px';
			img.style.height = box.h + 'px';
			let triedFull = false;
			img.addEventListener('error', () => {
				// no thumbnail for this image (small, or a type without one): the image itself
				if (!triedFull) {
					triedFull = true;
					img.src = url;
				}
			});
			return h('div', { class: 'msg-media image' }, h('button', {
				type: 'button', class: 'thumb-btn', 'aria-label': t('media.open', { name: md.name }),
				title: md.name, onclick: () => this.onOpenImage(md),
			}, img));
		}
		if (kind === 'video') {
			// a fixed 16:9 box (the video fits inside it): nothing moves when it loads
			const v = h('video', {
				src: url, controls: true, preload: 'metadata', playsinline: true, class: 'video-el',
				dataset: { mediaId: md.id }, 'aria-label': md.name,
			});
			retry(v);
			return h('div', { class: 'msg-media video' }, h('div', { class: 'video-box' }, v), fileLink('file-chip compact'));
		}
		if (kind === 'audio') {
			const a = h('audio', { src: url, controls: true, preload: 'metadata', class: 'audio-el', dataset: { mediaId: md.id } });
			retry(a);
			return h('div', { class: 'msg-media audio' }, a, fileLink('file-chip compact'));
		}
		return h('div', { class: 'msg-media file' }, fileLink('file-chip'));
	}
}

// object URLs of decrypted files, by media id, for as long as the page lives (a message drawn
// again does not fetch and decrypt again)
const plainFiles = new Map();

function decrypted(e2ee, md) {
	if (!e2ee)
		return Promise.reject(new Error('no e2ee'));
	let p = plainFiles.get(md.id);
	if (!p) {
		p = e2ee.fetchDecrypted({ id: md.id, key: md.e2ee.key, header: md.e2ee.header, type: md.type })
			.then(blob => URL.createObjectURL(blob));
		p.catch(() => plainFiles.delete(md.id));
		plainFiles.set(md.id, p);
	}
	return p;
}

const MENTION_RE = /(^|[^A-Za-z0-9_.-])([@＠])([A-Za-z0-9_.-]{6,33})/g;

/**
 * The text nodes of `nodes` (links left alone) with each @name the server found a mention in
 * `mentions` wrapped in a <span class="mention"> (also "to-me" for the user's own name). The text
 * itself stays the same.
 */
function withMentions(nodes, mentions, meKey) {
	if (!mentions || !mentions.length)
		return nodes;
	const names = new Set(mentions.map(lower));
	const out = [];
	for (const n of nodes) {
		if (n.nodeType !== Node.TEXT_NODE) {
			out.push(n);
			continue;
		}
		const text = n.data;
		let last = 0;
		for (const m of text.matchAll(MENTION_RE)) {
			let name = m[3];
			if (!names.has(lower(name)))
				name = name.replace(/\.+$/, '');       // "@bob_22." at the end of a sentence
			if (!names.has(lower(name)))
				continue;
			const at = m.index + m[1].length;
			if (at > last)
				out.push(document.createTextNode(text.slice(last, at)));
			out.push(h('span', { class: 'mention' + (lower(name) === meKey ? ' to-me' : '') }, m[2] + name));
			last = at + 1 + name.length;
		}
		if (last < text.length)
			out.push(document.createTextNode(text.slice(last)));
	}
	return out;
}

/**
 * Makes parent's children `nodes`, in that order, moving as little as it can: rows that stay
 * are not touched (a screen reader, a selection or a playing video keeps them), new ones are
 * inserted where they go.
 */
function reconcile(parent, nodes) {
	const want = new Set(nodes);
	for (const el of [...parent.children])
		if (!want.has(el))
			el.remove();
	let cur = parent.firstChild;
	for (const n of nodes) {
		if (n === cur)
			cur = cur.nextSibling;
		else
			parent.insertBefore(n, cur);
	}
}

/** A box of at most maxW x maxH with the image's proportions (a square when unknown). */
export function fitBox(w, hgt, maxW, maxH) {
	w = Number(w) || 0;
	hgt = Number(hgt) || 0;
	if (!w || !hgt)
		return { w: Math.min(maxW, maxH), h: Math.min(maxW, maxH) };
	const s = Math.min(1, maxW / w, maxH / hgt);
	return { w: Math.max(24, Math.round(w * s)), h: Math.max(24, Math.round(hgt * s)) };
}
