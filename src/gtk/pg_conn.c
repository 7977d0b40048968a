/* pg_conn.c - a connection to pierd with GIO, driving libpier's core (see pg_conn.h). */
#include "pg_conn.h"

#include <gio/gio.h>

#define READ_CHUNK (64 * 1024)

/* The part of a connection that pending GIO operations hold: it outlives pg_conn_free until
 * the last operation completes and sees conn == NULL. */
struct link {
	int refs;
	struct pg_conn *conn;     /* NULL once freed */
	GCancellable *cancel;
	char rbuf[READ_CHUNK];
	char *wbuf;               /* the write in flight (a copy of pier_client's pending bytes) */
};

struct pg_conn {
	struct link *link;
	struct pier_client *core;
	GSocketClient *client;
	GSocketConnection *sock;  /* NULL until connected */
	GIOStream *stream;        /* sock, or its TLS wrapper */
	struct pg_conn_ops ops;
	void *ud;
	char *ca_file;
	bool writing;
	bool dead;                /* dropped: no more callbacks */
};

static struct link *link_ref(struct link *l)
{
	l->refs++;
	return l;
}

static void link_unref(struct link *l)
{
	if (--l->refs > 0)
		return;
	g_object_unref(l->cancel);
	g_free(l->wbuf);
	g_free(l);
}

static void start_read(struct pg_conn *c);
static void flush(struct pg_conn *c);

static void drop(struct pg_conn *c, const char *why)
{
	if (c->dead)
		return;
	c->dead = true;
	g_cancellable_cancel(c->link->cancel);
	if (c->ops.dropped != NULL)
		c->ops.dropped(c->ud, why);
}

static void on_read(GObject *src, GAsyncResult *res, gpointer data)
{
	struct link *l = data;
	struct pg_conn *c = l->conn;
	GError *err = NULL;
	gssize n = g_input_stream_read_finish(G_INPUT_STREAM(src), res, &err);
	json_t *ev;

	if (c == NULL || c->dead) {
		g_clear_error(&err);
		link_unref(l);
		return;
	}
	if (n <= 0) {
		drop(c, err != NULL ? err->message : "closed by the server");
		g_clear_error(&err);
		link_unref(l);
		return;
	}
	if (pier_client_feed(c->core, l->rbuf, (size_t)n) != 0) {
		drop(c, "the server broke the protocol");
		link_unref(l);
		return;
	}
	/* Each event may free the connection (l->conn becomes NULL) or drop it. */
	while (l->conn != NULL && !c->dead && (ev = pier_client_next(c->core)) != NULL) {
		if (c->ops.event != NULL)
			c->ops.event(c->ud, ev);
		json_decref(ev);
	}
	if (l->conn != NULL && !c->dead)
		start_read(c);
	link_unref(l);
}

static void start_read(struct pg_conn *c)
{
	g_input_stream_read_async(g_io_stream_get_input_stream(c->stream), c->link->rbuf,
	                          READ_CHUNK, G_PRIORITY_DEFAULT, c->link->cancel, on_read,
	                          link_ref(c->link));
}

static void on_written(GObject *src, GAsyncResult *res, gpointer data)
{
	struct link *l = data;
	struct pg_conn *c = l->conn;
	GError *err = NULL;
	gssize n = g_output_stream_write_finish(G_OUTPUT_STREAM(src), res, &err);

	g_clear_pointer(&l->wbuf, g_free);
	if (c == NULL || c->dead) {
		g_clear_error(&err);
		link_unref(l);
		return;
	}
	c->writing = false;
	if (n < 0) {
		drop(c, err->message);
		g_clear_error(&err);
		link_unref(l);
		return;
	}
	pier_client_consume(c->core, (size_t)n);
	flush(c);
	link_unref(l);
}

/* Writes what the core has queued, one write at a time. */
static void flush(struct pg_conn *c)
{
	const char *data;
	size_t n;

	if (c->writing || c->dead || c->stream == NULL)
		return;
	n = pier_client_pending(c->core, &data);
	if (n == 0)
		return;
	c->writing = true;
	c->link->wbuf = g_memdup2(data, n);
	g_output_stream_write_async(g_io_stream_get_output_stream(c->stream), c->link->wbuf, n,
	                            G_PRIORITY_DEFAULT, c->link->cancel, on_written,
	                            link_ref(c->link));
}

