/* test_config.c - pierd's flags and config file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "tap.h"

static int parse(struct config *cfg, int argc, const char **argv)
{
	config_init(cfg);
	return config_parse_args(cfg, argc, (char **)argv);
}

int main(void)
{
	struct config cfg;
	char path[] = "/tmp/pier-config-XXXXXX";
	int fd;
	FILE *f;

	{
		const char *argv[] = {"pierd"};
		CHECK(parse(&cfg, 1, argv) == 0, "no flags");
		CHECK(strcmp(cfg.listen.host, "0.0.0.0") == 0 && cfg.listen.port == 6666, "default listen");
		CHECK(strcmp(cfg.data_dir, "./data") == 0, "default data dir");
		CHECK(cfg.max_line == 65536 && cfg.max_text == 16384, "default size limits");
		CHECK(!cfg.no_rate_limits && !cfg.weak_password_hash, "safe defaults");
	}
	{
		const char *argv[] = {"pierd", "--listen", "127.0.0.1:0", "--data-dir", "/tmp/x",
		                      "--no-rate-limits", "--weak-password-hash", "--max-line=1024",
		                      "--msg-rate", "2.5", "--log-level", "debug"};
		CHECK(parse(&cfg, 12, argv) == 0, "all kinds of flags");
		CHECK(strcmp(cfg.listen.host, "127.0.0.1") == 0 && cfg.listen.port == 0, "listen parsed");
		CHECK(strcmp(cfg.data_dir, "/tmp/x") == 0, "data dir");
		CHECK(cfg.no_rate_limits && cfg.weak_password_hash, "booleans");
		CHECK(cfg.max_line == 1024, "--name=value form");
		CHECK(cfg.msg_rate == 2.5, "double");
		CHECK(cfg.log_level == LOG_DEBUG, "log level");
	}
	{
		const char *argv[] = {"pierd", "--listen", "[::1]:7000"};
		CHECK(parse(&cfg, 3, argv) == 0 && strcmp(cfg.listen.host, "::1") == 0 &&
		      cfg.listen.port == 7000, "IPv6 listen address");
	}
	{
		const char *argv[] = {"pierd"};
		CHECK(parse(&cfg, 1, argv) == 0 && cfg.http.port == 8080 && !cfg.http.off &&
		      cfg.tls_listen.port == 6697 && cfg.https.port == 8443 && !config_has_tls(&cfg),
		      "default HTTP and TLS ports, TLS off");
		CHECK(cfg.http_max_header == 16384 && cfg.http_max_body == 65536 &&
		      cfg.http_header_timeout == 10 && cfg.ws_ping_interval == 30 &&
		      cfg.ws_ping_timeout == 15 && cfg.allowed_origins[0] == '\0' &&
		      cfg.web_root[0] == '\0', "default HTTP and WebSocket limits");
	}
	{
		const char *argv[] = {"pierd", "--listen", "off", "--http", "127.0.0.1:0", "--tls-cert",
		                      "c.pem", "--tls-key", "k.pem", "--https", "[::1]:9443",
		                      "--allowed-origins", "https://a.example,https://b.example",
		                      "--ws-ping-interval", "5", "--http-max-header", "8192"};
		CHECK(parse(&cfg, 17, argv) == 0, "HTTP and TLS flags");
		CHECK(cfg.listen.off && !cfg.http.off && cfg.http.port == 0, "--listen off");
		CHECK(config_has_tls(&cfg) && strcmp(cfg.tls_cert, "c.pem") == 0 &&
		      strcmp(cfg.tls_key, "k.pem") == 0, "certificate and key");
		CHECK(strcmp(cfg.https.host, "::1") == 0 && cfg.https.port == 9443, "--https");
		CHECK(strcmp(cfg.allowed_origins, "https://a.example,https://b.example") == 0,
		      "--allowed-origins");
		CHECK(cfg.ws_ping_interval == 5 && cfg.http_max_header == 8192, "numbers");
	}
	{
		const char *argv[] = {"pierd", "--store", "postgresql://pier@db.example:5433/pier"};
		CHECK(parse(&cfg, 3, argv) == 0 &&
		      strcmp(cfg.store_url, "postgresql://pier@db.example:5433/pier") == 0, "--store");
		const char *sq[] = {"pierd", "--store", "sqlite"};
		CHECK(parse(&cfg, 3, sq) == 0 && strcmp(cfg.store_url, "sqlite") == 0, "--store sqlite");
		const char *at[] = {"pierd", "--store", "postgres:///pier?host=/tmp&user=a:b@c"};
		CHECK(parse(&cfg, 3, at) == 0, "--store: a ':' after the path is no password");
	}
	{
		const char *argv[] = {"pierd", "--tls-cert", "c.pem"};
		CHECK(parse(&cfg, 3, argv) == -1, "--tls-cert without --tls-key is refused");
	}
	{
		const char *bad[][3] = {
			{"pierd", "--listen", "nocolon"}, {"pierd", "--listen", "1.2.3.4:99999"},
			{"pierd", "--max-line", "-5"}, {"pierd", "--max-line", "12abc"},
			{"pierd", "--msg-rate", "0"}, {"pierd", "--bogus", "1"}, {"pierd", "stray", "x"},
			{"pierd", "--log-level", "loud"},
			{"pierd", "--store", "mysql://x/y"},
			{"pierd", "--store", "postgresql://pier:secret@db/pier"},
			{"pierd", "--store", "postgres://db/pier?password=secret"},
		};
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			CHECK(parse(&cfg, 3, bad[i]) == -1, "refused: %s %s", bad[i][1], bad[i][2]);
		const char *missing[] = {"pierd", "--data-dir"};
		CHECK(parse(&cfg, 2, missing) == -1, "flag without its value");
	}
	fd = mkstemp(path);
	REQUIRE(fd >= 0, 1, "temp file");
	f = fdopen(fd, "w");
	fprintf(f, "# pierd settings\nlisten = 127.0.0.2:7001\nmax-text 500\n\nno-rate-limits\n");
	fclose(f);
	{
		const char *argv[] = {"pierd", "--config", path, "--max-text", "600"};
		CHECK(parse(&cfg, 5, argv) == 0, "config file");
		CHECK(strcmp(cfg.listen.host, "127.0.0.2") == 0 && cfg.listen.port == 7001, "file: listen");
		CHECK(cfg.no_rate_limits, "file: bare boolean");
		CHECK(cfg.max_text == 600, "flags win over the file");
	}
	f = fopen(path, "w");
	fprintf(f, "max-text = lots\n");
	fclose(f);
	{
		const char *argv[] = {"pierd", "--config", path};
		CHECK(parse(&cfg, 3, argv) == -1, "bad value in the file is refused");
	}
	unlink(path);
	{
		const char *argv[] = {"pierd", "--config", "/nonexistent/pierd.conf"};
		CHECK(parse(&cfg, 3, argv) == -1, "missing config file is refused");
	}
	{
		const char *argv[] = {"pierd"};
		CHECK(parse(&cfg, 1, argv) == 0 && cfg.max_rooms == 100000 &&
		      cfg.max_rooms_per_user == 1000 && cfg.room_forget_after == 7 * 24 * 3600,
		      "room limits: defaults");
	}
	{
		const char *argv[] = {"pierd", "--max-rooms", "50", "--max-rooms-per-user", "20",
		                      "--room-forget-after", "2.5"};
		CHECK(parse(&cfg, 7, argv) == 0 && cfg.max_rooms == 50 && cfg.max_rooms_per_user == 20 &&
		      cfg.room_forget_after == 2.5, "room limits: flags");
	}
	{
		const char *argv[] = {"pierd", "--max-rooms", "-1"};
		CHECK(parse(&cfg, 3, argv) == -1, "a negative room cap is refused");
	}
	{
		static const char text[] = "# a comment\n  max-line = 2048  \r\n\tmax-text\t700\n"
		                           "weak-password-hash\nhttp =[::1]:81";
		char err[128] = "x";

		config_init(&cfg);
		CHECK(config_load_buffer(&cfg, text, sizeof(text) - 1, err, sizeof(err)) == 0 &&
		      err[0] == '\0', "buffer: loads (%s)", err);
		CHECK(cfg.max_line == 2048 && cfg.max_text == 700 && cfg.weak_password_hash &&
		      strcmp(cfg.http.host, "::1") == 0 && cfg.http.port == 81,
		      "buffer: every form of line, the last without a newline");
	}
	{
		static const char text[] = "max-line = 2048\nmax-text = lots\nmax-output = 1\n";
		char err[128];

		config_init(&cfg);
		CHECK(config_load_buffer(&cfg, text, sizeof(text) - 1, err, sizeof(err)) == -1 &&
		      strcmp(err, "2: bad value for max-text: 'lots'") == 0, "buffer: a bad value (%s)",
		      err);
		CHECK(cfg.max_line == 2048 && cfg.max_output == 4 * 1024 * 1024,
		      "buffer: applied up to the bad line, not after");
	}
	{
		static const char text[] = "max-line = 2048\nbogus = 1\n";
		char err[128];

		config_init(&cfg);
		CHECK(config_load_buffer(&cfg, text, sizeof(text) - 1, err, sizeof(err)) == -1 &&
		      strcmp(err, "2: unknown setting 'bogus'") == 0, "buffer: unknown (%s)", err);
	}
	{
		static const char text[] = "max-line = 20\0\n";
		char err[128], small[8];
		char *big = malloc(CONFIG_LINE_MAX + 2);

		config_init(&cfg);
		CHECK(config_load_buffer(&cfg, text, sizeof(text) - 1, err, sizeof(err)) == -1 &&
		      strstr(err, "NUL") != NULL, "buffer: a NUL byte is refused (%s)", err);
		memset(big, '#', CONFIG_LINE_MAX + 1);
		CHECK(config_load_buffer(&cfg, big, CONFIG_LINE_MAX, err, sizeof(err)) == 0,
		      "buffer: a comment of the longest line");
		CHECK(config_load_buffer(&cfg, big, CONFIG_LINE_MAX + 1, small, sizeof(small)) == -1 &&
		      strlen(small) == sizeof(small) - 1, "buffer: a longer line is refused, the message "
		      "cut to its buffer (%s)", small);
		free(big);
		CHECK(config_load_buffer(&cfg, "", 0, err, sizeof(err)) == 0, "buffer: empty");
	}
	return tap_done();
}
