/* config.c - flags and config file for pierd. Every setting has a flag and a file key of the
 * same name ("--max-line 4096" or "max-line = 4096"); flags win over the file. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum opt_kind {
	OPT_SIZE, OPT_INT, OPT_DOUBLE, OPT_BOOL, OPT_LISTEN, OPT_PATH, OPT_STRING, OPT_LEVEL,
	OPT_METRICS_ALLOW,
	OPT_STORE,                  /* "sqlite" or a postgresql:// URL without a password */
	OPT_NATS,                   /* "off" or a comma list of nats:// (tls://) URLs */
	OPT_NODE,                   /* a node name: 1-64 of [A-Za-z0-9_.-] */
	OPT_CLUSTER,                /* a cluster name: 1-32 of [A-Za-z0-9_-] */
	OPT_DOUBLE0                 /* like OPT_DOUBLE, and 0 is allowed (it means "never") */
};

struct opt {
	const char *name;
	enum opt_kind kind;
	size_t offset;
	const char *help;
	const char *arg;            /* what the value is, for --help (NULL: "N") */
};

#define O(field) offsetof(struct config, field)

static const struct opt opts[] = {
	{"listen", OPT_LISTEN, O(listen),
	 "the JSON protocol over TCP, or off (default 0.0.0.0:6666)", "ADDR:PORT"},
	{"http", OPT_LISTEN, O(http),
	 "HTTP: WebSocket at /ws, /healthz, /metrics, files; or off (default 0.0.0.0:8080)",
	 "ADDR:PORT"},
	{"tls-cert", OPT_PATH, O(tls_cert),
	 "PEM certificate (chain): with --tls-key, opens --tls-listen and --https", "FILE"},
	{"tls-key", OPT_PATH, O(tls_key), "PEM private key of --tls-cert", "FILE"},
	{"tls-listen", OPT_LISTEN, O(tls_listen),
	 "the JSON protocol over TLS, or off (default 0.0.0.0:6697; needs --tls-cert)", "ADDR:PORT"},
	{"https", OPT_LISTEN, O(https),
	 "HTTPS and wss:// at /ws, or off (default 0.0.0.0:8443; needs --tls-cert)", "ADDR:PORT"},
	{"gen-cert", OPT_PATH, O(gen_cert_dir),
	 "write a self-signed certificate to DIR/cert.pem and DIR/key.pem and exit", "DIR"},
	{"web-root", OPT_PATH, O(web_root),
	 "serve the browser files from DIR (development) instead of the built-in ones", "DIR"},
	{"allowed-origins", OPT_STRING, O(allowed_origins),
	 "comma list of origins that may open WebSocket sessions, or * (default: the Host's)",
	 "LIST"},
	{"data-dir", OPT_PATH, O(data_dir), "DIR for the database (default ./data, created if missing)",
	 "DIR"},
	{"log-level", OPT_LEVEL, O(log_level), "debug, info, warn or error (default info)", "LEVEL"},
	{"max-line", OPT_SIZE, O(max_line),
	 "bytes per request line or WebSocket message (default 65536)", NULL},
	{"max-text", OPT_SIZE, O(max_text), "bytes of text per message (default 16384)", NULL},
	{"recall-window", OPT_DOUBLE0, O(recall_window),
	 "seconds after sending during which a user may recall (撤回) a message; 0 = never "
	 "(default 120)", NULL},
	{"max-output", OPT_SIZE, O(max_output),
	 "bytes queued for one client before it is dropped as slow (default 4194304)", NULL},
	{"max-hash-jobs", OPT_INT, O(max_hash_jobs), "password checks in flight before 'busy' (default 64)", NULL},
	{"hash-threads", OPT_INT, O(hash_threads),
	 "threads of pierd's own that hash and check passwords (argon2id, 64 MiB each while it "
	 "runs); file I/O and the store never wait for them (default 2)", NULL},
	{"max-conns-per-addr", OPT_INT, O(max_conns_per_addr),
	 "connections from one address, 0 = unlimited (default 64)", NULL},
	{"login-timeout", OPT_DOUBLE, O(login_timeout), "seconds a connection may stay logged out (default 30)", NULL},
	{"msg-burst", OPT_DOUBLE, O(msg_burst), "messages a user (all its sessions together) may send at once (default 30)", NULL},
	{"msg-rate", OPT_DOUBLE, O(msg_rate), "messages per second after the burst (default 10)", NULL},
	{"req-burst", OPT_DOUBLE, O(req_burst), "other requests a user may make at once (default 60)", NULL},
	{"req-rate", OPT_DOUBLE, O(req_rate), "other requests per second (default 20)", NULL},
	{"login-fail-burst", OPT_DOUBLE, O(login_fail_burst), "failed logins per account (default 10)", NULL},
	{"login-fail-interval", OPT_DOUBLE, O(login_fail_interval),
	 "seconds per further failed login per account (default 30)", NULL},
	{"addr-fail-burst", OPT_DOUBLE, O(addr_fail_burst), "failed logins per address (default 30)", NULL},
	{"addr-fail-interval", OPT_DOUBLE, O(addr_fail_interval),
	 "seconds per further failed login per address (default 10)", NULL},
	{"login-burst", OPT_DOUBLE, O(login_burst),
	 "password logins, successful or not, per address and per account (default 30)", NULL},
	{"login-interval", OPT_DOUBLE, O(login_interval),
	 "seconds per further password login per address and per account (default 2)", NULL},
	{"token-idle", OPT_DOUBLE0, O(token_idle),
	 "seconds a session token may go unused (no session open with it) before it expires; "
	 "0 = never (default 2592000, 30 days)", NULL},
	{"register-burst", OPT_DOUBLE, O(register_burst), "registrations per address at once: a class of 60 behind one NAT (default 60)", NULL},
	{"register-interval", OPT_DOUBLE, O(register_interval),
	 "seconds per further registration per address (default 30)", NULL},
	{"http-max-header", OPT_SIZE, O(http_max_header),
	 "bytes of an HTTP request line and headers (default 16384)", NULL},
	{"http-max-body", OPT_SIZE, O(http_max_body),
	 "bytes of an HTTP request body, where a route sets no other limit (default 65536)", NULL},
	{"http-header-timeout", OPT_DOUBLE, O(http_header_timeout),
	 "seconds for an HTTP request head to arrive; also the keep-alive idle time (default 10)",
	 NULL},
	{"http-write-timeout", OPT_DOUBLE, O(http_write_timeout),
	 "seconds any connection's output (a download, WebSocket or JSON-lines session) may make "
	 "no progress before the connection closes (default 30)", NULL},
	{"metrics-allow", OPT_METRICS_ALLOW, O(metrics_allow),
	 "who may read /metrics: loopback (peers on 127.0.0.1/::1, or with --metrics-token), "
	 "token (only with --metrics-token) or all (default loopback)", "WHO"},
	{"metrics-token", OPT_STRING, O(metrics_token),
	 "a secret that lets \"Authorization: Bearer TOKEN\" read /metrics from anywhere", "TOKEN"},
	{"ws-ping-interval", OPT_DOUBLE, O(ws_ping_interval),
	 "seconds between WebSocket pings (default 30)", NULL},
	{"ws-ping-timeout", OPT_DOUBLE, O(ws_ping_timeout),
	 "seconds a WebSocket pong may take before the session closes (default 15)", NULL},
	{"media-max-size", OPT_SIZE, O(media_max_size),
	 "bytes of one uploaded file (K, M, G suffixes; default 100M)", NULL},
	{"media-quota", OPT_SIZE, O(media_quota),
	 "bytes of files one user may store (K, M, G suffixes; default 1G)", NULL},
	{"store", OPT_STORE, O(store_url),
	 "the store: sqlite (DATA_DIR/pier.db, the default) or a PostgreSQL URL "
	 "postgresql://user@host:port/db (password from PGPASSWORD or ~/.pgpass, never here)",
	 "URL"},
	{"store-max-batch", OPT_INT, O(store_max_batch), "most writes in one commit (default 512)", NULL},
	{"nats", OPT_NATS, O(nats),
	 "run as one node of a cluster: comma list of NATS servers nats://host:port, or off "
	 "(the default: one pierd alone; docs/CLUSTER.md)", "URLS"},
	{"node-name", OPT_NODE, O(node_name),
	 "this node's name in the cluster, unique per running node (default: host name-pid)",
	 "NAME"},
	{"cluster-name", OPT_CLUSTER, O(cluster_name),
	 "the cluster's NATS subject prefix: clusters sharing a NATS differ by it (default pier)",
	 "NAME"},
	{"presence-lease", OPT_DOUBLE, O(presence_lease),
	 "seconds another node's users stay online without its heartbeat (every third of it; "
	 "default 10)", NULL},
	{"presence-limit", OPT_INT, O(presence_limit),
	 "0 (default): presence, profile changes and the login's online list go to and list "
	 "contacts only (private-chat partners, members of shared rooms of at most 1000 members "
	 "besides #lobby), O(contacts) per login; N: to and of everyone online while at most N "
	 "are, which costs every login O(N) lines and O(N) sessions written (a small server)",
	 "N"},
	{"max-rooms", OPT_INT, O(max_rooms),
	 "rooms that may exist at once besides #lobby; joining a new one past it is refused "
	 "(default 100000)", NULL},
	{"max-rooms-per-user", OPT_INT, O(max_rooms_per_user),
	 "rooms one user may be in besides #lobby (default 1000)", NULL},
	{"room-forget-after", OPT_DOUBLE, O(room_forget_after),
	 "seconds a room without members is kept before it is forgotten and stops counting; "
	 "its history stays (default 604800, 7 days)", NULL},
	{"e2ee-max-devices", OPT_INT, O(e2ee_max_devices),
	 "devices in one user's signed list, 1 to 32; 3 more may wait for approval (default 10)",
	 NULL},
	{"e2ee-max-prekeys", OPT_INT, O(e2ee_max_prekeys),
	 "one-time prekeys kept per device (default 100)", NULL},
	{"e2ee-max-payload", OPT_SIZE, O(e2ee_max_payload),
	 "characters (base64url) of an encrypted message's payload (default 24576)", NULL},
	{"e2ee-max-envelope", OPT_SIZE, O(e2ee_max_envelope),
	 "characters (base64url) of one device's envelope (default 1024)", NULL},
	{"e2ee-max-queue", OPT_INT, O(e2ee_max_queue),
	 "envelopes waiting for one device; a send past it is refused with queue_full "
	 "(default 20000)", NULL},
	{"e2ee-pending-expiry", OPT_DOUBLE, O(e2ee_pending_expiry),
	 "seconds a device registered but not approved stays pending before it is dropped "
	 "(default 86400)", NULL},
	{"no-rate-limits", OPT_BOOL, O(no_rate_limits),
	 "TESTS AND BENCHMARKS ONLY: lift rate and per-address limits (size limits stay)", NULL},
	{"weak-password-hash", OPT_BOOL, O(weak_password_hash),
	 "TESTS AND BENCHMARKS ONLY: cheap password hashing", NULL},
};