static void on_connected(GObject *src, GAsyncResult *res, gpointer data)
{
	struct link *l = data;
	struct pg_conn *c = l->conn;
	GError *err = NULL;
	GSocketConnection *sock = g_socket_client_connect_to_host_finish(G_SOCKET_CLIENT(src), res,
	                                                                &err);

	if (c == NULL || c->dead) {
		g_clear_error(&err);
		g_clear_object(&sock);
		link_unref(l);
		return;
	}
	if (sock == NULL) {
		drop(c, err->message);
		g_clear_error(&err);
		link_unref(l);
		return;
	}
	/* The client's timeout bounded the connect and the TLS handshake; a chat connection is
	 * idle for long stretches, so reads and writes on it have none. */
	g_socket_set_timeout(g_socket_connection_get_socket(sock), 0);
	c->sock = sock;
	c->stream = G_IO_STREAM(sock);
	/* With TLS, the client returns a GTcpWrapperConnection around the TLS stream. */
	if (G_IS_TCP_WRAPPER_CONNECTION(sock))
		c->stream = g_tcp_wrapper_connection_get_base_io_stream(G_TCP_WRAPPER_CONNECTION(sock));
	start_read(c);
	if (c->ops.connected != NULL)
		c->ops.connected(c->ud);
	if (l->conn != NULL)
		flush(c);
	link_unref(l);
}

/* The TLS handshake is about to start: a pinned certificate file replaces the system's
 * trust store for this connection. */
static void on_client_event(GSocketClient *client, GSocketClientEvent event,
                            GSocketConnectable *connectable, GIOStream *connection,
                            gpointer data)
{
	struct pg_conn *c = data;
	GTlsDatabase *db;
	GError *err = NULL;

	(void)client;
	(void)connectable;
	if (event != G_SOCKET_CLIENT_TLS_HANDSHAKING || c->ca_file == NULL)
		return;
	db = g_tls_file_database_new(c->ca_file, &err);
	if (db == NULL) {
		g_warning("pier-gtk: %s", err->message);
		g_clear_error(&err);
		return;
	}
	g_tls_connection_set_database(G_TLS_CONNECTION(connection), db);
	g_object_unref(db);
}

struct pg_conn *pg_conn_open(const struct pg_conn_options *opt, const struct pg_conn_ops *ops,
                             void *ud)
{
	struct pg_conn *c = g_new0(struct pg_conn, 1);
	guint16 port = (guint16)g_ascii_strtoull(opt->port != NULL ? opt->port : PIER_DEFAULT_PORT,
	                                         NULL, 10);

	c->link = g_new0(struct link, 1);
	c->link->refs = 1;
	c->link->conn = c;
	c->link->cancel = g_cancellable_new();
	c->core = pier_client_new(0);
	c->ops = *ops;
	c->ud = ud;
	c->ca_file = g_strdup(opt->ca_file);
	c->client = g_socket_client_new();
	g_socket_client_set_timeout(c->client, 15);   /* connect and handshake; see on_connected */
	if (opt->tls) {
		g_socket_client_set_tls(c->client, TRUE);
		g_signal_connect(c->client, "event", G_CALLBACK(on_client_event), c);
	}
	g_socket_client_connect_to_host_async(c->client, opt->host, port, c->link->cancel,
	                                      on_connected, link_ref(c->link));
	return c;
}

int pg_conn_request(struct pg_conn *c, json_t *req, char ref_out[PIER_REF_MAX])
{
	if (c->dead || c->stream == NULL) {
		json_decref(req);
		return -1;
	}
	if (pier_client_request(c->core, req, ref_out) != 0)
		return -1;
	flush(c);
	return 0;
}

bool pg_conn_is_connected(const struct pg_conn *c)
{
	return c != NULL && !c->dead && c->stream != NULL;
}

void pg_conn_free(struct pg_conn *c)
{
	if (c == NULL)
		return;
	c->dead = true;
	g_cancellable_cancel(c->link->cancel);
	c->link->conn = NULL;
	link_unref(c->link);
	g_signal_handlers_disconnect_by_data(c->client, c);
	g_object_unref(c->client);
	if (c->sock != NULL) {
		g_io_stream_close(G_IO_STREAM(c->sock), NULL, NULL);
		g_object_unref(c->sock);
	}
	pier_client_free(c->core);
	g_free(c->ca_file);
	g_free(c);
}
