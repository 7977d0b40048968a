/* test_quota_race.c - concurrent uploads cannot pass the storage quota together.
 *
 * The attack (issue 8, item 6): 30 uploads of 900 KiB at once under a 1 MiB quota. Each read
 * the user's usage (0) before any had stored a byte, so all were accepted. Now an upload
 * reserves its declared size before its body is accepted, so at most one of them is, and the
 * others are refused 413 over_quota, through POST /api/media and through tus creation alike.
 * A refused, failed or cancelled upload gives its reservation back: the next one fits.
 * Bounds: pierd's descriptors return to where they were, its RSS grows by less than
 * RSS_GROWTH_MAX, a bystander's chat session is served throughout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "netclient.h"

#define QUOTA          (1024 * 1024)
#define FILE_SIZE      (900 * 1024)
#define PARALLEL       30
#define diag(...)      (fprintf(stderr, "# " __VA_ARGS__), fputc('\n', stderr))
#define RSS_GROWTH_MAX (48L * 1024 * 1024)

static struct pierd *pd;
static int port;

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* ---- pierd's footprint ---- */

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

/* Waits (bounded) until pierd holds at most max descriptors; the last count. */
static int fds_settle(int max)
{
	int n = proc_fds(pierd_pid(pd));

	for (int i = 0; i < 50 && n > max; i++) {
		sleep_ms(100);
		n = proc_fds(pierd_pid(pd));
	}
	return n;
}

/* ---- users ---- */

struct who {
	char name[HARNESS_NAME_MAX];
	char auth[200];             /* "Authorization: Bearer ...\r\n" */
	struct pier_conn *c;
};

static bool new_user(struct who *w, const char *prefix)
{
	json_t *r;

	w->c = client_new_user(pd, prefix, w->name);
	if (w->c == NULL)
		return false;
	pier_conn_close(w->c);
	w->c = client_connect(pd);
	if (w->c == NULL)
		return false;
	r = client_call(w->c, pier_req_login(w->name, HARNESS_PASSWORD));
	if (!CHECK(r != NULL && jstr(r, "token") != NULL, "login %s: %s", w->name, jdump(r))) {
		json_decref(r);
		return false;
	}
	snprintf(w->auth, sizeof(w->auth), "Authorization: Bearer %s\r\n", jstr(r, "token"));
	json_decref(r);
	json_decref(client_wait_op(w->c, "users"));
	return true;
}

/* The "error" member of a JSON reply body, copied into out ("" when none). */
static void reply_error_code(const struct http_reply *r, char *out, size_t n)
{
	json_t *j = r->body != NULL ? json_loads(r->body, 0, NULL) : NULL;
	const char *e = j != NULL ? jstr(j, "error") : NULL;

	snprintf(out, n, "%s", e != NULL ? e : "");
	json_decref(j);
}

/* One request on a fresh connection, answered within 20 s: the status (0 when none). */
static int request(const char *method, const char *path, const char *headers, const void *body,
                   size_t len, struct http_reply *r)
{
	char head[4096];
	struct net *n;
	int hl;

	memset(r, 0, sizeof(*r));
	hl = snprintf(head, sizeof(head), "%s %s HTTP/1.1\r\nHost: t\r\n%s", method, path,
	              headers != NULL ? headers : "");
	if (body != NULL)
		hl += snprintf(head + hl, sizeof(head) - (size_t)hl, "Content-Length: %zu\r\n", len);
	hl += snprintf(head + hl, sizeof(head) - (size_t)hl, "\r\n");
	n = net_connect(port, NULL, 5000);
	if (n == NULL)
		return 0;
	if (net_send(n, head, (size_t)hl) == 0 && (body == NULL || net_send(n, body, len) == 0))
		http_read_reply(n, r, 20000);
	net_close(n);
	return r->status;
}

static bool bystander_served(struct pier_conn *c)
{
	return client_drain(c) >= 0;
}

/* ---- POST /api/media, 30 at once ---- */

