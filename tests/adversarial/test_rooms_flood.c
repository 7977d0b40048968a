/* test_rooms_flood.c - rooms cannot be made unusable for everyone.
 *
 * The attack (issue 8, item 4): one account joined ~62 000 rooms, after which every `rooms`
 * answer passed --max-output and the asker was dropped as slow_consumer. Now:
 *   - one user is refused past --max-rooms-per-user (too_many_rooms, with the limit);
 *   - new rooms are refused past --max-rooms (too_many_rooms), existing ones may still be
 *     joined;
 *   - `rooms` answers are pages (after/limit, more, total), each far below --max-output;
 *     a bystander gets them all;
 *   - rooms without members are forgotten after --room-forget-after and stop counting (new
 *     rooms may be created again), and joining one again brings back its history.
 * Bounds: pierd's descriptors return, RSS grows by less than RSS_GROWTH_MAX, nobody is dropped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "harness.h"

#define PER_USER       20
#define TOTAL          50
#define FORGET_S       2
#define PAGE_BYTES_MAX (64 * 1024)      /* --max-output is 4 MiB */
#define RSS_GROWTH_MAX (32L * 1024 * 1024)

static struct pierd *pd;

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static long proc_rss(int pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb < 0 ? -1 : kb * 1024;
}

static int proc_fds(int pid)
{
	char cmd[96], line[32];
	int n = -1;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "ls /proc/%d/fd | wc -l", pid);
	f = popen(cmd, "r");
	if (f == NULL)
		return -1;
	if (fgets(line, sizeof(line), f) != NULL)
		n = atoi(line);
	pclose(f);
	return n;
}

/* join room: the reply (new reference; "join" or an error). */
static json_t *join(struct pier_conn *c, const char *room)
{
	return client_call(c, pier_req_join(room));
}

static bool join_ok(struct pier_conn *c, const char *room)
{
	json_t *r = join(c, room);
	bool ok = is_op(r, "join");

	if (!ok)
		CHECK(false, "join %s: %s", room, jdump(r));
	json_decref(r);
	return ok;
}

/* Walks every `rooms` page of size limit; returns the rooms seen (new array of names) and
 * checks each page's size, order and the total. */
static json_t *all_rooms(struct pier_conn *c, int limit, int64_t *total)
{
	json_t *names = json_array();
	char after[64] = "";
	int pages = 0;

	*total = -1;
	for (; pages < 200; pages++) {
		json_t *req = pier_req_rooms_page(after[0] ? after : NULL, limit), *r, *room;
		char *dump;
		size_t i, bytes;

		r = client_call(c, req);
		if (!CHECK(is_op(r, "rooms"), "rooms page %d: %s", pages, jdump(r))) {
			json_decref(r);
			break;
		}
		dump = json_dumps(r, JSON_COMPACT);
		bytes = strlen(dump);
		free(dump);
		CHECK(bytes < PAGE_BYTES_MAX, "a rooms page is %zu bytes (bound %d)", bytes,
		      PAGE_BYTES_MAX);
		CHECK(json_array_size(json_object_get(r, "rooms")) <= (size_t)limit,
		      "a page holds at most limit=%d rooms", limit);
		*total = jint(r, "total", -1);
		json_array_foreach(json_object_get(r, "rooms"), i, room) {
			json_array_append_new(names, json_string(jstr(room, "room")));
			snprintf(after, sizeof(after), "%s", jstr(room, "room"));
		}
		if (!jtrue(r, "more")) {
			json_decref(r);
			break;
		}
		json_decref(r);
	}
	return names;
}

static bool has_name(const json_t *names, const char *name)
{
	size_t i;
	json_t *v;

	json_array_foreach(names, i, v)
		if (strcasecmp(json_string_value(v), name) == 0)
			return true;
	return false;
}

/* The rooms' total as `rooms` says, or -1. */
static int64_t rooms_total(struct pier_conn *c)
{
	json_t *r = client_call(c, pier_req_rooms_page(NULL, 1));
	int64_t t = jint(r, "total", -1);

	json_decref(r);
	return t;
}

