/* store_schema.c - the database schema and its versioned migrations (PRAGMA user_version).
 *
 * migrations[i] takes a database from version i to version i + 1. Each step runs in its own
 * transaction together with the user_version bump, so a crash leaves the database at one
 * version or the next, never between. Steps are append-only: never edit a released one.
 */
#include "store_internal.h"

#include <stdio.h>
#include <stdlib.h>

static const char *const migrations[] = {
	/* 1: the first schema. */
	"CREATE TABLE users ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL,"                /* canonical spelling */
	"  name_key TEXT NOT NULL UNIQUE,"     /* pier_name_key(name) */
	"  pw_hash TEXT NOT NULL,"
	"  created INTEGER NOT NULL,"
	"  seen_id INTEGER NOT NULL DEFAULT 0"
	");"
	"CREATE TABLE tokens ("
	"  hash BLOB PRIMARY KEY,"
	"  user_id INTEGER NOT NULL REFERENCES users(id),"
	"  created INTEGER NOT NULL"
	");"
	/* Room names keep their '#': name "#Dev", name_key "#dev". */
	"CREATE TABLE rooms ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL,"
	"  name_key TEXT NOT NULL UNIQUE,"
	"  created INTEGER NOT NULL"
	");"
	/* #lobby is a row (so its messages have a room_id) but never has members rows:
	 * everyone is in it. */
	"INSERT INTO rooms(name, name_key, created) VALUES('" STORE_LOBBY "', '" STORE_LOBBY "', 0);"
	"CREATE TABLE members ("
	"  room_id INTEGER NOT NULL REFERENCES rooms(id),"
	"  user_id INTEGER NOT NULL REFERENCES users(id),"
	"  joined INTEGER NOT NULL,"
	"  PRIMARY KEY (room_id, user_id)"
	") WITHOUT ROWID;"
	"CREATE INDEX members_user ON members(user_id, room_id);"
	/* A message goes to a room (room_id) or to a user (recipient_id). A private message also
	 * has pair_lo/pair_hi, its two users' ids in order, so both directions of a conversation
	 * are one index range. AUTOINCREMENT: ids are never reused. */
	"CREATE TABLE messages ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  ts INTEGER NOT NULL,"
	"  sender_id INTEGER NOT NULL REFERENCES users(id),"
	"  room_id INTEGER NULL REFERENCES rooms(id),"
	"  recipient_id INTEGER NULL REFERENCES users(id),"
	"  pair_lo INTEGER NULL,"
	"  pair_hi INTEGER NULL,"
	"  text TEXT NOT NULL,"
	"  cid TEXT NULL,"
	"  CHECK ((room_id IS NULL) <> (recipient_id IS NULL))"
	");"
	"CREATE INDEX messages_room ON messages(room_id, id) WHERE room_id IS NOT NULL;"
	"CREATE INDEX messages_pair ON messages(pair_lo, pair_hi, id) WHERE pair_lo IS NOT NULL;"
	"CREATE INDEX messages_to ON messages(recipient_id, id) WHERE recipient_id IS NOT NULL;"
	"CREATE UNIQUE INDEX messages_cid ON messages(sender_id, cid) WHERE cid IS NOT NULL;",

	/* 2: contacts, the people a user has a private conversation with, both ways (the
	 * server's presence rule in large installations needs them at login, cheaply). */
	"CREATE TABLE contacts ("
	"  user_id INTEGER NOT NULL REFERENCES users(id),"
	"  peer_id INTEGER NOT NULL REFERENCES users(id),"
	"  PRIMARY KEY (user_id, peer_id)"
	") WITHOUT ROWID;"
	"INSERT OR IGNORE INTO contacts(user_id, peer_id)"
	"  SELECT pair_lo, pair_hi FROM messages WHERE pair_lo IS NOT NULL"
	"  UNION SELECT pair_hi, pair_lo FROM messages WHERE pair_lo IS NOT NULL;",

	/* 3: media. A row per upload; the bytes live in DATA/media/ under their SHA-256, shared
	 * by every row with the same content. A message may carry one media item (kind says how
	 * to show it). Unfinished resumable (tus) uploads are rows of uploads, their bytes in
	 * DATA/uploads/KEY.part; a finished one keeps its row with the media id it became. */
	"CREATE TABLE media ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  sha256 TEXT NOT NULL,"
	"  uploader_id INTEGER NOT NULL REFERENCES users(id),"
	"  name TEXT NOT NULL,"
	"  size INTEGER NOT NULL,"
	"  type TEXT NOT NULL,"
	"  width INTEGER NOT NULL DEFAULT 0,"
	"  height INTEGER NOT NULL DEFAULT 0,"
	"  thumb TEXT NOT NULL DEFAULT '',"
	"  created INTEGER NOT NULL"
	");"
	"CREATE INDEX media_uploader ON media(uploader_id, sha256);"
	"ALTER TABLE messages ADD COLUMN kind TEXT NULL;"
	"ALTER TABLE messages ADD COLUMN media_id INTEGER NULL REFERENCES media(id);"
	"CREATE INDEX messages_media ON messages(media_id) WHERE media_id IS NOT NULL;"
	"CREATE TABLE uploads ("
	"  key TEXT PRIMARY KEY,"
	"  user_id INTEGER NOT NULL REFERENCES users(id),"
	"  length INTEGER NOT NULL,"
	"  name TEXT NOT NULL,"
	"  type TEXT NOT NULL,"
	"  created INTEGER NOT NULL,"
	"  media_id INTEGER NULL REFERENCES media(id)"
	");"
	"CREATE INDEX uploads_user ON uploads(user_id) WHERE media_id IS NULL;",

	/* 4: tokens expire when unused for a while: when each was last used (a login with it, or
	 * a session with it still open), and the user's tokens as one index range (log out
	 * everywhere, password change). */
	"ALTER TABLE tokens ADD COLUMN used INTEGER NOT NULL DEFAULT 0;"
	"UPDATE tokens SET used = created;"
	"CREATE INDEX tokens_user ON tokens(user_id);"
	"CREATE INDEX tokens_used ON tokens(used);",

	/* 5: what happens to a message after it was sent. reply_to: the message it quotes (of the
	 * same conversation). edited, recalled: when (ms); a recalled message keeps its row (its
	 * id, sender, time and cid) but loses its text, media, reply and mentions. changed: the
	 * change sequence number of its last edit, recall or reaction, so that a client that was
	 * away asks for what changed since the last number it saw (sync's changes_after); the
	 * next number is max(changed) + 1, found on the index. mentions: the users a room
	 * message names with @ (in order of pos), and the same names as a JSON array in the
	 * message's mentions column (what readers get, without a lookup per message). reactions:
	 * one row per user, message and emoji. */
	"ALTER TABLE messages ADD COLUMN reply_to INTEGER NULL REFERENCES messages(id);"
	"ALTER TABLE messages ADD COLUMN mentions TEXT NULL;"
	"ALTER TABLE messages ADD COLUMN edited INTEGER NULL;"
	"ALTER TABLE messages ADD COLUMN recalled INTEGER NULL;"
	"ALTER TABLE messages ADD COLUMN changed INTEGER NULL;"
	"CREATE INDEX messages_changed ON messages(changed) WHERE changed IS NOT NULL;"
	"CREATE TABLE mentions ("
	"  message_id INTEGER NOT NULL REFERENCES messages(id),"
	"  user_id INTEGER NOT NULL REFERENCES users(id),"
	"  pos INTEGER NOT NULL,"
	"  PRIMARY KEY (message_id, user_id)"
	") WITHOUT ROWID;"
	"CREATE INDEX mentions_user ON mentions(user_id, message_id);"
	"CREATE TABLE reactions ("
	"  message_id INTEGER NOT NULL REFERENCES messages(id),"
	"  emoji TEXT NOT NULL,"
	"  user_id INTEGER NOT NULL REFERENCES users(id),"
	"  ts INTEGER NOT NULL,"
	"  PRIMARY KEY (message_id, emoji, user_id)"
	") WITHOUT ROWID;",
	/* 6: display names (any Unicode the server's rules allow; the name stays the handle),
	 * room topics with who set them and when, and each user's read position per
	 * conversation (room_id for a room, peer_id for a private one, the other 0), synced
	 * across the user's devices. */
	"ALTER TABLE users ADD COLUMN display TEXT NULL;"
	"ALTER TABLE rooms ADD COLUMN topic TEXT NULL;"
	"ALTER TABLE rooms ADD COLUMN topic_by INTEGER NULL REFERENCES users(id);"
	"ALTER TABLE rooms ADD COLUMN topic_ts INTEGER NULL;"
	"CREATE TABLE reads ("
	"  user_id INTEGER NOT NULL REFERENCES users(id),"
	"  room_id INTEGER NOT NULL DEFAULT 0,"
	"  peer_id INTEGER NOT NULL DEFAULT 0,"
	"  read_id INTEGER NOT NULL,"
	"  PRIMARY KEY (user_id, room_id, peer_id)"
	") WITHOUT ROWID;"
	/* Unread counts skip one's own messages: with the sender in the conversation indexes a
	 * count reads only the index (history's order is unchanged: same leading columns). */
	"DROP INDEX messages_room;"
	"CREATE INDEX messages_room ON messages(room_id, id, sender_id) WHERE room_id IS NOT NULL;"
	"DROP INDEX messages_pair;"
	"CREATE INDEX messages_pair ON messages(pair_lo, pair_hi, id, sender_id) "
	"WHERE pair_lo IS NOT NULL;",

	/* 7: search. A full-text index (FTS5) of every message's text (a media message's caption)
	 * and its file's name, with pier's tokenizer (store_tokenizer.h: CJK as pairs and single
	 * characters, other text as words; store_fts.c registers it before this runs).
	 * Contentless (content=''), its rowid the message's id: the text is stored once, in
	 * messages; a search reads the index for ids and the rows of messages for the rest, and
	 * the highlight is computed by pier (store_query.c) rather than by FTS5's highlight(), which
	 * needs the content. External content would work as well but needs a content table with
	 * both columns (a view joining media). columnsize=0: no per-row token counts, which only
	 * ranking (bm25) would use; results come newest first. detail stays full: phrases (电影院
	 * as consecutive pairs) need positions.
	 * New messages are indexed by the store at the end of each batch, in its transaction, with
	 * one INSERT ... SELECT of the messages past message_fts_state.upto (store_db_index_new):
	 * FTS5 writes its pending terms to disk at every statement savepoint, so a row at a time
	 * (a trigger on INSERT) cost about 40 us a message against about 10 in a batch.
	 * Triggers keep what is indexed in step when a message changes or goes: an edit indexes
	 * the new text in place of the old; a recall (text '', media_id NULL, recalled set) takes
	 * the message out and puts nothing back. A contentless index forgets a row by the
	 * 'delete' command with the values it was indexed with, which they pass (old.text, the
	 * media's name; media rows never change). What a 'delete' leaves in the index's pages
	 * until FTS5's merging reaches it (SQLite 3.40 has no FTS5 secure delete):
	 * docs/SECURITY.md.
	 * Every message stored before this step is indexed here, but recalled ones (nothing is
	 * left of them to index). */
	"CREATE VIRTUAL TABLE message_fts USING fts5(text, name, content='', columnsize=0,"
	"  tokenize='pier');"
	"CREATE TABLE message_fts_state ("
	"  id INTEGER PRIMARY KEY CHECK (id = 1),"
	"  upto INTEGER NOT NULL"                      /* messages up to this id are indexed */
	");"
	"INSERT INTO message_fts(rowid, text, name)"
	"  SELECT m.id, m.text, md.name FROM messages m LEFT JOIN media md ON md.id = m.media_id"
	"  WHERE m.recalled IS NULL;"
	"INSERT INTO message_fts_state(id, upto) VALUES(1, coalesce((SELECT max(id) FROM messages), 0));"
	"CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages"
	"  WHEN old.id <= (SELECT upto FROM message_fts_state) BEGIN"
	"  INSERT INTO message_fts(message_fts, rowid, text, name)"
	"    VALUES('delete', old.id, old.text, (SELECT name FROM media WHERE id = old.media_id));"
	"END;"
	"CREATE TRIGGER messages_fts_update AFTER UPDATE OF text, media_id ON messages"
	"  WHEN old.id <= (SELECT upto FROM message_fts_state) BEGIN"
	"  INSERT INTO message_fts(message_fts, rowid, text, name)"
	"    VALUES('delete', old.id, old.text, (SELECT name FROM media WHERE id = old.media_id));"
	"  INSERT INTO message_fts(rowid, text, name)"
	"    SELECT new.id, new.text, (SELECT name FROM media WHERE id = new.media_id)"
	"    WHERE new.recalled IS NULL;"
	"END;",

	/* 8: end-to-end encryption (docs/E2EE.md). devices: each client installation of a user,
	 * its public keys (base64url text as the wire has them: the server only compares and
	 * relays them), its name, its state (0 pending: registered, not yet in a signed list,
	 * gone after --e2ee-pending-expiry; 1 active: in the list; 2 revoked: kept so that its id
	 * is never reused and its sessions are told), its signed prekey, and how many envelopes
	 * wait in its queue (kept with the queue, so a send checks --e2ee-max-queue without a
	 * count). opks: one-time prekeys, deleted when claimed. devlists: each user's current
	 * signed device list (the bytes, the signature, its version and account key).
	 * An encrypted message is a row of messages with e2ee set, text '' and its payload (the
	 * ciphertext every device opens with the key of its envelope); envelopes: the per-device
	 * queues, in qid order (AUTOINCREMENT: a qid is never reused, so an ack up to a qid never
	 * takes a later envelope), one index serving a queue's reads in order and its acks.
	 * A device-to-device envelope (device_send) has no message and carries its own payload.
	 * media.e2ee: an upload of ciphertext (?e2ee=1), sendable only in an encrypted message;
	 * uploads.e2ee: a tus upload that will be such media. */
	"CREATE TABLE devices ("
	"  rid INTEGER PRIMARY KEY,"
	"  id TEXT NOT NULL UNIQUE,"
	"  user_id INTEGER NOT NULL REFERENCES users(id),"
	"  sign_key TEXT NOT NULL,"
	"  dh_key TEXT NOT NULL,"
	"  name TEXT NOT NULL DEFAULT '',"
	"  state INTEGER NOT NULL DEFAULT 0,"
	"  created INTEGER NOT NULL,"
	"  seen INTEGER NOT NULL DEFAULT 0,"
	"  spk_id INTEGER NOT NULL,"
	"  spk_key TEXT NOT NULL,"
	"  spk_sig TEXT NOT NULL,"
	"  queued INTEGER NOT NULL DEFAULT 0"
	");"
	"CREATE INDEX devices_user ON devices(user_id, state);"
	"CREATE TABLE opks ("
	"  device INTEGER NOT NULL REFERENCES devices(rid),"
	"  id INTEGER NOT NULL,"
	"  key TEXT NOT NULL,"
	"  PRIMARY KEY (device, id)"
	") WITHOUT ROWID;"
	"CREATE TABLE devlists ("
	"  user_id INTEGER PRIMARY KEY REFERENCES users(id),"
	"  version INTEGER NOT NULL,"
	"  list TEXT NOT NULL,"
	"  sig TEXT NOT NULL,"
	"  ak TEXT NOT NULL"
	");"
	"ALTER TABLE messages ADD COLUMN e2ee INTEGER NULL;"
	"ALTER TABLE messages ADD COLUMN payload TEXT NULL;"
	"ALTER TABLE media ADD COLUMN e2ee INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE uploads ADD COLUMN e2ee INTEGER NOT NULL DEFAULT 0;"
	"CREATE TABLE envelopes ("
	"  qid INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  device INTEGER NOT NULL REFERENCES devices(rid),"
	"  message_id INTEGER NULL REFERENCES messages(id),"
	"  from_device INTEGER NOT NULL REFERENCES devices(rid),"
	"  body TEXT NOT NULL,"
	"  payload TEXT NULL"
	");"
	"CREATE INDEX envelopes_queue ON envelopes(device, qid);",

	/* 9: the encrypted send's store work, narrower (docs/PERFORMANCE.md, "The encrypted
	 * path's store work (session 3)").
	 * queues: each device's count of waiting envelopes, out of the wide devices row (keys
	 * and signatures: taking a message's room rewrote some 350 bytes to change one integer).
	 * Every device has its row, written with the device; devices.queued goes.
	 * envelopes without AUTOINCREMENT, its foreign keys and its sqlite_sequence row: the
	 * store gives each envelope its qid from a counter of its own (store_e2ee.c,
	 * next_qid), above every qid ever given, so that an ack up to a qid never takes an
	 * envelope stored later and a queue is read in the order it was written. e2ee_qid.hwm
	 * is the highest qid given, written in the transaction of the batch that gave it; a
	 * store starts from max(hwm, max(qid)) + 1. The foreign keys went with the table: the
	 * store checks every device it queues to in the transaction that writes (an active
	 * device of the sender's or the recipient's), and the message is the row just written;
	 * the three parent look-ups cost an envelope more than its own row. */
	"CREATE TABLE queues ("
	"  device INTEGER PRIMARY KEY,"
	"  queued INTEGER NOT NULL"
	");"
	"INSERT INTO queues(device, queued) SELECT rid, queued FROM devices;"
	"ALTER TABLE devices DROP COLUMN queued;"
	"CREATE TABLE e2ee_qid ("
	"  id INTEGER PRIMARY KEY CHECK (id = 1),"
	"  hwm INTEGER NOT NULL"
	");"
	"INSERT INTO e2ee_qid(id, hwm) VALUES(1, max("
	"  coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'envelopes'), 0),"
	"  coalesce((SELECT max(qid) FROM envelopes), 0)));"
	"CREATE TABLE envelopes_new ("
	"  qid INTEGER PRIMARY KEY,"
	"  device INTEGER NOT NULL,"
	"  message_id INTEGER NULL,"
	"  from_device INTEGER NOT NULL,"
	"  body TEXT NOT NULL,"
	"  payload TEXT NULL"
	");"
	"INSERT INTO envelopes_new(qid, device, message_id, from_device, body, payload)"
	"  SELECT qid, device, message_id, from_device, body, payload FROM envelopes;"
	"DROP TABLE envelopes;"
	"ALTER TABLE envelopes_new RENAME TO envelopes;"
	"CREATE INDEX envelopes_queue ON envelopes(device, qid);",
};

