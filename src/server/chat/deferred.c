/* deferred.c - requests answered after a store job (deferred.h). */
#include "deferred.h"

#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "hub.h"
#include "xalloc.h"

struct deferred *deferred_new_sized(struct conn *c, json_t *ref, enum store_op op,
                                    void (*done)(struct store_job *), size_t bytes)
{
	struct deferred *d = xcalloc(1, sizeof(*d) + bytes);

	d->c = c;
	conn_ref(c);
	d->slot = conn_slot_open(c);
	d->ref = json_incref(ref);
	d->copies_size = bytes;
	d->user = c->user;
	store_job_init(&d->job, op);
	d->job.data = d;
	d->job.done = done;
	if (c->user != NULL)
		d->job.user_id = c->user->id;
	return d;
}

struct deferred *deferred_new(struct conn *c, json_t *req, json_t *ref, enum store_op op,
                              void (*done)(struct store_job *))
{
	struct deferred *d = deferred_new_sized(c, ref, op, done, 0);

	d->req = json_incref(req);
	return d;
}

const char *deferred_copy(struct deferred *d, const char *s, size_t len)
{
	char *out = d->copies + d->copies_used;

	if (len >= d->copies_size - d->copies_used)
		abort();                 /* the caller's count is wrong: a bug, not input */
	memcpy(out, s, len);
	out[len] = '\0';
	d->copies_used += len + 1;
	return out;
}

void deferred_set_target(struct deferred *d, struct room *room, struct user *peer)
{
	d->room = room;
	d->peer = peer;
	d->job.room = room != NULL ? room->name : NULL;
	d->job.peer_id = peer != NULL ? peer->id : 0;
}

/* Frees d, its slot filled. */
static void deferred_free(struct deferred *d)
{
	struct conn *c = d->c;

	store_job_release(&d->job);
	json_decref(d->req);
	json_decref(d->ref);
	json_decref(d->keep);
	free(d);
	conn_unref(c);
}

void deferred_finish(struct deferred *d, json_t *reply)
{
	conn_slot_fill(d->c, d->slot, reply);
	deferred_free(d);
}

void deferred_finish_buf(struct deferred *d, struct sbuf *reply)
{
	conn_slot_fill_buf(d->c, d->slot, reply);
	deferred_free(d);
}
