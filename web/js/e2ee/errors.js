// errors.js - the one error type of the e2ee modules. Its codes are those of the C core
// (src/lib/e2ee/e2ee.h, enum pier_e2ee_status) so both clients report the same failures.

/** @typedef {'format'|'auth'|'replay'|'no_session'|'too_far'|'key'|'signature'|'limit'|'mismatch'} E2eeCode */

export const E2EE_CODES = Object.freeze({
	format: 'malformed bytes or JSON',
	auth: 'authentication failed: tampered, or not for us',
	replay: 'a message key already used, or a pre-key EK already seen',
	no_session: 'no session with that device and no bundle to start one',
	too_far: 'too many message keys to skip',
	key: 'a bad public key (all-zero DH) or an unknown prekey id',
	signature: 'a signature does not verify',
	limit: 'a bound would be passed',
	mismatch: 'keys differ from the trusted ones',
});

/** A refusal of the e2ee code: `code` is one of E2EE_CODES, `detail` says more (English). */
export class E2eeError extends Error {
	/**
	 * @param {E2eeCode} code
	 * @param {string} [detail]
	 */
	constructor(code, detail) {
		super(`e2ee: ${E2EE_CODES[code] ?? code}${detail ? ` (${detail})` : ''}`);
		this.name = 'E2eeError';
		this.code = code;
		this.detail = detail ?? '';
	}
}

/**
 * Throws E2eeError(code, detail) unless ok.
 * @param {unknown} ok
 * @param {E2eeCode} code
 * @param {string} [detail]
 */
export function check(ok, code, detail) {
	if (!ok)
		throw new E2eeError(code, detail);
}
