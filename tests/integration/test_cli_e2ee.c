/* test_cli_e2ee.c - integration: end-to-end encrypted private chats in the terminal client,
 * against a real pierd. Two users with two CLI devices each (the second approved from the
 * first by its code), text and a file both ways, a device offline for 1000 messages then
 * catching up, /safety showing the same digits on both sides, a device written into pier.db
 * (on PostgreSQL, PIER_TEST_STORE: into pierd's database) by the test refused by the client
 * with a warning, a device renamed and one removed, a reset
 * seen by the contact as "safety number changed", keys behind a passphrase, a canary (message and file) found nowhere on the server, and a client that
 * does not encrypt refused with e2ee_required. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include "cliterm.h"
#include "clock.h"
#include "harness.h"
#include "netclient.h"

#define CATCHUP 1000

static struct pierd *server;
static char alice[HARNESS_NAME_MAX], bob[HARNESS_NAME_MAX];
static char canary[64];

/* ---- helpers ---- */

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	*len = 0;
	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n + 1);
		if (buf != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		if (buf != NULL) {
			buf[n] = '\0';
			*len = (size_t)n;
		}
	}
	fclose(f);
	return buf;
}

/* Runs a shell command line: its output (stdout and stderr; malloc'd) and exit status. */
static char *run(const char *cmd, int *status)
{
	FILE *f = popen(cmd, "r");
	char *out = NULL, buf[4096];
	size_t len = 0, n;

	if (f == NULL)
		return NULL;
	while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
		out = realloc(out, len + n + 1);
		memcpy(out + len, buf, n);
		len += n;
	}
	if (out == NULL)
		out = calloc(1, 1);
	else
		out[len] = '\0';
	*status = pclose(f);
	return out;
}

/* The directory of device name (its keys: XDG_DATA_HOME), and its HOME (downloads). */
/* Runs sql behind pierd's back: in path (its pier.db), or on PostgreSQL (PIER_TEST_STORE) in
 * its database. 0, or -1 with *err a malloc'd message. */
static int behind(struct pierd *p, const char *path, const char *sql, char **err)
{
	int rc = -1;

	*err = NULL;
	if (harness_store_url() != NULL) {
		char *url = harness_pg_url(strrchr(pierd_dir(p), '/') + 1);
		PGconn *c = url != NULL ? PQconnectdb(url) : NULL;
		PGresult *r = NULL;

		if (c != NULL && PQstatus(c) == CONNECTION_OK) {
			r = PQexec(c, sql);
			rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : -1;
		}
		if (rc != 0)
			*err = strdup(r != NULL ? PQresultErrorMessage(r)
			                        : c != NULL ? PQerrorMessage(c) : "no URL");
		PQclear(r);
		PQfinish(c);
		free(url);
	} else {
		sqlite3 *h = NULL;
		char *msg = NULL;

		if (sqlite3_open(path, &h) == SQLITE_OK && sqlite3_busy_timeout(h, 5000) == SQLITE_OK &&
		    sqlite3_exec(h, sql, NULL, NULL, &msg) == SQLITE_OK)
			rc = 0;
		else
			*err = strdup(msg != NULL ? msg : sqlite3_errmsg(h));
		sqlite3_free(msg);
		sqlite3_close(h);
	}
	return rc;
}

static void device_dir(const char *name, char *out, size_t size)
{
	snprintf(out, size, "%s/dev-%s", pierd_dir(server), name);
	mkdir(out, 0700);
}

static void home_dir(char *out, size_t size)
{
	char dl[1100];

	snprintf(out, size, "%s/home", pierd_dir(server));
	mkdir(out, 0700);
	snprintf(dl, sizeof dl, "%s/Downloads", out);
	mkdir(dl, 0700);
}

