/* test_cli_who.c - integration: `pier` in a pseudo-terminal on a server with presence to
 * contacts only (the default). At login it shows its contacts online and the total, not the
 * strangers in #lobby; /who asks for everyone online (the paged users request) and shows
 * them all, and /who AFTER the page after a name. */
#include <stdio.h>
#include <string.h>

#include "cliterm.h"
#include "harness.h"

#define STRANGERS 3

int main(void)
{
	static const char *const args[] = {"--no-rate-limits", NULL};
	struct pierd *p;
	struct pier_conn *strangers[STRANGERS], *cpart, *reg;
	char sn[STRANGERS][HARNESS_NAME_MAX], part[HARNESS_NAME_MAX], a[HARNESS_NAME_MAX];
	char to_a[HARNESS_NAME_MAX + 1], line[200];
	struct term t;

	harness_watchdog(120);
	p = pierd_start(args);
	REQUIRE(p != NULL, harness_done(), "pierd starts");
	harness_user(a, "twa");
	reg = client_connect(p);
	REQUIRE(reg != NULL, harness_done(), "connect");
	CHECK(client_register(reg, a, HARNESS_PASSWORD) == PIER_REGISTER_OK, "register a");
	pier_conn_close(reg);
	for (int i = 0; i < STRANGERS; i++)
		strangers[i] = client_new_user(p, "tws", sn[i]);
	cpart = client_new_user(p, "twp", part);
	REQUIRE(cpart != NULL, harness_done(), "the partner online");
	snprintf(to_a, sizeof to_a, "@%s", a);
	CHECK(client_send(cpart, to_a, "hello", NULL, NULL) > 0, "the partner writes to a");

	if (!term_start(&t, pierd_port_str(p), HARNESS_PASSWORD, ARGS("--no-color", "--user", a)))
		return harness_done();
	snprintf(line, sizeof line, "Contacts online (2 of %d online; /who lists everyone):",
	         STRANGERS + 2);
	expect(&t, line, "at login: the contacts online and the total");
	expect(&t, "#lobby> ", "prompt");
	for (int i = 0; i < STRANGERS; i++)
		CHECK(strstr(t.buf, sn[i]) == NULL, "stranger %s is not listed at login", sn[i]);

	type(&t, "/who\r");
	snprintf(line, sizeof line, "Online (%d):", STRANGERS + 2);
	expect(&t, line, "/who: everyone online, with the count");
	term_read(&t, 300);
	for (int i = 0; i < STRANGERS; i++)
		CHECK(strstr(t.buf + t.mark, sn[i]) != NULL, "/who lists stranger %s", sn[i]);
	CHECK(strstr(t.buf + t.mark, part) != NULL, "and the partner");

	/* /who AFTER: the names after it only (names sort by their key; tws* before twp* is not
	 * assumed: the partner's name is the bound). */
	term_typef(&t, "/who %s\r", part);
	expect(&t, "Online (", "/who AFTER answers");
	term_read(&t, 300);
	{
		const char *after = t.buf + t.mark;
		const char *end = strstr(after, "#lobby> ");
		size_t n = end != NULL ? (size_t)(end - after) : strlen(after);
		bool ok = true;

		for (int i = 0; i < STRANGERS; i++) {
			bool later = strcmp(sn[i], part) > 0;
			const char *hit = strstr(after, sn[i]);

			ok = ok && (later ? hit != NULL : hit == NULL || (size_t)(hit - after) >= n);
		}
		CHECK(ok, "/who %s lists exactly the users after it: %.*s", part, (int)n, after);
	}

	type(&t, "/quit\r");
	CHECK(term_finish(&t) == 0, "pier exits 0");
	term_free(&t);
	for (int i = 0; i < STRANGERS; i++)
		pier_conn_close(strangers[i]);
	pier_conn_close(cpart);
	CHECK(pierd_stop(p), "pierd stops cleanly");
	return harness_done();
}