void config_init(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->listen.host, sizeof(cfg->listen.host), "0.0.0.0");
	cfg->listen.port = 6666;
	snprintf(cfg->http.host, sizeof(cfg->http.host), "0.0.0.0");
	cfg->http.port = 8080;
	snprintf(cfg->tls_listen.host, sizeof(cfg->tls_listen.host), "0.0.0.0");
	cfg->tls_listen.port = 6697;
	snprintf(cfg->https.host, sizeof(cfg->https.host), "0.0.0.0");
	cfg->https.port = 8443;
	snprintf(cfg->data_dir, sizeof(cfg->data_dir), "./data");
	cfg->log_level = LOG_INFO;
	cfg->max_line = 64 * 1024;
	cfg->max_text = 16 * 1024;
	cfg->recall_window = 120;
	cfg->max_output = 4 * 1024 * 1024;
	cfg->max_hash_jobs = 64;
	cfg->hash_threads = 2;
	cfg->http_max_header = 16 * 1024;
	cfg->http_max_body = 64 * 1024;
	cfg->http_header_timeout = 10;
	cfg->http_write_timeout = 30;
	cfg->metrics_allow = METRICS_LOOPBACK;
	cfg->ws_ping_interval = 30;
	cfg->ws_ping_timeout = 15;
	cfg->media_max_size = 100 * 1024 * 1024;
	cfg->media_quota = 1024 * 1024 * 1024;
	cfg->max_conns_per_addr = 64;
	cfg->login_timeout = 30;
	cfg->msg_burst = 30;
	cfg->msg_rate = 10;
	cfg->req_burst = 60;
	cfg->req_rate = 20;
	cfg->login_fail_burst = 10;
	cfg->login_fail_interval = 30;
	cfg->addr_fail_burst = 30;
	cfg->addr_fail_interval = 10;
	cfg->login_burst = 30;
	cfg->login_interval = 2;
	cfg->token_idle = 30 * 24 * 3600;
	cfg->register_burst = 60;       /* a class behind one NAT registers at once */
	cfg->register_interval = 30;
	cfg->store_max_batch = 512;
	snprintf(cfg->cluster_name, sizeof(cfg->cluster_name), "pier");
	cfg->presence_lease = 10;
	cfg->presence_limit = 0;
	cfg->max_rooms = 100000;
	cfg->max_rooms_per_user = 1000;
	cfg->room_forget_after = 7 * 24 * 3600;
	cfg->e2ee_max_devices = 10;
	cfg->e2ee_max_prekeys = 100;
	cfg->e2ee_max_payload = 24 * 1024;
	cfg->e2ee_max_envelope = 1024;
	cfg->e2ee_max_queue = 20000;
	cfg->e2ee_pending_expiry = 24 * 3600;
}

