/* device.c - one's own device: its keys (DSK, DIK, the signed prekey and the one before,
 * one-time prekeys) and their JSON form for the key store. */
#include "e2ee.h"
#include "e2ee_internal.h"

#include <stdlib.h>

static void spk_make(struct pier_e2ee_spk *spk, const struct pier_e2ee_device *d, uint32_t id,
                     struct pier_e2ee_rng *rng)
{
	spk->id = id;
	pier_e2ee_rng_fill(rng, spk->priv, sizeof(spk->priv));
	crypto_scalarmult_base(spk->pub, spk->priv);
	pier_e2ee_spk_sign(d->sign_seed, d->pub.id, id, spk->pub, spk->sig);
}

int pier_e2ee_device_create(struct pier_e2ee_device *d, uint64_t created_ms,
                            struct pier_e2ee_rng *rng)
{
	memset(d, 0, sizeof(*d));
	pier_e2ee_rng_fill(rng, d->pub.id, sizeof(d->pub.id));
	pier_e2ee_rng_fill(rng, d->sign_seed, sizeof(d->sign_seed));
	pier_e2ee_sign_pub(d->sign_seed, d->pub.sign_pub);
	pier_e2ee_rng_fill(rng, d->dh_priv, sizeof(d->dh_priv));
	crypto_scalarmult_base(d->pub.dh_pub, d->dh_priv);
	d->created_ms = created_ms;
	spk_make(&d->spk, d, 1, rng);
	d->next_opk_id = 1;
	return PIER_E2EE_OK;
}

int pier_e2ee_device_add_opks(struct pier_e2ee_device *d, size_t n, struct pier_e2ee_rng *rng,
                              size_t *first)
{
	struct pier_e2ee_opk *opks;

	if (n > PIER_E2EE_MAX_OPKS - d->opk_count || (uint64_t)d->next_opk_id + n > UINT32_MAX)
		return PIER_E2EE_ERR_LIMIT;
	if (first != NULL)
		*first = d->opk_count;
	if (n == 0)
		return PIER_E2EE_OK;
	/* Not realloc: the old array holds private keys and is wiped before it is freed. */
	opks = calloc(d->opk_count + n, sizeof(*opks));
	if (opks == NULL)
		return PIER_E2EE_ERR_LIMIT;
	if (d->opk_count > 0)
		memcpy(opks, d->opks, d->opk_count * sizeof(*opks));
	for (size_t i = 0; i < n; i++) {
		struct pier_e2ee_opk *k = &opks[d->opk_count + i];

		k->id = d->next_opk_id++;
		pier_e2ee_rng_fill(rng, k->priv, sizeof(k->priv));
		crypto_scalarmult_base(k->pub, k->priv);
	}
	if (d->opks != NULL) {
		sodium_memzero(d->opks, d->opk_count * sizeof(*opks));
		free(d->opks);
	}
	d->opks = opks;
	d->opk_count += n;
	return PIER_E2EE_OK;
}

void pier_e2ee_device_rotate_spk(struct pier_e2ee_device *d, struct pier_e2ee_rng *rng)
{
	d->prev_spk = d->spk;
	d->has_prev_spk = true;
	spk_make(&d->spk, d, d->spk.id + 1, rng);
}

const struct pier_e2ee_spk *pier_e2ee_device_find_spk(const struct pier_e2ee_device *d,
                                                      uint32_t id)
{
	if (d->spk.id == id)
		return &d->spk;
	if (d->has_prev_spk && d->prev_spk.id == id)
		return &d->prev_spk;
	return NULL;
}

const struct pier_e2ee_opk *pier_e2ee_device_find_opk(const struct pier_e2ee_device *d,
                                                      uint32_t id)
{
	for (size_t i = 0; i < d->opk_count; i++)
		if (d->opks[i].id == id)
			return &d->opks[i];
	return NULL;
}

void pier_e2ee_device_remove_opk(struct pier_e2ee_device *d, uint32_t id)
{
	for (size_t i = 0; i < d->opk_count; i++) {
		if (d->opks[i].id != id)
			continue;
		memmove(&d->opks[i], &d->opks[i + 1], (d->opk_count - i - 1) * sizeof(d->opks[0]));
		d->opk_count--;
		sodium_memzero(&d->opks[d->opk_count], sizeof(d->opks[0]));
		return;
	}
}

void pier_e2ee_device_release(struct pier_e2ee_device *d)
{
	if (d->opks != NULL) {
		sodium_memzero(d->opks, d->opk_count * sizeof(d->opks[0]));
		free(d->opks);
	}
	sodium_memzero(d, sizeof(*d));
}

