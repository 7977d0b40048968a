/* test_proof_same.c - cluster: every node answers the same. History, sync, search (Chinese
 * included) and media downloads (one shared --data-dir) give the same on each node and
 * through HAProxy; offline delivery happens once, on whichever node the user comes back to;
 * the WebSocket session works through HAProxy's HTTP mode and gets messages sent on a node. */
#include <stdio.h>
#include <string.h>

#include "cluster.h"
#include "netclient.h"

#define ROOM "#same"

static const char *const args[] = { "--no-rate-limits", NULL };

static const char *const texts[] = {
	"我们今天晚上去看电影吧", "movie night at eight", "电影票已经买好了", "see you there",
};
static const char media_bytes[] = "a shared file, stored once, served by every node\n";

/* Logs user in at port; returns the connection and the token (malloc'd) in *token. */
static struct pier_conn *login_token(int port, const char *user, char **token)
{
	struct pier_conn *conn = client_connect_port(port);
	json_t *r, *users;

	*token = NULL;
	if (conn == NULL)
		return NULL;
	r = client_call(conn, pier_req_login(user, HARNESS_PASSWORD));
	if (CHECK(is_op(r, "login") && jint(r, "status", -9) == 1, "login: %s", jdump(r)))
		*token = strdup(jstr(r, "token"));
	json_decref(r);
	users = client_wait_op(conn, "users");
	json_decref(users);
	return conn;
}

/* POST /api/media on http_port; the media id or -1. */
static int64_t upload(int http_port, const char *token)
{
	char req[1024];
	struct http_reply r;
	json_t *body;
	int64_t id = -1;

	snprintf(req, sizeof(req),
	         "POST /api/media?name=shared.txt HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	         "Authorization: Bearer %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
	         token, strlen(media_bytes), media_bytes);
	memset(&r, 0, sizeof(r));
	http_exchange(http_port, NULL, req, &r);
	body = r.body != NULL ? json_loads(r.body, 0, NULL) : NULL;
	if (CHECK(r.status == 201 && body != NULL, "upload: %d %s", r.status, r.body ? r.body : ""))
		id = jint(body, "id", -1);
	json_decref(body);
	http_reply_free(&r);
	return id;
}

/* GET /media/ID on http_port: checks 200 and the bytes. */
static void download(int http_port, const char *token, int64_t id, const char *where)
{
	char req[512];
	struct http_reply r;

	snprintf(req, sizeof(req),
	         "GET /media/%lld HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
	         "Connection: close\r\n\r\n", (long long)id, token);
	memset(&r, 0, sizeof(r));
	http_exchange(http_port, NULL, req, &r);
	CHECK(r.status == 200 && r.body_len == strlen(media_bytes) &&
	      memcmp(r.body, media_bytes, r.body_len) == 0, "%s serves the file (%d, %zu bytes)",
	      where, r.status, r.body_len);
	http_reply_free(&r);
}

/* What a reply says, without what differs between two asks (the ref). */
static json_t *answer(struct pier_conn *conn, json_t *req)
{
	json_t *r = client_call(conn, req);

	if (r != NULL)
		json_object_del(r, "ref");
	return r;
}

