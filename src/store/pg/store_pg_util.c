/* store_pg_util.c - the PostgreSQL back end's shared helpers (store_pg_internal.h): statement
 * parameters, running prepared statements, reading text-format results, the counter-row ids,
 * room lookups and name lists. */
#include "store_pg_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"

void store_pg_params_init(struct store_pg_params *p)
{
	memset(p, 0, sizeof *p);
}

/* The next slot, or -1 when the statement has too many (a bug: the exec then fails). */
static int next_slot(struct store_pg_params *p)
{
	if (p->n >= STORE_PG_PARAMS_MAX) {
		p->n = STORE_PG_PARAMS_MAX + 1;
		return -1;
	}
	return p->n++;
}

void store_pg_add_int(struct store_pg_params *p, int64_t v)
{
	int i = next_slot(p);

	if (i < 0)
		return;
	snprintf(p->num[i], sizeof p->num[i], "%" PRId64, v);
	p->values[i] = p->num[i];
}

void store_pg_add_bool(struct store_pg_params *p, bool v)
{
	int i = next_slot(p);

	if (i >= 0)
		p->values[i] = v ? "t" : "f";
}

void store_pg_add_text(struct store_pg_params *p, const char *s)
{
	int i = next_slot(p);

	if (i >= 0)
		p->values[i] = s;
}

void store_pg_add_null(struct store_pg_params *p)
{
	next_slot(p);
}

void store_pg_add_bytes(struct store_pg_params *p, const void *b, size_t n)
{
	int i = next_slot(p);

	if (i < 0)
		return;
	p->values[i] = b;
	p->lengths[i] = (int)n;
	p->formats[i] = 1;
}

/* Records the error of a failed result (or of the connection when r is NULL). */
static void set_error(struct store_pg *pg, const PGresult *r)
{
	const char *state = r != NULL ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = r != NULL ? PQresultErrorMessage(r) : PQerrorMessage(pg->conn);

	snprintf(pg->sqlstate, sizeof pg->sqlstate, "%s", state != NULL ? state : "");
	snprintf(pg->error, sizeof pg->error, "%s", msg != NULL ? msg : "?");
}

int store_pg_prepare(struct store_pg *pg, const char *prefix, const char *const *sql, int n,
                     char **err)
{
	char name[32];

	for (int i = 0; i < n; i++) {
		PGresult *r;

		snprintf(name, sizeof name, "%s%d", prefix, i);
		r = PQprepare(pg->conn, name, sql[i], 0, NULL);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			*err = store_errorf("preparing %s: %s", name, PQresultErrorMessage(r));
			PQclear(r);
			return -1;
		}
		PQclear(r);
	}
	return 0;
}

PGresult *store_pg_exec(struct store_pg *pg, const char *prefix, int which,
                        const struct store_pg_params *p)
{
	static const struct store_pg_params none;
	char name[32];
	PGresult *r;
	ExecStatusType st;

	if (p == NULL)
		p = &none;
	if (p->n > STORE_PG_PARAMS_MAX) {
		snprintf(pg->sqlstate, sizeof pg->sqlstate, "%s", "");
		snprintf(pg->error, sizeof pg->error, "%s%d: too many parameters", prefix, which);
		return NULL;
	}
	snprintf(name, sizeof name, "%s%d", prefix, which);
	r = PQexecPrepared(pg->conn, name, p->n, p->values, p->lengths, p->formats, 0);
	st = PQresultStatus(r);
	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
		return r;
	set_error(pg, r);
	PQclear(r);
	return NULL;
}

int64_t store_pg_exec_count(struct store_pg *pg, const char *prefix, int which,
                            const struct store_pg_params *p)
{
	PGresult *r = store_pg_exec(pg, prefix, which, p);
	int64_t n;

	if (r == NULL)
		return -1;
	n = strtoll(PQcmdTuples(r), NULL, 10);
	PQclear(r);
	return n;
}

int store_pg_command(struct store_pg *pg, const char *sql)
{
	PGresult *r = PQexec(pg->conn, sql);
	ExecStatusType st = PQresultStatus(r);
	int rc = 0;

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		set_error(pg, r);
		rc = -1;
	}
	PQclear(r);
	return rc;
}

bool store_pg_failed_with(const struct store_pg *pg, const char *code)
{
	return strcmp(pg->sqlstate, code) == 0;
}

int64_t store_pg_int(const PGresult *r, int row, int col)
{
	if (PQgetisnull(r, row, col))
		return 0;
	return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

bool store_pg_bool(const PGresult *r, int row, int col)
{
	const char *v;

	if (PQgetisnull(r, row, col))
		return false;
	v = PQgetvalue(r, row, col);
	return v[0] == 't' || (v[0] >= '1' && v[0] <= '9');
}

bool store_pg_null(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) != 0;
}

