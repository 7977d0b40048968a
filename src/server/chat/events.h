/* events.h - the server's events (msgs and notices that are not replies), each encoded in one
 * place: msg, the offline notice, presence, member, and the users event after login. Every
 * function returns a new JSON reference; callers encode it once (sbuf_from_json) and share the
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

/* {"op":"msg","id","from","to","text","ts"} (with "kind", "media" for a file; "reply_to"
 * and "quote" for a reply; "mentions", "mentioned" (m->mentioned: the reader is among them),
 * "edited", "reactions", "changed" when it has them). A recalled message is
 * {"op":"msg","id","from","to","ts","recalled":true,"changed"}, nothing else. */
json_t *event_msg(const struct store_msg *m);
/* The "quote" object of a reply: {"id","from","text"[,"cut"][,"kind"]} or
 * {"id","from","recalled":true}. */
json_t *event_quote(const struct store_msg *m);
/* The "mentions" array of m (new reference), or NULL when it names nobody. */
json_t *event_mentions(const struct store_msg *m);
/* {"op":"edited","id","from","to","text","edited","changed"[,"mentions"]}. */
json_t *event_edited(const struct store_msg *m);
/* {"op":"recalled","id","from","to","changed"}. */
json_t *event_recalled(const struct store_msg *m);
/* {"op":"reaction","id","from","to","user","emoji","on","count","changed"}: user added (on)
 * or removed emoji on m, which now has count of them. */
json_t *event_reaction(const struct store_msg *m, const char *user, const char *emoji, bool on,
                       int64_t count);
/* The same, with "offline":true: a message that waited for its recipient. */
json_t *event_msg_offline(const struct store_msg *m);
/* {"op":"offline","more":true,"after":after}: the backlog goes on past after (use sync). */
json_t *event_offline_more(int64_t after);
/* {"op":"presence","user","online"}. */
json_t *event_presence(const struct user *u, bool online);
/* {"op":"member","room","user","joined"}. */
json_t *event_member(const struct room *r, const struct user *u, bool joined);
/* The users event after u logged in: everyone online, or past the presence limit u and its
 * online contacts only (with "partial", "total"; the users request pages through all). */
json_t *event_users_login(struct hub *h, struct user *u);

#endif