static void print_help(void)
{
	printf("Usage: pierd [OPTIONS]\n"
	       "pier chat server: JSON lines over TCP and TLS, WebSocket over HTTP(S), messages\n"
	       "stored durably in SQLite.\n\n"
	       "Options:\n"
	       "  --config FILE              read settings from FILE (\"name = value\" lines,\n"
	       "                             names as the flags below without '--'; '#' comments)\n");
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		char left[64];

		if (opts[i].kind == OPT_BOOL)
			snprintf(left, sizeof(left), "--%s", opts[i].name);
		else
			snprintf(left, sizeof(left), "--%s %s", opts[i].name,
			         opts[i].arg != NULL ? opts[i].arg : "N");
		if (strlen(left) > 26)
			printf("  %s\n  %-26s %s\n", left, "", opts[i].help);
		else
			printf("  %-26s %s\n", left, opts[i].help);
	}
	printf("  %-26s %s\n  %-26s %s\n\n", "--help", "show this help", "--version", "show the version");
	printf("Ports: the plain ones (--listen, --http) stay open with TLS on; turn one off with\n"
	       "'off'. A first self-signed certificate: pierd --gen-cert DIR, then\n"
	       "--tls-cert DIR/cert.pem --tls-key DIR/key.pem.\n"
	       "Stops cleanly on SIGINT or SIGTERM. Limits are described in docs/PROTOCOL.md.\n");
}