char *store_pg_dup(const PGresult *r, int row, int col)
{
	size_t n = PQgetisnull(r, row, col) ? 0 : (size_t)PQgetlength(r, row, col);
	char *p = malloc(n + 1);

	if (p == NULL)
		return NULL;
	if (n > 0)
		memcpy(p, PQgetvalue(r, row, col), n);
	p[n] = '\0';
	return p;
}

char *store_pg_dup_or_null(const PGresult *r, int row, int col, bool *failed)
{
	char *p;

	if (PQgetisnull(r, row, col))
		return NULL;
	p = store_pg_dup(r, row, col);
	if (p == NULL)
		*failed = true;
	return p;
}

void store_pg_copy(const PGresult *r, int row, int col, char *out, size_t n)
{
	size_t len = PQgetisnull(r, row, col) ? 0 : (size_t)PQgetlength(r, row, col);

	if (len >= n)
		len = n - 1;
	if (len > 0)
		memcpy(out, PQgetvalue(r, row, col), len);
	out[len] = '\0';
}

long store_pg_bytes(const PGresult *r, int row, int col, unsigned char *out, size_t cap)
{
	unsigned char *b;
	size_t n = 0;
	long rc = -1;

	if (PQgetisnull(r, row, col))
		return -1;
	b = PQunescapeBytea((const unsigned char *)PQgetvalue(r, row, col), &n);
	if (b == NULL)
		return -1;
	if (n <= cap) {
		memcpy(out, b, n);
		rc = (long)n;
	}
	PQfreemem(b);
	return rc;
}

/* The helpers' own statements (prefix STORE_PG_UTIL). */
enum { UTIL_NEXT_IDS, UTIL_COUNTER, UTIL_ROOM_BY_KEY, UTIL_COUNT };

static const char *const util_sql[UTIL_COUNT] = {
	[UTIL_NEXT_IDS] = "UPDATE counters SET value = value + $2 WHERE name = $1 RETURNING value",
	[UTIL_COUNTER] = "SELECT value FROM counters WHERE name = $1",
	[UTIL_ROOM_BY_KEY] = "SELECT id FROM rooms WHERE name_key = $1",
};

int store_pg_util_prepare(struct store_pg *pg, char **err)
{
	return store_pg_prepare(pg, STORE_PG_UTIL, util_sql, UTIL_COUNT, err);
}

/* Runs a helper statement that gives at most one row of one bigint: 0 (*v set), 1 no row,
 * -1 error. */
static int one_int(struct store_pg *pg, int which, const struct store_pg_params *p, int64_t *v)
{
	PGresult *r = store_pg_exec(pg, STORE_PG_UTIL, which, p);
	int rc;

	if (r == NULL)
		return -1;
	rc = PQntuples(r) == 1 ? 0 : 1;
	if (rc == 0)
		*v = store_pg_int(r, 0, 0);
	PQclear(r);
	return rc;
}

int store_pg_next_ids(struct store_pg *pg, const char *name, int64_t n, int64_t *first)
{
	struct store_pg_params p;
	int64_t last = 0;
	int rc;

	store_pg_params_init(&p);
	store_pg_add_text(&p, name);
	store_pg_add_int(&p, n);
	rc = one_int(pg, UTIL_NEXT_IDS, &p, &last);
	if (rc > 0)
		snprintf(pg->error, sizeof pg->error, "no counter %s", name);
	if (rc != 0)
		return -1;
	*first = last - n + 1;
	return 0;
}

int store_pg_counter(struct store_pg *pg, const char *name, int64_t *value)
{
	struct store_pg_params p;

	store_pg_params_init(&p);
	store_pg_add_text(&p, name);
	return one_int(pg, UTIL_COUNTER, &p, value) == 0 ? 0 : -1;
}

int store_pg_room_id(struct store_pg *pg, const char *room, int64_t *id)
{
	struct store_pg_params p;
	char key[PIER_KEY_MAX];

	if (room == NULL || pier_room_check(room) != PIER_NAME_OK)
		return 1;
	pier_name_key(room, key);
	store_pg_params_init(&p);
	store_pg_add_text(&p, key);
	return one_int(pg, UTIL_ROOM_BY_KEY, &p, id);
}

enum store_status store_pg_collect_names(const PGresult *r, char ***out)
{
	size_t n = 0, rows = (size_t)PQntuples(r);
	char **v;

	while (*out != NULL && (*out)[n] != NULL)
		n++;
	v = realloc(*out, (n + rows + 1) * sizeof *v);
	if (v == NULL)
		return STORE_FAILED;
	*out = v;
	memset(v + n, 0, (rows + 1) * sizeof *v);
	for (size_t i = 0; i < rows; i++) {
		v[n + i] = store_pg_dup(r, (int)i, 0);
		if (v[n + i] == NULL)
			return STORE_FAILED;
	}
	return STORE_OK;
}