static void test_parallel_posts(struct pier_conn *bystander, const unsigned char *file)
{
	struct who w = {0};
	struct net *n[PARALLEL] = {0};
	int accepted = 0, refused = 0, other = 0;
	char head[1024];
	int hl;

	if (!new_user(&w, "racer"))
		return;
	hl = snprintf(head, sizeof(head),
	              "POST /api/media?name=r.bin HTTP/1.1\r\nHost: t\r\n%s"
	              "Content-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n",
	              w.auth, FILE_SIZE);
	/* Every head first, so that each upload's quota check runs before any body arrives:
	 * with usage read and nothing reserved, all 30 would pass it. */
	for (int i = 0; i < PARALLEL; i++) {
		n[i] = net_connect(port, NULL, 5000);
		if (!CHECK(n[i] != NULL, "connection %d", i))
			goto out;
		net_send(n[i], head, (size_t)hl);
	}
	sleep_ms(300);
	for (int i = 0; i < PARALLEL; i++)
		net_send(n[i], file, FILE_SIZE);      /* refused ones drop it (or are closed) */
	for (int i = 0; i < PARALLEL; i++) {
		struct http_reply r = {0};
		char code[64];

		http_read_reply(n[i], &r, 20000);
		reply_error_code(&r, code, sizeof(code));
		if (r.status == 201)
			accepted++;
		else if (r.status == 413 && strcmp(code, "over_quota") == 0)
			refused++;
		else
			other++, diag("upload %d: %d %s", i, r.status, r.body ? r.body : "");
		http_reply_free(&r);
	}
	CHECK(accepted <= 1, "at most one of %d parallel %d-byte uploads fits a %d-byte quota "
	      "(accepted %d)", PARALLEL, FILE_SIZE, QUOTA, accepted);
	CHECK(accepted == 1, "one of them is accepted (%d)", accepted);
	CHECK(refused == PARALLEL - accepted && other == 0,
	      "the others are 413 over_quota (%d refused, %d other)", refused, other);
	CHECK(bystander_served(bystander), "a bystander is served during the race");
out:
	for (int i = 0; i < PARALLEL; i++)
		if (n[i] != NULL)
			net_close(n[i]);
	pier_conn_close(w.c);
}

/* ---- tus creation, 30 at once; DELETE gives the reservation back ---- */

static void test_parallel_tus(struct pier_conn *bystander)
{
	struct who w = {0};
	struct net *n[PARALLEL] = {0};
	int accepted = 0, refused = 0, other = 0;
	char head[1024], loc[128] = "", hdr[512];
	struct http_reply r = {0};
	int hl;

	if (!new_user(&w, "tusracer"))
		return;
	hl = snprintf(head, sizeof(head),
	              "POST /api/tus/ HTTP/1.1\r\nHost: t\r\n%sTus-Resumable: 1.0.0\r\n"
	              "Upload-Length: %d\r\nContent-Length: 0\r\n\r\n", w.auth, FILE_SIZE);
	for (int i = 0; i < PARALLEL; i++) {
		n[i] = net_connect(port, NULL, 5000);
		if (!CHECK(n[i] != NULL, "connection %d", i))
			goto out;
		net_send(n[i], head, (size_t)hl);
	}
	for (int i = 0; i < PARALLEL; i++) {
		char code[64], l[128];

		memset(&r, 0, sizeof(r));
		http_read_reply(n[i], &r, 20000);
		reply_error_code(&r, code, sizeof(code));
		if (r.status == 201) {
			accepted++;
			if (http_reply_header(&r, "Location", l, sizeof(l)))
				snprintf(loc, sizeof(loc), "%s", l);
		} else if (r.status == 413 && strcmp(code, "over_quota") == 0) {
			refused++;
		} else {
			other++;
			diag("creation %d: %d %s", i, r.status, r.body ? r.body : "");
		}
		http_reply_free(&r);
	}
	CHECK(accepted == 1, "exactly one of %d parallel tus creations of %d bytes fits (%d)",
	      PARALLEL, FILE_SIZE, accepted);
	CHECK(refused == PARALLEL - accepted && other == 0,
	      "the others are 413 over_quota (%d refused, %d other)", refused, other);
	CHECK(bystander_served(bystander), "a bystander is served during the race");
	if (loc[0] == '\0')
		goto out;
	/* While that upload exists, its length stays counted. */
	snprintf(hdr, sizeof(hdr), "%sTus-Resumable: 1.0.0\r\nUpload-Length: %d\r\n", w.auth,
	         FILE_SIZE);
	CHECK(request("POST", "/api/tus/", hdr, "", 0, &r) == 413,
	      "another creation while the first is open: 413 (%d)", r.status);
	http_reply_free(&r);
	snprintf(hdr, sizeof(hdr), "%sTus-Resumable: 1.0.0\r\n", w.auth);
	CHECK(request("DELETE", loc, hdr, NULL, 0, &r) == 204, "DELETE %s: 204 (%d)", loc, r.status);
	http_reply_free(&r);
	snprintf(hdr, sizeof(hdr), "%sTus-Resumable: 1.0.0\r\nUpload-Length: %d\r\n", w.auth,
	         FILE_SIZE);
	CHECK(request("POST", "/api/tus/", hdr, "", 0, &r) == 201,
	      "after the DELETE the quota is free again: 201 (%d %s)", r.status, r.body ? r.body : "");
	http_reply_free(&r);
out:
	for (int i = 0; i < PARALLEL; i++)
		if (n[i] != NULL)
			net_close(n[i]);
	pier_conn_close(w.c);
}

