/* test_media_cli.c - integration: files in the terminal client. `pier send --file` is cut in the
 * middle of its upload (slowed down, then killed), run again and resumes where it stopped;
 * the message carries the file; in the chat, /history shows it with a number and /open N
 * downloads it (byte for byte) to ~/Downloads; /send uploads and posts a file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "harness.h"
#include "netclient.h"

#define FILE_SIZE (3 * 1024 * 1024 + 77)

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n + 1);
		if (buf != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		*len = (size_t)n;
	}
	fclose(f);
	return buf;
}

/* Runs a shell command line; its output (malloc'd) and exit status. */
static char *run(const char *cmd, int *status)
{
	FILE *f = popen(cmd, "r");
	char *out = NULL;
	size_t len = 0, cap = 0, n;
	char buf[4096];

	if (f == NULL)
		return NULL;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		if (len + n + 1 > cap) {
			cap = (len + n + 1) * 2;
			out = realloc(out, cap);
		}
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

static int count_dir(const char *dir)
{
	char cmd[1200];
	int status, n;
	char *out;

	snprintf(cmd, sizeof(cmd), "ls -A '%s' 2>/dev/null | wc -l", dir);
	out = run(cmd, &status);
	n = out != NULL ? atoi(out) : -1;
	free(out);
	return n;
}

int main(void)
{
	static const char *const args[] = { "--no-rate-limits", NULL };
	char user[HARNESS_NAME_MAX], home[1024], file[1200], env[4096], cmd[8192], path[1400];
	unsigned char *data = malloc(FILE_SIZE);
	struct pier_conn *c;
	struct pierd *p;
	char *out, *got;
	size_t got_len = 0;
	int status;
	FILE *f;

	harness_watchdog(120);
	p = pierd_start(args);
	REQUIRE(p != NULL, harness_done(), "pierd starts");
	c = client_new_user(p, "mcli", user);
	REQUIRE(c != NULL, harness_done(), "a user");

	snprintf(home, sizeof(home), "%s/home", pierd_dir(p));
	snprintf(path, sizeof(path), "%s/Downloads", home);
	mkdir(home, 0700);
	mkdir(path, 0700);
	randombytes_buf(data, FILE_SIZE);
	/* random bytes, but not at the start: libmagic reads a file's type from its first bytes,
	 * and one random start in some thousands looks like an MPEG audio frame (seen:
	 * audio/mpeg instead of application/octet-stream) */
	memcpy(data, "\x01pier-test-data\x01", 16);
	snprintf(file, sizeof(file), "%s/clip.bin", pierd_dir(p));
	f = fopen(file, "wb");
	REQUIRE(f != NULL && fwrite(data, 1, FILE_SIZE, f) == FILE_SIZE && fclose(f) == 0,
	        harness_done(), "the file to send");
	snprintf(env, sizeof(env), "HOME='%s' XDG_CACHE_HOME= DISPLAY= WAYLAND_DISPLAY= LC_ALL=C.UTF-8 "
	         "PIER_PASSWORD='%s' '%s' --port %d --http-url http://127.0.0.1:%d --user %s --no-color",
	         home, HARNESS_PASSWORD, PIER_CLI_PATH, pierd_port(p), pierd_http_port(p), user);

	/* Cut: 1 MB/s, killed after 1.2 s (about a third of the file). */
	snprintf(cmd, sizeof(cmd), "PIER_UPLOAD_RATE=1000000 timeout -s KILL 1.2 env %s send "
	         "--to '#lobby' --file '%s' the clip 2>&1", env, file);
	out = run(cmd, &status);
	CHECK(!WIFEXITED(status) || WEXITSTATUS(status) != 0, "the first run is cut (%d): %s", status,
	      out ? out : "");
	free(out);
	snprintf(path, sizeof(path), "%s/.cache/pier/uploads", home);
	CHECK(count_dir(path) == 1, "the upload's URL is kept for later (%d)", count_dir(path));

	snprintf(cmd, sizeof(cmd), "env %s send --to '#lobby' --file '%s' the clip 2>&1", env, file);
	out = run(cmd, &status);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0 && atoi(out ? out : "") > 0,
	      "run again, it resumes and sends: exit %d: %s", status, out ? out : "");
	free(out);
	CHECK(count_dir(path) == 0, "done: nothing kept (%d)", count_dir(path));

	{
		json_t *h = client_call(c, pier_req_history("#lobby", 0, 5));
		json_t *msgs = json_object_get(h, "messages");
		json_t *m = json_array_get(msgs, json_array_size(msgs) - 1);
		json_t *md = json_object_get(m, "media");

		CHECK(jint(md, "id", -1) > 0 && jint(md, "size", 0) == FILE_SIZE && jstr(m, "text") != NULL &&
		      strcmp(jstr(m, "text"), "the clip") == 0,
		      "the message has the file and the caption: %s", jdump(m));
		json_decref(h);
	}

	/* One-shot history: the text column names the file (it was blank), and a bare room name
	 * ("lobby", no '#') is taken as the room. */
	snprintf(cmd, sizeof(cmd), "env %s history lobby --limit 1 2>&1", env);
	out = run(cmd, &status);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0 && out != NULL &&
	      strstr(out, "\t#lobby\tthe clip [file clip.bin, 3145805 bytes, application/octet-stream, "
	             "/media/") != NULL,
	      "pier history lobby shows the caption and the file: %s", out ? out : "");
	free(out);

	/* The chat: /history numbers the file, /open 1 downloads it; /send posts another. */
	snprintf(cmd, sizeof(cmd), "(printf '/history 3\\n'; sleep 1; printf '/open 1\\n'; sleep 2; "
	         "printf '/send \"%s\" again\\n'; sleep 2) | env %s 2>&1", file, env);
	out = run(cmd, &status);
	CHECK(out != NULL && strstr(out, "[file: clip.bin, 3.0 MB, application/octet-stream] /open 1") != NULL,
	      "history shows the file with a number: %s", out ? out : "");
	CHECK(out != NULL && strstr(out, "Saved ") != NULL, "/open saves it: %s", out ? out : "");
	CHECK(out != NULL && strstr(out, ": again [file: clip.bin") != NULL,
	      "/send posts the file with its caption: %s", out ? out : "");
	free(out);
	snprintf(path, sizeof(path), "%s/Downloads/clip.bin", home);
	got = slurp(path, &got_len);
	CHECK(got != NULL && got_len == FILE_SIZE && memcmp(got, data, FILE_SIZE) == 0,
	      "the download is byte for byte the file (%zu bytes)", got_len);
	free(got);

	pier_conn_close(c);
	CHECK(pierd_stop(p), "pierd stops cleanly");
	free(data);
	return harness_done();
}
