/* test_bench.c - integration: `pier-bench --quick --check-parser` against this build's pierd
 * exits 0, verifies every scenario (the encrypted one decrypts every envelope), and writes valid
 * results.json and results.md. Behaviour only: no figure is checked against a threshold. */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "rundir.h"

#define RUN_SECONDS 90          /* the watchdog; the quick suite takes seconds */

/* Runs pier-bench with args, output to log; returns the wait status, or -1. */
static int run_bench(const char *const *args, const char *log)
{
	const char *argv[16];
	int n = 0, status = 0;
	pid_t pid;

	argv[n++] = BENCH_PATH;
	while (*args != NULL && n < 15)
		argv[n++] = *args++;
	argv[n] = NULL;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (fd < 0)
			_exit(126);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		close(fd);
		execv(BENCH_PATH, (char *const *)argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return status;
}

static void dump(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[512];

	if (f == NULL)
		return;
	fprintf(stderr, "---- %s ----\n", path);
	while (fgets(line, sizeof(line), f) != NULL)
		fputs(line, stderr);
	fclose(f);
}

static bool log_has(const char *path, const char *needle)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	bool found = false;

	if (f == NULL)
		return false;
	while (!found && fgets(line, sizeof(line), f) != NULL)
		found = strstr(line, needle) != NULL;
	fclose(f);
	return found;
}

static const json_t *scenario(const json_t *list, const char *name)
{
	size_t i;
	json_t *s;

	json_array_foreach(list, i, s)
		if (strcmp(jstr(s, "name") ? jstr(s, "name") : "", name) == 0)
			return s;
	return NULL;
}

/* The value of the metric named name in scenario s, or NULL. */
static const json_t *metric(const json_t *s, const char *name)
{
	const json_t *m;
	size_t i;

	json_array_foreach(json_object_get(s, "metrics"), i, m)
		if (strcmp(jstr(m, "name") ? jstr(m, "name") : "", name) == 0)
			return json_object_get(m, "value");
	return NULL;
}

/* The encrypted scenario measured its four phases and the crypto: the figures exist and are
 * positive (their size is not checked), and encrypted messages are larger on the wire. */
static void check_e2ee(const json_t *s)
{
	static const char *const names[] = {
		"messages/s (saturation) (plaintext)", "messages/s (saturation) (encrypted)",
		"client CPU per encrypt", "client CPU per decrypt",
		"messages/s (plaintext, evenly paced)", "messages/s (plaintext, same client)",
		"server CPU per message, encrypted / plaintext (saturation)",
		"server CPU per message, encrypted / plaintext (same client)",
		"server CPU per message, encrypted / plaintext (evenly paced)",
	};
	const json_t *plain, *enc;

	if (s == NULL)
		return;
	for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
		const json_t *v = metric(s, names[k]);

		CHECK(json_is_number(v) && json_number_value(v) > 0, "e2ee: %s measured", names[k]);
	}
	plain = metric(s, "  of which the send line (plaintext)");
	enc = metric(s, "  of which the send line (encrypted)");
	CHECK(json_is_number(plain) && json_is_number(enc) &&
	      json_number_value(enc) > json_number_value(plain),
	      "e2ee: an encrypted send line is longer than a plaintext one");
}

/* Every scenario ran and verified, and carries numeric metrics. */
static void check_results(const char *json_path)
{
	static const char *const names[] = { "connect", "fanout", "private", "history", "durable",
	                                     "e2ee" };
	json_error_t jerr;
	json_t *root = json_load_file(json_path, 0, &jerr), *list;
	size_t i;
	json_t *s;

	REQUIRE(root != NULL, , "results.json is valid JSON (%s)", jerr.text);
	CHECK(jtrue(root, "ok"), "results.json says ok");
	CHECK(json_is_object(json_object_get(root, "machine")), "results.json describes the machine");
	CHECK(jint(json_object_get(root, "machine"), "nproc", 0) > 0, "machine.nproc is set");
	list = json_object_get(root, "scenarios");
	if (!CHECK(json_is_array(list) && json_array_size(list) >= 6,
	           "results.json lists the scenarios")) {
		json_decref(root);
		return;
	}
	for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
		CHECK(scenario(list, names[k]) != NULL, "scenario %s ran", names[k]);
	check_e2ee(scenario(list, "e2ee"));
	json_array_foreach(list, i, s) {
		json_t *metrics = json_object_get(s, "metrics"), *m;
		size_t j, numeric = 0;

		CHECK(jstr(s, "status") && strcmp(jstr(s, "status"), "ok") == 0,
		      "scenario %s: status ok (%s)", jstr(s, "label"), jstr(s, "reason"));
		CHECK(json_is_array(metrics) && json_array_size(metrics) > 0, "scenario %s has metrics",
		      jstr(s, "label"));
		json_array_foreach(metrics, j, m) {
			json_t *v = json_object_get(m, "value");

			if (json_is_number(v))
				numeric++;
			if (json_object_get(m, "target") != NULL)
				CHECK(json_is_boolean(json_object_get(m, "met")) || json_is_null(v),
				      "a metric with a target says whether it was met");
		}
		CHECK(numeric > 0, "scenario %s measured something", jstr(s, "label"));
	}
	json_decref(root);
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");
	char dir[512], out[600], log[600], path[700];
	struct stat st;
	int status;

	harness_watchdog(RUN_SECONDS);
	snprintf(dir, sizeof(dir), "%s/pier-test-bench-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
	REQUIRE(mkdtemp(dir) != NULL, harness_done(), "mkdtemp: %s", strerror(errno));
	snprintf(out, sizeof(out), "%s/out", dir);
	snprintf(log, sizeof(log), "%s/bench.log", dir);

	/* --help tells how to run it and exits 0 */
	{
		const char *args[] = { "--help", NULL };

		status = run_bench(args, log);
		CHECK(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0, "--help exits 0");
		CHECK(log_has(log, "--quick") && log_has(log, "--target"), "--help lists the options");
	}
	/* a bad option is a usage error */
	{
		const char *args[] = { "--no-such-option", NULL };

		status = run_bench(args, log);
		CHECK(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 2,
		      "an unknown option exits 2");
	}
	/* the quick suite, every fast-read line cross-checked with jansson */
	{
		const char *args[] = { "--quick", "--check-parser", "--pierd", PIERD_PATH, "--out", out,
		                       NULL };

		status = run_bench(args, log);
		if (!CHECK(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
		           "pier-bench --quick exits 0 (wait status 0x%x)", status))
			dump(log);
		CHECK(log_has(log, "All scenarios verified"), "the table says everything was verified");
	}
	snprintf(path, sizeof(path), "%s/results.json", out);
	check_results(path);
	snprintf(path, sizeof(path), "%s/results.md", out);
	CHECK(stat(path, &st) == 0 && st.st_size > 0, "results.md is written");
	CHECK(log_has(path, "| scenario | metric |"), "results.md has the table");

	if (getenv("PIER_KEEP_TEST_DATA") == NULL)
		rundir_remove(dir);
	return harness_done();
}
