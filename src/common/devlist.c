/* devlist.c - the device list byte codec (devlist.h, docs/E2EE.md "The device list"). */
#include "devlist.h"

#include <string.h>

/* A reader over the list's bytes: every take checks the length first. */
struct rd {
	const uint8_t *p;
	size_t left;
};

static bool rd_take(struct rd *r, void *out, size_t n)
{
	if (r->left < n)
		return false;
	memcpy(out, r->p, n);
	r->p += n;
	r->left -= n;
	return true;
}

static bool rd_u8(struct rd *r, uint8_t *v)
{
	return rd_take(r, v, 1);
}

static bool rd_u32(struct rd *r, uint32_t *v)
{
	uint8_t b[4];

	if (!rd_take(r, b, sizeof(b)))
		return false;
	*v = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
	return true;
}

static bool rd_u64(struct rd *r, uint64_t *v)
{
	uint8_t b[8];

	if (!rd_take(r, b, sizeof(b)))
		return false;
	*v = 0;
	for (size_t i = 0; i < sizeof(b); i++)
		*v = *v << 8 | b[i];
	return true;
}

static bool user_ok(const char *user)
{
	char key[PIER_KEY_MAX];

	if (pier_name_check(user) != PIER_NAME_OK)
		return false;
	pier_name_key(user, key);
	return strcmp(key, user) == 0;
}

static bool name_ok(const char *name, size_t len)
{
	const unsigned char *p = (const unsigned char *)name;
	size_t i = 0;

	if (len > PIER_DEVLIST_NAME_MAX)
		return false;
	while (i < len) {
		uint32_t cp;
		size_t n = pier_utf8_decode(p + i, len - i, &cp);

		if (n == 0 || cp == 0)
			return false;
		i += n;
	}
	return true;
}

/* Reads str8 into out (cap bytes with the NUL). *len gets the length; false when truncated
 * or longer than cap - 1 (then *len still says the length read). */
static enum pier_devlist_err rd_str8(struct rd *r, char *out, size_t cap, size_t *len,
                                     enum pier_devlist_err too_long)
{
	uint8_t n;

	if (!rd_u8(r, &n))
		return PIER_DEVLIST_TRUNCATED;
	*len = n;
	if (n > cap - 1)
		return r->left < n ? PIER_DEVLIST_TRUNCATED : too_long;
	if (!rd_take(r, out, n))
		return PIER_DEVLIST_TRUNCATED;
	out[n] = '\0';
	return PIER_DEVLIST_OK;
}

enum pier_devlist_err pier_devlist_parse(const uint8_t *buf, size_t len,
                                         struct pier_devlist *out)
{
	struct rd r = { buf, len };
	uint8_t magic[PIER_DEVLIST_MAGIC_LEN], count;
	size_t n;
	enum pier_devlist_err err;

	memset(out, 0, sizeof(*out));
	if (!rd_take(&r, magic, sizeof(magic)))
		return PIER_DEVLIST_TRUNCATED;
	if (memcmp(magic, PIER_DEVLIST_MAGIC, sizeof(magic)) != 0)
		return PIER_DEVLIST_BAD_MAGIC;
	err = rd_str8(&r, out->user, sizeof(out->user), &n, PIER_DEVLIST_BAD_USER);
	if (err != PIER_DEVLIST_OK)
		return err;
	if (strlen(out->user) != n || !user_ok(out->user))
		return PIER_DEVLIST_BAD_USER;
	if (!rd_u32(&r, &out->version) || !rd_u8(&r, &out->flags))
		return PIER_DEVLIST_TRUNCATED;
	if (out->flags & ~PIER_DEVLIST_FLAGS_KNOWN)
		return PIER_DEVLIST_BAD_FLAGS;
	if (!rd_take(&r, out->ak, sizeof(out->ak)) || !rd_u8(&r, &count))
		return PIER_DEVLIST_TRUNCATED;
	if (count == 0 || count > PIER_DEVLIST_MAX_DEVICES)
		return PIER_DEVLIST_BAD_COUNT;
	for (unsigned i = 0; i < count; i++) {
		struct pier_devlist_device *d = &out->dev[i];

		if (!rd_take(&r, d->id, sizeof(d->id)) ||
		    !rd_take(&r, d->sign_key, sizeof(d->sign_key)) ||
		    !rd_take(&r, d->dh_key, sizeof(d->dh_key)) || !rd_u64(&r, &d->created_ms))
			return PIER_DEVLIST_TRUNCATED;
		if (i > 0 && memcmp(out->dev[i - 1].id, d->id, sizeof(d->id)) >= 0)
			return PIER_DEVLIST_UNSORTED;
		err = rd_str8(&r, d->name, sizeof(d->name), &n, PIER_DEVLIST_BAD_NAME);
		if (err != PIER_DEVLIST_OK)
			return err;
		if (!name_ok(d->name, n))
			return PIER_DEVLIST_BAD_NAME;
		out->count = i + 1;
	}
	if (r.left != 0)
		return PIER_DEVLIST_TRAILING;
	return PIER_DEVLIST_OK;
}

