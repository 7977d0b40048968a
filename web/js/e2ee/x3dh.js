// x3dh.js - the X3DH shared secret and associated data of E2EE.md "Sessions":
//   DH1 = X25519(DIK_A, SPK_B)  DH2 = X25519(EK_A, DIK_B)  DH3 = X25519(EK_A, SPK_B)
//   DH4 = X25519(EK_A, OPK_B)   (only with a one-time prekey)
//   SK  = HKDF(32 zero bytes, 32 x 0xFF || DH1 || DH2 || DH3 [|| DH4], "pier-x3dh-v1", 32)
//   AD  = "pier-ad-v1" || A.id || A.DSK_pub || A.DIK_pub || B.id || B.DSK_pub || B.DIK_pub
// (A the initiator). Checking B's SPK signature and list membership is the caller's (sessions.js).

import { concat } from './bytes.js';
import { hkdf } from './hkdf.js';
import { dh } from './x25519.js';

export const AD_LEN = 170;

function secret(dhs) {
	const ikm = concat(new Uint8Array(32).fill(0xff), ...dhs);
	const sk = hkdf(null, ikm, 'pier-x3dh-v1', 32);
	ikm.fill(0);
	for (const d of dhs)
		d.fill(0);
	return sk;
}

/**
 * SK for initiator A. E2eeError('key') on an all-zero DH output.
 * @param {Uint8Array} dikAPriv
 * @param {Uint8Array} ekAPriv
 * @param {Uint8Array} dikBPub
 * @param {Uint8Array} spkBPub
 * @param {Uint8Array|null} opkBPub
 * @returns {Uint8Array} 32 bytes
 */
export function x3dhInitiator(dikAPriv, ekAPriv, dikBPub, spkBPub, opkBPub) {
	const dhs = [dh(dikAPriv, spkBPub), dh(ekAPriv, dikBPub), dh(ekAPriv, spkBPub)];
	if (opkBPub)
		dhs.push(dh(ekAPriv, opkBPub));
	return secret(dhs);
}

/**
 * The same SK, computed by responder B.
 * @param {Uint8Array} dikBPriv
 * @param {Uint8Array} spkBPriv
 * @param {Uint8Array|null} opkBPriv
 * @param {Uint8Array} dikAPub
 * @param {Uint8Array} ekAPub
 * @returns {Uint8Array}
 */
export function x3dhResponder(dikBPriv, spkBPriv, opkBPriv, dikAPub, ekAPub) {
	const dhs = [dh(spkBPriv, dikAPub), dh(dikBPriv, ekAPub), dh(spkBPriv, ekAPub)];
	if (opkBPriv)
		dhs.push(dh(opkBPriv, ekAPub));
	return secret(dhs);
}

/**
 * AD of a session, initiator first.
 * @param {import('./devkeys.js').PeerKeys} a
 * @param {import('./devkeys.js').PeerKeys} b
 * @returns {Uint8Array} AD_LEN bytes
 */
export function x3dhAd(a, b) {
	return concat('pier-ad-v1', a.id, a.signPub, a.dhPub, b.id, b.signPub, b.dhPub);
}
