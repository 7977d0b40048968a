/* social.h - read state, typing and names in `pier`'s chat: what was shown is marked read on
 * the server (coalesced: one read request per conversation at most every SOCIAL_READ_MS),
 * unread counts (at login, /unread), the "-- N new messages --" divider where reading
 * stopped (at login and after a reconnect), typing indicators both ways (sent while a line is
 * being typed, at most one per SOCIAL_TYPING_MS and conversation; others' shown in the prompt
 * for SOCIAL_TYPING_SHOW_MS), and the replies of /members, /topic, /nick, /unread.
 *
 * The chat (interactive.c) lends it a way to send requests and to print (struct
 * cli_social_host) and calls it from its loop: social_timeout_ms / social_tick.
 */
#ifndef PIER_CLI_SOCIAL_H
#define PIER_CLI_SOCIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pier.h"
#include "render.h"

#define SOCIAL_CONVS_MAX      256     /* conversations whose read position is kept */
#define SOCIAL_TARGET_MAX     40
#define SOCIAL_READ_MS        2000    /* read requests are coalesced over this long */
#define SOCIAL_TYPING_MS      3000    /* the server's limit: one indicator per 3 s */
#define SOCIAL_TYPING_SHOW_MS 5000    /* how long "x is typing" stays */
#define SOCIAL_TYPISTS_MAX    3
#define SOCIAL_REFS_MAX       16      /* refs of its own requests remembered */

struct cli_social_host {
	void *ctx;
	/* Queues req (taken) with a fresh ref (copied to ref_out); -1 when it cannot go
	 * (offline). Replies are not awaited. */
	int (*request)(void *ctx, json_t *req, char ref_out[PIER_REF_MAX]);
	const char *(*self)(void *ctx);
	/* The typing notice changed: draw the prompt again. */
	void (*prompt_changed)(void *ctx);
};

struct social_conv {
	char with[SOCIAL_TARGET_MAX];
	int64_t read;                 /* the server's position, as last heard */
	int64_t shown;                /* the highest id shown here */
};

struct social_typist {
	char who[96];                 /* "王小明 (wang_xm)" */
	char where[SOCIAL_TARGET_MAX];
	int64_t until;                /* monotonic ms */
};

struct cli_social {
	struct cli_social_host host;
	const struct render *r;
	struct social_conv convs[SOCIAL_CONVS_MAX];
	size_t nconvs;
	int64_t flush_at;             /* when shown positions go out (0: nothing to send) */
	bool divider;                 /* the next unread message shown gets the divider */
	int64_t divider_count;
	bool divider_capped;
	struct social_typist typists[SOCIAL_TYPISTS_MAX];
	char typing_to[SOCIAL_TARGET_MAX];
	int64_t typing_at;
	char refs[SOCIAL_REFS_MAX][PIER_REF_MAX];   /* its requests' refs, a ring */
	unsigned nrefs;
};

void social_init(struct cli_social *s, const struct cli_social_host *host, const struct render *r);

/* "王小明 (wang_xm)" for a name with a display name, else the name (control characters are
 * the caller's to make safe). */
void social_name(char *out, size_t n, const char *name, const char *display);

/* Which counts the divider adds up: none, every conversation's (a reconnect's catch-up shows
 * them all), or the private ones' (at login only private messages are pushed). */
enum social_arm { SOCIAL_ARM_NONE, SOCIAL_ARM_ALL, SOCIAL_ARM_PRIVATE };

/* An unread reply: keeps the positions; armed, the next message shown (with f) past its
 * conversation's position gets the divider; with f, writes the counts to f ("no unread"
 * when none). */
void social_unread(struct cli_social *s, const json_t *reply, enum social_arm arm, FILE *f);
/* A chat message is about to be shown: writes the divider line to f first when it is due (f
 * NULL: a live message or history, never after a divider), and notes the message for the
 * read position. */
void social_message(struct cli_social *s, const json_t *msg, FILE *f);
/* A read event (another device read up to an id). */
void social_read_event(struct cli_social *s, const json_t *ev);
/* A typing event. */
void social_typing_event(struct cli_social *s, const json_t *ev);
/* The user has typed something (not a command) for target: maybe send typing. */
void social_keys(struct cli_social *s, const char *target);
/* "王小明 is typing" for the prompt, or "" (n bytes at most, cut at a character). */
void social_typing_notice(const struct cli_social *s, char *out, size_t n);
/* Sends the read positions due now (or all, with now true, e.g. before a reconnect's count). */
void social_flush(struct cli_social *s, bool now);
/* True for a reply (or error) to one of its own read or typing requests: nothing to show (a
 * typing request in a room one is not in is refused every few seconds otherwise). */
bool social_owns_reply(const struct cli_social *s, const json_t *ev);
/* Milliseconds until social_tick has something to do (-1: nothing). */
int social_timeout_ms(const struct cli_social *s);
void social_tick(struct cli_social *s);

/* Replies to /members, /topic, /nick written to f. */
void social_show_members(const struct cli_social *s, const json_t *reply, FILE *f);
void social_show_topic(const struct cli_social *s, const json_t *ev, bool event, FILE *f);
void social_show_profile(const struct cli_social *s, const json_t *ev, bool mine, FILE *f);

#endif
