/* roominfo.h - what a room says about itself: its members (online or not, a page at a time)
 * and its topic. */
#ifndef PIER_ROOMINFO_H
#define PIER_ROOMINFO_H

#include <jansson.h>

struct conn;
struct room;

/* {"op":"members","room":"#r","after":NAME,"limit":N}: members of a room one is in (#lobby:
 * every user), by name, with "online" and "display". */
void handle_members(struct conn *c, json_t *req, json_t *ref);
/* {"op":"topic","room":"#r"[,"topic":TEXT]}: sets the topic (any member; "" or null removes
 * it; not #lobby's) or, without "topic", tells it. */
void handle_topic(struct conn *c, json_t *req, json_t *ref);

/* Adds r's topic to a join reply or a rooms entry: "topic" (and "topic_by") when it has one. */
void roominfo_add_topic(json_t *o, const struct room *r);

#endif