_Static_assert(sizeof migrations / sizeof migrations[0] == STORE_SCHEMA_VERSION,
               "STORE_SCHEMA_VERSION must be the number of migration steps");

static int read_version(sqlite3 *db, int *version)
{
	sqlite3_stmt *s = NULL;
	int rc = -1;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL) != SQLITE_OK)
		goto out;
	if (sqlite3_step(s) != SQLITE_ROW)
		goto out;
	*version = sqlite3_column_int(s, 0);
	rc = 0;
out:
	sqlite3_finalize(s);
	return rc;
}

/* Runs step (index i) and sets user_version to i + 1, in one transaction. Re-reads the version
 * under the write lock so that two processes opening one database cannot both apply a step. */
static int apply_step(sqlite3 *db, int i, char **err)
{
	char bump[64];
	int version = 0;
	bool open = false;
	int rc = -1;

	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	open = true;
	if (read_version(db, &version) != 0)
		goto fail;
	if (version > i) {
		rc = 0;
		goto out;
	}
	snprintf(bump, sizeof bump, "PRAGMA user_version = %d", i + 1);
	if (sqlite3_exec(db, migrations[i], NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, bump, NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	rc = 0;
	goto out;
fail:
	*err = store_errorf("schema migration to version %d: %s", i + 1, sqlite3_errmsg(db));
out:
	if (open && !sqlite3_get_autocommit(db))
		sqlite3_exec(db, rc == 0 ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

int store_schema_migrate_to(sqlite3 *db, int target, char **err)
{
	int version = 0;

	if (read_version(db, &version) != 0) {
		*err = store_errorf("reading the schema version: %s", sqlite3_errmsg(db));
		return -1;
	}
	if (version > STORE_SCHEMA_VERSION) {
		*err = store_errorf("the database has schema version %d, newer than this pierd's %d",
		                    version, STORE_SCHEMA_VERSION);
		return -1;
	}
	if (target > STORE_SCHEMA_VERSION)
		target = STORE_SCHEMA_VERSION;
	for (int i = version; i < target; i++) {
		if (apply_step(db, i, err) != 0)
			return -1;
	}
	return 0;
}

int store_schema_migrate(sqlite3 *db, char **err)
{
	return store_schema_migrate_to(db, STORE_SCHEMA_VERSION, err);
}
