/* main.c - pierd's entry point: settings, then the server until a clean stop. */
#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <sodium.h>
#include <uv.h>

#include "config.h"
#include "log.h"
#include "server.h"
#include "tls_cert.h"

/* Every client is a file descriptor: take all the kernel allows this process. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		log_info("file descriptor limit %llu", (unsigned long long)rl.rlim_cur);
}

int main(int argc, char **argv)
{
	static struct server srv;   /* large (read buffer); lives for the whole run */
	struct config cfg;
	uv_loop_t loop;
	int rc;

	config_init(&cfg);
	rc = config_parse_args(&cfg, argc, argv);
	if (rc != 0)
		return rc > 0 ? 0 : 2;
	if (cfg.gen_cert_dir[0] != '\0') {
		if (tls_gen_cert(cfg.gen_cert_dir) != 0)
			return 1;
		printf("pierd: wrote %s/cert.pem and %s/key.pem (self-signed, for localhost,\n"
		       "127.0.0.1 and ::1). Start with --tls-cert %s/cert.pem --tls-key %s/key.pem;\n"
		       "clients trust it with pier --ca-file %s/cert.pem.\n",
		       cfg.gen_cert_dir, cfg.gen_cert_dir, cfg.gen_cert_dir, cfg.gen_cert_dir,
		       cfg.gen_cert_dir);
		return 0;
	}
	log_set_level(cfg.log_level);
	if (sodium_init() < 0) {
		log_error("libsodium failed to initialise");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	/* Everything pierd writes (database, media, thumbnails, uploads) is the owner's alone,
	 * whatever umask it was started with; server_init also fixes an existing data dir. */
	umask(077);
	raise_fd_limit();
	log_info("pierd 0.1.0 starting (pid %d)", (int)uv_os_getpid());
	if (cfg.weak_password_hash)
		log_warn("WEAK PASSWORD HASHING (--weak-password-hash): for tests and benchmarks only, "
		         "never for real accounts");
	if (cfg.no_rate_limits)
		log_warn("RATE LIMITS OFF (--no-rate-limits): for tests and benchmarks only");
	uv_loop_init(&loop);
	if (server_init(&srv, &loop, &cfg) != 0) {
		log_error("startup failed");
		server_release_failed(&srv);
		uv_loop_close(&loop);
		return 1;
	}
	rc = server_run(&srv);
	if (uv_loop_close(&loop) != 0)
		log_warn("loop closed with handles still open");
	return rc;
}