enum pier_devlist_err pier_devlist_check(const struct pier_devlist *l)
{
	if (memchr(l->user, '\0', sizeof(l->user)) == NULL || !user_ok(l->user))
		return PIER_DEVLIST_BAD_USER;
	if (l->flags & ~PIER_DEVLIST_FLAGS_KNOWN)
		return PIER_DEVLIST_BAD_FLAGS;
	if (l->count == 0 || l->count > PIER_DEVLIST_MAX_DEVICES)
		return PIER_DEVLIST_BAD_COUNT;
	for (unsigned i = 0; i < l->count; i++) {
		const struct pier_devlist_device *d = &l->dev[i];
		const char *end = memchr(d->name, '\0', sizeof(d->name));

		if (i > 0 && memcmp(l->dev[i - 1].id, d->id, sizeof(d->id)) >= 0)
			return PIER_DEVLIST_UNSORTED;
		if (end == NULL || !name_ok(d->name, (size_t)(end - d->name)))
			return PIER_DEVLIST_BAD_NAME;
	}
	return PIER_DEVLIST_OK;
}

/* A writer: every put checks room first; a put past cap marks the writer failed. */
struct wr {
	uint8_t *p;
	size_t len, cap;
	bool failed;
};

static void wr_put(struct wr *w, const void *src, size_t n)
{
	if (w->failed || w->cap - w->len < n) {
		w->failed = true;
		return;
	}
	memcpy(w->p + w->len, src, n);
	w->len += n;
}

static void wr_u8(struct wr *w, uint8_t v)
{
	wr_put(w, &v, 1);
}

static void wr_u32(struct wr *w, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };

	wr_put(w, b, sizeof(b));
}

static void wr_u64(struct wr *w, uint64_t v)
{
	uint8_t b[8];

	for (size_t i = 0; i < sizeof(b); i++)
		b[i] = (uint8_t)(v >> (56 - 8 * i));
	wr_put(w, b, sizeof(b));
}

static void wr_str8(struct wr *w, const char *s)
{
	size_t n = strlen(s);

	wr_u8(w, (uint8_t)n);
	wr_put(w, s, n);
}

size_t pier_devlist_encode(const struct pier_devlist *l, uint8_t *out, size_t cap)
{
	struct wr w = { out, 0, cap, false };

	if (pier_devlist_check(l) != PIER_DEVLIST_OK)
		return 0;
	wr_put(&w, PIER_DEVLIST_MAGIC, PIER_DEVLIST_MAGIC_LEN);
	wr_str8(&w, l->user);
	wr_u32(&w, l->version);
	wr_u8(&w, l->flags);
	wr_put(&w, l->ak, sizeof(l->ak));
	wr_u8(&w, (uint8_t)l->count);
	for (unsigned i = 0; i < l->count; i++) {
		const struct pier_devlist_device *d = &l->dev[i];

		wr_put(&w, d->id, sizeof(d->id));
		wr_put(&w, d->sign_key, sizeof(d->sign_key));
		wr_put(&w, d->dh_key, sizeof(d->dh_key));
		wr_u64(&w, d->created_ms);
		wr_str8(&w, d->name);
	}
	return w.failed ? 0 : w.len;
}

int pier_devlist_find(const struct pier_devlist *l, const uint8_t id[PIER_DEVICE_ID_LEN])
{
	for (unsigned i = 0; i < l->count && i < PIER_DEVLIST_MAX_DEVICES; i++)
		if (memcmp(l->dev[i].id, id, PIER_DEVICE_ID_LEN) == 0)
			return (int)i;
	return -1;
}

const char *pier_devlist_strerror(enum pier_devlist_err err)
{
	switch (err) {
	case PIER_DEVLIST_OK:        return "ok";
	case PIER_DEVLIST_TRUNCATED: return "truncated";
	case PIER_DEVLIST_BAD_MAGIC: return "bad magic";
	case PIER_DEVLIST_BAD_USER:  return "bad user name";
	case PIER_DEVLIST_BAD_FLAGS: return "unknown flag bits";
	case PIER_DEVLIST_BAD_COUNT: return "device count not 1..32";
	case PIER_DEVLIST_UNSORTED:  return "device ids unsorted or repeated";
	case PIER_DEVLIST_BAD_NAME:  return "bad device name";
	case PIER_DEVLIST_TRAILING:  return "trailing bytes";
	}
	return "unknown";
}

const char *pier_devlist_err_name(enum pier_devlist_err err)
{
	switch (err) {
	case PIER_DEVLIST_OK:        return "ok";
	case PIER_DEVLIST_TRUNCATED: return "truncated";
	case PIER_DEVLIST_BAD_MAGIC: return "bad_magic";
	case PIER_DEVLIST_BAD_USER:  return "bad_user";
	case PIER_DEVLIST_BAD_FLAGS: return "bad_flags";
	case PIER_DEVLIST_BAD_COUNT: return "bad_count";
	case PIER_DEVLIST_UNSORTED:  return "unsorted";
	case PIER_DEVLIST_BAD_NAME:  return "bad_name";
	case PIER_DEVLIST_TRAILING:  return "trailing";
	}
	return "unknown";
}
