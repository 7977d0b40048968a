/* store_pg_schema_more.h - the PostgreSQL schema step of the pg-more modules: the search index
 * (store_pg_search.c), which store_pg_schema.c lists in its steps after its step 1 (which has
 * the tables of store_pg_social.c and store_pg_e2ee.c: SQLite's schema of version 8). Like
 * every step it is append-only: never edit one that was released; add one.
 */
#ifndef PIER_STORE_PG_SCHEMA_MORE_H
#define PIER_STORE_PG_SCHEMA_MORE_H

/* The search index's step: a NULL-terminated list of statements (store_pg_search.c). */
extern const char *const store_pg_schema_search[];

#endif
