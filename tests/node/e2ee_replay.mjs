// e2ee_replay.mjs - replays one known-answer vector file of tests/vectors/e2ee/ (written by
// the C core's pier-e2ee-vectors; each file's `about` says its format) against the browser's
// modules in web/js/e2ee/, checking every byte: keys made from the seeds, every derived value,
// every envelope of the scripted conversation, every refusal with its error. Used by
// e2ee_vectors.mjs; replayVectorFile returns how many values it compared.

import assert from 'node:assert/strict';

import { toB64, fromB64 } from '../../web/js/e2ee/b64.js';
import { hkdf } from '../../web/js/e2ee/hkdf.js';
import { deterministicRng } from '../../web/js/e2ee/rng.js';
import { E2eeError } from '../../web/js/e2ee/errors.js';
import { createDevice, addOpks, deviceToJSON, findOpk } from '../../web/js/e2ee/devkeys.js';
import { dh, publicOf } from '../../web/js/e2ee/x25519.js';
import { x3dhAd, x3dhInitiator, x3dhResponder } from '../../web/js/e2ee/x3dh.js';
import { Sessions, sessionsToJSON, MAX_SESSIONS, MAX_SEEN_EK } from '../../web/js/e2ee/sessions.js';
import { envelopePrefix, parseEnvelope } from '../../web/js/e2ee/envelope.js';
import { sealPayload, openPayload } from '../../web/js/e2ee/payload.js';
import { encodeDeviceList, decodeDeviceList } from '../../web/js/e2ee/devlist.js';
import { signDeviceList, verifyDeviceList, helloProof, verifyHello, signSpk, verifySpk, signPub } from
	'../../web/js/e2ee/devsig.js';
import { fingerprint, safetyNumber, formatSafety, approvalCode, formatApproval } from
	'../../web/js/e2ee/safety.js';
import { decryptFile, toBlob } from '../../web/js/e2ee/filecrypt.js';
import { concat } from '../../web/js/e2ee/bytes.js';

const enc = new TextEncoder();
const rngOf = (seed) => deterministicRng(enc.encode(seed));

/** Counts and compares: b64 strings, numbers, strings. */
class Checker {
	constructor(file) {
		this.file = file;
		this.n = 0;
	}
	eq(got, want, what) {
		const b64 = (v) => (v instanceof Uint8Array ? toB64(v) : v);
		assert.deepEqual(b64(got), b64(want), `${this.file}: ${what}`);
		this.n++;
	}
	ok(v, what) {
		assert.ok(v, `${this.file}: ${what}`);
		this.n++;
	}
	/** fn must throw an E2eeError whose code (or devlist reason) is `code`. */
	refuses(fn, code, what) {
		let err = null;
		try {
			fn();
		} catch (e) {
			err = e;
		}
		assert.ok(err instanceof E2eeError, `${this.file}: ${what}: not refused (${err})`);
		assert.equal(err.reason ?? err.code, code, `${this.file}: ${what}`);
		this.n++;
	}
}

/** A device made from its seed as the files say, compared with the file's description. */
function deviceFrom(c, d, what) {
	const rng = rngOf(d.seed);
	const dev = createDevice(d.created_ms, rng);
	addOpks(dev, d.opk_count, rng);
	const j = deviceToJSON(dev);
	c.eq(j.id, d.id, `${what}.id`);
	c.eq(j.sign_seed, d.sign_seed, `${what}.sign_seed`);
	c.eq(dev.pub.signPub, d.sign_pub, `${what}.sign_pub`);
	c.eq(j.dh_priv, d.dh_priv, `${what}.dh_priv`);
	c.eq(dev.pub.dhPub, d.dh_pub, `${what}.dh_pub`);
	c.eq({ id: dev.spk.id, priv: toB64(dev.spk.priv), pub: toB64(dev.spk.pub), sig: toB64(dev.spk.sig) },
		d.spk, `${what}.spk`);
	c.eq(dev.opks.map((o) => ({ id: o.id, priv: toB64(o.priv), pub: toB64(o.pub) })), d.opks,
		`${what}.opks`);
	c.eq(rng.draws, d.draws_after_setup, `${what}.draws_after_setup`);
	return { dev, rng };
}

/**
 * Runs the step script of ratchet.json or sessions.json (their `about`): devices A and B from
 * their seeds, then every step in order, each value compared. opkOf(peer, step) is the
 * one-time prekey an 'encrypt' with a bundle takes from the other device (null: none).
 */
