/* config.h - pierd's settings: defaults, command-line flags and the optional config file. */
#ifndef PIER_CONFIG_H
#define PIER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "log.h"

struct config {
	char listen_host[64];
	int listen_port;
	char data_dir[4096];
	enum log_level log_level;

	/* size limits (kept by --no-rate-limits) */
	size_t max_line;          /* bytes per request line */
	size_t max_text;          /* bytes of message text */
	size_t max_output;        /* bytes queued for one connection before it is dropped */
	int max_hash_jobs;        /* password hashes in flight */

	/* abuse limits (lifted by --no-rate-limits) */
	int max_conns_per_addr;
	double login_timeout;     /* seconds before login */
	double msg_burst, msg_rate;             /* send: tokens, tokens per second */
	double req_burst, req_rate;             /* other requests after login */
	double login_fail_burst, login_fail_interval;  /* per account: failures, seconds per refill */
	double addr_fail_burst, addr_fail_interval;    /* per address */
	double register_burst, register_interval;      /* registrations per address */

	bool no_rate_limits;
	bool weak_password_hash;
	int store_max_batch;
	int presence_limit;        /* above this many online, presence goes to contacts only */
};

/* Fills cfg with the defaults. */
void config_init(struct config *cfg);

/* Applies the config file named by --config (if any), then the flags. Returns 0 to run,
 * 1 when --help/--version was printed (exit 0), -1 on a bad flag or file (message printed). */
int config_parse_args(struct config *cfg, int argc, char **argv);

/* Logs the settings in force (one line). */
void config_log(const struct config *cfg);

#endif