/* `pier ARGS` as user on device dev (one shot): output and status. */
static char *oneshot(const char *dev, const char *user, const char *args, int *status)
{
	char dir[1024], home[1024], cmd[4096];

	device_dir(dev, dir, sizeof dir);
	home_dir(home, sizeof home);
	snprintf(cmd, sizeof cmd, "HOME='%s' XDG_DATA_HOME='%s' LC_ALL=C.UTF-8 PIER_PASSWORD='%s' "
	         "'%s' --port %d --http-url http://127.0.0.1:%d --user %s --no-color %s 2>&1",
	         home, dir, HARNESS_PASSWORD, PIER_CLI_PATH, pierd_port(server),
	         pierd_http_port(server), user, args);
	return run(cmd, status);
}

/* A chat on pipes as user on device dev, in Chinese when zh. */
static bool chat_start_lang(struct term *t, const char *dev, const char *user, bool zh)
{
	char dir[1024], home[1024], url[64];

	device_dir(dev, dir, sizeof dir);
	home_dir(home, sizeof home);
	setenv("PIER_CLI_DATA", dir, 1);
	setenv("HOME", home, 1);
	snprintf(url, sizeof url, "http://127.0.0.1:%d", pierd_http_port(server));
	return term_pipe_start(t, pierd_port_str(server), HARNESS_PASSWORD,
	                       ARGS("--user", user, "--no-color", "--http-url", url, "--lang",
	                            zh ? "zh" : "en"));
}

static bool chat_start(struct term *t, const char *dev, const char *user)
{
	return chat_start_lang(t, dev, user, false);
}

static void chat_end(struct term *t)
{
	type(t, "/quit\n");
	CHECK(term_finish(t) == 0, "the chat ends cleanly [%s]", t->err != NULL ? t->err : "");
	term_free(t);
}

/* The 8 digits after "code is " (a one-shot's refusal) or "" . */
static void code_in(const char *out, char code[16])
{
	const char *p = out != NULL ? strstr(out, "its code is ") : NULL;

	code[0] = '\0';
	if (p != NULL)
		snprintf(code, 16, "%.9s", p + strlen("its code is "));
}

/* The 12 groups of the safety number shown after "Safety number with": digits only. */
static bool safety_digits(const struct term *t, char out[61])
{
	const char *p = strstr(t->buf, "Safety number with");
	size_t n = 0;

	if (p == NULL)
		return false;
	p = strchr(p, '\n');
	for (; p != NULL && *p != '\0' && n < 60; p++) {
		if (*p >= '0' && *p <= '9')
			out[n++] = *p;
		else if (*p == 'N' || *p == 'A')
			break;             /* "Not verified" / next line of text */
	}
	out[n] = '\0';
	return n == 60;
}

/* True if the len bytes at data hold needle (binary data: no strstr). */
static bool holds(const char *data, size_t len, const char *needle)
{
	size_t n = strlen(needle);

	for (size_t i = 0; i + n <= len; i++)
		if (data[i] == needle[0] && memcmp(data + i, needle, n) == 0)
			return true;
	return false;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; p != NULL && (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

/* ---- the steps ---- */

/* A second device of user's (dev) is approved from the running chat t of its first. */
static void approve_second(struct term *first, const char *dev, const char *user,
                           const char *peer)
{
	char code[16], line[64], *out;
	int status;

	out = oneshot(dev, user, "send --to '#lobby' hello from the new device", &status);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "a room message from the new device: %s",
	      out);
	free(out);
	snprintf(line, sizeof line, "send --to @%s first words", peer);
	out = oneshot(dev, user, line, &status);
	code_in(out, code);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) != 0 && strlen(code) == 9,
	      "a private send from an unapproved device is refused and says its code: %s", out);
	free(out);
	/* the first device sees the same code for the waiting device */
	type(first, "/devices\n");
	snprintf(line, sizeof line, "pending, code %s", code);
	expect(first, line, "the first device shows the waiting device with the same code");
	term_typef(first, "/approve %s\n", code);
	expect(first, "approved.", "approved");
}

