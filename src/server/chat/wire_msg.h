/* wire_msg.h - the two encodings every message pays for, written straight into their output
 * buffers without a jansson tree (issue 13): the msg event (events.c's event_msg) and the
 * sent reply (send_stored). Each writer gives the bytes json_dumpb gives for the tree of the
 * matching *_json function, byte for byte (tests/unit/test_wire_msg.c, fuzz/fuzz_wire_msg.c).
 * Every field of a msg event is written here; the rare parts that come as JSON text from the
 * store (mentions, reactions) and a ref that is neither a string nor an integer go through
 * jansson for that part only. When a string is not UTF-8 (jansson would refuse or drop it),
 * a writer returns NULL and the caller encodes the tree as before. */
#ifndef PIER_WIRE_MSG_H
#define PIER_WIRE_MSG_H

#include <jansson.h>

struct hub;
struct sbuf;
struct store_job;
struct store_msg;

/* event_msg(h, m) encoded (one reference), or NULL: use the tree. */
struct sbuf *wire_msg_event(struct hub *h, const struct store_msg *m);
/* The msg event as chat_deliver_msg sends it live to everyone: m->mentioned left out (each
 * reader's flag), and an encrypted reply with only "reply_to" (its id, last: the quote's
 * text is in the payload). wire_msg_live_json is its tree. */
struct sbuf *wire_msg_live(struct hub *h, const struct store_msg *m);
json_t *wire_msg_live_json(struct hub *h, const struct store_msg *m);
/* wire_msg_live, or its tree encoded when the writer leaves it to jansson (a string that is
 * not UTF-8): always a buffer (one reference). */
struct sbuf *wire_msg_live_buf(struct hub *h, const struct store_msg *m);
/* A copy of the encoded object b with "mentioned":true added last (the copy a mentioned
 * member of a room gets), as json_object_set_new would add it to b's tree (one reference;
 * b itself, referenced again, when it is no object with members). */
struct sbuf *wire_msg_mentioned(struct sbuf *b);

/* The sent reply to a send that job stored (STORE_OK or STORE_DUPLICATE) at target to
 * ("#room" or "@user"), with the request's ref (NULL: none):
 * {"op":"sent"[,"ref"],"id","ts","to"[,"cid"]} then "duplicate":true, or [,"kind","media"]
 * [,"reply_to","quote"][,"mentions"]. wire_sent_json is its tree. */
struct sbuf *wire_sent(struct hub *h, const json_t *ref, const struct store_job *job,
                       const char *to);
json_t *wire_sent_json(struct hub *h, json_t *ref, const struct store_job *job, const char *to);
/* The sent reply to an end-to-end encrypted send (e2ee_send.c):
 * {"op":"sent"[,"ref"],"id","ts","to"[,"cid"],"e2ee":true} then "duplicate":true or
 * [,"media"] (no kind; width and height 0: the server cannot see them). wire_sent_e2ee_json
 * is its tree. */
struct sbuf *wire_sent_e2ee(const json_t *ref, const struct store_job *job, const char *to);
json_t *wire_sent_e2ee_json(json_t *ref, const struct store_job *job, const char *to);

#endif
