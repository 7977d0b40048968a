/* store_pg_search.c - STORE_SEARCH on PostgreSQL, with the answers of SQLite's FTS5 index
 * (store_search.c): the same tokens (store_tokenizer.h: CJK as overlapping pairs plus single
 * characters, other text as case-folded words), the same query (store_query.h), the same
 * matches newest first, spans, pages and STORE_SEARCH_SCAN_MAX bound.
 *
 * The index: message_search holds each message's distinct document tokens (of its text and
 * its file's name) as a text[] with a GIN index; a query's distinct tokens are looked up with
 * tokens @> ARRAY[...], which is exact for what it says (every token is in the message) and
 * finds two-character words that a trigram index cannot. A phrase (电影院: consecutive pairs;
 * "hello world") needs positions, which the array does not keep: each candidate's text and
 * name are tokenized again here and every term must match as a phrase in one of them, as
 * FTS5 matches a phrase within one column (store_query_spans of that term alone). A candidate
 * that fails is no match: it is not counted against STORE_SEARCH_SCAN_MAX, as FTS5 never
 * returns it; candidates have a bound of their own (CANDIDATES_MAX).
 *
 * Newest first: GIN gives its matches in no order, so each search is planned for its own
 * tokens (a common one walks the primary key down and stops at the page; a rare one takes the
 * GIN index and sorts its few matches), and candidates are read in growing chunks.
 *
 * What is indexed: triggers on messages put the id of every inserted message, and of every
 * message whose text or media changed (an edit; a recall), into message_search_pending, in
 * the transaction that does it; store_pg_search_batch_end (at the end of every batch that
 * stored or changed a message, inside its transaction) and every search first take what is
 * pending and (re)write its tokens, or delete them for a recalled or encrypted message (never
 * found, as on SQLite) or one without a token. So a message is indexed in the transaction that
 * stores it, and whoever edits it (on any node) re-indexes it. Taking pending rows locks them
 * in id order: two nodes taking at once wait for each other instead of indexing a row twice or
 * deadlocking. A search takes them too (a read-only batch, without the writers' lock): only
 * rows some writer left, which no lock of a writer's waits on.
 */
#include "store_pg_internal.h"

#include <stdlib.h>
#include <string.h>

#include "store_pg_schema_more.h"
#include "store_tokenizer.h"

#define SEARCH_LIMIT_MAX 200
/* Pending messages indexed per round trip. */
#define PENDING_CHUNK 1000
/* Candidates read per round trip at first (then four times more each time, up to the scan
 * bound): most pages are found in the first. */
#define CANDIDATES_FIRST 64
/* Candidates looked at per job, matches or not. FTS5 checks a phrase on its position lists
 * and never returns a row whose words are there but apart; here each such candidate is read
 * and tokenized (some µs): without this bound a phrase of two common words that are seldom
 * together ("the movie") would read every message holding both. Past it the job ends like
 * at STORE_SEARCH_SCAN_MAX: more, and next_before below the last candidate looked at. */
#define CANDIDATES_MAX (2 * STORE_SEARCH_SCAN_MAX)

/* Whether user $3 may read message m: #lobby ($2), its rooms, its private conversations. */
#define SCOPE_ALL \
	"(m.room_id = $2 OR m.pair_lo = $3 OR m.pair_hi = $3 OR EXISTS (SELECT 1 FROM members " \
	"WHERE room_id = m.room_id AND user_id = $3))"

/* Rare tokens: more than this many candidates below the page's start and the walk goes down
 * the primary key instead of taking them all from the GIN index. Taking them all costs about
 * their number; walking the key about the candidates wanted over their density: at a million
 * messages the two meet between some 7 000 (a page) and 50 000 (the scan bound). */
#define RARE_MAX 10000
/* Ids looked at first, newest first down the primary key, before the GIN index is asked:
 * common tokens fill a page there. */
#define WINDOW_IDS 8192

