/* store_e2ee_sets.c - the store thread's memory of each user's active devices
 * (store_e2ee_sets.h): a small open-addressing table by user id. */
#include "store_e2ee_sets.h"

#include <stdlib.h>
#include <string.h>

#define CAP (2 * STORE_E2EE_SETS_MAX)   /* a power of two: at most half full */

void store_e2ee_sets_init(struct store_e2ee_sets *s)
{
	memset(s, 0, sizeof(*s));
}

void store_e2ee_sets_forget(struct store_e2ee_sets *s)
{
	if (s->count == 0)
		return;
	for (size_t i = 0; i < s->cap; i++) {
		free(s->slot[i]);
		s->slot[i] = NULL;
	}
	s->count = 0;
}

void store_e2ee_sets_release(struct store_e2ee_sets *s)
{
	store_e2ee_sets_forget(s);
	free(s->slot);
	memset(s, 0, sizeof(*s));
}

void store_e2ee_sets_at_version(struct store_e2ee_sets *s, int64_t version)
{
	if (version != s->version)
		store_e2ee_sets_forget(s);
	s->version = version;
}

static size_t home(int64_t user_id)
{
	uint64_t h = (uint64_t)user_id * 0x9e3779b97f4a7c15u;

	return (size_t)(h >> 32) & (CAP - 1);
}

const struct store_e2ee_set *store_e2ee_sets_get(const struct store_e2ee_sets *s,
                                                 int64_t user_id)
{
	if (s->count == 0)
		return NULL;
	for (size_t i = home(user_id);; i = (i + 1) & (CAP - 1)) {
		const struct store_e2ee_set *e = s->slot[i];

		if (e == NULL)
			return NULL;
		if (e->user_id == user_id)
			return e;
	}
}

void store_e2ee_sets_put(struct store_e2ee_sets *s, int64_t user_id,
                         const struct store_e2ee_dev *dev, size_t n)
{
	struct store_e2ee_set *e;
	size_t i;

	if (n > STORE_E2EE_SET_DEVICES)
		return;
	if (s->slot == NULL) {
		s->slot = calloc(CAP, sizeof(*s->slot));
		if (s->slot == NULL)
			return;             /* not kept: read every time */
		s->cap = CAP;
	}
	if (s->count >= STORE_E2EE_SETS_MAX)
		store_e2ee_sets_forget(s);
	for (i = home(user_id); s->slot[i] != NULL; i = (i + 1) & (CAP - 1)) {
		if (s->slot[i]->user_id == user_id)
			break;
	}
	e = malloc(sizeof(*e) + n * sizeof(e->dev[0]));
	if (e == NULL)
		return;
	e->user_id = user_id;
	e->n = n;
	if (n > 0)
		memcpy(e->dev, dev, n * sizeof(e->dev[0]));
	if (s->slot[i] == NULL)
		s->count++;
	free(s->slot[i]);
	s->slot[i] = e;
}
