/* store_fts.c - pier's tokenizer registered with SQLite FTS5 (store_fts.h). */
#include "store_fts.h"

#include <stdlib.h>

#include "store_internal.h"
#include "store_tokenizer.h"

_Static_assert(STORE_TOK_COLOCATED == FTS5_TOKEN_COLOCATED,
               "the tokenizer's colocated flag is FTS5's");

/* FTS5 wants an instance per table; the tokenizer has no settings, so every table shares one
 * object that only has to be a valid, distinct pointer. */
static char the_tokenizer;

static int pier_create(void *user, const char **argv, int argc, Fts5Tokenizer **out)
{
	(void)user;
	(void)argv;
	if (argc != 0) {
		*out = NULL;
		return SQLITE_ERROR;             /* it takes no options */
	}
	*out = (Fts5Tokenizer *)&the_tokenizer;
	return SQLITE_OK;
}

static void pier_delete(Fts5Tokenizer *t)
{
	(void)t;
}

/* FTS5's token callback, carried through store_tokenize's. */
struct fts5_sink {
	void *ctx;
	int (*token)(void *ctx, int flags, const char *token, int len, int start, int end);
};

static int to_fts5(void *ud, int flags, const char *token, int len, int start, int end)
{
	struct fts5_sink *s = ud;

	return s->token(s->ctx, flags, token, len, start, end);
}

/* Queries (FTS5_TOKENIZE_QUERY, with or without PREFIX) are tokenized as queries; documents
 * and auxiliary functions' requests (FTS5_TOKENIZE_DOCUMENT, _AUX) as documents. */
static int pier_tokenize(Fts5Tokenizer *t, void *ctx, int flags, const char *text, int len,
                         int (*token)(void *ctx, int flags, const char *token, int len,
                                      int start, int end))
{
	struct fts5_sink sink = { ctx, token };

	(void)t;
	if (len <= 0)
		return SQLITE_OK;
	return store_tokenize(text, (size_t)len,
	                      (flags & FTS5_TOKENIZE_QUERY) ? STORE_TOK_QUERY : STORE_TOK_DOCUMENT,
	                      to_fts5, &sink);
}

/* The connection's fts5_api: "SELECT fts5(?1)" with a pointer of type "fts5_api_ptr" bound,
 * which FTS5 fills (the documented way since SQLite 3.20). NULL without FTS5. */
static fts5_api *fts5_api_of(sqlite3 *db)
{
	fts5_api *api = NULL;
	sqlite3_stmt *s = NULL;

	if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &s, NULL) == SQLITE_OK) {
		sqlite3_bind_pointer(s, 1, (void *)&api, "fts5_api_ptr", NULL);
		sqlite3_step(s);
	}
	sqlite3_finalize(s);
	return api;
}

int store_fts_register(sqlite3 *db, char **err)
{
	fts5_tokenizer tok = { pier_create, pier_delete, pier_tokenize };
	fts5_api *api = fts5_api_of(db);
	int rc;

	if (api == NULL || api->iVersion < 2) {
		*err = store_errorf("this SQLite has no FTS5 (full-text search is needed for search)");
		return -1;
	}
	rc = api->xCreateTokenizer(api, STORE_FTS_TOKENIZER, NULL, &tok, NULL);
	if (rc != SQLITE_OK) {
		*err = store_errorf("registering the search tokenizer: %s", sqlite3_errstr(rc));
		return -1;
	}
	return 0;
}