static json_t *spk_to_json(const struct pier_e2ee_spk *spk)
{
	json_t *j = json_pack("{s:I}", "id", (json_int_t)spk->id);

	if (j == NULL || pier_e2ee_json_set_bytes(j, "priv", spk->priv, sizeof(spk->priv)) != 0 ||
	    pier_e2ee_json_set_bytes(j, "sig", spk->sig, sizeof(spk->sig)) != 0) {
		json_decref(j);
		return NULL;
	}
	return j;
}

static int spk_from_json(const json_t *j, struct pier_e2ee_spk *spk)
{
	uint64_t id;

	if (!e2ee_json_uint(json_object_get(j, "id"), UINT32_MAX, &id) ||
	    pier_e2ee_json_bytes(j, "priv", spk->priv, sizeof(spk->priv)) != 0 ||
	    pier_e2ee_json_bytes(j, "sig", spk->sig, sizeof(spk->sig)) != 0)
		return PIER_E2EE_ERR_FORMAT;
	spk->id = (uint32_t)id;
	crypto_scalarmult_base(spk->pub, spk->priv);
	return PIER_E2EE_OK;
}

json_t *pier_e2ee_device_to_json(const struct pier_e2ee_device *d)
{
	json_t *j = json_pack("{s:i, s:I, s:I}", "v", 1, "created", (json_int_t)d->created_ms,
	                      "next_opk_id", (json_int_t)d->next_opk_id);
	json_t *opks = json_array();

	if (j == NULL || opks == NULL || json_object_set(j, "opks", opks) != 0 ||
	    pier_e2ee_json_set_bytes(j, "id", d->pub.id, sizeof(d->pub.id)) != 0 ||
	    pier_e2ee_json_set_bytes(j, "sign_seed", d->sign_seed, sizeof(d->sign_seed)) != 0 ||
	    pier_e2ee_json_set_bytes(j, "dh_priv", d->dh_priv, sizeof(d->dh_priv)) != 0 ||
	    json_object_set_new(j, "spk", spk_to_json(&d->spk)) != 0 ||
	    (d->has_prev_spk && json_object_set_new(j, "prev_spk", spk_to_json(&d->prev_spk)) != 0))
		goto fail;
	for (size_t i = 0; i < d->opk_count; i++) {
		json_t *k = json_pack("{s:I}", "id", (json_int_t)d->opks[i].id);

		if (k == NULL || json_array_append_new(opks, k) != 0 ||
		    pier_e2ee_json_set_bytes(k, "priv", d->opks[i].priv, sizeof(d->opks[i].priv)) != 0)
			goto fail;
	}
	json_decref(opks);
	return j;
fail:
	json_decref(opks);
	json_decref(j);
	return NULL;
}

int pier_e2ee_device_from_json(const json_t *j, struct pier_e2ee_device *d)
{
	const json_t *opks = json_object_get(j, "opks"), *prev = json_object_get(j, "prev_spk");
	uint64_t v, created, next;
	size_t n = json_array_size(opks);

	memset(d, 0, sizeof(*d));
	if (!e2ee_json_uint(json_object_get(j, "v"), 1, &v) || v != 1 ||
	    !e2ee_json_uint(json_object_get(j, "created"), INT64_MAX, &created) ||
	    !e2ee_json_uint(json_object_get(j, "next_opk_id"), UINT32_MAX, &next) ||
	    !json_is_array(opks) || n > PIER_E2EE_MAX_OPKS ||
	    pier_e2ee_json_bytes(j, "id", d->pub.id, sizeof(d->pub.id)) != 0 ||
	    pier_e2ee_json_bytes(j, "sign_seed", d->sign_seed, sizeof(d->sign_seed)) != 0 ||
	    pier_e2ee_json_bytes(j, "dh_priv", d->dh_priv, sizeof(d->dh_priv)) != 0 ||
	    spk_from_json(json_object_get(j, "spk"), &d->spk) != 0 ||
	    (prev != NULL && spk_from_json(prev, &d->prev_spk) != 0))
		goto fail;
	d->has_prev_spk = prev != NULL;
	d->created_ms = created;
	d->next_opk_id = (uint32_t)next;
	pier_e2ee_sign_pub(d->sign_seed, d->pub.sign_pub);
	crypto_scalarmult_base(d->pub.dh_pub, d->dh_priv);
	if (n > 0) {
		d->opks = calloc(n, sizeof(*d->opks));
		if (d->opks == NULL)
			goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		const json_t *k = json_array_get(opks, i);
		uint64_t id;

		if (!e2ee_json_uint(json_object_get(k, "id"), UINT32_MAX, &id) ||
		    pier_e2ee_json_bytes(k, "priv", d->opks[i].priv, sizeof(d->opks[i].priv)) != 0)
			goto fail;
		d->opks[i].id = (uint32_t)id;
		crypto_scalarmult_base(d->opks[i].pub, d->opks[i].priv);
		d->opk_count = i + 1;
	}
	return PIER_E2EE_OK;
fail:
	pier_e2ee_device_release(d);
	return PIER_E2EE_ERR_FORMAT;
}
