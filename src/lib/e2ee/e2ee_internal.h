/* e2ee_internal.h - small helpers shared by the modules of src/lib/e2ee/ (not part of the
 * API): big-endian integers, and the labels of docs/E2EE.md in one place. */
#ifndef PIER_E2EE_INTERNAL_H
#define PIER_E2EE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#define E2EE_LABEL(s) ((const uint8_t *)(s)), (sizeof(s) - 1)

static inline void e2ee_put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint32_t e2ee_get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The X25519 of priv and pub into out; -1 on an all-zero output (a low-order point). */
static inline int e2ee_dh(uint8_t out[32], const uint8_t priv[32], const uint8_t pub[32])
{
	return crypto_scalarmult(out, priv, pub) == 0 ? 0 : -1;
}

/* A JSON integer in 0 .. max into *v. */
static inline bool e2ee_json_uint(const json_t *j, uint64_t max, uint64_t *v)
{
	json_int_t i;

	if (!json_is_integer(j))
		return false;
	i = json_integer_value(j);
	if (i < 0 || (uint64_t)i > max)
		return false;
	*v = (uint64_t)i;
	return true;
}

#endif