function script(c, doc, opkOf) {
	const side = {};
	for (const name of ['A', 'B'])
		side[name] = { ...deviceFrom(c, doc.devices[name], name), s: new Sessions() };
	const other = { A: 'B', B: 'A' };
	const innerRng = rngOf(doc.inner_seed);
	const sent = [], inners = [];
	doc.steps.forEach((st, i) => {
		const me = side[st.by], peer = side[other[st.by]];
		c.ok(me && peer, `step ${i}: 'by' is A or B`);
		const what = `step ${i} (${st.op} by ${st.by}${st.msg !== undefined ? ` msg ${st.msg}` : ''})`;
		if (st.op === 'encrypt') {
			c.ok(Number.isInteger(st.msg) && sent[st.msg] === undefined, `${what}: a new message number`);
			// The inners are the draws of inner_seed, 64 bytes each, in the order sent.
			const inner = innerRng.fill(64);
			c.eq(inner, st.inner, `${what}: inner (draw ${innerRng.draws - 1} of inner_seed)`);
			let bundle = null;
			if (st.bundle) {
				const opk = opkOf(peer, st);
				bundle = {
					keys: peer.dev.pub, spkId: peer.dev.spk.id, spkPub: peer.dev.spk.pub,
					spkSig: peer.dev.spk.sig, hasOpk: opk !== null, opkId: opk?.id,
					opkPub: opk?.pub, listed: true,
				};
			} else {
				c.ok(st.opk_id === undefined, `${what}: no opk_id without a bundle`);
			}
			const env = me.s.encrypt(me.dev, peer.dev.pub, bundle, fromB64(st.inner, 64), me.rng);
			c.eq(env, st.envelope, `${what}: the envelope`);
			const e = parseEnvelope(env);
			c.eq(e.type, st.type, `${what}: type`);
			c.eq({ dh: toB64(e.header.dh), pn: e.header.pn, n: e.header.n }, st.header, `${what}: header`);
			if (bundle !== null) {
				// A new session: a pre-key envelope naming the bundle's SPK and OPK.
				c.eq(e.type, 1, `${what}: a new session sends a pre-key envelope`);
				c.eq({ spk: e.spkId, has: e.hasOpk, opk: e.hasOpk ? e.opkId : null },
					{ spk: peer.dev.spk.id, has: bundle.hasOpk, opk: bundle.hasOpk ? bundle.opkId : null },
					`${what}: the prekeys named`);
			}
			sent[st.msg] = env;
			inners[st.msg] = st.inner;
		} else if (st.op === 'decrypt') {
			const env = sent[st.msg];
			c.ok(env, `${what}: a message sent before`);
			if (st.result === 'ok') {
				c.eq(st.inner, inners[st.msg], `${what}: the file's inner is the one sent`);
				c.eq(me.s.decrypt(me.dev, peer.dev.pub, env, me.rng), st.inner, `${what}: inner`);
			} else {
				c.ok(st.inner === undefined, `${what}: no inner for a refusal`);
				const state = () => JSON.stringify([deviceToJSON(me.dev), sessionsToJSON(me.s),
					me.rng.draws]);
				const before = state();
				c.refuses(() => me.s.decrypt(me.dev, peer.dev.pub, env, me.rng), st.result, what);
				c.eq(state(), before, `${what}: nothing changed, nothing drawn`);
			}
		} else if (st.op === 'advance') {
			const draws = me.rng.draws;
			for (let k = 0; k < st.count; k++)
				me.s.encrypt(me.dev, peer.dev.pub, null, new Uint8Array(64), me.rng);
			c.eq(me.rng.draws, draws, `${what}: advancing draws nothing`);
		} else if (st.op === 'forget') {
			const draws = me.rng.draws;
			me.s.forget(peer.dev.pub.id);
			c.ok(!me.s.has(peer.dev.pub.id), `${what}: no session left`);
			c.ok(!sessionsToJSON(me.s).peers.some((p) => p.id === toB64(peer.dev.pub.id)),
				`${what}: nor the EKs seen from it`);
			c.eq(me.rng.draws, draws, `${what}: forgetting draws nothing`);
		} else {
			assert.fail(`${c.file}: ${what}: unknown op`);
		}
		// E2EE.md: at most MAX_SESSIONS sessions per remote device, MAX_SEEN_EK EKs.
		for (const x of Object.values(side))
			for (const p of x.s.peers.values())
				c.ok(p.sess.length <= MAX_SESSIONS && p.seenEk.length <= MAX_SEEN_EK,
					`${what}: the bounds on sessions and EKs`);
	});
}

