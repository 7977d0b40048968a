/* render.c - formatting of messages, events and errors for the terminal and for scripts. */
#include "render.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "media.h"
#include "msgref.h"

#define SGR_RESET    "\033[0m"
#define SGR_GROUP    "\033[31m"     /* red: the report's colour of group messages */
#define SGR_PRIVATE  "\033[1;35m"   /* bold magenta: private messages */
#define SGR_INFO     "\033[2m"      /* dim */
#define SGR_ERROR    "\033[33m"     /* yellow */
#define SGR_MENTION  "\033[7m"      /* reverse video, over the message's colour */
#define QUOTE_CHARS  40             /* characters of a quoted message shown */
#define SGR_MARK     "\033[7m"      /* reverse video: a search's match */
#define SGR_UNMARK   "\033[27m"
#define PLAIN_MARK   "*"            /* a match without colour: *电影* */

bool render_color_wanted(int fd, bool no_color_flag)
{
	const char *no_color = getenv("NO_COLOR");
	const char *term = getenv("TERM");

	if (no_color_flag || (no_color != NULL && no_color[0] != '\0'))
		return false;
	if (term != NULL && strcmp(term, "dumb") == 0)
		return false;
	return isatty(fd) == 1;
}

const char *render_tr(const struct render *r, const char *en, const char *zh)
{
	return r->lang == PIER_LANG_ZH ? zh : en;
}

void render_time(char *buf, size_t size, int64_t ts_ms, bool with_date)
{
	time_t t = (time_t)(ts_ms / 1000), now = time(NULL);
	struct tm tm, today;

	if (localtime_r(&t, &tm) == NULL || localtime_r(&now, &today) == NULL) {
		snprintf(buf, size, "?");
		return;
	}
	if (!with_date && (tm.tm_year != today.tm_year || tm.tm_yday != today.tm_yday))
		with_date = true;
	strftime(buf, size, with_date ? "%Y-%m-%d %H:%M" : "%H:%M", &tm);
}

/* Length of the UTF-8 C1 control (U+0080..U+009F) at p, else 0. */
static size_t c1_control(const unsigned char *p)
{
	return (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) ? 2 : 0;
}

/* Writes the character (n bytes) at p as render_safe does. */
static void put_safe(FILE *f, const unsigned char *p, size_t n, bool keep_newlines)
{
	if (*p == '\n')
		fputs(keep_newlines ? "\n        " : " ", f);
	else if (*p == '\t')
		fputc('\t', f);
	else if (*p < 0x20 || *p == 0x7f || c1_control(p) != 0)
		fputc('?', f);
	else
		fwrite(p, 1, n, f);
}

/* Length of the UTF-8 character at p (1 for a stray byte, or at the end). */
static size_t char_len(const unsigned char *p)
{
	size_t n = *p >= 0xF0 ? 4 : *p >= 0xE0 ? 3 : *p >= 0xC0 ? 2 : 1;

	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 1;
	}
	return n;
}

/* Whether code point index i of a text is inside one of ranges ([[start,end],...]). */
static bool in_ranges(const json_t *ranges, json_int_t i)
{
	const json_t *r;
	size_t k;

	json_array_foreach(ranges, k, r) {
		if (i >= json_integer_value(json_array_get(r, 0)) &&
		    i < json_integer_value(json_array_get(r, 1)))
			return true;
	}
	return false;
}

/* Writes text a character at a time through put (render_safe's rules, or the plain escapes),
 * with on before and off after every stretch inside ranges (a search's highlight). */
static void put_marked(FILE *f, const char *text, const json_t *ranges, const char *on,
                       const char *off, void (*put)(FILE *f, const unsigned char *p, size_t n,
                                                    bool keep_newlines),
                       bool keep_newlines)
{
	const unsigned char *p = (const unsigned char *)text;
	bool marked = false;

	for (json_int_t i = 0; *p != '\0'; i++) {
		size_t n = char_len(p);
		bool in = json_is_array(ranges) && in_ranges(ranges, i);

		if (in != marked)
			fputs(in ? on : off, f);
		marked = in;
		put(f, p, n, keep_newlines);
		p += n;
	}
	if (marked)
		fputs(off, f);
}