static int parse_listen(struct listen_addr *la, const char *v)
{
	const char *colon = strrchr(v, ':');
	char *end;
	long port;
	size_t hlen;

	if (strcmp(v, "off") == 0) {
		la->off = true;
		return 0;
	}
	if (colon == NULL)
		return -1;
	hlen = (size_t)(colon - v);
	if (hlen > 1 && v[0] == '[' && v[hlen - 1] == ']') { /* [::1]:6666 */
		v++;
		hlen -= 2;
	}
	if (hlen == 0 || hlen >= sizeof(la->host))
		return -1;
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno != 0 || *end != '\0' || end == colon + 1 || port < 0 || port > 65535)
		return -1;
	memcpy(la->host, v, hlen);
	la->host[hlen] = '\0';
	la->port = (int)port;
	la->off = false;
	return 0;
}

/* Whether v is a store pier takes: "sqlite", or a postgresql:// (postgres://) URL that
 * carries no password (a command line is readable by every local user, through ps). */
static bool store_url_ok(const char *v)
{
	const char *rest, *at, *slash;

	if (strcmp(v, "sqlite") == 0)
		return true;
	if (strncmp(v, "postgresql://", 13) == 0)
		rest = v + 13;
	else if (strncmp(v, "postgres://", 11) == 0)
		rest = v + 11;
	else
		return false;
	slash = strchr(rest, '/');
	at = strchr(rest, '@');
	if (at != NULL && (slash == NULL || at < slash) && memchr(rest, ':', (size_t)(at - rest)))
		return false;                           /* user:password@ */
	return strstr(v, "password=") == NULL;
}

/* "off", or a comma list of at most 16 nats:// or tls:// URLs without spaces or passwords. */
static bool nats_ok(const char *v)
{
	int n = 0;

	if (strcmp(v, "off") == 0)
		return true;
	if (v[0] == '\0')
		return false;
	for (const char *p = v; *p != '\0'; n++) {
		const char *end = strchr(p, ',');
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
		const char *rest = strncmp(p, "nats://", 7) == 0 ? p + 7 :
		                   strncmp(p, "tls://", 6) == 0 ? p + 6 : NULL;
		const char *at = rest != NULL ? memchr(rest, '@', len - (size_t)(rest - p)) : NULL;

		if (rest == NULL || (size_t)(rest - p) >= len || n >= 16 ||
		    memchr(p, ' ', len) != NULL || (at != NULL && memchr(rest, ':', (size_t)(at - rest))))
			return false;
		if (end == NULL)
			break;
		p = end + 1;
		if (*p == '\0')
			return false;
	}
	return true;
}

