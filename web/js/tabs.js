// tabs.js - what one tab of this browser tells the others: that the user logged out, so that
// every tab lands on the login screen at once (they share the session token, which the
// logout revoked). A BroadcastChannel says it as the logout starts; the token's removal from
// localStorage says it again as a `storage` event (for browsers without the channel, and for
// a tab that missed the message). Either way the other tab ends its session locally.

import { lower } from './store.js';

const CHANNEL = 'pier.v1.tabs';
const SESSION_KEY = 'pier.v1.session';    // store.js keeps the token under this key

let channel = null;
try {
	channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel(CHANNEL) : null;
} catch { /* not in this browser: the storage event still works */ }

/** Tells the other tabs that `user` logged out here. */
export function tellLogout(user) {
	try {
		channel?.postMessage({ type: 'logout', user: user ? lower(user) : null });
	} catch { /* closed */ }
}

/**
 * Calls fn() when another tab logged out: `whoKey()` is the lower-case name of this tab's
 * user (a message about another user, logged out in a tab of its own, is not for this one).
 */
export function onLogoutElsewhere(whoKey, fn) {
	channel?.addEventListener('message', e => {
		const m = e.data;
		if (m && m.type === 'logout' && (!m.user || m.user === whoKey()))
			fn();
	});
	addEventListener('storage', e => {
		// the session key removed (e.key null: the whole storage cleared)
		if ((e.key === SESSION_KEY || e.key === null) && e.newValue === null)
			fn();
	});
}
