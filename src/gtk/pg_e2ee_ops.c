/* pg_e2ee_ops.c - the device operations pier-gtk's windows call (pg_e2ee.h, "the device
 * operations"): the devices as last known, approving by code, renaming, removing, resetting,
 * safety numbers and "verified". The device's life, sends and envelopes are pg_e2ee.c's; the
 * two share pg_e2ee_internal.h. */
#include "pg_e2ee.h"

#include <string.h>

#include "pg_e2ee_internal.h"
#include "pg_i18n.h"
#include "pier_e2ee.h"

enum pg_e2ee_state pg_e2ee_state(const struct pg_e2ee *e)
{
	return e->state;
}

const char *pg_e2ee_device_name(const struct pg_e2ee *e)
{
	return e->loaded && e->m.has_device ? e->m.name : "";
}

void pg_e2ee_device_id(const struct pg_e2ee *e, char out[24])
{
	out[0] = '\0';
	if (e->loaded && e->m.has_device)
		pier_e2ee_mgr_device_id(&e->m, out);
}

bool pg_e2ee_code(const struct pg_e2ee *e, char out[10])
{
	return e->loaded && e->m.has_device && e->m.state != PIER_E2EE_ACTIVE &&
	       pier_e2ee_own_code(&e->m, out) == 0;
}

void pg_e2ee_refresh(struct pg_e2ee *e)
{
	if (e->loaded && e->usable)
		pg_e2ee__request(e, pier_req_devices(NULL), R_OWN, NULL);
}

json_t *pg_e2ee_devices(const struct pg_e2ee *e)
{
	json_t *out = json_array(), *d;
	const struct pier_e2ee_contact *mine;
	char self[PIER_E2EE_ID_B64] = "";
	size_t i;

	if (!e->loaded || e->own_reply == NULL)
		return out;
	mine = pier_e2ee_contact_find((struct pier_e2ee_contacts *)&e->m.contacts, e->m.user);
	pier_e2ee_mgr_device_id(&e->m, self);
	json_array_foreach(json_object_get(e->own_reply, "devices"), i, d) {
		const char *id = json_string_value(json_object_get(d, "id"));
		const char *name = json_string_value(json_object_get(d, "name"));
		const char *state = json_string_value(json_object_get(d, "state"));
		json_t *row;

		if (id == NULL)
			continue;
		/* the signed list's name, not the one the server kept from the registration */
		if (mine != NULL && mine->list != NULL) {
			uint8_t bin[PIER_E2EE_ID_LEN];
			int at;

			if (pier_e2ee_b64_decode_exact(id, bin, sizeof bin) == PIER_E2EE_OK &&
			    (at = pier_devlist_find(mine->list, bin)) >= 0)
				name = mine->list->dev[at].name;
		}
		row = json_pack("{s:s, s:s, s:s}", "id", id, "name", name != NULL ? name : "",
		                "state", state != NULL ? state : "?");
		for (unsigned k = 0; k < e->own.npending; k++)
			if (strcmp(e->own.pending[k].id, id) == 0)
				json_object_set_new(row, "code", json_string(e->own.pending[k].code));
		if (strcmp(id, self) == 0)
			json_object_set_new(row, "this", json_true());
		json_array_append_new(out, row);
	}
	return out;
}

unsigned pg_e2ee_pending_count(const struct pg_e2ee *e)
{
	return e->loaded && e->has_own && e->m.state == PIER_E2EE_ACTIVE ? e->own.npending : 0;
}

bool pg_e2ee_approve(struct pg_e2ee *e, const char *code)
{
	char d[9];

	if (!e->loaded || !e->usable)
		return false;
	if (pier_e2ee_code_digits(code, d) != 8) {
		pg_e2ee__say(e, "%s", _("The code is the 8 digits the new device shows."));
		return false;
	}
	if (e->m.state != PIER_E2EE_ACTIVE) {
		pg_e2ee__say(e, "%s", _("Only an approved device can approve another."));
		return false;
	}
	return pg_e2ee__request(e, pier_req_devices(NULL), R_APPROVE, d) != NULL;
}