void render_safe(FILE *f, const char *text, bool keep_newlines)
{
	put_marked(f, text, NULL, "", "", put_safe, keep_newlines);
}

static const char *jstr_or(const json_t *o, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : dflt;
}

static bool same_user(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcasecmp(a, b) == 0;
}

/* The sender of a message or a quote: "王小明 (wang_xm)" when it has a display name, else
 * its name. */
static void render_from(FILE *f, const json_t *msg)
{
	const char *from = jstr_or(msg, "from", "?"), *display = jstr_or(msg, "display", "");

	if (display[0] != '\0') {
		render_safe(f, display, false);
		fputs(" (", f);
		render_safe(f, from, false);
		fputc(')', f);
	} else {
		render_safe(f, from, false);
	}
}

/* Writes at most max characters of UTF-8 text (made safe, on one line), "…" when cut. */
static void safe_excerpt(FILE *f, const char *text, size_t max, bool cut)
{
	size_t bytes = 0, chars = 0;
	char *part;

	while (text[bytes] != '\0' && chars < max) {
		bytes++;
		while (((unsigned char)text[bytes] & 0xC0) == 0x80)
			bytes++;
		chars++;
	}
	cut = cut || text[bytes] != '\0';
	part = strndup(text, bytes);
	render_safe(f, part != NULL ? part : "", false);
	free(part);
	if (cut)
		fputs("…", f);
}

/* "[re 5 bob_22: the first words…] " for a reply ("(recalled)" when the quoted one was). */
static void render_quote(FILE *f, const struct render *r, const json_t *msg)
{
	const json_t *q = json_object_get(msg, "quote");
	int64_t id = json_integer_value(json_object_get(msg, "reply_to"));
	unsigned n = r->refs != NULL ? msgref_of(r->refs, id) : 0;

	fputs(render_tr(r, "[re ", "[回复 "), f);
	if (n != 0)
		fprintf(f, "%u ", n);
	render_from(f, q);
	fputs(render_tr(r, ": ", "："), f);
	if (json_is_true(json_object_get(q, "recalled")))
		fputs(render_tr(r, "(recalled)", "（已撤回）"), f);
	else if (jstr_or(q, "text", "")[0] == '\0' && json_is_string(json_object_get(q, "kind")))
		fprintf(f, "[%s]", jstr_or(q, "kind", "file"));
	else
		safe_excerpt(f, jstr_or(q, "text", ""), QUOTE_CHARS,
		             json_is_true(json_object_get(q, "cut")));
	fputs("] ", f);
}

/* " [👍 2, ❤️ 1]" for a message's reactions (nothing without). */
static void render_reactions(FILE *f, const json_t *msg)
{
	const json_t *list = json_object_get(msg, "reactions"), *e;
	size_t i;

	if (json_array_size(list) == 0)
		return;
	fputs(" [", f);
	json_array_foreach(list, i, e) {
		if (i > 0)
			fputs(", ", f);
		render_safe(f, jstr_or(e, "emoji", "?"), false);
		fprintf(f, " %" JSON_INTEGER_FORMAT, json_integer_value(json_object_get(e, "count")));
	}
	fputc(']', f);
}

