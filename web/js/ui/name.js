// name.js - a user's name on the page: the display name (names.js) when there is one, with the
// login name as secondary text and as the tooltip, else the login name. Every name element
// carries its user's key (data-user-key), so that a display name changed elsewhere (a
// `profile` event) is updated in place wherever it shows, without redrawing the lists.
// Names are text in a <bdi>: a right-to-left name does not reorder what is around it.

import { names } from '../names.js';
import { lower } from '../store.js';
import { h } from './dom.js';

/**
 * The name of `user` as nodes: a <bdi class=cls> with the label, then (when `login` is true
 * and the user has a display name) a <span class="uname-login"> with the login name.
 * `fallback` is a display name to use when the directory does not know the user (what a
 * message carried).
 */
export function nameNodes(user, { cls = '', fallback, login = true } = {}) {
	const el = h('bdi', { class: ('uname ' + cls).trim(), dataset: { userKey: lower(user), user, login: login ? '1' : '' } });
	fill(el, names.display(user, fallback));
	return [el, el._login || null];
}

/** Only the label element (no secondary text): for tight places (the sidebar, a header). */
export function nameLabel(user, opts = {}) {
	return nameNodes(user, { ...opts, login: false })[0];
}

/** Sets the element's text, tooltip and secondary login name for display name `display`. */
function fill(el, display) {
	const user = el.dataset.user;
	el.textContent = display || user;
	if (display)
		el.title = user;
	else
		el.removeAttribute('title');
	if (!el.dataset.login)
		return;
	if (display) {
		if (!el._login)
			el._login = h('span', { class: 'uname-login' });
		el._login.textContent = user;
		if (el.isConnected && el.nextSibling !== el._login)
			el.after(el._login);
	} else if (el._login) {
		el._login.remove();
		el._login = null;
	}
}

// a display name changed: every element of that user on the page follows
names.addEventListener('change', e => {
	const key = e.detail.key;
	for (const el of document.querySelectorAll(`bdi.uname[data-user-key="${CSS.escape(key)}"]`))
		fill(el, e.detail.display);
});
