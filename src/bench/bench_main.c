/* bench_main.c - pier-bench: the command line and the benchmark suite. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "bench_e2ee.h"
#include "bench_history.h"
#include "bench_report.h"
#include "bench_scenarios.h"
#include "bench_search.h"
#include "bench_server.h"

#define FD_RESERVE 512     /* descriptors kept free beside the clients, in bench and pierd */

static const size_t connect_sizes[] = { 1000, 10000, 50000, 100000 };
static const size_t fanout_sizes[] = { 100, 1000, 5000 };
static const size_t private_sizes[] = { 500, 2000 };
static const size_t e2ee_sizes[] = { 100, 500 };

struct cli {
	struct bconfig cfg;
	const char *out;
	const char *only;          /* --scenario */
	size_t size;               /* --size, 0: the standard sizes */
	size_t senders;            /* fanout senders */
};

static void usage(FILE *f)
{
	fprintf(f,
	"Usage: pier-bench [OPTIONS]\n"
	"Load generator and benchmark suite for pierd. Starts its own pierd for each scenario\n"
	"(fresh data directory under $TMPDIR or /tmp, 127.0.0.1, --weak-password-hash\n"
	"--no-rate-limits) unless --target is given, drives thousands of connections from one\n"
	"epoll loop, verifies every message it receives (exactly once, in order, nothing\n"
	"misrouted) and prints a table; writes results.json and results.md into --out.\n"
	"\n"
	"Bounded in time: each scenario is limited to %d s, setup included (search: %d s), so\n"
	"the standard suite (at most 15 scenario runs) ends within about %d minutes; it usually\n"
	"takes four. Before anything else it times %d fdatasyncs of 4 KiB on the data directory's\n"
	"disk (the floor of the run: p50, p99, p99.9), and again %d before each fixed-rate phase;\n"
	"the tail targets (issue 13) are ack and delivery p99 <= 2x that phase's fdatasync p99.\n"
	"After the table every target is listed again with met / not met.\n"
	"\n"
	"Scenarios (standard sizes):\n"
	"  connect   N idle logged-in clients: server CPU per registration, login rate, server\n"
	"            RSS per connection\n"
	"            (1000, 10000, the largest that RLIMIT_NOFILE allows; 50000 and 100000 are\n"
	"            reported as not runnable when the descriptor limit is too low)\n"
	"  fanout    one room of N members (100, 1000, 5000), 8 senders: deliveries/s at\n"
	"            saturation, server CPU per delivery, ack and delivery latency at 100 msg/s\n"
	"  private   K pairs (500, 2000) sending to each other: msg/s and server CPU per message\n"
	"            at saturation, ack and delivery latency at a steady 2000 msg/s\n"
	"  history   64 readers paging through a room of 10000 messages: pages/s, latency\n"
	"  durable   64 senders, acks only: acked msg/s, ack latency, messages per fsync\n"
	"  search    1000000 messages written into a store and indexed by the migration (--size:\n"
	"            how many; quick 20000): index size per 1M messages, indexing time, search\n"
	"            latency p50/p99 over a set of queries (its own limit: %d s)\n"
	"  e2ee      K pairs (100, 500; quick 10) sending private messages, first plaintext, then\n"
	"            end-to-end encrypted (a device each, signed lists, sessions): msg/s, server\n"
	"            CPU per message of both, clients' CPU per encrypt and decrypt, bytes on\n"
	"            the wire per message; then plaintext at the encrypted rate (paced; same\n"
	"            client work): server CPU ratios\n"
	"\n",
	BSCEN_TIME_LIMIT_S, BSEARCH_TIME_LIMIT_S,
	(14 * BSCEN_TIME_LIMIT_S + BSEARCH_TIME_LIMIT_S + 59) / 60 + 1, BSCEN_FSYNC_PROBES,
	BSCEN_TAIL_PROBES, BSEARCH_TIME_LIMIT_S);
	/* in two pieces: a C17 compiler need not take a string literal over 4095 bytes */
	fputs(
	"Options:\n"
	"  --pierd PATH        the pierd to start (default: pierd beside pier-bench)\n"
	"  --target HOST:PORT  use a running server instead (IPv4; its CPU and memory are then\n"
	"                      not measured; it should run with --no-rate-limits)\n"
	"  --out DIR           where results.json and results.md go (default build/bench)\n"
	"  --scenario NAMES    run only these (comma-separated: connect,fanout,private,history,\n"
	"                      durable,search,e2ee)\n"
	"  --size N            run each chosen scenario at this one size (members, pairs,\n"
	"                      clients, readers, senders or messages)\n"
	"  --senders N         fanout senders (default 8)\n"
	"  --window N          sends each sender keeps unacked at saturation (default: fanout\n"
	"                      256 below 1000 members, 64 from 1000, 32 from 5000; private and\n"
	"                      e2ee 8192 / users, 1..64; durable 16)\n"
	"  --quick             a small, short suite (smoke test; figures mean little)\n"
	"  --measure SECONDS   length of each saturation measurement (default 4, quick 0.5)\n"
	"  --latency SECONDS   length of each fixed-rate latency measurement (default 5 s,\n"
	"                      longer where needed for 2000 acks: 20 s at 100 msg/s; quick 0.5)\n"
	"  --max-output BYTES  pass --max-output to pierd (default: pierd's own, 4 MiB)\n"
	"  --sources N         spread connections over 127.0.0.2..127.0.0.(N+1) (default 8)\n"
	"  --check-parser      parse every line also with jansson and compare (slower)\n"
	"  --keep-data         keep pierd's data directories and logs\n"
	"  --help              this text\n"
	"\n"
	"Exit status: 0 when every scenario ran and verified its messages; 1 when one failed\n"
	"(loss, reordering, misrouting, an error from the server, a time limit); 2 on bad usage.\n"
	"Missed performance targets are shown in the table but do not change the exit status.\n", f);
}

