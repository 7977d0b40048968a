/* deferred.c - requests answered after a store job (deferred.h). */
#include "deferred.h"

#include <stdlib.h>

#include "conn.h"
#include "hub.h"
#include "xalloc.h"

struct deferred *deferred_new(struct conn *c, json_t *req, json_t *ref, enum store_op op,
                              void (*done)(struct store_job *))
{
	struct deferred *d = xcalloc(1, sizeof(*d));

	d->c = c;
	conn_ref(c);
	d->slot = conn_slot_open(c);
	d->req = json_incref(req);
	d->ref = ref;                /* lives inside req */
	d->user = c->user;
	store_job_init(&d->job, op);
	d->job.data = d;
	d->job.done = done;
	if (c->user != NULL)
		d->job.user_id = c->user->id;
	return d;
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
