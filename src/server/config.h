/* config.h - pierd's settings: defaults, command-line flags and the optional config file. */
#ifndef PIER_CONFIG_H
#define PIER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "log.h"

#define CONFIG_PATH_MAX 4096
#define CONFIG_LINE_MAX 4351         /* bytes of one config file line */
#define CONFIG_FILE_MAX (1u << 20)   /* bytes of a config file */

/* An address to listen on; off: this listener is not opened. */
struct listen_addr {
	char host[64];
	int port;
	bool off;
};

struct config {
	/* listeners: the JSON protocol over TCP and TLS, HTTP (WebSocket, files) and HTTPS */
	struct listen_addr listen, tls_listen, http, https;
	char tls_cert[CONFIG_PATH_MAX];   /* PEM; with tls_key, turns the TLS listeners on */
	char tls_key[CONFIG_PATH_MAX];
	char web_root[CONFIG_PATH_MAX];   /* "": the files built into the binary */
	char allowed_origins[1024];       /* "": same host as the Host header */
	char gen_cert_dir[CONFIG_PATH_MAX]; /* --gen-cert: write a certificate and exit */
	char data_dir[CONFIG_PATH_MAX];
	enum log_level log_level;

	/* size limits (kept by --no-rate-limits) */
	size_t max_line;          /* bytes per request line */
	size_t max_text;          /* bytes of message text */
	double recall_window;     /* seconds a message may be recalled after it was sent; 0: never */
	size_t max_output;        /* bytes queued for one connection before it is dropped */
	int max_hash_jobs;        /* password hashes in flight (running or waiting for a thread) */
	int hash_threads;         /* threads that run them */
	size_t http_max_header;   /* bytes of an HTTP request head */
	size_t http_max_body;     /* bytes of a request body (routes without their own limit) */
	double http_header_timeout; /* seconds for a request head; also the keep-alive idle time */
	double ws_ping_interval;  /* seconds between WebSocket pings */
	double ws_ping_timeout;   /* seconds a pong may take */
	double http_write_timeout; /* seconds an HTTP answer may make no progress on the wire */
	size_t media_max_size;    /* bytes of one uploaded file */
	size_t media_quota;       /* bytes of files one user may store */

	/* abuse limits (lifted by --no-rate-limits) */
	int max_conns_per_addr;
	double login_timeout;     /* seconds before login */
	double msg_burst, msg_rate;             /* send: tokens, tokens per second */
	double req_burst, req_rate;             /* other requests after login */
	double login_fail_burst, login_fail_interval;  /* per account: failures, seconds per refill */
	double addr_fail_burst, addr_fail_interval;    /* per address */
	double register_burst, register_interval;      /* registrations per address */
	double login_burst, login_interval;  /* password logins per address and per account */
	double token_idle;        /* seconds a token may go unused; 0: never expires */

	/* who may read /metrics: loopback peers or a token holder, a token holder only, all */
	enum metrics_allow { METRICS_LOOPBACK, METRICS_TOKEN, METRICS_ALL } metrics_allow;
	char metrics_token[1024];  /* --metrics-token: "Authorization: Bearer TOKEN" lets in */

	bool no_rate_limits;
	bool weak_password_hash;
	char store_url[1024];      /* --store: "" or "sqlite" (DATA_DIR/pier.db) or postgresql://... */
	int store_max_batch;
	/* cluster (docs/CLUSTER.md) */
	char nats[1024];           /* --nats: comma list of nats:// URLs; "": off (one node) */
	char node_name[65];        /* --node-name ("": host name + pid) */
	char cluster_name[33];     /* --cluster-name: the NATS subject prefix */
	double presence_lease;     /* --presence-lease: seconds */
	int presence_limit;        /* 0: presence to contacts only; N: to all while <= N online */
	int max_rooms;             /* rooms besides #lobby in the directory; more are refused */
	int max_rooms_per_user;    /* rooms one user may be in besides #lobby */
	double room_forget_after;  /* seconds a room without members stays in the directory */

	/* end-to-end encryption (docs/E2EE.md): size limits, kept by --no-rate-limits */
	int e2ee_max_devices;      /* devices in one user's list (pending ones: 3 more) */
	int e2ee_max_prekeys;      /* one-time prekeys kept per device */
	size_t e2ee_max_payload;   /* characters of a message's payload (base64url) */
	size_t e2ee_max_envelope;  /* characters of one envelope's body (base64url) */
	int e2ee_max_queue;        /* envelopes waiting in one device's queue */
	double e2ee_pending_expiry; /* seconds a device stays pending before it is dropped */
};

/* Fills cfg with the defaults. */
void config_init(struct config *cfg);

/* Applies the config file named by --config (if any), then the flags. Returns 0 to run,
 * 1 when --help/--version was printed (exit 0), -1 on a bad flag or file (message printed). */
int config_parse_args(struct config *cfg, int argc, char **argv);

/* Applies a config file's text (len bytes, not NUL-terminated; "name = value" lines, names
 * as the flags without "--", a bare name sets a boolean, '#' comments) to cfg. 0, or -1 at
 * the first bad line with "LINE: what is wrong" in err (errlen bytes, always terminated);
 * the lines before it are applied. Lines longer than CONFIG_LINE_MAX or holding a NUL byte
 * are refused. */
int config_load_buffer(struct config *cfg, const char *text, size_t len, char *err,
                       size_t errlen);

/* config_load_buffer on the file at path (less than CONFIG_FILE_MAX bytes). 0, or -1 with a
 * message on stderr. */
int config_load_file(struct config *cfg, const char *path);

/* Logs the settings in force. */
void config_log(const struct config *cfg);

/* True when TLS is configured (--tls-cert and --tls-key). */
bool config_has_tls(const struct config *cfg);

#endif