static int parse_double(const char *s, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	return errno != 0 || *end != '\0' || end == s || *out <= 0 || *out > 50 ? -1 : 0;
}

static int parse_size(const char *s, size_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || end == s || s[0] == '-' || v == 0 || v > 10000000)
		return -1;
	*out = (size_t)v;
	return 0;
}

/* pierd in the same directory as this program. */
static char *pierd_beside_me(void)
{
	static char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 8);
	char *slash;

	if (n <= 0)
		return NULL;
	path[n] = '\0';
	slash = strrchr(path, '/');
	if (slash == NULL)
		return NULL;
	snprintf(slash + 1, sizeof(path) - (size_t)(slash + 1 - path), "pierd");
	return access(path, X_OK) == 0 ? path : NULL;
}

static int parse_args(struct cli *cli, int argc, char **argv)
{
	bool have_measure = false, have_latency = false;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		bool takes = true;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return 1;
		} else if (strcmp(a, "--quick") == 0) {
			cli->cfg.quick = true;
			takes = false;
		} else if (strcmp(a, "--check-parser") == 0) {
			cli->cfg.check_parser = true;
			takes = false;
		} else if (strcmp(a, "--keep-data") == 0) {
			cli->cfg.keep_data = true;
			takes = false;
		} else if (v == NULL) {
			fprintf(stderr, "pier-bench: %s needs a value (or is unknown; see --help)\n", a);
			return -1;
		} else if (strcmp(a, "--pierd") == 0) {
			cli->cfg.pierd = v;
		} else if (strcmp(a, "--target") == 0) {
			cli->cfg.target = v;
		} else if (strcmp(a, "--out") == 0) {
			cli->out = v;
		} else if (strcmp(a, "--scenario") == 0) {
			cli->only = v;
		} else if (strcmp(a, "--size") == 0) {
			if (parse_size(v, &cli->size) != 0)
				goto bad;
		} else if (strcmp(a, "--window") == 0) {
			size_t n;

			if (parse_size(v, &n) != 0 || n > 4096)
				goto bad;
			cli->cfg.window = (int)n;
		} else if (strcmp(a, "--senders") == 0) {
			if (parse_size(v, &cli->senders) != 0)
				goto bad;
		} else if (strcmp(a, "--sources") == 0) {
			size_t n;

			if (parse_size(v, &n) != 0 || n > 200)
				goto bad;
			cli->cfg.nsrc = (int)n;
		} else if (strcmp(a, "--max-output") == 0) {
			size_t n;

			if (parse_size(v, &n) != 0)
				goto bad;
			cli->cfg.max_output = n;
		} else if (strcmp(a, "--measure") == 0) {
			if (parse_double(v, &cli->cfg.measure_s) != 0)
				goto bad;
			have_measure = true;
		} else if (strcmp(a, "--latency") == 0) {
			if (parse_double(v, &cli->cfg.latency_s) != 0)
				goto bad;
			have_latency = true;
		} else {
			fprintf(stderr, "pier-bench: unknown option %s (see --help)\n", a);
			return -1;
		}
		if (takes)
			i++;
		continue;