static bool publish(struct pg_e2ee *e, json_t *req)
{
	struct req *r;

	if (req == NULL) {
		pg_e2ee__say(e, "%s", _("No such device in your list (or this device cannot change it)."));
		return false;
	}
	if (pg_e2ee__save(e) != 0) {
		json_decref(req);
		return false;
	}
	r = pg_e2ee__request(e, req, R_PUBLISH, NULL);
	if (r != NULL)
		r->pkind = P_CHANGE;
	return r != NULL;
}

bool pg_e2ee_rename(struct pg_e2ee *e, const char *id, const char *name)
{
	if (!e->loaded || !e->usable || name == NULL || strlen(name) > PIER_E2EE_NAME_MAX)
		return false;
	return publish(e, pier_e2ee_req_rename(&e->m, id, name));
}

bool pg_e2ee_remove(struct pg_e2ee *e, const char *id)
{
	if (!e->loaded || !e->usable)
		return false;
	return publish(e, pier_e2ee_req_remove(&e->m, id));
}

bool pg_e2ee_reset(struct pg_e2ee *e)
{
	if (!e->loaded || !e->usable)
		return false;
	if (e->m.state == PIER_E2EE_ACTIVE) {
		pg_e2ee__say(e, "%s", _("This device is approved: a reset is for a new device when "
		                        "every other device of yours is lost."));
		return false;
	}
	return pg_e2ee__request(e, pier_req_devices(NULL), R_RESET, NULL) != NULL;
}

void pg_e2ee_ask_safety(struct pg_e2ee *e, const char *user)
{
	const char *u = user != NULL && user[0] == '@' ? user + 1 : user;

	if (e->loaded && e->usable && u != NULL && u[0] != '\0')
		pg_e2ee__request(e, pier_req_devices(u), R_SAFETY, u);
}

bool pg_e2ee_safety(const struct pg_e2ee *e, const char *user, char out[80], bool *verified)
{
	const struct pier_e2ee_contact *k;
	char d[PIER_E2EE_SAFETY_DIGITS + 1];

	out[0] = '\0';
	*verified = false;
	if (!e->loaded || !e->m.has_ak || user == NULL)
		return false;
	k = pier_e2ee_contact_find((struct pier_e2ee_contacts *)&e->m.contacts,
	                           user[0] == '@' ? user + 1 : user);
	if (k == NULL || pier_e2ee_safety_number(e->m.user, e->m.ak_pub, k->user, k->ak, d) !=
	    PIER_E2EE_OK)
		return false;
	pier_e2ee_safety_format(d, out);
	*verified = k->verified;
	return true;
}

bool pg_e2ee_verify(struct pg_e2ee *e, const char *user, bool verified)
{
	struct pier_e2ee_contact *k;

	if (!e->loaded || user == NULL)
		return false;
	user = user[0] == '@' ? user + 1 : user;
	if (pier_e2ee_contact_verify(&e->m.contacts, user, verified) != 0)
		return false;
	k = pier_e2ee_contact_find(&e->m.contacts, user);
	if (k != NULL)
		k->changed = false;
	e->m.dirty = true;
	pg_e2ee__schedule_flush(e);
	pg_e2ee__changed(e);
	return true;
}

bool pg_e2ee_safety_changed(const struct pg_e2ee *e, const char *user)
{
	const struct pier_e2ee_contact *k;

	if (!e->loaded || user == NULL)
		return false;
	k = pier_e2ee_contact_find((struct pier_e2ee_contacts *)&e->m.contacts,
	                           user[0] == '@' ? user + 1 : user);
	return k != NULL && k->changed;
}

void pg_e2ee_safety_seen(struct pg_e2ee *e, const char *user)
{
	struct pier_e2ee_contact *k;

	if (!e->loaded || user == NULL)
		return;
	k = pier_e2ee_contact_find(&e->m.contacts, user[0] == '@' ? user + 1 : user);
	if (k == NULL || !k->changed)
		return;
	k->changed = false;
	e->m.dirty = true;
	pg_e2ee__schedule_flush(e);
	pg_e2ee__changed(e);
}
