/* wire_cost.c - pier-wire-cost: a driver to count (under valgrind, not to time) what encoding
 * one private message's msg event and sent reply costs, as pierd did it with jansson trees
 * (tree) and as it does it now (writer, wire_msg.c). The message is what pier-bench's
 * private scenario sends. docs/PERFORMANCE.md "Events without a JSON tree" uses it:
 *   valgrind --tool=callgrind pier-wire-cost writer 10000   (instructions)
 *   valgrind pier-wire-cost writer 10000                     (allocations: heap summary)
 * and the same with 0 messages, the difference divided by 10000. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hub.h"
#include "sbuf.h"
#include "store.h"
#include "wire_msg.h"

int main(int argc, char **argv)
{
	struct hub h;
	json_t *ref;
	long n;
	bool tree;
	size_t bytes = 0;

	if (argc != 3 || (strcmp(argv[1], "tree") != 0 && strcmp(argv[1], "writer") != 0)) {
		fprintf(stderr, "usage: pier-wire-cost tree|writer COUNT\n");
		return 2;
	}
	tree = strcmp(argv[1], "tree") == 0;
	n = strtol(argv[2], NULL, 10);
	hub_init(&h);
	hub_add_user(&h, 1, "bench_u17");
	hub_add_user(&h, 2, "bench_u18");
	ref = json_string("0");
	for (long i = 0; i < n; i++) {
		char text[64], to[] = "@bench_u18";
		struct store_msg m = { .id = 100000 + i, .ts = 1765100000000 + i, .from = "bench_u17",
		                       .to = to, .text = text };
		struct store_job job;
		struct sbuf *ev, *sent;

		snprintf(text, sizeof(text), "b 17 %ld 1765100000%06ld", i, i);
		memset(&job, 0, sizeof(job));
		job.status = STORE_OK;
		job.msg_id = m.id;
		job.ts = m.ts;
		json_string_set(ref, text + 5);
		if (tree) {
			json_t *e = wire_msg_live_json(&h, &m), *r = wire_sent_json(&h, ref, &job, to);

			ev = sbuf_from_json(e);
			sent = sbuf_from_json(r);
			json_decref(e);
			json_decref(r);
		} else {
			ev = wire_msg_live(&h, &m);
			sent = wire_sent(&h, ref, &job, to);
		}
		bytes += ev->len + sent->len;
		sbuf_unref(ev);
		sbuf_unref(sent);
	}
	json_decref(ref);
	hub_release(&h);
	printf("%ld messages, %zu bytes\n", n, bytes);
	return 0;
}