/* Candidates $1 (ids, newest first) read: their text, their file's name, whether the user may
 * read them (scope) and they may be shown. */
#define CANDIDATES_READ(SCOPE) \
	"SELECT m.id, m.text, md.name, (" SCOPE ") AND m.recalled IS NULL " \
	"AND m.e2ee IS NOT TRUE FROM messages m LEFT JOIN media md ON md.id = m.media_id " \
	"WHERE m.id = ANY($1::bigint[]) ORDER BY m.id DESC"

/* The schema step (store_pg_schema_more.h). message_search: each message's distinct tokens as
 * a text[] under a GIN index, looked up with tokens @> the query's. Triggers queue in
 * message_search_pending the id of every new message (one statement-level insert per INSERT
 * statement) and of every message whose text, media or recall changed (per changed row), in
 * the transaction that does it; the store indexes the queue at the end of each batch and
 * before each search. Every message already stored is queued here. */
const char *const store_pg_schema_search[] = {
	"CREATE TABLE message_search ("
	"  message_id bigint PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,"
	"  tokens text[] NOT NULL"
	")",
	"CREATE INDEX message_search_tokens ON message_search USING gin (tokens)",
	"CREATE TABLE message_search_pending ("
	"  message_id bigint PRIMARY KEY"
	")",
	"CREATE FUNCTION message_search_queue_new() RETURNS trigger LANGUAGE plpgsql AS $$ "
	"BEGIN "
	"  INSERT INTO message_search_pending(message_id) SELECT id FROM new_rows "
	"    ON CONFLICT DO NOTHING; "
	"  RETURN NULL; "
	"END $$",
	"CREATE FUNCTION message_search_queue_one() RETURNS trigger LANGUAGE plpgsql AS $$ "
	"BEGIN "
	"  INSERT INTO message_search_pending(message_id) VALUES (NEW.id) ON CONFLICT DO NOTHING; "
	"  RETURN NULL; "
	"END $$",
	"CREATE TRIGGER messages_search_insert AFTER INSERT ON messages "
	"  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
	"  EXECUTE FUNCTION message_search_queue_new()",
	"CREATE TRIGGER messages_search_update AFTER UPDATE OF text, media_id, recalled "
	"  ON messages FOR EACH ROW WHEN (OLD.text IS DISTINCT FROM NEW.text "
	"  OR OLD.media_id IS DISTINCT FROM NEW.media_id "
	"  OR OLD.recalled IS DISTINCT FROM NEW.recalled) "
	"  EXECUTE FUNCTION message_search_queue_one()",
	"INSERT INTO message_search_pending(message_id) SELECT id FROM messages",
	NULL
};

enum search_stmt {
	S_PENDING_TAKE,
	S_TOKENS_SET,
	S_TOKENS_DELETE,
	S_CAND_WINDOW,
	S_CAND_GIN,
	S_CAND_PKEY,
	S_READ_ALL,
	S_READ_ROOM,
	S_READ_PAIR,
	S_MSGS,
	S_N
};