/* ---- refused and cancelled uploads give their reservation back ---- */

static void test_given_back(const unsigned char *file)
{
	struct who w = {0};
	struct http_reply r = {0};
	char hdr[512], head[1024], code[64];
	struct net *n;
	int status = 0, hl;

	if (!new_user(&w, "giveback"))
		return;
	snprintf(hdr, sizeof(hdr), "%sContent-Type: application/octet-stream\r\n", w.auth);
	/* Refused: 1.5 MiB declared under a 1 MiB quota. */
	request("POST", "/api/media?name=big.bin", hdr, file, QUOTA + QUOTA / 2, &r);
	reply_error_code(&r, code, sizeof(code));
	CHECK(r.status == 413 && strcmp(code, "over_quota") == 0,
	      "a file over the quota: 413 over_quota (%d %s)", r.status, code);
	http_reply_free(&r);
	/* Cancelled: the head and a tenth of the body, then the connection goes. */
	hl = snprintf(head, sizeof(head),
	              "POST /api/media?name=cut.bin HTTP/1.1\r\nHost: t\r\n%s"
	              "Content-Length: %d\r\n\r\n", w.auth, FILE_SIZE);
	n = net_connect(port, NULL, 5000);
	if (CHECK(n != NULL, "connect")) {
		net_send(n, head, (size_t)hl);
		sleep_ms(300);
		net_send(n, file, FILE_SIZE / 10);
		sleep_ms(200);
		net_close(n);
	}
	/* The server notices the close at once; allow it a bounded moment. */
	for (int i = 0; i < 20; i++) {
		status = request("POST", "/api/media?name=ok.bin", hdr, file, FILE_SIZE, &r);
		if (status != 413)
			break;
		http_reply_free(&r);
		sleep_ms(250);
	}
	CHECK(status == 201, "after a refused and a cancelled upload a full one fits: 201 (%d %s)",
	      status, r.body ? r.body : "");
	http_reply_free(&r);
	request("POST", "/api/media?name=more.bin", hdr, file, FILE_SIZE, &r);
	CHECK(r.status == 413, "and then the quota is used: 413 (%d)", r.status);
	http_reply_free(&r);
	pier_conn_close(w.c);
}

int main(void)
{
	static const char *const args[] = {
		"--media-quota", "1M", "--media-max-size", "4M", "--no-rate-limits", NULL
	};
	unsigned char *file;
	struct pier_conn *bystander;
	char by_name[HARNESS_NAME_MAX];
	long rss0, rss1;
	int fds0, fds1;

	harness_watchdog(55);
	pd = pierd_start(args);
	if (pd == NULL)
		return harness_done();
	port = pierd_http_port(pd);
	file = malloc(QUOTA * 2);
	for (size_t i = 0; i < QUOTA * 2; i++)
		file[i] = (unsigned char)(i * 2654435761u >> 13);
	bystander = client_new_user(pd, "bystander", by_name);
	if (bystander == NULL)
		goto out;
	fds0 = proc_fds(pierd_pid(pd));
	rss0 = proc_rss(pierd_pid(pd));

	test_parallel_posts(bystander, file);
	test_parallel_tus(bystander);
	test_given_back(file);

	fds1 = fds_settle(fds0 + 2);
	rss1 = proc_rss(pierd_pid(pd));
	CHECK(fds1 >= 0 && fds1 <= fds0 + 2, "pierd's descriptors return (%d before, %d after)",
	      fds0, fds1);
	CHECK(rss0 > 0 && rss1 > 0 && rss1 - rss0 < RSS_GROWTH_MAX,
	      "pierd's RSS grew by %ld KiB (bound %ld KiB)", (rss1 - rss0) / 1024,
	      RSS_GROWTH_MAX / 1024);
	diag("pierd: fds %d -> %d, RSS %ld -> %ld KiB", fds0, fds1, rss0 / 1024, rss1 / 1024);
	CHECK(bystander_served(bystander), "the bystander is still served");
	pier_conn_close(bystander);
	CHECK(pierd_stop(pd), "pierd stops cleanly");
out:
	free(file);
	return harness_done();
}