void render_msg(FILE *f, const struct render *r, const json_t *msg)
{
	const char *from = jstr_or(msg, "from", "?"), *to = jstr_or(msg, "to", "?");
	const char *text = jstr_or(msg, "text", "");
	bool private = to[0] == '@';

	/* an encrypted message as the server has it (history, sync): no text there */
	if (json_is_true(json_object_get(msg, "e2ee")) && json_object_get(msg, "text") == NULL)
		text = render_tr(r, "(encrypted; this device has no copy: earlier messages are on "
		                    "your other devices)", "（已加密；此设备没有副本：更早的消息在您的其他设备上）");
	/* a search's result (it has "highlight") shows its matches, not a mention: no bell, no
	 * reverse video over the line */
	bool mention = json_is_true(json_object_get(msg, "mentioned")) && !same_user(from, r->self) &&
	               json_object_get(msg, "highlight") == NULL;
	unsigned n = r->refs != NULL ? msgref_number(r->refs, msg, r->self) : 0;
	char when[32];

	render_time(when, sizeof when, json_integer_value(json_object_get(msg, "ts")), false);
	if (mention && r->bell)
		fputc('\a', f);
	if (n != 0)
		fprintf(f, "%s%u%s ", r->color ? SGR_INFO : "", n, r->color ? SGR_RESET : "");
	if (r->color)
		fputs(private ? SGR_PRIVATE : SGR_GROUP, f);
	if (mention)
		fputs(r->color ? SGR_MENTION : ">> ", f);
	fprintf(f, "[%s] ", when);
	if (json_is_true(json_object_get(msg, "offline")))
		fprintf(f, "%s ", render_tr(r, "(offline)", "(离线)"));
	if (private) {
		fprintf(f, "%s ", render_tr(r, "[PM]", "[私聊]"));
		/* End-to-end encrypted, or a plaintext private message (stored before encryption,
		 * or to someone without a device): the server could read that one. */
		if (json_is_true(json_object_get(msg, "e2ee")))
			fprintf(f, "%s ", render_tr(r, "[e2ee]", "[加密]"));
		else
			fprintf(f, "%s ", render_tr(r, "[not encrypted]", "[未加密]"));
		render_from(f, msg);
		fputs(" -> ", f);
		render_safe(f, to + 1, false);
	} else {
		render_safe(f, to, false);
		fputc(' ', f);
		render_from(f, msg);
	}
	fputs(": ", f);
	if (json_is_true(json_object_get(msg, "recalled"))) {
		fputs(render_tr(r, "(message recalled)", "（消息已撤回）"), f);
	} else {
		if (json_is_integer(json_object_get(msg, "reply_to")))
			render_quote(f, r, msg);
		/* a search's match: reverse video in colour (the line's colour comes back after
		 * it), between '*' without */
		put_marked(f, text, json_object_get(msg, "highlight"), r->color ? SGR_MARK : PLAIN_MARK,
		           r->color ? SGR_UNMARK : PLAIN_MARK, put_safe, true);
		if (json_is_object(json_object_get(msg, "media")))
			cli_media_describe(f, msg, cli_media_remember(r->media,
			                                              json_object_get(msg, "media")));
		if (json_is_integer(json_object_get(msg, "edited")))
			fputs(render_tr(r, " (edited)", "（已编辑）"), f);
		render_reactions(f, msg);
	}
	if (r->color)
		fputs(SGR_RESET, f);
	fputc('\n', f);
}

void render_info_text(FILE *f, const struct render *r, const char *text)
{
	if (r->color)
		fputs(SGR_INFO, f);
	fputs("* ", f);
	render_safe(f, text, true);
	if (r->color)
		fputs(SGR_RESET, f);
	fputc('\n', f);
}

void render_info(FILE *f, const struct render *r, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	render_info_text(f, r, buf);
}

void render_error(FILE *f, const struct render *r, const json_t *err, const char *context)
{
	const char *code = jstr_or(err, "error", "");
	const char *text = pier_error_text(code, r->lang);
	json_t *retry = json_object_get(err, "retry_after_ms");

	if (text == NULL)
		text = jstr_or(err, "message", code[0] != '\0' ? code : "error");
	if (r->color)
		fputs(SGR_ERROR, f);
	fprintf(f, "%s ", render_tr(r, "!", "！"));
	if (context != NULL) {
		render_safe(f, context, false);
		fputs(": ", f);
	}
	render_safe(f, text, false);
	if (json_is_integer(retry)) {
		double s = (double)json_integer_value(retry) / 1000.0;

		if (r->lang == PIER_LANG_ZH)
			fprintf(f, "（%.1f 秒后重试）", s);
		else
			fprintf(f, " (retry in %.1f s)", s);
	}
	if (r->color)
		fputs(SGR_RESET, f);
	fputc('\n', f);
}