static const char *const search_sql[S_N] = {
	/* The oldest pending messages (locked in id order, then taken out of pending: the lock
	 * first, materialized, else the planner may run it again for every row), with what is
	 * indexed of them (read by id: a join may scan every message), whether they are to be
	 * left out of the index, whether they are in it. */
	[S_PENDING_TAKE] =
		"WITH l AS MATERIALIZED (SELECT message_id FROM message_search_pending "
		"ORDER BY message_id LIMIT $1 FOR UPDATE), "
		"p AS (DELETE FROM message_search_pending d USING l "
		"WHERE d.message_id = l.message_id RETURNING d.message_id) "
		"SELECT m.id, m.text, md.name, m.recalled IS NOT NULL OR m.e2ee IS TRUE, "
		"EXISTS (SELECT 1 FROM message_search s WHERE s.message_id = m.id) "
		"FROM messages m LEFT JOIN media md ON md.id = m.media_id "
		"WHERE m.id = ANY (ARRAY(SELECT message_id FROM p))",
	/* $2: each message's distinct tokens separated by spaces (no token holds one). */
	[S_TOKENS_SET] =
		"INSERT INTO message_search(message_id, tokens) "
		"SELECT u.id, string_to_array(u.toks, ' ') "
		"FROM unnest($1::bigint[], $2::text[]) AS u(id, toks)",
	[S_TOKENS_DELETE] = "DELETE FROM message_search WHERE message_id = ANY($1::bigint[])",
	/* Messages with every token of $1 below id $2 among the $4 ids below the newest one there,
	 * newest first, at most $3: run with the primary key forced (enable_bitmapscan off). */
	[S_CAND_WINDOW] =
		"SELECT message_id FROM message_search WHERE tokens @> $1::text[] AND message_id < $2 "
		"AND message_id >= (SELECT coalesce(max(message_id), 0) FROM message_search "
		"WHERE message_id < $2) - $4 ORDER BY message_id DESC LIMIT $3",
	/* Messages with every token of $1 below id $2, at most $3, in no order: run with the GIN
	 * index forced (enable_seqscan, enable_indexscan off), it stops after $3 rows, so that it
	 * both finds out whether the tokens are rare and, when they are, gives all of them. */
	[S_CAND_GIN] =
		"SELECT message_id FROM message_search WHERE tokens @> $1::text[] AND message_id < $2 "
		"LIMIT $3",
	/* The same newest first, run with the primary key forced (enable_bitmapscan off): common
	 * tokens, found within a few rows each. */
	[S_CAND_PKEY] =
		"SELECT message_id FROM message_search WHERE tokens @> $1::text[] AND message_id < $2 "
		"ORDER BY message_id DESC LIMIT $3",
	[S_READ_ALL] = CANDIDATES_READ(SCOPE_ALL),
	[S_READ_ROOM] = CANDIDATES_READ("m.room_id = $2 AND $3::bigint IS NOT NULL"),
	[S_READ_PAIR] = CANDIDATES_READ("m.pair_lo = $2 AND m.pair_hi = $3"),
	/* The messages found, as history shows them to the user ($2), newest first. */
	[S_MSGS] = STORE_PG_MSG_SELECT("$2")
		"WHERE m.id = ANY($1::bigint[]) AND m.recalled IS NULL ORDER BY m.id DESC",
};

int store_pg_search_prepare(struct store_pg *pg, char **err)
{
	return store_pg_prepare(pg, STORE_PG_SEARCH, search_sql, S_N, err);
}

/* ---- a growing string (the array literals sent as parameters) ---- */

struct buf {
	char *s;
	size_t len, cap;
	bool failed;
};

static void buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap == 0 ? 256 : b->cap;
		char *v;

		while (b->len + n + 1 > cap)
			cap *= 2;
		v = realloc(b->s, cap);
		if (v == NULL) {
			b->failed = true;
			return;
		}
		b->s = v;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

/* Adds n bytes as one quoted element of an array literal (" and \ escaped). */
static void buf_quoted(struct buf *b, const char *s, size_t n)
{
	size_t from = 0;

	buf_add(b, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"' || s[i] == '\\') {
			buf_add(b, s + from, i - from);
			buf_add(b, "\\", 1);
			from = i;
		}
	}
	buf_add(b, s + from, n - from);
	buf_add(b, "\"", 1);
}

static void buf_int(struct buf *b, int64_t v)
{
	char num[24];

	snprintf(num, sizeof num, "%lld", (long long)v);
	buf_str(b, num);
}

/* ---- indexing ---- */

/* A document's tokens, collected (store_token_fn). */
struct doc_tokens {
	char **tok;
	size_t n, cap;
	bool failed;
};

