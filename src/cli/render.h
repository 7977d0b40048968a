/* render.h - how `pier` shows things: chat messages, events, errors; colour and local time.
 *
 * The report's colours: group (room) messages red, private messages a different colour (the
 * report used black on white; a terminal gets bold magenta). Informational lines are dim,
 * errors yellow. Colour is used only when struct render says so (render_color_wanted).
 * Every text from the network is made safe before it reaches the terminal: control
 * characters cannot move the cursor or change colours.
 */
#ifndef PIER_CLI_RENDER_H
#define PIER_CLI_RENDER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "pier.h"

struct cli_media;
struct msgref;

struct render {
	bool color;
	bool bell;                 /* ring the terminal's bell for a message that mentions us */
	enum pier_lang lang;
	const char *self;          /* the logged-in user's name (may be NULL) */
	struct cli_media *media;   /* numbers files for /open (media.h); may be NULL */
	struct msgref *refs;       /* numbers messages for /reply, /edit... (msgref.h); may be NULL */
};

/* Colour only on a terminal fd, without --no-color, without NO_COLOR (non-empty) and with a
 * TERM other than "dumb". */
bool render_color_wanted(int fd, bool no_color_flag);

/* en or zh, as r's language says. */
const char *render_tr(const struct render *r, const char *en, const char *zh);

/* Local time of ts (ms since the epoch): "HH:MM", or "YYYY-MM-DD HH:MM" if with_date or the
 * day is not today. */
void render_time(char *buf, size_t size, int64_t ts_ms, bool with_date);

/* Writes text with control characters made harmless: newlines become a newline and indent
 * when keep_newlines (else " "), tabs stay, other C0/C1 controls and DEL become '?'. */
void render_safe(FILE *f, const char *text, bool keep_newlines);

/* One chat message {"id","from","to","text","ts"[,"offline"]} as a terminal line:
 *   7 [14:03] #lobby Alice_1: hello              (room: red)
 *   8 [14:03] [PM] [e2ee] Alice_1 -> bob_22: hello   (private: bold magenta; "[not
 *                                      encrypted]" instead of "[e2ee]" for plaintext)
 * ending with a newline; the number first (dim) when r->refs is set. A sender with a display
 * name shows as "王小明 (wang_xm)" (in a quote too). A message with media
 * ends with its description and, when r->media is set, the number to /open it:
 * " [image: a.png, 1.2 MB, image/png, 640x480] /open 3". A reply starts with what it quotes
 * ("[re 5 bob_22: the first words…] "), an edited message ends with "(edited)", reactions
 * follow ("[👍 2, ❤️ 1]"); a recalled one says so instead of its text. A message flagged
 * "mentioned" (and not r->self's) rings the bell (r->bell) and is shown in reverse video, or
 * marked ">>" without colour. A search's result (with "highlight") has its matches in reverse
 * video instead, or between '*' without colour, and neither rings nor stands out as a
 * mention. */
void render_msg(FILE *f, const struct render *r, const json_t *msg);

/* render_info of a text of any length, as it is (no format). */
void render_info_text(FILE *f, const struct render *r, const char *text);

/* A dim informational line ("* bob_22 is online"), newline added; at most 1 KiB. */
void render_info(FILE *f, const struct render *r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* An error line for {"op":"error","error":CODE,...}: the readable text for CODE in r's
 * language (the server's English message for codes without one), prefixed by context when
 * it is not NULL. Newline added. */
void render_error(FILE *f, const struct render *r, const json_t *err, const char *context);

/* For scripts: "ID<TAB>YYYY-MM-DD HH:MM:SS<TAB>FROM<TAB>TO<TAB>TEXT" with backslash escapes
 * (\\ \n \r \t \xNN) in TEXT, so one message is one line. TEXT is "[recalled]" for a recalled
 * message; a reply's starts with "[re ID] ", an edited one's ends with " [edited]", and the
 * reactions follow as " [👍 2, ❤️ 1]". */
void render_plain_msg(FILE *f, const json_t *msg);
/* The same for a search result: with color (a terminal), its "highlight" ranges of TEXT in
 * reverse video; without, exactly render_plain_msg's line. */
void render_plain_search(FILE *f, const json_t *msg, bool color);

#endif
