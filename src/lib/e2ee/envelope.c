/* envelope.c - the envelope byte codec (docs/E2EE.md "Envelopes and payloads"): a version,
 * a type, for a pre-key envelope the X3DH inputs, the ratchet header, then the ciphertext.
 * The parser accepts exactly the encodings the encoder can make. */
#include "e2ee.h"
#include "e2ee_internal.h"

size_t pier_e2ee_envelope_prefix(const struct pier_e2ee_envelope *e,
                                 uint8_t out[PIER_E2EE_PREFIX_MAX])
{
	uint8_t *p = out;

	*p++ = PIER_E2EE_ENV_VERSION;
	*p++ = e->type;
	if (e->type == PIER_E2EE_ENV_PREKEY) {
		memcpy(p, e->ek, 32);
		p += 32;
		e2ee_put_u32(p, e->spk_id);
		p += 4;
		*p++ = e->has_opk ? 1 : 0;
		if (e->has_opk) {
			e2ee_put_u32(p, e->opk_id);
			p += 4;
		}
	}
	memcpy(p, e->h.dh, 32);
	p += 32;
	e2ee_put_u32(p, e->h.pn);
	e2ee_put_u32(p + 4, e->h.n);
	p += 8;
	return (size_t)(p - out);
}

int pier_e2ee_envelope_parse(const uint8_t *buf, size_t len, struct pier_e2ee_envelope *e)
{
	const uint8_t *p = buf, *end = buf + len;

	memset(e, 0, sizeof(*e));
	if (len < 2 || p[0] != PIER_E2EE_ENV_VERSION ||
	    (p[1] != PIER_E2EE_ENV_PREKEY && p[1] != PIER_E2EE_ENV_RATCHET))
		return PIER_E2EE_ERR_FORMAT;
	e->type = p[1];
	p += 2;
	if (e->type == PIER_E2EE_ENV_PREKEY) {
		if (end - p < 32 + 4 + 1)
			return PIER_E2EE_ERR_FORMAT;
		memcpy(e->ek, p, 32);
		e->spk_id = e2ee_get_u32(p + 32);
		p += 36;
		if (*p > 1)
			return PIER_E2EE_ERR_FORMAT;
		e->has_opk = *p++ == 1;
		if (e->has_opk) {
			if (end - p < 4)
				return PIER_E2EE_ERR_FORMAT;
			e->opk_id = e2ee_get_u32(p);
			p += 4;
		}
	}
	if (end - p < 32 + 8)
		return PIER_E2EE_ERR_FORMAT;
	memcpy(e->h.dh, p, 32);
	e->h.pn = e2ee_get_u32(p + 32);
	e->h.n = e2ee_get_u32(p + 36);
	p += 40;
	e->ct = p;
	e->ct_len = (size_t)(end - p);
	if (e->ct_len < PIER_E2EE_CT_MIN || e->ct_len > PIER_E2EE_CT_MAX)
		return PIER_E2EE_ERR_FORMAT;
	return PIER_E2EE_OK;
}