int main(void)
{
	static const char *const args[] = { "--no-rate-limits", NULL };
	struct term a1, b1, a2;
	struct pier_conn *ac, *bc;
	char *out, line[512], file[1200], home[1024];
	int status;

	harness_watchdog(600);
	if (sodium_init() < 0)
		return 1;
	server = pierd_start(args);
	REQUIRE(server != NULL, harness_done(), "pierd starts");
	ac = client_new_user(server, "ea", alice);
	bc = client_new_user(server, "eb", bob);
	REQUIRE(ac != NULL && bc != NULL, harness_done(), "two users");
	pier_conn_close(ac);
	pier_conn_close(bc);
	{
		unsigned char r[12];
		char hex[25];

		randombytes_buf(r, sizeof r);
		sodium_bin2hex(hex, sizeof hex, r, sizeof r);
		snprintf(canary, sizeof canary, "canary-%s", hex);
	}

	/* first devices: made at the first login, approved at once */
	REQUIRE(chat_start(&a1, "a1", alice), harness_done(), "alice's chat");
	expect(&a1, "End-to-end encryption is on", "alice's first device is set up");
	REQUIRE(chat_start(&b1, "b1", bob), harness_done(), "bob's chat");
	expect(&b1, "End-to-end encryption is on", "bob's first device is set up");

	/* a message before alice has a second device: it comes to that device only as history */
	term_typef(&a1, "/msg %s early words\n", bob);
	expect(&b1, "early words", "bob reads the early message");
	expect(&a1, "early words", "alice's own copy");

	/* second devices, approved by code from the first */
	approve_second(&a1, "a2", alice, bob);
	approve_second(&b1, "b2", bob, alice);

	/* text both ways, with the lock mark; the canary goes privately */
	term_typef(&a1, "/msg %s hello bob %s\n", bob, canary);
	snprintf(line, sizeof line, "[e2ee] %s -> %s: hello bob %s", alice, bob, canary);
	expect(&b1, line, "bob reads alice's encrypted message");
	term_typef(&b1, "/msg %s hello alice\n", alice);
	snprintf(line, sizeof line, "[e2ee] %s -> %s: hello alice", bob, alice);
	expect(&a1, line, "alice reads bob's answer");

	/* a file both ways, with the canary inside */
	snprintf(file, sizeof file, "%s/canary.txt", pierd_dir(server));
	{
		FILE *f = fopen(file, "w");

		REQUIRE(f != NULL, harness_done(), "the file");
		fprintf(f, "file %s\n", canary);
		fclose(f);
	}
	term_typef(&a1, "/switch @%s\n", bob);
	term_typef(&a1, "/send %s the canary file\n", file);
	expect(&b1, "the canary file [file: canary.txt", "bob sees the encrypted file");
	{
		const char *at = strstr(b1.buf, "the canary file [file: canary.txt");
		const char *o = at != NULL ? strstr(at, "/open ") : NULL;
		long n = o != NULL ? strtol(o + 6, NULL, 10) : -1;
		size_t len = 0;
		char *got, path[1200];

		term_typef(&b1, "/open %ld\n", n);
		expect(&b1, "Saved ", "bob downloads it");
		home_dir(home, sizeof home);
		snprintf(path, sizeof path, "%s/Downloads/canary.txt", home);
		expect_within(&b1, "\n", "the saved line", 2000);
		got = slurp(path, &len);
		snprintf(line, sizeof line, "file %s\n", canary);
		CHECK(got != NULL && strcmp(got, line) == 0, "decrypted byte for byte: [%s]",
		      got != NULL ? got : "(none)");
		free(got);
		unlink(path);
	}
	term_typef(&b1, "/switch @%s\n", alice);
	term_typef(&b1, "/send %s back to you\n", file);
	expect(&a1, "back to you [file: canary.txt", "alice sees bob's encrypted file");

	/* one-shot send from the second devices (it caught up first) */
	snprintf(line, sizeof line, "send --to @%s from the second device of alice", bob);
	out = oneshot("a2", alice, line, &status);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0 && atoi(out) > 0,
	      "pier send --to @bob from the approved second device: %s", out);
	free(out);
	snprintf(line, sizeof line, "[e2ee] %s -> %s: from the second device of alice", alice, bob);
	expect(&b1, line, "bob reads it");
	expect(&a1, "from the second device of alice", "alice's first device has it too");

	/* the second device got the earlier messages with its grant (history transfer) */
	REQUIRE(chat_start(&a2, "a2", alice), harness_done(), "alice's second device, chatting");
	expect(&a2, "End-to-end encryption is on", "set up");
	term_typef(&a2, "/switch @%s\n", bob);
	type(&a2, "/history 20\n");
	expect(&a2, "early words", "the message sent before it existed is in its history");
	chat_end(&a2);

	/* a reply quotes from the local store; an edit goes encrypted */
	{
		long n = term_number_of(&a1, "hello alice");

		REQUIRE(n > 0, harness_done(), "bob's message has a number");
		term_typef(&a1, "/reply %ld quoting you\n", n);
		expect(&b1, "hello alice] quoting you", "bob sees the reply with its quote");
		n = term_number_of(&a1, "early words");
		term_typef(&a1, "/edit %ld early words, edited\n", n);
		expect(&b1, "early words, edited (edited)", "bob sees the encrypted edit");
		expect(&a1, "early words, edited (edited)", "alice sees her edit");
		/* recall: metadata the server sees, as for any message */
		n = term_number_of(&a1, "quoting you");
		term_typef(&a1, "/recall %ld\n", n);
		expect(&b1, "recalled message", "bob sees the encrypted message recalled");
	}

	/* one-shot history of the encrypted chat: the texts from the device's store */
	snprintf(line, sizeof line, "history @%s --limit 50", bob);
	out = oneshot("a1", alice, line, &status);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0 && strstr(out, "early words, edited") &&
	      strstr(out, canary) != NULL && strstr(out, "[recalled]") != NULL &&
	      strstr(out, "the canary file [file canary.txt") != NULL &&
	      count(out, "early words") == 1 && strstr(out, "[encrypted") == NULL,
	      "pier history @bob shows the decrypted texts, the edit applied once: %s", out);
	free(out);

	/* the safety screen in Chinese */
	{
		struct term b2;

		REQUIRE(chat_start_lang(&b2, "b2", bob, true), harness_done(), "bob's second device");
		expect(&b2, "端到端加密已开启", "set up, in Chinese");
		term_typef(&b2, "/safety %s\n", alice);
		expect(&b2, "的安全码（双方相同", "the safety number's heading in Chinese");
		expect(&b2, "尚未验证", "not verified, in Chinese");
		chat_end(&b2);
	}

	/* safety numbers: the same digits on both sides */
	{
		char sa[61], sb[61];

		a1.mark = a1.len;
		b1.mark = b1.len;
		term_typef(&a1, "/safety %s\n", bob);
		term_typef(&b1, "/safety %s\n", alice);
		expect(&a1, "Not verified", "alice's safety screen");
		expect(&b1, "Not verified", "bob's safety screen");
		CHECK(safety_digits(&a1, sa) && safety_digits(&b1, sb) && strcmp(sa, sb) == 0,
		      "the same 60 digits on both sides");
		term_typef(&a1, "/verify %s\n", bob);
		expect(&a1, "is marked verified", "verified");
	}

	/* alice's second device offline for 1000 messages, then catching up */
	{
		char *lines = malloc(CATCHUP * 64);
		size_t len = 0;

		for (int i = 0; i < CATCHUP; i++)
			len += (size_t)snprintf(lines + len, 64, "catch-%04d~%s\n", i, alice);
		int64_t t0 = pier_mono_ms(), t1;

		type(&b1, lines);
		free(lines);
		snprintf(line, sizeof line, "catch-%04d", CATCHUP - 1);
		expect_within(&a1, line, "alice's first device gets the last one live", 120000);
		t1 = pier_mono_ms();
		REQUIRE(chat_start(&a2, "a2", alice), harness_done(), "alice's second device");
		expect_within(&a2, line, "the second device catches up to the last", 120000);
		/* figures for the record, not checks */
		fprintf(stderr, "test_cli_e2ee: %d encrypted sends (3 devices each) and their live "
		        "delivery: %lld ms; the offline device's catch-up: %lld ms\n", CATCHUP,
		        (long long)(t1 - t0), (long long)(pier_mono_ms() - t1));
		CHECK(count(a2.buf, "catch-") == CATCHUP, "all %d, each once (%zu)", CATCHUP,
		      count(a2.buf, "catch-"));
		chat_end(&a2);
		/* acknowledged after the save: nothing comes again */
		REQUIRE(chat_start(&a2, "a2", alice), harness_done(), "again");
		expect(&a2, "End-to-end encryption is on", "set up");
		term_typef(&a2, "/msg %s ping\n", bob);
		expect(&b1, "ping", "alive");
		CHECK(count(a2.buf, "catch-") == 0 && strstr(a2.buf, "refused") == NULL,
		      "nothing again after the acks");
		chat_end(&a2);
	}

	/* a device the server adds alone (written into pier.db): refused with a warning */
	{
		char db[1100], sql[1024], id[32], key[48], sig[96], *err = NULL;
		unsigned char r[64];

		snprintf(db, sizeof db, "%s/pier.db", pierd_dir(server));
		randombytes_buf(r, 16);
		sodium_bin2base64(id, sizeof id, r, 16, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
		randombytes_buf(r, 32);
		sodium_bin2base64(key, sizeof key, r, 32, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
		randombytes_buf(r, 64);
		sodium_bin2base64(sig, sizeof sig, r, 64, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
		snprintf(sql, sizeof sql, "INSERT INTO devices(id, user_id, sign_key, dh_key, name, state, "
		         "created, spk_id, spk_key, spk_sig) SELECT '%s', id, '%s', '%s', 'spy', 1, 1, "
		         "1, '%s', '%s' FROM users WHERE name = '%s'", id, key, key, key, sig, alice);
		CHECK(behind(server, db, sql, &err) == 0, "the spy device is written: %s",
		      err != NULL ? err : "");
		free(err);
		b1.mark = b1.len;
		term_typef(&b1, "/msg %s are you there\n", alice);
		snprintf(line, sizeof line, "%s did not approve device %s", alice, id);
		expect(&b1, "Unsigned device offered by the server", "bob is warned");
		CHECK(strstr(b1.buf + b1.mark - 1, line) != NULL, "the warning names the device");
		/* remove it again (the send above could not be stored without it) */
		snprintf(sql, sizeof sql, "DELETE FROM devices WHERE id = '%s'", id);
		behind(server, db, sql, &err);
		free(err);
	}

	/* a client that does not encrypt: plaintext to alice is refused (raw JSON) */
	{
		struct pier_conn *cc;
		char carol[HARNESS_NAME_MAX], to[HARNESS_NAME_MAX + 2];

		cc = client_new_user(server, "ec", carol);
		snprintf(to, sizeof to, "@%s", alice);
		CHECK(cc != NULL && client_expect_error(cc, pier_req_send(to, "plain", NULL),
		                                        "e2ee_required"),
		      "plaintext to a user with devices: e2ee_required");
		pier_conn_close(cc);
	}

	/* bob renames this device and removes his second one */
	{
		const char *h, *l;
		char id[32] = "";

		type(&b1, "/rename-device this bobs-main\n");
		b1.mark = b1.len;
		type(&b1, "/devices\n");
		expect(&b1, "bobs-main", "the new name is in the list");
		expect_within(&b1, "(this device)", "the list", 5000);
		/* the other device's id: the list line without "(this device)" */
		h = strstr(b1.buf, "Your devices (list version");
		for (l = h; l != NULL && (l = strstr(l, "\n*   ")) != NULL; l++) {
			const char *end = strchr(l + 1, '\n');

			if (end != NULL && (size_t)(end - l) > 30 &&
			    strstr(l, "(this device)") > end) {
				snprintf(id, sizeof id, "%.22s", l + 5);
				break;
			}
		}
		CHECK(strlen(id) == 22, "the second device's id is listed: %s", id);
		term_typef(&b1, "/remove-device %s\n", id);
		b1.mark = b1.len;
		type(&b1, "/devices\n");
		expect(&b1, "(this device)", "the list again");
		CHECK(strstr(b1.buf + b1.mark, id) == NULL, "the removed device is gone from the list");
		snprintf(line, sizeof line, "send --to @%s from a removed device", alice);
		out = oneshot("b2", bob, line, &status);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) != 0 &&
		      strstr(out, "removed from the account") != NULL,
		      "the removed device cannot send: %s", out);
		free(out);
	}

	/* alice resets from a new device: bob sees "safety number changed" */
	chat_end(&a1);
	{
		struct term a3;

		REQUIRE(chat_start(&a3, "a3", alice), harness_done(), "alice's new device");
		expect(&a3, "Its code", "a new device waits for approval");
		type(&a3, "/reset yes\n");
		expect(&a3, "Your identity was reset", "reset");
		expect(&a3, "End-to-end encryption is on", "the new device is active");
		b1.mark = b1.len;
		term_typef(&b1, "/msg %s after your reset\n", alice);
		expect(&b1, "safety number changed", "bob: safety number changed");
		snprintf(line, sizeof line, "[e2ee] %s -> %s: after your reset", bob, alice);
		expect(&a3, line, "the new device reads bob's message");
		chat_end(&a3);
	}
	chat_end(&b1);

	/* keys behind a passphrase; a key file others may read is refused */
	{
		char dir[1024], path[1400], cmd[1200], *data;
		size_t len = 0;
		struct pier_conn *dc;
		char dave[HARNESS_NAME_MAX];

		dc = client_new_user(server, "ed", dave);
		pier_conn_close(dc);
		snprintf(line, sizeof line, "send --to @%s sealed", bob);
		setenv("PIER_PASSPHRASE", "correct horse battery", 1);
		out = oneshot("d1", dave, line, &status);
		unsetenv("PIER_PASSPHRASE");
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "a send with a passphrase: %s", out);
		free(out);
		device_dir("d1", dir, sizeof dir);
		snprintf(cmd, sizeof cmd, "find '%s' -name device.json", dir);
		out = run(cmd, &status);
		snprintf(path, sizeof path, "%.*s", (int)strcspn(out, "\n"), out);
		free(out);
		data = slurp(path, &len);
		CHECK(data != NULL && strstr(data, "argon2id13") != NULL &&
		      strstr(data, "sign_seed") == NULL, "the key file is sealed");
		free(data);
		out = oneshot("d1", dave, line, &status);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) != 0 && strstr(out, "passphrase") != NULL,
		      "without the passphrase: refused, saying why: %s", out);
		free(out);
		chmod(path, 0644);
		setenv("PIER_PASSPHRASE", "correct horse battery", 1);
		out = oneshot("d1", dave, line, &status);
		unsetenv("PIER_PASSPHRASE");
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) != 0 &&
		      strstr(out, "may be read by others") != NULL,
		      "a key file others may read is refused: %s", out);
		free(out);
	}

	/* the canary is nowhere on the server */
	{
		static const char *const files[] = { "pierd.log" };
		char path[1200], cmd[1400];
		size_t len;
		char *dump = pierd_store_dump(server, &len);

		CHECK(dump != NULL && !holds(dump, len, canary),
		      "the canary is not in the store (pier.db and its WAL, or PostgreSQL's rows)");
		free(dump);
		for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
			char *data;

			snprintf(path, sizeof path, "%s/%s", pierd_dir(server), files[i]);
			data = slurp(path, &len);
			CHECK(data == NULL || !holds(data, len, canary),
			      "the canary is not in %s", files[i]);
			free(data);
		}
		snprintf(cmd, sizeof cmd, "grep -rl '%s' '%s/media' 2>/dev/null | wc -l", canary,
		         pierd_dir(server));
		out = run(cmd, &status);
		CHECK(out != NULL && atoi(out) == 0, "the canary is not in the media directory (%s)", out);
		free(out);
	}
	pierd_free(server);
	return harness_done();
}