bad:
		fprintf(stderr, "pier-bench: bad value for %s: '%s'\n", a, v);
		return -1;
	}
	if (!have_measure)
		cli->cfg.measure_s = cli->cfg.quick ? 0.5 : 4.0;
	if (!have_latency)
		cli->cfg.latency_s = cli->cfg.quick ? 0.5 : 5.0;
	cli->cfg.latency_auto = !have_latency && !cli->cfg.quick;
	if (cli->cfg.target == NULL && cli->cfg.pierd == NULL)
		cli->cfg.pierd = pierd_beside_me();
	if (cli->cfg.target == NULL && cli->cfg.pierd == NULL) {
		fprintf(stderr, "pier-bench: no pierd beside pier-bench; give --pierd PATH or --target\n");
		return -1;
	}
	if (cli->only != NULL) {
		static const char *const names[] = { "connect", "fanout", "private", "history",
		                                     "durable", "search", "e2ee" };
		char buf[256], *save = NULL;

		snprintf(buf, sizeof(buf), "%s", cli->only);
		for (char *t = strtok_r(buf, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
			bool known = false;

			for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
				known = known || strcmp(t, names[k]) == 0;
			if (!known) {
				fprintf(stderr, "pier-bench: unknown scenario '%s' (see --help)\n", t);
				return -1;
			}
		}
	}
	return 0;
}

static bool wanted(const struct cli *cli, const char *name)
{
	char buf[256], *save = NULL;

	if (cli->only == NULL)
		return true;
	snprintf(buf, sizeof(buf), "%s", cli->only);
	for (char *t = strtok_r(buf, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
		if (strcmp(t, name) == 0)
			return true;
	}
	return false;
}

/* Takes every descriptor the hard limit allows; returns the limit now in force. */
static int raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 1024;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	return rl.rlim_cur > INT_MAX ? INT_MAX : (int)rl.rlim_cur;
}

static void make_tag(char *out, size_t len)
{
	static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
	struct timespec ts;
	unsigned long long v;

	clock_gettime(CLOCK_REALTIME, &ts);
	v = (unsigned long long)ts.tv_sec * 1000003ULL ^ (unsigned long long)ts.tv_nsec ^
	    ((unsigned long long)getpid() << 20);
	out[0] = 'b';
	for (size_t i = 1; i < 7 && i + 1 < len; i++) {
		out[i] = digits[v % 36];
		v /= 36;
		out[i + 1] = '\0';
	}
}

static void run_connect(const struct cli *cli, struct breport *rep)
{
	const struct bconfig *cfg = &cli->cfg;
	size_t fit = cfg->fd_limit > FD_RESERVE + 1000 ?
	             (size_t)(cfg->fd_limit - FD_RESERVE - 1000) / 1000 * 1000 : 0;
	size_t sizes[8], nsizes = 0;

	if (cli->size != 0) {
		sizes[nsizes++] = cli->size;
	} else if (cfg->quick) {
		sizes[nsizes++] = 200;
	} else {
		for (size_t i = 0; i < sizeof(connect_sizes) / sizeof(connect_sizes[0]); i++) {
			/* the largest size that fits goes in its place, when it is a new one */
			if (connect_sizes[i] > 10000 && fit > 10000 && fit < connect_sizes[i] &&
			    (nsizes == 0 || sizes[nsizes - 1] < fit))
				sizes[nsizes++] = fit;
			sizes[nsizes++] = connect_sizes[i];
		}
	}
	for (size_t i = 0; i < nsizes; i++) {
		char label[64], why[160];

		if (sizes[i] + FD_RESERVE > (size_t)cfg->fd_limit) {
			snprintf(label, sizeof(label), "connect %zu", sizes[i]);
			snprintf(why, sizeof(why), "RLIMIT_NOFILE hard limit %d (one descriptor per client "
			         "in the bench and in pierd)", cfg->fd_limit);
			bscen_not_runnable(rep, "connect", label, why);
			printf("== %s: not runnable here (%s)\n", label, why);
			continue;
		}
		bscen_connect(cfg, rep, sizes[i]);
	}
}