/* 1..max of [A-Za-z0-9_-], and '.' when dot. */
static bool plain_name_ok(const char *v, size_t max, bool dot)
{
	size_t n = strlen(v);

	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = v[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' || (dot && ch == '.')))
			return false;
	}
	return true;
}

/* Sets one option from its text value. Returns 0, or -1 with a message in err. */
static int set_opt(struct config *cfg, const struct opt *o, const char *v, char *err,
                   size_t errlen)
{
	char *base = (char *)cfg + o->offset, *end;

	errno = 0;
	switch (o->kind) {
	case OPT_SIZE: {
		unsigned long long n = strtoull(v, &end, 10);
		int shift = 0;

		/* A binary suffix: 100M, 1G (sizes of files are easier that way). */
		if (*end != '\0' && end[1] == '\0' && end != v) {
			shift = *end == 'K' || *end == 'k' ? 10 : *end == 'M' || *end == 'm' ? 20 :
			        *end == 'G' || *end == 'g' ? 30 : -1;
			if (shift > 0)
				end++;
		}
		if (errno != 0 || *end != '\0' || end == v || n == 0 || v[0] == '-' || shift < 0 ||
		    n > (SIZE_MAX >> shift))
			goto bad;
		n <<= shift;
		*(size_t *)(void *)base = (size_t)n;
		return 0;
	}
	case OPT_INT: {
		long n = strtol(v, &end, 10);

		if (errno != 0 || *end != '\0' || end == v || n < 0 || n > INT_MAX)
			goto bad;
		*(int *)(void *)base = (int)n;
		return 0;
	}
	case OPT_DOUBLE:
	case OPT_DOUBLE0: {
		double d = strtod(v, &end);

		if (errno != 0 || *end != '\0' || end == v || d > 1e9 ||
		    !(d > 0 || (d == 0 && o->kind == OPT_DOUBLE0)))
			goto bad;
		*(double *)(void *)base = d;
		return 0;
	}
	case OPT_BOOL:
		if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcmp(v, "yes") == 0)
			*(bool *)(void *)base = true;
		else if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0 || strcmp(v, "no") == 0)
			*(bool *)(void *)base = false;
		else
			goto bad;
		return 0;
	case OPT_LISTEN:
		if (parse_listen((struct listen_addr *)(void *)base, v) != 0)
			goto bad;
		return 0;
	case OPT_PATH:
		if (v[0] == '\0' || strlen(v) >= CONFIG_PATH_MAX)
			goto bad;
		snprintf(base, CONFIG_PATH_MAX, "%s", v);
		return 0;
	case OPT_STRING:
		if (strlen(v) >= sizeof(cfg->allowed_origins))
			goto bad;
		snprintf(base, sizeof(cfg->allowed_origins), "%s", v);
		return 0;
	case OPT_STORE:
		if (strlen(v) >= sizeof(cfg->store_url) || !store_url_ok(v))
			goto bad;
		snprintf(base, sizeof(cfg->store_url), "%s", v);
		return 0;
	case OPT_NATS:
		if (strlen(v) >= sizeof(cfg->nats) || !nats_ok(v))
			goto bad;
		snprintf(base, sizeof(cfg->nats), "%s", strcmp(v, "off") == 0 ? "" : v);
		return 0;
	case OPT_NODE:
		if (!plain_name_ok(v, sizeof(cfg->node_name) - 1, true))
			goto bad;
		snprintf(base, sizeof(cfg->node_name), "%s", v);
		return 0;
	case OPT_CLUSTER:
		if (!plain_name_ok(v, sizeof(cfg->cluster_name) - 1, false))
			goto bad;
		snprintf(base, sizeof(cfg->cluster_name), "%s", v);
		return 0;
	case OPT_LEVEL:
		if (log_parse_level(v, &cfg->log_level) != 0)
			goto bad;
		return 0;
	case OPT_METRICS_ALLOW:
		if (strcmp(v, "loopback") == 0)
			cfg->metrics_allow = METRICS_LOOPBACK;
		else if (strcmp(v, "token") == 0)
			cfg->metrics_allow = METRICS_TOKEN;
		else if (strcmp(v, "all") == 0)
			cfg->metrics_allow = METRICS_ALL;
		else
			goto bad;
		return 0;
	}
