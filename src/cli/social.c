/* social.c - read state, typing and names in the chat (social.h). */
#include "social.h"

#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "names.h"

#define TR(s, en, zh)  ((s)->r->lang == PIER_LANG_ZH ? (zh) : (en))

static const char *jstr(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

void social_init(struct cli_social *s, const struct cli_social_host *host, const struct render *r)
{
	memset(s, 0, sizeof(*s));
	s->host = *host;
	s->r = r;
}

void social_name(char *out, size_t n, const char *name, const char *display)
{
	if (display != NULL && display[0] != '\0')
		snprintf(out, n, "%s (%s)", display, name);
	else
		snprintf(out, n, "%s", name);
}

static bool same_key(const char *a, const char *b)
{
	char ka[PIER_KEY_MAX + 1], kb[PIER_KEY_MAX + 1];

	if (strlen(a) > PIER_KEY_MAX - 1 || strlen(b) > PIER_KEY_MAX - 1)
		return strcmp(a, b) == 0;
	pier_name_key(a, ka);
	pier_name_key(b, kb);
	return strcmp(ka, kb) == 0;
}

/* The conversation named with ("#room" or "@user"), added when new (the oldest slot is reused
 * when all are taken: it only costs a read request that is not coalesced). */
static struct social_conv *conv(struct cli_social *s, const char *with)
{
	struct social_conv *c;

	for (size_t i = 0; i < s->nconvs; i++)
		if (same_key(s->convs[i].with, with))
			return &s->convs[i];
	if (s->nconvs == SOCIAL_CONVS_MAX) {
		social_flush(s, true);
		s->nconvs = 0;
	}
	c = &s->convs[s->nconvs++];
	memset(c, 0, sizeof(*c));
	snprintf(c->with, sizeof(c->with), "%s", with);
	return c;
}

/* The conversation a message belongs to, for this user. */
static void msg_with(const struct cli_social *s, const json_t *msg, char out[SOCIAL_TARGET_MAX])
{
	const char *to = jstr(msg, "to"), *from = jstr(msg, "from");
	const char *self = s->host.self(s->host.ctx);

	if (to == NULL || from == NULL)
		out[0] = '\0';
	else if (to[0] == '#' || (self != NULL && same_key(from, self)))
		snprintf(out, SOCIAL_TARGET_MAX, "%s", to);
	else
		snprintf(out, SOCIAL_TARGET_MAX, "@%s", from);
}

/* Sends req (taken), remembering its ref. */
static int send_own(struct cli_social *s, json_t *req)
{
	char ref[PIER_REF_MAX];

	if (s->host.request(s->host.ctx, req, ref) != 0)
		return -1;
	snprintf(s->refs[s->nrefs++ % SOCIAL_REFS_MAX], PIER_REF_MAX, "%s", ref);
	return 0;
}

bool social_owns_reply(const struct cli_social *s, const json_t *ev)
{
	const char *ref = jstr(ev, "ref");

	for (size_t i = 0; ref != NULL && i < SOCIAL_REFS_MAX; i++)
		if (strcmp(s->refs[i], ref) == 0)
			return true;
	return false;
}

void social_unread(struct cli_social *s, const json_t *reply, enum social_arm arm, FILE *f)
{
	json_t *v;
	size_t i;
	int64_t total = 0;
	bool capped = false, any = false;

	json_array_foreach(json_object_get(reply, "conversations"), i, v) {
		const char *with = jstr(v, "with");
		json_int_t n = json_integer_value(json_object_get(v, "unread"));
		struct social_conv *c;

		if (with == NULL || strlen(with) >= SOCIAL_TARGET_MAX)
			continue;
		c = conv(s, with);
		c->read = json_integer_value(json_object_get(v, "read"));
		if (c->shown < c->read)
			c->shown = c->read;
		if (arm == SOCIAL_ARM_ALL || with[0] == '@') {
			total += n;
			capped |= json_is_true(json_object_get(v, "capped"));
		}
		if (f == NULL || n == 0)
			continue;
		if (!any)
			render_info(f, s->r, "%s", TR(s, "Unread:", "未读消息："));
		any = true;
		fputs("    ", f);
		render_safe(f, with, false);
		if (json_is_true(json_object_get(v, "capped")))
			fprintf(f, "  999+\n");
		else
			fprintf(f, "  %" JSON_INTEGER_FORMAT "\n", n);
	}
	if (f != NULL && !any)
		render_info(f, s->r, "%s", TR(s, "No unread messages", "没有未读消息"));
	if (f != NULL && json_is_true(json_object_get(reply, "more")))
		render_info(f, s->r, "%s", TR(s, "(more conversations than shown)", "（会话多于显示的）"));
	if (arm != SOCIAL_ARM_NONE)
		s->divider = false;
	if (arm != SOCIAL_ARM_NONE && total > 0) {
		s->divider = true;
		s->divider_count = total;
		s->divider_capped = capped;
	}
}

void social_message(struct cli_social *s, const json_t *msg, FILE *f)
{
	char with[SOCIAL_TARGET_MAX];
	int64_t id = json_integer_value(json_object_get(msg, "id"));
	const char *from = jstr(msg, "from");
	struct social_conv *c;

	msg_with(s, msg, with);
	if (with[0] == '\0' || id <= 0)
		return;
	c = conv(s, with);
	if (s->divider && id > c->read && f != NULL) {
		s->divider = false;
		if (s->divider_capped)
			render_info(f, s->r, "%s", TR(s, "-- 999+ new messages --", "-- 999+ 条新消息 --"));
		else
			render_info(f, s->r, TR(s, "-- %lld new messages --", "-- %lld 条新消息 --"),
			            (long long)s->divider_count);
	}
	if (id > c->shown) {
		c->shown = id;
		if (s->flush_at == 0)
			s->flush_at = pier_mono_ms() + SOCIAL_READ_MS;
	}
	/* Whoever sent a message has stopped typing it. */
	for (size_t i = 0; from != NULL && i < SOCIAL_TYPISTS_MAX; i++) {
		struct social_typist *t = &s->typists[i];

		if (t->until != 0 && strstr(t->who, from) != NULL) {
			t->until = 0;
			s->host.prompt_changed(s->host.ctx);
		}
	}
}

void social_read_event(struct cli_social *s, const json_t *ev)
{
	const char *with = jstr(ev, "with");
	int64_t id = json_integer_value(json_object_get(ev, "id"));
	struct social_conv *c;

	if (with == NULL || strlen(with) >= SOCIAL_TARGET_MAX)
		return;
	c = conv(s, with);
	if (id > c->read)
		c->read = id;
	if (id > c->shown)
		c->shown = id;
}

void social_typing_event(struct cli_social *s, const json_t *ev)
{
	const char *from = jstr(ev, "from"), *to = jstr(ev, "to");
	struct social_typist *t = &s->typists[0];
	char who[96];

	if (from == NULL || to == NULL)
		return;
	social_name(who, sizeof(who), from, jstr(ev, "display"));
	for (size_t i = 0; i < SOCIAL_TYPISTS_MAX; i++) {
		if (strcmp(s->typists[i].who, who) == 0) {
			t = &s->typists[i];
			break;
		}
		if (s->typists[i].until < t->until)
			t = &s->typists[i];
	}
	snprintf(t->who, sizeof(t->who), "%s", who);
	snprintf(t->where, sizeof(t->where), "%s", to[0] == '#' ? to : "");
	t->until = pier_mono_ms() + SOCIAL_TYPING_SHOW_MS;
	s->host.prompt_changed(s->host.ctx);
}

void social_keys(struct cli_social *s, const char *target)
{
	int64_t now = pier_mono_ms();

	if (strcmp(s->typing_to, target) == 0 && now - s->typing_at < SOCIAL_TYPING_MS)
		return;
	if (send_own(s, pier_req_typing(target)) != 0)
		return;
	snprintf(s->typing_to, sizeof(s->typing_to), "%s", target);
	s->typing_at = now;
}

/* Copies src into out (n bytes) without cutting a UTF-8 character; controls become '?'. */
static void copy_safe(char *out, size_t n, const char *src)
{
	const unsigned char *p = (const unsigned char *)src;
	size_t len = 0;

	while (*p != '\0') {
		size_t k = *p < 0x80 ? 1 : *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : 2;

		if (len + k >= n || strnlen((const char *)p, k) < k)
			break;
		for (size_t j = 0; j < k; j++)
			out[len + j] = p[j] < 0x20 || p[j] == 0x7f ? '?' : (char)p[j];
		len += k;
		p += k;
	}
	out[len] = '\0';
}

void social_typing_notice(const struct cli_social *s, char *out, size_t n)
{
	int64_t now = pier_mono_ms();
	char text[160];

	out[0] = '\0';
	for (size_t i = 0; i < SOCIAL_TYPISTS_MAX; i++) {
		const struct social_typist *t = &s->typists[i];

		if (t->until <= now)
			continue;
		if (t->where[0] != '\0')
			snprintf(text, sizeof(text), TR(s, "%s is typing in %s", "%s 正在 %s 输入"), t->who, t->where);
		else
			snprintf(text, sizeof(text), TR(s, "%s is typing", "%s 正在输入"), t->who);
		copy_safe(out, n, text);
		return;
	}
}

void social_flush(struct cli_social *s, bool now)
{
	if (s->flush_at == 0 || (!now && pier_mono_ms() < s->flush_at))
		return;
	s->flush_at = 0;
	for (size_t i = 0; i < s->nconvs; i++) {
		struct social_conv *c = &s->convs[i];

		if (c->shown <= c->read)
			continue;
		if (send_own(s, pier_req_read(c->with, c->shown)) == 0)
			c->read = c->shown;
	}
}

int social_timeout_ms(const struct cli_social *s)
{
	int64_t now = pier_mono_ms(), next = s->flush_at;

	for (size_t i = 0; i < SOCIAL_TYPISTS_MAX; i++)
		if (s->typists[i].until > now && (next == 0 || s->typists[i].until < next))
			next = s->typists[i].until;
	if (next == 0)
		return -1;
	return next <= now ? 0 : (int)(next - now);
}

void social_tick(struct cli_social *s)
{
	int64_t now = pier_mono_ms();

	social_flush(s, false);
	for (size_t i = 0; i < SOCIAL_TYPISTS_MAX; i++) {
		if (s->typists[i].until != 0 && s->typists[i].until <= now) {
			s->typists[i].until = 0;
			s->host.prompt_changed(s->host.ctx);
		}
	}
}

void social_show_members(const struct cli_social *s, const json_t *reply, FILE *f)
{
	json_t *v;
	size_t i;
	const char *last = NULL;

	render_info(f, s->r, TR(s, "Members of %s (%" JSON_INTEGER_FORMAT "):", "%s 的成员（%" JSON_INTEGER_FORMAT "）："),
	            jstr(reply, "room") ? jstr(reply, "room") : "?",
	            json_integer_value(json_object_get(reply, "total")));
	json_array_foreach(json_object_get(reply, "members"), i, v) {
		char who[96];

		if (jstr(v, "user") == NULL)
			continue;
		social_name(who, sizeof(who), jstr(v, "user"), jstr(v, "display"));
		fputs("    ", f);
		render_safe(f, who, false);
		if (json_is_true(json_object_get(v, "online")))
			fputs(TR(s, "  (online)", "  （在线）"), f);
		fputc('\n', f);
		last = jstr(v, "user");
	}
	if (json_is_true(json_object_get(reply, "more")) && last != NULL)
		render_info(f, s->r, TR(s, "More: /members %s %s", "更多：/members %s %s"),
		            jstr(reply, "room") ? jstr(reply, "room") : "", last);
}

void social_show_topic(const struct cli_social *s, const json_t *ev, bool event, FILE *f)
{
	const char *room = jstr(ev, "room"), *topic = jstr(ev, "topic"), *by = jstr(ev, "by");

	room = room != NULL ? room : "?";
	if (topic == NULL)
		render_info(f, s->r, event ? TR(s, "The topic of %s was removed", "%s 的话题已被删除")
		                           : TR(s, "%s has no topic", "%s 没有话题"), room);
	else if (event && by != NULL)
		render_info(f, s->r, TR(s, "%s set the topic of %s: %s", "%s 设置了 %s 的话题：%s"), by, room, topic);
	else
		render_info(f, s->r, TR(s, "Topic of %s: %s", "%s 的话题：%s"), room, topic);
}

void social_show_profile(const struct cli_social *s, const json_t *ev, bool mine, FILE *f)
{
	const char *user = jstr(ev, "user"), *display = jstr(ev, "display");

	user = user != NULL ? user : "?";
	if (mine && display != NULL)
		render_info(f, s->r, TR(s, "You are now shown as %s (%s)", "你现在显示为 %s（%s）"), display, user);
	else if (mine)
		render_info(f, s->r, TR(s, "You are now shown as %s", "你现在显示为 %s"), user);
	else if (display != NULL)
		render_info(f, s->r, TR(s, "%s is now shown as %s", "%s 现在显示为 %s"), user, display);
	else
		render_info(f, s->r, TR(s, "%s removed the display name", "%s 删除了显示名称"), user);
}
