/* events.h - the server's events (msgs and notices that are not replies), each encoded in one
 * place: msg, the changes to a message (edited, recalled, reaction), the offline notice,
 * presence, member, the users event after login, typing, topic, read and profile (with the
 * display names they carry). Every function returns a new JSON reference; callers encode it once (sbuf_from_json) and share the
 * bytes among all recipients. docs/PROTOCOL.md describes each event. */
#ifndef PIER_EVENTS_H
#define PIER_EVENTS_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

struct hub;
struct room;
struct store_msg;
struct user;

/* {"op":"msg","id","from","to","text","ts"} ("e2ee":true instead of "text" for an
 * end-to-end encrypted message) (with "display", the sender's display name now,
 * when it has one; "kind", "media" for a file; "reply_to" and "quote" for a reply;
 * "mentions", "mentioned" (m->mentioned: the reader is among them), "edited", "reactions",
 * "changed" when it has them). A recalled message is
 * {"op":"msg","id","from","to","ts","recalled":true,"changed"} (and "display"), nothing else.
 * Display names are looked up in h. */
json_t *event_msg(struct hub *h, const struct store_msg *m);
/* The "quote" object of a reply: {"id","from","text"[,"cut"][,"kind"]} or
 * {"id","from","recalled":true} (with "display" when the quoted sender has one). */
json_t *event_quote(struct hub *h, const struct store_msg *m);
/* The "mentions" array of m (new reference), or NULL when it names nobody. */
json_t *event_mentions(const struct store_msg *m);
/* {"op":"edited","id","from","to","text","edited","changed"[,"mentions"][,"display"]}. */
json_t *event_edited(struct hub *h, const struct store_msg *m);
/* {"op":"recalled","id","from","to","changed"[,"display"]}. */
json_t *event_recalled(struct hub *h, const struct store_msg *m);
/* {"op":"reaction","id","from","to","user","emoji","on","count","changed"[,"display"]}: user
 * added (on) or removed emoji on m, which now has count of them; "display" is user's (the
 * one who reacted), not the sender's. */
json_t *event_reaction(const struct store_msg *m, const struct user *user, const char *emoji,
                       bool on, int64_t count);
/* The same, with "offline":true: a message that waited for its recipient. */
json_t *event_msg_offline(struct hub *h, const struct store_msg *m);
/* {"op":"offline","more":true,"after":after}: the backlog goes on past after (use sync). */
json_t *event_offline_more(int64_t after);
/* {"op":"presence","user","online"} (with "display" when u has one). */
json_t *event_presence(const struct user *u, bool online);
/* {"op":"member","room","user","joined"} (with "display"). */
json_t *event_member(const struct room *r, const struct user *u, bool joined);
/* The users event after u logged in: everyone online, or past the presence limit u and its
 * online contacts only (with "partial", "total"; the users request pages through all). */
json_t *event_users_login(struct hub *h, struct user *u);
/* Adds "display":{name: display name} to a users event or reply for those of the names in
 * its "online" array that have one (nothing when none has). */
void event_add_displays(struct hub *h, json_t *ev);
/* Sets "display" on o when u has a display name. */
void event_set_display(json_t *o, const struct user *u);
/* {"op":"typing","from","to"} (with "display"); to is "#room" or "@recipient". */
json_t *event_typing(const struct user *from, const char *to);
/* {"op":"topic","room","topic","by","ts"}; no "topic" when it was cleared. */
json_t *event_topic(const struct room *r);
/* {"op":"read","with","id"}: the user read "with" up to id (on another device). */
json_t *event_read(const char *with, int64_t id);
/* {"op":"profile","user","display"}: u's display name changed (no "display": removed). */
json_t *event_profile(const struct user *u);

#endif
