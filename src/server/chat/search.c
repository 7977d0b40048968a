/* search.c - the search op: checks the query (length first, then what it holds) and the
 * conversation, then a STORE_SEARCH job (src/store/store_search.c) reads the matches the user
 * may read, newest first, with the ranges each matched; the reply is those messages as
 * history shows them (replies, mentions, edits, reactions, display names: event_msg) plus
 * their "highlight". A recalled message is never among them. */
#include "search.h"

#include <stdlib.h>
#include <string.h>

#include "chat.h"
#include "conn.h"
#include "deferred.h"
#include "events.h"
#include "hub.h"
#include "reply.h"
#include "server.h"
#include "store_query.h"
#include "xalloc.h"

#define SEARCH_PAGE_DEFAULT 50
#define SEARCH_PAGE_MAX     100

/* [[start,end],...] of n spans (code points). New reference. */
static json_t *spans_json(const struct store_span *v, int n)
{
	json_t *a = json_array();

	for (int i = 0; i < n; i++)
		json_array_append_new(a, json_pack("[i,i]", (int)v[i].start, (int)v[i].end));
	return a;
}

static void search_read(struct store_job *job)
{
	struct deferred *d = job->data;
	struct hub *h = &d->c->srv->hub;
	json_t *r, *list;

	if (job->status != STORE_OK) {
		deferred_finish(d, error_new(d->ref, PIER_ERR_STORE_FAILED, "the search failed"));
		return;
	}
	r = reply_new("search", d->ref);
	json_object_set(r, "q", json_object_get(d->req, "q"));
	if (json_is_string(json_object_get(d->req, "with")))
		json_object_set(r, "with", json_object_get(d->req, "with"));
	list = json_array();
	for (size_t i = 0; i < job->nmsgs; i++) {
		const struct store_msg *m = &job->msgs[i];
		json_t *j = event_msg(h, m);

		json_object_del(j, "op");
		json_object_set_new(j, "highlight", spans_json(m->spans, m->nspans));
		if (m->nname_spans > 0)
			json_object_set_new(j, "name_highlight", spans_json(m->name_spans, m->nname_spans));
		json_array_append_new(list, j);
	}
	json_object_set_new(r, "messages", list);
	json_object_set_new(r, "more", json_boolean(job->more));
	if (job->more)
		json_object_set_new(r, "next_before", json_integer(job->next_before));
	deferred_finish(d, r);
}

void handle_search(struct conn *c, json_t *req, json_t *ref)
{
	json_t *qv = json_object_get(req, "q"), *wv = json_object_get(req, "with");
	const char *q = json_string_value(qv), *with = NULL;
	int64_t before = 0, limit = 0;
	struct room *room = NULL;
	struct user *peer = NULL;
	struct store_query *parsed;
	enum store_query_status qs;
	struct deferred *d;

	if (q == NULL) {
		reply_error(c, ref, PIER_ERR_BAD_REQUEST, "search needs a string field q");
		return;
	}
	/* the length before anything looks at the text */
	if (json_string_length(qv) > STORE_QUERY_MAX) {
		reply_error(c, ref, PIER_ERR_QUERY_TOO_LONG, "a search is at most %d bytes",
		            STORE_QUERY_MAX);
		return;
	}
	if (wv != NULL && !json_is_null(wv)) {
		with = json_string_value(wv);
		if (with == NULL) {
			reply_error(c, ref, PIER_ERR_BAD_REQUEST, "with must be \"#room\" or \"@user\"");
			return;
		}
	}
	if (chat_opt_int(c, req, ref, "before", &before) != 0 ||
	    chat_opt_int(c, req, ref, "limit", &limit) != 0)
		return;
	if (with != NULL && chat_target(c, ref, with, &room, &peer) != 0)
		return;
	parsed = xmalloc(sizeof(*parsed));
	/* strlen is the length: the JSON reader refuses strings with NUL (\u0000) */
	qs = store_query_parse(parsed, q, strlen(q));
	free(parsed);
	if (qs == STORE_QUERY_TOO_LONG) {
		reply_error(c, ref, PIER_ERR_QUERY_TOO_LONG, "a search has at most %d words",
		            STORE_QUERY_TERMS_MAX);
		return;
	}
	if (qs != STORE_QUERY_OK) {
		reply_error(c, ref, PIER_ERR_QUERY_TOO_SHORT,
		            "nothing to search for: a word of two or more letters, or a CJK character");
		return;
	}
	d = deferred_new(c, req, ref, STORE_SEARCH, search_read);
	deferred_set_target(d, room, peer);
	d->job.text = q;
	d->job.before = before;
	d->job.limit = limit <= 0 ? SEARCH_PAGE_DEFAULT : limit > SEARCH_PAGE_MAX ? SEARCH_PAGE_MAX
	                                                                     : (int)limit;
	store_submit(c->srv->store, &d->job);
}
