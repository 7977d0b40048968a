// modal.js - what a modal <dialog> of the app needs besides showModal(): Tab and Shift+Tab go
// round its controls (not out to the browser), a click on the backdrop closes it as Escape
// does, and the focus goes back to what opened it. (ui/account.js does the same on its own.)

const FOCUSABLE = 'button, input, select, textarea, a[href], [tabindex]:not([tabindex="-1"])';

/** Wires `dialog`; returns open(opener) that shows it and remembers where the focus was. */
export function modal(dialog) {
	let opener = null;
	dialog.addEventListener('keydown', e => {
		if (e.key !== 'Tab')
			return;
		const els = [...dialog.querySelectorAll(FOCUSABLE)]
			.filter(x => !x.disabled && x.tabIndex >= 0 && x.getClientRects().length > 0);
		if (!els.length)
			return;
		const first = els[0];
		const last = els[els.length - 1];
		const inside = dialog.contains(document.activeElement);
		if (e.shiftKey && (document.activeElement === first || !inside)) {
			e.preventDefault();
			last.focus();
		} else if (!e.shiftKey && (document.activeElement === last || !inside)) {
			e.preventDefault();
			first.focus();
		}
	});
	dialog.addEventListener('click', e => {
		if (e.target !== dialog)
			return;
		const r = dialog.getBoundingClientRect();
		if (e.clientX < r.left || e.clientX > r.right || e.clientY < r.top || e.clientY > r.bottom)
			dialog.close();
	});
	dialog.addEventListener('close', () => {
		const o = opener;
		opener = null;
		if (o && o.isConnected)
			o.focus();
	});
	return from => {
		if (dialog.open)
			return;
		opener = from || document.activeElement;
		dialog.showModal();
	};
}