const replayers = {
	rng(c, doc) {
		for (const k of doc.cases) {
			const rng = rngOf(k.seed);
			k.draws.forEach((d, i) => c.eq(rng.fill(d.n), d.bytes, `${k.seed} draw ${i}`));
		}
	},

	hkdf(c, doc) {
		for (const k of doc.cases)
			c.eq(hkdf(fromB64(k.salt), fromB64(k.ikm), fromB64(k.info), k.L), k.okm, k.name);
	},

	x3dh(c, doc) {
		doc.cases.forEach((k, i) => {
			const a = deviceFrom(c, k.a, `case ${i} a`);
			const b = deviceFrom(c, k.b, `case ${i} b`);
			const ekPriv = a.rng.fill(32);
			c.eq(ekPriv, k.ek_priv, `case ${i} ek_priv`);
			c.eq(publicOf(ekPriv), k.ek_pub, `case ${i} ek_pub`);
			const opk = k.opk ? b.dev.opks[0] : null;
			c.eq(dh(a.dev.dhPriv, b.dev.spk.pub), k.dh1, `case ${i} dh1`);
			c.eq(dh(ekPriv, b.dev.pub.dhPub), k.dh2, `case ${i} dh2`);
			c.eq(dh(ekPriv, b.dev.spk.pub), k.dh3, `case ${i} dh3`);
			if (k.opk)
				c.eq(dh(ekPriv, opk.pub), k.dh4, `case ${i} dh4`);
			else
				c.ok(k.dh4 === undefined, `case ${i}: no dh4 without a one-time prekey`);
			c.eq(x3dhInitiator(a.dev.dhPriv, ekPriv, b.dev.pub.dhPub, b.dev.spk.pub, opk?.pub ?? null),
				k.sk, `case ${i} sk (initiator)`);
			c.eq(x3dhResponder(b.dev.dhPriv, b.dev.spk.priv, opk?.priv ?? null, a.dev.pub.dhPub,
				publicOf(ekPriv)), k.sk, `case ${i} sk (responder)`);
			c.eq(x3dhAd(a.dev.pub, b.dev.pub), k.ad, `case ${i} ad`);
		});
		for (const k of doc.invalid)
			c.refuses(() => x3dhInitiator(fromB64(k.dik_a_priv), fromB64(k.ek_priv),
				fromB64(k.dik_b_pub), fromB64(k.spk_b_pub), null), k.error, 'an all-zero DH');
	},

	ratchet(c, doc) {
		// A bundle here is always the other's SPK and first one-time prekey.
		script(c, doc, (peer) => peer.dev.opks[0] ?? null);
	},

	sessions(c, doc) {
		// A bundle names its one-time prekey ('opk_id'; none when absent).
		script(c, doc, (peer, st) => {
			if (st.opk_id === undefined)
				return null;
			const opk = findOpk(peer.dev, st.opk_id);
			c.ok(opk, `opk ${st.opk_id} is still in the bundle's device`);
			return opk;
		});
	},

	envelope(c, doc) {
		doc.valid.forEach((k, i) => {
			const e = parseEnvelope(fromB64(k.bytes));
			const f = k.fields;
			c.eq(e.type, f.type, `valid ${i} type`);
			if (f.type === 1) {
				c.eq(e.ek, f.ek, `valid ${i} ek`);
				c.eq(e.spkId, f.spk_id, `valid ${i} spk_id`);
				c.eq(e.hasOpk, f.has_opk, `valid ${i} has_opk`);
				if (f.has_opk)
					c.eq(e.opkId, f.opk_id, `valid ${i} opk_id`);
			}
			c.eq({ dh: toB64(e.header.dh), pn: e.header.pn, n: e.header.n },
				{ dh: f.dh, pn: f.pn, n: f.n }, `valid ${i} header`);
			c.eq(e.ct, f.ciphertext, `valid ${i} ciphertext`);
			const again = concat(envelopePrefix({ type: f.type, ek: f.ek && fromB64(f.ek), spkId: f.spk_id,
				hasOpk: f.has_opk, opkId: f.opk_id, header: { dh: fromB64(f.dh), pn: f.pn, n: f.n } }),
			fromB64(f.ciphertext));
			c.eq(again, k.bytes, `valid ${i} encoded again`);
		});
		for (const k of doc.invalid)
			c.refuses(() => parseEnvelope(fromB64(k.bytes)), k.error, k.why);
	},

	payload(c, doc) {
		for (const k of doc.cases) {
			const pt = enc.encode(k.plaintext);
			const { payload, pk, inner } = sealPayload(pt, rngOf(k.seed));
			c.eq(pk, k.pk, `${k.seed} pk`);
			c.eq(payload.subarray(0, 24), k.nonce, `${k.seed} nonce`);
			c.eq(payload, k.payload, `${k.seed} payload`);
			c.eq(inner, k.inner, `${k.seed} inner`);
			c.eq(new TextDecoder().decode(openPayload(fromB64(k.inner), fromB64(k.payload))), k.plaintext,
				`${k.seed} opened`);
		}
		for (const k of doc.invalid)
			c.refuses(() => openPayload(fromB64(k.inner), fromB64(k.payload)), k.error, k.why);
	},

	devlist(c, doc) {
		for (const k of doc.valid) {
			const rng = rngOf(k.seed);
			const akSeed = rng.fill(32);
			c.eq(akSeed, k.ak_seed, `${k.seed} ak_seed`);
			const f = k.fields;
			c.eq(signPub(akSeed), f.ak_pub, `${k.seed} ak_pub`);
			// The devices' keys in the order drawn (the list itself is sorted by id).
			const drawn = f.devices.map(() => {
				const id = rng.fill(16), seed = rng.fill(32), dhPriv = rng.fill(32);
				return { id: toB64(id), sign_pub: toB64(signPub(seed)), dh_pub: toB64(publicOf(dhPriv)) };
			});
			for (const d of f.devices)
				c.ok(drawn.some((x) => x.id === d.id && x.sign_pub === d.sign_pub && x.dh_pub === d.dh_pub),
					`${k.seed}: device ${d.id}'s keys come from the seed`);
			const list = {
				user: f.user, version: f.version, reset: (f.flags & 1) !== 0, ak: fromB64(f.ak_pub),
				devices: f.devices.map((d) => ({ id: fromB64(d.id), signKey: fromB64(d.sign_pub),
					dhKey: fromB64(d.dh_pub), created: d.created_ms, name: d.name })),
			};
			const bytes = encodeDeviceList(list);
			c.eq(bytes, k.bytes, `${k.seed} bytes`);
			const back = decodeDeviceList(fromB64(k.bytes));
			c.eq({ user: back.user, version: back.version, flags: back.reset ? 1 : 0, ak_pub: toB64(back.ak),
				devices: back.devices.map((d) => ({ id: toB64(d.id), sign_pub: toB64(d.signKey),
					dh_pub: toB64(d.dhKey), created_ms: d.created, name: d.name })) }, f, `${k.seed} decoded`);
			c.eq(signDeviceList(akSeed, bytes), k.sig, `${k.seed} sig`);
			c.ok(verifyDeviceList(back.ak, bytes, fromB64(k.sig)), `${k.seed} verifies`);
		}
		for (const k of doc.invalid)
			c.refuses(() => decodeDeviceList(fromB64(k.bytes)), k.error, k.why);
		for (const k of doc.bad_signature) {
			const bytes = fromB64(k.bytes);
			let ak = null;
			try {
				ak = decodeDeviceList(bytes).ak;
			} catch {
				ak = null;
			}
			c.ok(ak === null || !verifyDeviceList(ak, bytes, fromB64(k.sig)), `${k.why}: refused`);
		}
	},

	safety(c, doc) {
		for (const k of doc.cases) {
			const rng = rngOf(k.seed);
			const akA = signPub(rng.fill(32)), akB = signPub(rng.fill(32));
			c.eq(akA, k.ak_a, `${k.seed} ak_a`);
			c.eq(akB, k.ak_b, `${k.seed} ak_b`);
			c.eq(fingerprint(k.user_a, akA), k.fp_a, `${k.seed} fp_a`);
			c.eq(fingerprint(k.user_b, akB), k.fp_b, `${k.seed} fp_b`);
			c.eq(safetyNumber(k.user_a, akA, k.user_b, akB), k.digits, `${k.seed} digits`);
			c.eq(safetyNumber(k.user_b, akB, k.user_a, akA), k.digits, `${k.seed} digits (other side)`);
			c.eq(formatSafety(k.digits), k.shown, `${k.seed} shown`);
		}
	},

	approval(c, doc) {
		for (const k of doc.cases) {
			const rng = rngOf(k.seed);
			const ak = signPub(rng.fill(32));
			const dev = { id: rng.fill(16), signPub: signPub(rng.fill(32)), dhPub: publicOf(rng.fill(32)) };
			c.eq(ak, k.ak_pub, `${k.seed} ak_pub`);
			c.eq({ id: toB64(dev.id), s: toB64(dev.signPub), d: toB64(dev.dhPub) },
				{ id: k.device_id, s: k.sign_pub, d: k.dh_pub }, `${k.seed} device keys`);
			c.eq(approvalCode(ak, dev), k.code, `${k.seed} code`);
			c.eq(formatApproval(k.code), k.shown, `${k.seed} shown`);
		}
	},

	signatures(c, doc) {
		for (const k of doc.hello) {
			const rng = rngOf(k.seed);
			const seed = rng.fill(32), challenge = rng.fill(32);
			c.eq(seed, k.sign_seed, 'hello sign_seed');
			c.eq(signPub(seed), k.sign_pub, 'hello sign_pub');
			c.eq(challenge, k.challenge, 'hello challenge');
			c.eq(helloProof(seed, challenge), k.proof, 'hello proof');
			c.ok(verifyHello(fromB64(k.sign_pub), challenge, fromB64(k.proof)), 'hello verifies');
		}
		for (const k of doc.spk) {
			const rng = rngOf(k.seed);
			const seed = rng.fill(32), id = rng.fill(16), priv = rng.fill(32);
			c.eq(seed, k.sign_seed, 'spk sign_seed');
			c.eq(signPub(seed), k.sign_pub, 'spk sign_pub');
			c.eq(id, k.device_id, 'spk device_id');
			c.eq(publicOf(priv), k.spk_pub, 'spk spk_pub');
			c.eq(signSpk(seed, id, k.spk_id, publicOf(priv)), k.sig, 'spk sig');
			c.ok(verifySpk(fromB64(k.sign_pub), id, k.spk_id, fromB64(k.spk_pub), fromB64(k.sig)),
				'spk verifies');
		}
		for (const k of doc.bad) {
			const ok = k.kind === 'hello'
				? verifyHello(fromB64(k.sign_pub), fromB64(k.challenge), fromB64(k.proof))
				: verifySpk(fromB64(k.sign_pub), fromB64(k.device_id), k.spk_id, fromB64(k.spk_pub),
					fromB64(k.sig));
			c.ok(!ok, `bad ${k.kind}: ${k.why}`);
		}
	},

	async file(c, doc) {
		const plain = (n) => Uint8Array.from({ length: n }, (_, i) => i % 251);
		const open = async (ct, k) => new Uint8Array(await (await toBlob(
			decryptFile(ct, fromB64(k.key), fromB64(k.header)))).arrayBuffer());
		for (const k of doc.cases) {
			c.eq(rngOf(k.seed).fill(32), k.key, `${k.seed} key`);
			const pt = await open(fromB64(k.ciphertext), k);
			c.eq(pt, plain(k.length), `${k.seed}: ${k.length} bytes decrypted`);
		}
		for (const k of doc.invalid) {
			const base = doc.cases[k.case];
			let ct = fromB64(base.ciphertext);
			if (k.op === 'cut')
				ct = ct.subarray(0, k.n);
			else if (k.op === 'flip')
				(ct = ct.slice())[k.n] ^= 1;
			else if (k.op === 'append')
				ct = concat(ct, new Uint8Array(k.n));
			else
				assert.fail(`file: unknown op ${k.op}`);
			let err = null;
			try {
				await open(ct, base);
			} catch (e) {
				err = e;
			}
			c.ok(err instanceof E2eeError, `file: ${k.why}: refused (${err})`);
		}
	},
};

/**
 * Replays one vector file.
 * @param {string} name the file's name (its stem picks the replayer)
 * @param {object} doc the parsed file
 * @returns {Promise<number>} values compared
 */
export async function replayVectorFile(name, doc) {
	const stem = name.replace(/\.json$/, '');
	const fn = replayers[stem];
	assert.ok(fn, `${name}: no replayer for this file (a new kind of vector?)`);
	assert.equal(doc.version, 1, `${name}: version`);
	assert.equal(typeof doc.about, 'string', `${name}: about`);
	const c = new Checker(name);
	await fn(c, doc);
	return c.n;
}
