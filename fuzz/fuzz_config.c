/* fuzz_config.c - libFuzzer harness: pierd's config file parser (config_load_buffer) on any
 * text, with an error buffer of every size.
 *
 * Input: the first byte picks the error buffer's size (1..255); the rest is the file's text
 * (any bytes, NULs included).
 *
 * Checked: the answer is 0 or -1; the message is NUL-terminated inside its buffer (allocated
 * to its size, for ASan), empty after 0 and not after -1; a file that loads leaves every
 * setting in its range (sizes above 0, counts not negative, seconds in (0, 1e9], ports in
 * 0..65535, strings terminated inside their arrays) and loading it again on the result
 * changes nothing (a file sets values, it does not accumulate them). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_listen(const struct listen_addr *la)
{
	if (la->port < 0 || la->port > 65535 || strnlen(la->host, sizeof(la->host)) == sizeof(la->host))
		abort();
}

static void check_seconds(double d)
{
	if (!(d > 0) || d > 1e9)
		abort();
}

#define TERMINATED(a) (strnlen((a), sizeof(a)) < sizeof(a))

static void check_ranges(const struct config *c)
{
	check_listen(&c->listen);
	check_listen(&c->tls_listen);
	check_listen(&c->http);
	check_listen(&c->https);
	if (!TERMINATED(c->tls_cert) || !TERMINATED(c->tls_key) || !TERMINATED(c->web_root) ||
	    !TERMINATED(c->allowed_origins) || !TERMINATED(c->gen_cert_dir) ||
	    !TERMINATED(c->data_dir) || !TERMINATED(c->metrics_token))
		abort();
	if (c->max_line == 0 || c->max_text == 0 || c->max_output == 0 || c->http_max_header == 0 ||
	    c->http_max_body == 0 || c->media_max_size == 0 || c->media_quota == 0)
		abort();
	if (c->max_hash_jobs < 0 || c->max_conns_per_addr < 0 || c->store_max_batch < 0 ||
	    c->presence_limit < 0 || c->max_rooms < 0 || c->max_rooms_per_user < 0)
		abort();
	check_seconds(c->login_timeout);
	check_seconds(c->msg_burst);
	check_seconds(c->msg_rate);
	check_seconds(c->req_burst);
	check_seconds(c->req_rate);
	check_seconds(c->http_header_timeout);
	check_seconds(c->http_write_timeout);
	check_seconds(c->ws_ping_interval);
	check_seconds(c->ws_ping_timeout);
	check_seconds(c->room_forget_after);
	check_seconds(c->login_fail_burst);
	check_seconds(c->login_fail_interval);
	check_seconds(c->addr_fail_burst);
	check_seconds(c->addr_fail_interval);
	check_seconds(c->register_burst);
	check_seconds(c->register_interval);
	if (c->metrics_allow != METRICS_LOOPBACK && c->metrics_allow != METRICS_TOKEN &&
	    c->metrics_allow != METRICS_ALL)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config cfg, again;
	size_t errlen;
	char *err;
	int rc;

	if (size < 1)
		return 0;
	errlen = (size_t)data[0] + 1;
	err = malloc(errlen);
	if (err == NULL)
		abort();
	config_init(&cfg);
	rc = config_load_buffer(&cfg, (const char *)data + 1, size - 1, err, errlen);
	if ((rc != 0 && rc != -1) || strnlen(err, errlen) == errlen)
		abort();
	if (rc == -1 && errlen > 1 && err[0] == '\0')
		abort();                     /* refused without a word */
	if (rc == 0) {
		if (err[0] != '\0')
			abort();
		check_ranges(&cfg);
		memcpy(&again, &cfg, sizeof(cfg));
		if (config_load_buffer(&again, (const char *)data + 1, size - 1, err, errlen) != 0 ||
		    memcmp(&again, &cfg, sizeof(cfg)) != 0)
			abort();                 /* loading twice is loading once */
	}
	free(err);
	return 0;
}
