/* store_fts.h - the glue between pier's search tokenizer (store_tokenizer.h) and SQLite FTS5:
 * registers it on a connection as the FTS5 tokenizer "pier", through the FTS5 API
 * (fts5_api.xCreateTokenizer; https://www.sqlite.org/fts5.html, "Custom Tokenizers").
 *
 * The message index (store_schema.c, step 7) is declared with tokenize='pier', so every
 * connection that writes to it (the store; the triggers that follow an indexed message's
 * change or deletion) or searches it must register it first, before the schema migration
 * runs. A connection without it (the sqlite3 shell) can read and write every other table and
 * insert messages (indexed by the store later), but gets "no such tokenizer: pier" from the
 * index and from changing or deleting an indexed message.
 */
#ifndef PIER_STORE_FTS_H
#define PIER_STORE_FTS_H

#include <sqlite3.h>

/* The tokenizer's name in FTS5 table declarations. */
#define STORE_FTS_TOKENIZER "pier"

/* Registers the "pier" tokenizer on db. Returns 0, or -1 with *err set to a malloc'd message
 * (this SQLite has no FTS5, or refused the tokenizer). */
int store_fts_register(sqlite3 *db, char **err);

#endif