bad:
	snprintf(err, errlen, "bad value for %s: '%s'", o->name, v);
	return -1;
}

static const struct opt *find_opt(const char *name)
{
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		if (strcmp(opts[i].name, name) == 0)
			return &opts[i];
	return NULL;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* One "name = value" line (or "name value", or a bare boolean "name"), trimmed. */
static int load_line(struct config *cfg, char *s, char *err, size_t errlen)
{
	char *key = s, *val = (char *)"true", *sep = strpbrk(s, "= \t");
	const struct opt *o;

	if (sep != NULL) {
		*sep = '\0';
		val = trim(sep + 1);
		if (*val == '=')
			val = trim(val + 1);
	}
	key = trim(key);
	o = find_opt(key);
	if (o == NULL) {
		snprintf(err, errlen, "unknown setting '%s'", key);
		return -1;
	}
	return set_opt(cfg, o, val, err, errlen);
}

int config_load_buffer(struct config *cfg, const char *text, size_t len, char *err,
                       size_t errlen)
{
	char line[CONFIG_LINE_MAX + 1], msg[CONFIG_LINE_MAX + 64];
	size_t off = 0;
	int lineno = 0;

	if (errlen > 0)
		err[0] = '\0';
	while (off < len) {
		const char *nl = memchr(text + off, '\n', len - off);
		size_t n = (nl != NULL ? (size_t)(nl - text) : len) - off;
		char *s;

		lineno++;
		if (n > CONFIG_LINE_MAX) {
			snprintf(err, errlen, "%d: the line is longer than %d bytes", lineno,
			         CONFIG_LINE_MAX);
			return -1;
		}
		if (memchr(text + off, '\0', n) != NULL) {
			snprintf(err, errlen, "%d: a NUL byte in the line", lineno);
			return -1;
		}
		memcpy(line, text + off, n);
		line[n] = '\0';
		off += n + 1;
		s = trim(line);
		if (*s == '\0' || *s == '#')
			continue;
		if (load_line(cfg, s, msg, sizeof(msg)) != 0) {
			snprintf(err, errlen, "%d: %s", lineno, msg);
			return -1;
		}
	}
	return 0;
}

int config_load_file(struct config *cfg, const char *path)
{
	char *text = NULL, err[CONFIG_LINE_MAX + 96];
	size_t len = 0, cap = 0, n;
	int rc = -1;
	FILE *f = fopen(path, "r");

	if (f == NULL) {
		fprintf(stderr, "pierd: cannot open config file %s: %s\n", path, strerror(errno));
		return -1;
	}
	do {                             /* the whole file: a config file is small */
		if (len == cap) {
			char *t = cap < CONFIG_FILE_MAX ? realloc(text, cap ? cap * 2 : 4096) : NULL;

			if (t == NULL) {
				fprintf(stderr, "pierd: config file %s: too large\n", path);
				goto out;
			}
			text = t;
			cap = cap ? cap * 2 : 4096;
		}
		n = fread(text + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	if (ferror(f)) {
		fprintf(stderr, "pierd: cannot read config file %s: %s\n", path, strerror(errno));
		goto out;
	}
	rc = config_load_buffer(cfg, text, len, err, sizeof(err));
	if (rc != 0)
		fprintf(stderr, "pierd: %s:%s\n", path, err);
out:
	free(text);
	fclose(f);
	return rc;
}

int config_parse_args(struct config *cfg, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			print_help();
			return 1;
		}
		if (strcmp(argv[i], "--version") == 0) {
			printf("pierd 0.1.0 (protocol 1)\n");
			return 1;
		}
	}
	for (int i = 1; i + 1 < argc; i++)
		if (strcmp(argv[i], "--config") == 0 && config_load_file(cfg, argv[i + 1]) != 0)
			return -1;
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *val = NULL, *eq;
		char name[64], err[CONFIG_PATH_MAX + 128];
		const struct opt *o;

		if (strncmp(arg, "--", 2) != 0) {
			fprintf(stderr, "pierd: unexpected argument '%s' (see --help)\n", arg);
			return -1;
		}
		arg += 2;
		eq = strchr(arg, '=');
		snprintf(name, sizeof(name), "%.*s", eq ? (int)(eq - arg) : (int)strlen(arg), arg);
		if (strcmp(name, "config") == 0) {
			i++;
			continue;
		}
		o = find_opt(name);
		if (o == NULL) {
			fprintf(stderr, "pierd: unknown option '--%s' (see --help)\n", name);
			return -1;
		}
		if (eq != NULL)
			val = eq + 1;
		else if (o->kind == OPT_BOOL)
			val = "true";
		else if (i + 1 < argc)
			val = argv[++i];
		else {
			fprintf(stderr, "pierd: option '--%s' needs a value\n", name);
			return -1;
		}
		if (set_opt(cfg, o, val, err, sizeof(err)) != 0) {
			fprintf(stderr, "pierd: %s\n", err);
			return -1;
		}
	}
	if ((cfg->tls_cert[0] == '\0') != (cfg->tls_key[0] == '\0')) {
		fprintf(stderr, "pierd: --tls-cert and --tls-key go together\n");
		return -1;
	}
	if (cfg->max_rooms < 0 || cfg->max_rooms_per_user < 0 || !(cfg->room_forget_after >= 0)) {
		fprintf(stderr, "pierd: --max-rooms, --max-rooms-per-user and --room-forget-after "
		        "cannot be negative\n");
		return -1;
	}
	if (cfg->e2ee_max_devices < 1 || cfg->e2ee_max_devices > 32 || cfg->e2ee_max_prekeys < 1 ||
	    cfg->e2ee_max_queue < 1 || cfg->e2ee_max_payload < 1 || cfg->e2ee_max_envelope < 1 ||
	    !(cfg->e2ee_pending_expiry > 0)) {
		fprintf(stderr, "pierd: --e2ee-max-devices is 1 to 32 (a list holds at most 32); the "
		        "other --e2ee- limits are positive\n");
		return -1;
	}
	if (cfg->hash_threads < 1 || cfg->hash_threads > 64 || cfg->max_hash_jobs < 1) {
		fprintf(stderr, "pierd: --hash-threads is 1 to 64 and --max-hash-jobs at least 1\n");
		return -1;
	}
	return 0;
}