int main(int argc, char **argv)
{
	static struct breport rep;
	struct cli cli;
	size_t quick_one;
	int rc;

	memset(&cli, 0, sizeof(cli));
	cli.out = "build/bench";
	cli.senders = 8;
	cli.cfg.nsrc = 8;
	rc = parse_args(&cli, argc, argv);
	if (rc != 0)
		return rc > 0 ? 0 : 2;
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);     /* a server that closes on us is an error to report, not death */
	cli.cfg.fd_limit = raise_fd_limit();
	make_tag(cli.cfg.tag, sizeof(cli.cfg.tag));

	breport_init(&rep);
	snprintf(rep.pierd, sizeof(rep.pierd), "%s", cli.cfg.target ? cli.cfg.target : cli.cfg.pierd);
	/* with our own pierd, the first scenario fills in the flags it really ran with */
	if (cli.cfg.target != NULL)
		snprintf(rep.pierd_flags, sizeof(rep.pierd_flags), "(existing server; flags unknown)");
	for (int i = 0; i < argc; i++)
		snprintf(rep.bench_args + strlen(rep.bench_args),
		         sizeof(rep.bench_args) - strlen(rep.bench_args), "%s%s", i ? " " : "", argv[i]);
	snprintf(rep.notes, sizeof(rep.notes),
	         "One pierd per scenario, fresh data directory on %s, default durability "
	         "(synchronous=FULL). Server CPU = utime+stime of pierd from /proc/PID/stat over "
	         "the measured window (all its threads); the bench shares the machine's %d CPUs "
	         "with pierd. The bench reads msg/sent/presence/member/users/pong lines with its "
	         "own allocation-free reader and every other line with libpier's core%s. "
	         "RLIMIT_NOFILE: %d.",
	         getenv("TMPDIR") && getenv("TMPDIR")[0] ? getenv("TMPDIR") : "/tmp", rep.nproc,
	         cli.cfg.check_parser ? " (--check-parser: every fast-read line re-parsed by "
	         "jansson and compared)" : "", cli.cfg.fd_limit);
	snprintf(rep.fsync_dir, sizeof(rep.fsync_dir), "%s",
	         getenv("TMPDIR") && getenv("TMPDIR")[0] ? getenv("TMPDIR") : "/tmp");
	{
		struct bfsync fs;

		bserver_probe_fsync(rep.fsync_dir, cli.cfg.quick ? 50 : BSCEN_FSYNC_PROBES, &fs);
		rep.fsync_p50_ms = fs.p50_ms;
		rep.fsync_p99_ms = fs.p99_ms;
		rep.fsync_p999_ms = fs.p999_ms;
		rep.fsync_max_ms = fs.max_ms;
		rep.fsync_msg_p99_ms = fs.msg_p99_ms;
		rep.fsync_msg_p999_ms = fs.msg_p999_ms;
		rep.fsync_n = fs.n;
	}
	printf("pier-bench: tag %s, pierd %s, %s suite, results into %s\n", cli.cfg.tag, rep.pierd,
	       cli.cfg.quick ? "quick" : "standard", cli.out);

	if (wanted(&cli, "connect"))
		run_connect(&cli, &rep);
	if (wanted(&cli, "fanout")) {
		if (cli.size != 0 || cli.cfg.quick) {
			quick_one = cli.size ? cli.size : 50;
			bscen_fanout(&cli.cfg, &rep, quick_one, cli.cfg.quick && !cli.size ? 4 : cli.senders);
		} else {
			for (size_t i = 0; i < sizeof(fanout_sizes) / sizeof(fanout_sizes[0]); i++)
				bscen_fanout(&cli.cfg, &rep, fanout_sizes[i], cli.senders);
		}
	}
	if (wanted(&cli, "private")) {
		if (cli.size != 0 || cli.cfg.quick) {
			bscen_private(&cli.cfg, &rep, cli.size ? cli.size : 50);
		} else {
			for (size_t i = 0; i < sizeof(private_sizes) / sizeof(private_sizes[0]); i++)
				bscen_private(&cli.cfg, &rep, private_sizes[i]);
		}
	}
	if (wanted(&cli, "history"))
		bscen_history(&cli.cfg, &rep, cli.size ? cli.size : cli.cfg.quick ? 8 : 64);
	if (wanted(&cli, "durable"))
		bscen_durable(&cli.cfg, &rep, cli.size ? cli.size : cli.cfg.quick ? 8 : 64);
	if (wanted(&cli, "search"))
		bscen_search(&cli.cfg, &rep, cli.size);
	if (wanted(&cli, "e2ee")) {
		if (cli.size != 0 || cli.cfg.quick) {
			bscen_e2ee(&cli.cfg, &rep, cli.size ? cli.size : 10);
		} else {
			for (size_t i = 0; i < sizeof(e2ee_sizes) / sizeof(e2ee_sizes[0]); i++)
				bscen_e2ee(&cli.cfg, &rep, e2ee_sizes[i]);
		}
	}

	breport_print(&rep);
	if (breport_write(&rep, cli.out) != 0)
		return 1;
	printf("Wrote %s/results.json and %s/results.md\n", cli.out, cli.out);
	return breport_ok(&rep) ? 0 : 1;
}