int main(void)
{
	static const char *const args[] = {
		"--max-rooms-per-user", "20", "--max-rooms", "50", "--room-forget-after", "2",
		"--no-rate-limits", NULL
	};
	char name[HARNESS_NAME_MAX], room[64];
	struct pier_conn *by, *a, *a2, *a3;
	json_t *r, *names;
	int64_t total = 0;
	long rss0, rss1;
	int fds0, fds1, joined = 0;

	harness_watchdog(55);
	pd = pierd_start(args);
	if (pd == NULL)
		return harness_done();
	by = client_new_user(pd, "bystander", name);
	a = client_new_user(pd, "flooder", name);
	a2 = client_new_user(pd, "flooder2", name);
	a3 = client_new_user(pd, "flooder3", name);
	if (by == NULL || a == NULL || a2 == NULL || a3 == NULL)
		goto out;
	fds0 = proc_fds(pierd_pid(pd));
	rss0 = proc_rss(pierd_pid(pd));

	/* One account joins until refused: at the per-user cap. */
	for (int i = 0; i < PER_USER + 10; i++) {
		snprintf(room, sizeof(room), "#a%d", i);
		r = join(a, room);
		if (!is_op(r, "join")) {
			CHECK(is_error(r, "too_many_rooms") && jint(r, "limit", -1) == PER_USER,
			      "refused with too_many_rooms and the limit: %s", jdump(r));
			json_decref(r);
			break;
		}
		joined++;
		json_decref(r);
	}
	CHECK(joined == PER_USER, "one user is refused past --max-rooms-per-user (joined %d, cap %d)",
	      joined, PER_USER);
	CHECK(join_ok(a, "#a0"), "joining a room one is in already is not refused");
	CHECK(join_ok(a, "#lobby"), "#lobby does not count against the cap");

	/* The total: a2 takes 20 more (40), a3 may create 10, then new rooms are refused. */
	for (int i = 0; i < PER_USER; i++) {
		snprintf(room, sizeof(room), "#b%d", i);
		join_ok(a2, room);
	}
	joined = 0;
	for (int i = 0; i < PER_USER; i++) {
		snprintf(room, sizeof(room), "#c%d", i);
		r = join(a3, room);
		if (!is_op(r, "join")) {
			CHECK(is_error(r, "too_many_rooms") && jint(r, "limit", -1) == TOTAL,
			      "a new room past --max-rooms: too_many_rooms with the limit: %s", jdump(r));
			json_decref(r);
			break;
		}
		joined++;
		json_decref(r);
	}
	CHECK(joined == TOTAL - 2 * PER_USER, "new rooms refused at the total (%d created)", joined);
	CHECK(join_ok(a3, "#b0"), "an existing room may still be joined at the total");

	/* Paging: every room once, in order, in small pages; the bystander too. */
	names = all_rooms(by, 7, &total);
	CHECK(total == TOTAL + 1 && json_array_size(names) == (size_t)total,
	      "pages of 7 list all %lld rooms once (%zu seen)", (long long)total,
	      json_array_size(names));
	CHECK(json_array_size(names) > 0 &&
	      strcmp(json_string_value(json_array_get(names, 0)), "#lobby") == 0,
	      "#lobby comes first");
	for (size_t i = 2; i < json_array_size(names); i++)
		if (!CHECK(strcasecmp(json_string_value(json_array_get(names, i - 1)),
		                      json_string_value(json_array_get(names, i))) < 0,
		           "pages are in name order without repeats (%zu)", i))
			break;
	json_decref(names);
	names = all_rooms(by, 100000, &total);
	CHECK(json_array_size(names) == (size_t)total, "a huge limit is one bounded page");
	json_decref(names);
	r = client_call(by, pier_req_rooms());
	CHECK(is_op(r, "rooms") && jint(r, "total", -1) == TOTAL + 1,
	      "a plain rooms request gets the first page and the total: %s", jdump(r));
	json_decref(r);
	client_expect_error(by, json_pack("{s:s, s:i}", "op", "rooms", "limit", 0), "bad_request");

	/* History to find again, then everyone leaves the a-rooms and the b-rooms but #b0. */
	CHECK(client_send(a, "#a0", "remember me", NULL, NULL) > 0, "a message in #a0");
	for (int i = 0; i < PER_USER; i++) {
		snprintf(room, sizeof(room), "#a%d", i);
		json_decref(client_call(a, pier_req_part(room)));
		snprintf(room, sizeof(room), "#b%d", i);
		json_decref(client_call(a2, pier_req_part(room)));
	}
	client_drain(a);
	client_drain(a2);
	client_drain(a3);
	/* Forgotten after FORGET_S (the sweep runs every second): bounded wait. */
	for (int i = 0; i < 40; i++) {
		total = rooms_total(by);
		if (total == 1 + TOTAL - 2 * PER_USER + 1)
			break;
		sleep_ms(250);
	}
	CHECK(total == 1 + (TOTAL - 2 * PER_USER) + 1,
	      "rooms without members are forgotten: %lld left (#lobby, a3's %d, #b0)",
	      (long long)total, TOTAL - 2 * PER_USER);
	names = all_rooms(by, 1000, &total);
	CHECK(!has_name(names, "#a0") && !has_name(names, "#b1") && has_name(names, "#b0"),
	      "the forgotten rooms are not listed; #b0 (a member left) is");
	json_decref(names);
	CHECK(join_ok(a2, "#fresh"), "after forgetting, new rooms may be created again");

	/* Joining a forgotten room again: same room, history kept. */
	r = join(a, "#a0");
	CHECK(is_op(r, "join") && !jtrue(r, "created"),
	      "joining #a0 again finds the stored room (created false): %s", jdump(r));
	json_decref(r);
	r = client_call(a, pier_req_history("#a0", 0, 10));
	CHECK(r != NULL && json_array_size(json_object_get(r, "messages")) == 1 &&
	      strcmp(jstr(json_array_get(json_object_get(r, "messages"), 0), "text") ?
	             jstr(json_array_get(json_object_get(r, "messages"), 0), "text") : "",
	             "remember me") == 0,
	      "its history is kept: %s", jdump(r));
	json_decref(r);

	CHECK(client_drain(by) >= 0 && client_drain(a) >= 0 && client_drain(a2) >= 0 &&
	      client_drain(a3) >= 0, "nobody was dropped");
	fds1 = proc_fds(pierd_pid(pd));
	rss1 = proc_rss(pierd_pid(pd));
	CHECK(fds1 >= 0 && fds1 <= fds0, "pierd's descriptors: %d before, %d after", fds0, fds1);
	CHECK(rss0 > 0 && rss1 > 0 && rss1 - rss0 < RSS_GROWTH_MAX,
	      "pierd's RSS grew by %ld KiB (bound %ld KiB)", (rss1 - rss0) / 1024,
	      RSS_GROWTH_MAX / 1024);
	fprintf(stderr, "# pierd: fds %d -> %d, RSS %ld -> %ld KiB\n", fds0, fds1, rss0 / 1024,
	        rss1 / 1024);
	pier_conn_close(by);
	pier_conn_close(a);
	pier_conn_close(a2);
	pier_conn_close(a3);
	CHECK(pierd_stop(pd), "pierd stops cleanly");
out:
	return harness_done();
}