bool config_has_tls(const struct config *cfg)
{
	return cfg->tls_cert[0] != '\0' && cfg->tls_key[0] != '\0';
}

void config_log(const struct config *cfg)
{
	log_info("settings: http-max-header %zu, http-max-body %zu, http-header-timeout %.0fs, "
	         "http-write-timeout %.0fs, ws-ping %.0fs/%.0fs, origins %s, files %s",
	         cfg->http_max_header, cfg->http_max_body, cfg->http_header_timeout,
	         cfg->http_write_timeout, cfg->ws_ping_interval,
	         cfg->ws_ping_timeout, cfg->allowed_origins[0] ? cfg->allowed_origins : "same host",
	         cfg->web_root[0] ? cfg->web_root : "built in");
	log_info("settings: media-max-size %zu, media-quota %zu", cfg->media_max_size,
	         cfg->media_quota);
	log_info("settings: max-rooms %d, max-rooms-per-user %d, room-forget-after %.0fs, "
	         "recall-window %.0fs", cfg->max_rooms, cfg->max_rooms_per_user,
	         cfg->room_forget_after, cfg->recall_window);
	log_info("settings: e2ee-max-devices %d, e2ee-max-prekeys %d, e2ee-max-payload %zu, "
	         "e2ee-max-envelope %zu, e2ee-max-queue %d, e2ee-pending-expiry %.0fs",
	         cfg->e2ee_max_devices, cfg->e2ee_max_prekeys, cfg->e2ee_max_payload,
	         cfg->e2ee_max_envelope, cfg->e2ee_max_queue, cfg->e2ee_pending_expiry);
	log_info("settings: hash-threads %d, max-hash-jobs %d, login %.0f+1/%.0fs, token-idle %.0fs",
	         cfg->hash_threads, cfg->max_hash_jobs, cfg->login_burst, cfg->login_interval,
	         cfg->token_idle);
	log_info("settings: max-line %zu, max-text %zu, max-output %zu, login-timeout %.0fs, "
	         "msg %.0f+%.1f/s, conns/addr %d%s",
	         cfg->max_line, cfg->max_text, cfg->max_output, cfg->login_timeout, cfg->msg_burst,
	         cfg->msg_rate, cfg->max_conns_per_addr,
	         cfg->no_rate_limits ? ", RATE LIMITS OFF (--no-rate-limits)" : "");
}
