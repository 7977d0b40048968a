/* bundle.c - the parser of a `keys` reply (docs/PROTOCOL.md "prekeys, keys") into the
 * bundles that start sessions. The server's JSON is untrusted input: every field is checked
 * for type and size, every array is bounded; nothing cryptographic is checked here. */
#include "e2ee.h"
#include "e2ee_internal.h"

static int device_parse(const json_t *j, struct pier_e2ee_bundle_device *d)
{
	const json_t *spk = json_object_get(j, "spk"), *opk = json_object_get(j, "opk"),
	             *listed = json_object_get(j, "listed");
	uint64_t id;

	memset(d, 0, sizeof(*d));
	if (!json_is_object(j) || !json_is_object(spk) ||
	    pier_e2ee_json_bytes(j, "id", d->keys.id, sizeof(d->keys.id)) != 0 ||
	    pier_e2ee_json_bytes(j, "sign_key", d->keys.sign_pub, 32) != 0 ||
	    pier_e2ee_json_bytes(j, "dh_key", d->keys.dh_pub, 32) != 0 ||
	    !e2ee_json_uint(json_object_get(spk, "id"), UINT32_MAX, &id) ||
	    pier_e2ee_json_bytes(spk, "key", d->spk_pub, 32) != 0 ||
	    pier_e2ee_json_bytes(spk, "sig", d->spk_sig, sizeof(d->spk_sig)) != 0)
		return PIER_E2EE_ERR_FORMAT;
	d->spk_id = (uint32_t)id;
	if (opk != NULL && !json_is_null(opk)) {
		if (!json_is_object(opk) ||
		    !e2ee_json_uint(json_object_get(opk, "id"), UINT32_MAX, &id) ||
		    pier_e2ee_json_bytes(opk, "key", d->opk_pub, 32) != 0)
			return PIER_E2EE_ERR_FORMAT;
		d->has_opk = true;
		d->opk_id = (uint32_t)id;
	}
	if (listed != NULL && !json_is_boolean(listed))
		return PIER_E2EE_ERR_FORMAT;
	d->listed = listed == NULL || json_is_true(listed);
	return PIER_E2EE_OK;
}

int pier_e2ee_bundle_parse(const json_t *reply, struct pier_e2ee_bundle *out)
{
	const json_t *devs = json_object_get(reply, "devices");
	const char *user = json_string_value(json_object_get(reply, "user"));
	const char *list = json_string_value(json_object_get(reply, "list"));
	uint64_t version;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(reply) || user == NULL || pier_name_check(user) != PIER_NAME_OK ||
	    !e2ee_json_uint(json_object_get(reply, "version"), UINT32_MAX, &version) ||
	    !json_is_array(devs) || json_array_size(devs) > PIER_E2EE_BUNDLE_MAX)
		return PIER_E2EE_ERR_FORMAT;
	pier_name_key(user, out->user);
	out->version = (uint32_t)version;
	if (version > 0) {
		if (list == NULL ||
		    pier_e2ee_b64_decode(list, out->list, sizeof(out->list), &out->list_len) != 0 ||
		    pier_e2ee_json_bytes(reply, "sig", out->sig, sizeof(out->sig)) != 0)
			return PIER_E2EE_ERR_FORMAT;
	}
	for (size_t i = 0; i < json_array_size(devs); i++) {
		struct pier_e2ee_bundle_device *d = &out->dev[i];

		if (device_parse(json_array_get(devs, i), d) != PIER_E2EE_OK)
			return PIER_E2EE_ERR_FORMAT;
		for (size_t k = 0; k < i; k++)
			if (memcmp(out->dev[k].keys.id, d->keys.id, sizeof(d->keys.id)) == 0)
				return PIER_E2EE_ERR_FORMAT;
		out->count = (unsigned)i + 1;
	}
	return PIER_E2EE_OK;
}