static int on_doc_token(void *ud, int flags, const char *token, int len, int start, int end)
{
	struct doc_tokens *d = ud;
	char *t;

	(void)flags;
	(void)start;
	(void)end;
	if (d->n == d->cap) {
		size_t cap = d->cap == 0 ? 32 : d->cap * 2;
		char **v = realloc(d->tok, cap * sizeof(*v));

		if (v == NULL) {
			d->failed = true;
			return 1;
		}
		d->tok = v;
		d->cap = cap;
	}
	t = malloc((size_t)len + 1);
	if (t == NULL) {
		d->failed = true;
		return 1;
	}
	memcpy(t, token, (size_t)len);
	t[len] = '\0';
	d->tok[d->n++] = t;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds the distinct document tokens of text and name (either may be NULL) to b, separated by
 * spaces, as one quoted array element. Whether there was a token (false also when memory
 * ran out: b->failed). */
static bool add_doc_tokens(struct buf *b, const char *text, const char *name)
{
	struct doc_tokens d = { 0 };
	const char *src[2] = { text, name };
	struct buf all = { 0 };
	size_t kept = 0;

	for (int i = 0; i < 2; i++) {
		if (src[i] != NULL && src[i][0] != '\0')
			store_tokenize(src[i], strlen(src[i]), STORE_TOK_DOCUMENT, on_doc_token, &d);
	}
	if (d.failed) {
		b->failed = true;
	} else if (d.n > 0) {
		qsort(d.tok, d.n, sizeof(*d.tok), cmp_str);
		for (size_t i = 0; i < d.n; i++) {
			if (i > 0 && strcmp(d.tok[i], d.tok[i - 1]) == 0)
				continue;
			if (kept++ > 0)
				buf_add(&all, " ", 1);
			buf_str(&all, d.tok[i]);
		}
		if (all.failed)
			b->failed = true;
		else
			buf_quoted(b, all.s, all.len);
	}
	for (size_t i = 0; i < d.n; i++)
		free(d.tok[i]);
	free(d.tok);
	free(all.s);
	return kept > 0 && !b->failed;
}

/* Adds id to the array literal b (without its braces) after *n others. */
static void add_id(struct buf *b, size_t *n, int64_t id)
{
	if ((*n)++ > 0)
		buf_add(b, ",", 1);
	buf_int(b, id);
}

/* Indexes one chunk of pending messages: *taken how many it took. Those indexed before (an
 * edit, a recall) are deleted from the index first, then those with tokens inserted: a plain
 * INSERT, cheaper than an upsert for the new messages that are nearly all of them. 0 or -1. */
static int index_chunk(struct store_pg *pg, int *taken)
{
	struct store_pg_params p;
	struct buf ids = { 0 }, toks = { 0 }, old = { 0 };
	size_t nset = 0, nold = 0;
	PGresult *r;
	int rc = -1;

	store_pg_params_init(&p);
	store_pg_add_int(&p, PENDING_CHUNK);
	r = store_pg_exec(pg, STORE_PG_SEARCH, S_PENDING_TAKE, &p);
	if (r == NULL)
		return -1;
	*taken = PQntuples(r);
	buf_str(&toks, "{");
	for (int i = 0; i < *taken; i++) {
		int64_t id = store_pg_int(r, i, 0);
		size_t mark = toks.len;

		if (store_pg_bool(r, i, 4))
			add_id(&old, &nold, id);
		if (store_pg_bool(r, i, 3))
			continue;           /* recalled or encrypted: never found */
		if (nset > 0)
			buf_add(&toks, ",", 1);
		if (add_doc_tokens(&toks, PQgetvalue(r, i, 1),
		                   store_pg_null(r, i, 2) ? NULL : PQgetvalue(r, i, 2))) {
			add_id(&ids, &nset, id);
		} else if (toks.s != NULL) {
			toks.len = mark;    /* no token: nothing to find it by */
			toks.s[mark] = '\0';
		}
	}
	buf_str(&toks, "}");
	if (ids.failed || toks.failed || old.failed)
		goto out;
	if (nold > 0) {
		char *list = store_errorf("{%s}", old.s);

		store_pg_params_init(&p);
		store_pg_add_text(&p, list);
		if (list == NULL || store_pg_exec_count(pg, STORE_PG_SEARCH, S_TOKENS_DELETE, &p) < 0) {
			free(list);
			goto out;
		}
		free(list);
	}
	if (nset > 0) {
		char *list = store_errorf("{%s}", ids.s);

		store_pg_params_init(&p);
		store_pg_add_text(&p, list);
		store_pg_add_text(&p, toks.s);
		if (list == NULL || store_pg_exec_count(pg, STORE_PG_SEARCH, S_TOKENS_SET, &p) < 0) {
			free(list);
			goto out;
		}
		free(list);
	}
	rc = 0;
out:
	PQclear(r);
	free(ids.s);
	free(toks.s);
	free(old.s);
	return rc;
}

/* Indexes every pending message (this transaction's, and what others left). 0 or -1. */
static int index_pending(struct store_pg *pg)
{
	int taken;

	do {
		if (index_chunk(pg, &taken) != 0)
			return -1;
	} while (taken == PENDING_CHUNK);
	return 0;
}

int store_pg_search_batch_end(struct store_pg *pg)
{
	/* Not only when this batch appended: an edit or recall queued its message too. One
	 * round trip on an empty queue. */
	if (index_pending(pg) != 0)
		return -1;
	pg->search_pending = false;
	return 0;
}

/* ---- searching ---- */

/* A parsed query and each of its terms as a query of its own (for the phrase check). */
struct search_query {
	struct store_query all;
	struct store_query term[STORE_QUERY_TERMS_MAX];
	bool phrases;             /* a term has more than one token: positions must be checked */
};

static void split_terms(struct search_query *sq)
{
	sq->phrases = false;
	for (int t = 0; t < sq->all.nterms; t++) {
		struct store_query *one = &sq->term[t];

		*one = sq->all;
		one->nterms = 1;
		one->term[0] = sq->all.term[t];
		if (sq->all.term[t].count > 1)
			sq->phrases = true;
	}
}

/* Whether text holds the phrase of q (a one-term query): 1, 0, or -1 out of memory. */
static int has_phrase(const struct store_query *q, const char *text)
{
	struct store_span s;

	if (text == NULL || text[0] == '\0')
		return 0;
	return store_query_spans(q, text, strlen(text), &s, 1) > 0 ? 1 : 0;
}

/* Whether a candidate is a match: every term a phrase of its text or of its name (FTS5's
 * column rule). 1, 0, or -1 out of memory. */
static int is_match(const struct search_query *sq, const char *text, const char *name)
{
	if (!sq->phrases)
		return 1;                  /* single tokens: the array lookup was exact */
	for (int t = 0; t < sq->all.nterms; t++) {
		int a = has_phrase(&sq->term[t], text);
		int b = a == 0 ? has_phrase(&sq->term[t], name) : a;

		if (a < 0 || b < 0)
			return -1;
		if (b == 0)
			return 0;
	}
	return 1;
}

/* The query's distinct tokens as an array literal (malloc'd in b). */
static void query_tokens(const struct store_query *q, struct buf *b)
{
	buf_str(b, "{");
	for (int i = 0; i < q->ndistinct; i++) {
		if (i > 0)
			buf_add(b, ",", 1);
		buf_quoted(b, q->buf + q->distinct[i].off, q->distinct[i].len);
	}
	buf_str(b, "}");
}

/* What one search walks: the scope's statement and parameters, the query's tokens, and where
 * its candidates come from. */
struct walk {
	enum search_stmt read;    /* S_READ_*: the scope */
	int64_t a, b;             /* its $2, $3 */
	const char *tokens;       /* the candidates' $1 */
	int64_t *rare;            /* rare tokens: every candidate, newest first (else NULL) */
	int nrare, next;          /* how many, and the next one to read */
	bool window;              /* still in the first WINDOW_IDS ids (S_CAND_WINDOW) */
	bool window_done;         /* it gave all it had: the walk goes on below it */
};

/* Fills w with the scope of the job: #room, @peer, or all of the user's. STORE_OK, or
 * STORE_NOT_FOUND (no such room), STORE_FAILED. */
static enum store_status scope_of(struct store_pg *pg, const struct store_job *job,
                                  struct walk *w)
{
	if (job->room != NULL) {
		int rc = store_pg_room_id(pg, job->room, &w->a);

		if (rc != 0)
			return rc > 0 ? STORE_NOT_FOUND : STORE_FAILED;
		w->read = S_READ_ROOM;
		w->b = 0;
	} else if (job->peer_id > 0) {
		w->read = S_READ_PAIR;
		w->a = job->user_id < job->peer_id ? job->user_id : job->peer_id;
		w->b = job->user_id < job->peer_id ? job->peer_id : job->user_id;
	} else {
		w->read = S_READ_ALL;
		w->a = pg->lobby_id;
		w->b = job->user_id;
	}
	return STORE_OK;
}

static int cmp_desc(const void *x, const void *y)
{
	int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;

	return (a < b) - (a > b);
}

/* Decides how the candidates below before are walked, once the first WINDOW_IDS ids did not
 * fill the page. The planner cannot: the statistics
 * know only the most common tokens, and a LIMIT makes walking the primary key down look cheap
 * for any token it thinks common enough, which for a word it has never seen (or a query that
 * matches nothing) means walking every message (a second at a million). So the GIN index is
 * asked first, forced, for at most RARE_MAX + 1 candidates: if it has no more, they are all
 * the candidates (w->rare, sorted here); else the tokens are common and the walk goes down
 * the primary key, forced. Leaves the settings for that walk on. 0 or -1. */
static int choose_walk(struct store_pg *pg, struct walk *w, int64_t before)
{
	struct store_pg_params p;
	PGresult *r;
	int rows;

	if (store_pg_command(pg, "SET LOCAL enable_bitmapscan TO DEFAULT; "
	                         "SET LOCAL enable_indexscan = off") != 0)
		return -1;
	store_pg_params_init(&p);
	store_pg_add_text(&p, w->tokens);
	store_pg_add_int(&p, before);
	store_pg_add_int(&p, RARE_MAX + 1);
	r = store_pg_exec(pg, STORE_PG_SEARCH, S_CAND_GIN, &p);
	if (r == NULL)
		return -1;
	rows = PQntuples(r);
	if (rows <= RARE_MAX) {
		w->rare = malloc(((size_t)rows + 1) * sizeof(*w->rare));
		if (w->rare == NULL) {
			PQclear(r);
			return -1;
		}
		for (int i = 0; i < rows; i++)
			w->rare[i] = store_pg_int(r, i, 0);
		qsort(w->rare, (size_t)rows, sizeof(*w->rare), cmp_desc);
		w->nrare = rows;
	}
	PQclear(r);
	return store_pg_command(pg, "SET LOCAL enable_indexscan TO DEFAULT; "
	                            "SET LOCAL enable_bitmapscan = off");
}

/* The next at most n candidates below before, newest first, read (S_READ_*): the result, or
 * NULL on error; *more: candidates may be left after them. */
static PGresult *next_candidates(struct store_pg *pg, struct walk *w, int64_t before, int n,
                                 bool *more)
{
	struct store_pg_params p;
	struct buf ids = { 0 };
	PGresult *r = NULL;
	size_t k = 0;

	buf_str(&ids, "{");
	if (w->window) {
		store_pg_params_init(&p);
		store_pg_add_text(&p, w->tokens);
		store_pg_add_int(&p, before);
		store_pg_add_int(&p, n);
		store_pg_add_int(&p, WINDOW_IDS);
		r = store_pg_exec(pg, STORE_PG_SEARCH, S_CAND_WINDOW, &p);
		if (r == NULL)
			goto out;
		for (int i = 0; i < PQntuples(r); i++)
			add_id(&ids, &k, store_pg_int(r, i, 0));
		*more = true;
		w->window_done = PQntuples(r) < n;
		PQclear(r);
		r = NULL;
	} else if (w->rare != NULL) {
		for (; w->next < w->nrare && (int)k < n; w->next++)
			add_id(&ids, &k, w->rare[w->next]);
		*more = w->next < w->nrare;
	} else {
		store_pg_params_init(&p);
		store_pg_add_text(&p, w->tokens);
		store_pg_add_int(&p, before);
		store_pg_add_int(&p, n);
		r = store_pg_exec(pg, STORE_PG_SEARCH, S_CAND_PKEY, &p);
		if (r == NULL)
			goto out;
		for (int i = 0; i < PQntuples(r); i++)
			add_id(&ids, &k, store_pg_int(r, i, 0));
		*more = PQntuples(r) == n;
		PQclear(r);
		r = NULL;
	}
	buf_str(&ids, "}");
	if (ids.failed)
		goto out;
	store_pg_params_init(&p);
	store_pg_add_text(&p, ids.s);
	store_pg_add_int(&p, w->a);
	store_pg_add_int(&p, w->b);
	r = store_pg_exec(pg, STORE_PG_SEARCH, w->read, &p);
out:
	free(ids.s);
	return r;
}

/* Walks the candidates newest first from before on, as SQLite walks FTS5's matches: fills
 * found[] (at most limit ids of messages the user may read), job->more and next_before.
 * STORE_OK or STORE_FAILED. */
static enum store_status walk_matches(struct store_pg *pg, struct store_job *job,
                                      const struct search_query *sq, struct walk *w,
                                      int limit, int64_t *found, int *nfound)
{
	int64_t before = job->before > 0 ? job->before : INT64_MAX, last = 0;
	int chunk = limit + 1 > CANDIDATES_FIRST ? limit + 1 : CANDIDATES_FIRST;
	int scanned = 0, examined = 0;

	/* First the newest ids down the primary key; the planner's own choice can be a walk of
	 * every message (choose_walk). Until the job's end, or its savepoint's rollback. */
	if (store_pg_command(pg, "SET LOCAL plan_cache_mode = force_custom_plan; "
	                         "SET LOCAL enable_seqscan = off; "
	                         "SET LOCAL enable_bitmapscan = off") != 0)
		return STORE_FAILED;
	w->window = true;
	for (;;) {
		bool more = false;
		PGresult *r = next_candidates(pg, w, before, chunk, &more);
		int rows;

		if (r == NULL)
			return STORE_FAILED;
		rows = PQntuples(r);
		for (int i = 0; i < rows; i++) {
			int64_t id = store_pg_int(r, i, 0);
			int m;

			if (examined++ == CANDIDATES_MAX) {
				/* candidates are left: go on below the last one looked at */
				job->more = true;
				job->next_before = before;
				PQclear(r);
				return STORE_OK;
			}
			m = is_match(sq, PQgetvalue(r, i, 1),
			             store_pg_null(r, i, 2) ? NULL : PQgetvalue(r, i, 2));
			before = id;
			if (m < 0) {
				PQclear(r);
				return STORE_FAILED;
			}
			if (m == 0)
				continue;
			if (scanned == STORE_SEARCH_SCAN_MAX) {
				/* matches are left: go on after the last one looked at */
				job->more = true;
				job->next_before = last;
				PQclear(r);
				return STORE_OK;
			}
			scanned++;
			last = id;
			if (!store_pg_bool(r, i, 3))
				continue;
			if (*nfound == limit) {
				/* one more than the page: the next page starts below the last one taken */
				job->more = true;
				job->next_before = found[*nfound - 1];
				PQclear(r);
				return STORE_OK;
			}
			found[(*nfound)++] = id;
		}
		PQclear(r);
		if (w->window_done) {
			/* every candidate among the window's ids was looked at: on below the last one
			 * (the window's ids without one are walked again, a few ms at most) */
			w->window = w->window_done = false;
			if (choose_walk(pg, w, before) != 0)
				return STORE_FAILED;
			continue;
		}
		if (!more)
			return STORE_OK;       /* no candidate left */
		chunk = chunk * 4 > STORE_SEARCH_SCAN_MAX + 1 ? STORE_SEARCH_SCAN_MAX + 1 : chunk * 4;
	}
}

/* Reads the messages found (newest first) into job->msgs with their spans. */
static enum store_status read_found(struct store_pg *pg, struct store_job *job,
                                    const struct store_query *q, const int64_t *found, int n)
{
	struct store_pg_params p;
	struct buf ids = { 0 };
	enum store_status status = STORE_FAILED;
	PGresult *r;
	int rows;

	buf_str(&ids, "{");
	for (int i = 0; i < n; i++) {
		if (i > 0)
			buf_add(&ids, ",", 1);
		buf_int(&ids, found[i]);
	}
	buf_str(&ids, "}");
	if (ids.failed)
		return STORE_FAILED;
	store_pg_params_init(&p);
	store_pg_add_text(&p, ids.s);
	store_pg_add_int(&p, job->user_id);
	r = store_pg_exec(pg, STORE_PG_SEARCH, S_MSGS, &p);
	free(ids.s);
	if (r == NULL)
		return STORE_FAILED;
	rows = PQntuples(r);
	for (int i = 0; i < rows && i < n; i++) {
		struct store_msg *m = &job->msgs[job->nmsgs++];

		if (store_pg_read_msg(r, i, m) != 0 ||
		    store_query_spans_dup(q, m->text, &m->spans, &m->nspans) != 0)
			goto out;
		if (m->media_name != NULL &&
		    store_query_spans_dup(q, m->media_name, &m->name_spans, &m->nname_spans) != 0)
			goto out;
	}
	status = STORE_OK;
out:
	PQclear(r);
	return status;
}

enum store_status store_pg_search(struct store_pg *pg, struct store_job *job)
{
	struct search_query *sq = malloc(sizeof(*sq));
	int limit = job->limit < 1 ? 1 : job->limit > SEARCH_LIMIT_MAX ? SEARCH_LIMIT_MAX : job->limit;
	int64_t found[SEARCH_LIMIT_MAX];
	struct buf tokens = { 0 };
	struct walk w = { 0 };
	enum store_status status = STORE_FAILED;
	int nfound = 0;

	job->msgs = NULL;
	job->nmsgs = 0;
	job->more = false;
	job->next_before = 0;
	/* what was stored before this search, on any node, is found */
	if (sq == NULL || index_pending(pg) != 0)
		goto out;
	if (job->text == NULL ||
	    store_query_parse(&sq->all, job->text, strlen(job->text)) != STORE_QUERY_OK)
		goto out;
	split_terms(sq);
	status = scope_of(pg, job, &w);
	if (status != STORE_OK)
		goto out;
	status = STORE_FAILED;
	query_tokens(&sq->all, &tokens);
	if (tokens.failed)
		goto out;
	w.tokens = tokens.s;
	job->msgs = calloc((size_t)limit, sizeof(*job->msgs));
	if (job->msgs == NULL)
		goto out;
	/* The walk sets the planner's settings it needs (choose_walk) and they are put back
	 * here; on a failure the job's savepoint rollback puts them back. */
	if (walk_matches(pg, job, sq, &w, limit, found, &nfound) != STORE_OK ||
	    store_pg_command(pg, "SET LOCAL plan_cache_mode TO DEFAULT; "
	                         "SET LOCAL enable_seqscan TO DEFAULT; "
	                         "SET LOCAL enable_indexscan TO DEFAULT; "
	                         "SET LOCAL enable_bitmapscan TO DEFAULT") != 0)
		goto out;
	if (nfound > 0 && read_found(pg, job, &sq->all, found, nfound) != STORE_OK)
		goto out;
	status = STORE_OK;
out:
	free(w.rare);
	free(tokens.s);
	free(sq);
	return status;
}