/* Writes the character (n bytes) at p with the plain format's escapes. */
static void put_escaped(FILE *f, const unsigned char *p, size_t n, bool unused)
{
	(void)unused;
	switch (*p) {
	case '\\': fputs("\\\\", f); break;
	case '\n': fputs("\\n", f); break;
	case '\r': fputs("\\r", f); break;
	case '\t': fputs("\\t", f); break;
	default:
		if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\x%02x", *p);
		else
			fwrite(p, 1, n, f);
	}
}

static void plain_escaped(FILE *f, const char *s)
{
	put_marked(f, s, NULL, "", "", put_escaped, false);
}

static void plain_msg(FILE *f, const json_t *msg, bool color)
{
	time_t t = (time_t)(json_integer_value(json_object_get(msg, "ts")) / 1000);
	struct tm tm;
	char when[32] = "?";

	if (localtime_r(&t, &tm) != NULL)
		strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
	fprintf(f, "%" JSON_INTEGER_FORMAT "\t%s\t", json_integer_value(json_object_get(msg, "id")), when);
	plain_escaped(f, jstr_or(msg, "from", "?"));
	fputc('\t', f);
	plain_escaped(f, jstr_or(msg, "to", "?"));
	fputc('\t', f);
	if (json_is_true(json_object_get(msg, "recalled"))) {
		fputs("[recalled]\n", f);
		return;
	}
	if (json_is_integer(json_object_get(msg, "reply_to")))
		fprintf(f, "[re %" JSON_INTEGER_FORMAT "] ",
		        json_integer_value(json_object_get(msg, "reply_to")));
	put_marked(f, jstr_or(msg, "text", ""), color ? json_object_get(msg, "highlight") : NULL,
	           SGR_MARK, SGR_UNMARK, put_escaped, false);
	if (json_is_object(json_object_get(msg, "media"))) {
		const json_t *m = json_object_get(msg, "media");

		/* The caption (maybe empty), then what the file is: the column is never blank. */
		fprintf(f, "%s[%s ", jstr_or(msg, "text", "")[0] != '\0' ? " " : "",
		        jstr_or(msg, "kind", "file"));
		plain_escaped(f, jstr_or(m, "name", "?"));
		fprintf(f, ", %" JSON_INTEGER_FORMAT " bytes, ", json_integer_value(json_object_get(m, "size")));
		plain_escaped(f, jstr_or(m, "type", "?"));
		fprintf(f, ", /media/%" JSON_INTEGER_FORMAT "]", json_integer_value(json_object_get(m, "id")));
	}
	if (json_is_integer(json_object_get(msg, "edited")))
		fputs(" [edited]", f);
	if (json_array_size(json_object_get(msg, "reactions")) > 0) {
		const json_t *e;
		size_t i;

		fputs(" [", f);
		json_array_foreach(json_object_get(msg, "reactions"), i, e) {
			fputs(i > 0 ? ", " : "", f);
			plain_escaped(f, jstr_or(e, "emoji", "?"));
			fprintf(f, " %" JSON_INTEGER_FORMAT, json_integer_value(json_object_get(e, "count")));
		}
		fputc(']', f);
	}
	fputc('\n', f);
}

void render_plain_msg(FILE *f, const json_t *msg)
{
	plain_msg(f, msg, false);
}

void render_plain_search(FILE *f, const json_t *msg, bool color)
{
	plain_msg(f, msg, color);
}
