/* replay.c - runs a libFuzzer harness without libFuzzer: every file named on the command line
 * (or found in a directory named there) is fed to LLVMFuzzerTestOneInput once. `make test`
 * links each harness with this driver under the sanitizers and replays its checked-in corpus,
 * so an input that once crashed a parser stays a test. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REPLAY_MAX_INPUT (16u << 20)   /* a corpus file larger than this is a mistake */

static int replay_file(const char *path, unsigned *count)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long len;
	int rc = -1;

	if (f == NULL) {
		perror(path);
		return -1;
	}
	if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || len > (long)REPLAY_MAX_INPUT ||
	    fseek(f, 0, SEEK_SET) != 0) {
		fprintf(stderr, "%s: unreadable or over %u bytes\n", path, REPLAY_MAX_INPUT);
		goto out;
	}
	buf = malloc((size_t)len + 1);   /* +1: malloc(0) may return NULL */
	if (buf == NULL || fread(buf, 1, (size_t)len, f) != (size_t)len) {
		fprintf(stderr, "%s: read failed\n", path);
		goto out;
	}
	LLVMFuzzerTestOneInput(buf, (size_t)len);
	(*count)++;
	rc = 0;
out:
	free(buf);
	fclose(f);
	return rc;
}

static int replay_path(const char *path, unsigned *count)
{
	struct stat st;
	DIR *d;
	struct dirent *e;
	int rc = 0;

	if (stat(path, &st) != 0) {
		perror(path);
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return replay_file(path, count);
	d = opendir(path);
	if (d == NULL) {
		perror(path);
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		char sub[4096];

		if (e->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
		if (replay_path(sub, count) != 0)
			rc = -1;
	}
	closedir(d);
	return rc;
}

int main(int argc, char **argv)
{
	unsigned count = 0;
	int rc = 0;

	for (int i = 1; i < argc; i++)
		if (replay_path(argv[i], &count) != 0)
			rc = 1;
	if (count == 0) {
		fprintf(stderr, "replay: no input replayed\n");
		return 1;
	}
	printf("replayed %u inputs\n", count);
	return rc;
}