int main(void)
{
	struct cluster *c;
	struct pier_conn *a;
	char ua[HARNESS_NAME_MAX], ub[HARNESS_NAME_MAX], to_b[HARNESS_NAME_MAX + 1];
	char *token = NULL;
	json_t *first[4] = { NULL };
	int64_t media = -1, private_ids[3];

	harness_watchdog(200);
	c = cluster_start(10, args);
	REQUIRE(c != NULL, cluster_done(c), "the cluster starts");

	/* a writes on node 1: room messages, a file, private messages to b (who is offline). */
	a = cluster_new_user(c, 0, "a", ua);
	REQUIRE(a != NULL && cluster_join(a, ROOM), cluster_done(c), "a on node 1 in %s", ROOM);
	pier_conn_close(a);
	a = login_token(pierd_port(cluster_node(c, 0)), ua, &token);
	REQUIRE(a != NULL && token != NULL, cluster_done(c), "a's token");
	{
		/* b registers on node 1 and (a client whose next connection HAProxy sends
		 * elsewhere) logs in on node 3 at once: the account is in PostgreSQL */
		struct pier_conn *reg = client_connect_port(pierd_port(cluster_node(c, 0))), *b;

		harness_user(ub, "b");
		CHECK(client_register(reg, ub, HARNESS_PASSWORD) == PIER_REGISTER_OK, "register b");
		pier_conn_close(reg);
		b = client_connect_port(pierd_port(cluster_node(c, 2)));
		if (b != NULL) {
			json_t *r = client_call(b, pier_req_login(ub, HARNESS_PASSWORD));

			CHECK(jint(r, "status", -99) == 1, "b logs in on node 3 right after registering on "
			      "node 1: %s", jdump(r));
			json_decref(r);
			pier_conn_close(b);
		}
		/* now b is offline again (its session closed) */
	}
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		CHECK(client_send(a, ROOM, texts[i], NULL, NULL) > 0, "a sends %s", texts[i]);
	media = upload(pierd_http_port(cluster_node(c, 0)), token);
	if (media > 0) {
		json_t *req = pier_req_send(ROOM, "the file", NULL), *r;

		json_object_set_new(req, "media", json_integer(media));
		r = client_call(a, req);
		CHECK(is_op(r, "sent"), "a sends the file: %s", jdump(r));
		json_decref(r);
	}
	snprintf(to_b, sizeof(to_b), "@%s", ub);
	for (int i = 0; i < 3; i++) {
		char text[32];

		snprintf(text, sizeof(text), "while you were away %d", i);
		private_ids[i] = client_send(a, to_b, text, NULL, NULL);
	}

	/* Every node answers history, sync and search the same, and serves the file. */
	for (int n = 0; n < CLUSTER_NODES; n++) {
		struct pier_conn *r = cluster_login(c, n, ua);
		json_t *got[4];
		char where[32];

		if (!CHECK(r != NULL, "a logs in on node %d", n + 1))
			continue;
		got[0] = answer(r, pier_req_history(ROOM, 0, 50));
		got[1] = answer(r, pier_req_sync(0, 200));
		got[2] = answer(r, pier_req_search("电影", NULL, 0, 50));
		got[3] = answer(r, pier_req_search("movie", ROOM, 0, 50));
		CHECK(json_array_size(json_object_get(got[0], "messages")) == 5,
		      "node %d: history has the 5 room messages", n + 1);
		CHECK(json_array_size(json_object_get(got[2], "messages")) == 2,
		      "node %d: 电影 finds 2 messages: %s", n + 1, jdump(got[2]));
		CHECK(json_array_size(json_object_get(got[3], "messages")) == 1,
		      "node %d: movie finds 1", n + 1);
		for (int k = 0; k < 4; k++) {
			if (n == 0)
				first[k] = json_incref(got[k]);
			else
				CHECK(json_equal(got[k], first[k]), "node %d answers %s as node 1: %s", n + 1,
				      k == 0 ? "history" : k == 1 ? "sync" : "search", jdump(got[k]));
			json_decref(got[k]);
		}
		snprintf(where, sizeof(where), "node %d", n + 1);
		if (media > 0)
			download(pierd_http_port(cluster_node(c, n)), token, media, where);
		pier_conn_close(r);
	}
	if (media > 0)
		download(cluster_lb_http_port(c), token, media, "HAProxy");

	/* b comes back on node 3: the private messages, offline, once, in order. */
	{
		struct pier_conn *b = cluster_login(c, 2, ub);
		json_t *m;
		int k;

		for (k = 0; b != NULL && k < 3; k++) {
			m = pier_conn_wait_op(b, "msg", HARNESS_TIMEOUT_MS);
			CHECK(m != NULL && jtrue(m, "offline") && jint(m, "id", -1) == private_ids[k],
			      "b gets private message %d offline on node 3: %s", k, jdump(m));
			json_decref(m);
		}
		m = b != NULL ? pier_conn_wait_op(b, "msg", 1000) : NULL;
		CHECK(m == NULL, "nothing more: %s", jdump(m));
		json_decref(m);
		pier_conn_close(b);
		/* and not again on another node */
		b = cluster_login(c, 1, ub);
		m = b != NULL ? pier_conn_wait_op(b, "msg", 1500) : NULL;
		CHECK(b != NULL && m == NULL, "node 2 does not deliver them again: %s", jdump(m));
		json_decref(m);
		pier_conn_close(b);
	}

	/* The WebSocket through HAProxy (HTTP mode): login, and a message sent on node 2. */
	{
		int status = 0;
		struct ws_client *ws = ws_open(cluster_lb_http_port(c), NULL, NULL, &status);
		json_t *r, *m;
		struct pier_conn *s;

		REQUIRE(ws != NULL, cluster_done(c), "WebSocket upgrade through HAProxy (status %d)",
		        status);
		r = ws_call(ws, pier_req_login(ua, HARNESS_PASSWORD), HARNESS_TIMEOUT_MS);
		CHECK(is_op(r, "login") && jint(r, "status", -9) == 1, "ws login: %s", jdump(r));
		json_decref(r);
		s = cluster_login(c, 1, ua);
		CHECK(s != NULL && client_send(s, ROOM, "over the websocket", NULL, NULL) > 0,
		      "a sends on node 2");
		m = ws_wait_op(ws, "msg", HARNESS_TIMEOUT_MS);
		CHECK(m != NULL && jstr(m, "text") != NULL &&
		      strcmp(jstr(m, "text"), "over the websocket") == 0,
		      "the WebSocket session gets it: %s", jdump(m));
		json_decref(m);
		pier_conn_close(s);
		ws_free(ws);
	}

	for (int k = 0; k < 4; k++)
		json_decref(first[k]);
	free(token);
	pier_conn_close(a);
	CHECK(cluster_stop(c), "the nodes stop cleanly");
	return cluster_done(c);
}
