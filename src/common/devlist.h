/* devlist.h - the byte codec of a user's signed device list (docs/E2EE.md, "The device list").
 * Shared by pierd (which checks a published list; it verifies the signature itself) and
 * libpier. No crypto here: parse bytes into a struct with bounded arrays, encode one back.
 * Pure functions: no allocation, no I/O.
 *
 * The bytes: "PDL1" || str8(user) || u32 version || u8 flags || AK_pub(32) || u8 count ||
 * count x (device_id(16) || DSK_pub(32) || DIK_pub(32) || u64 created_ms || str8(name)),
 * integers big-endian, devices sorted by id (bytewise, no repeats). */
#ifndef PIER_DEVLIST_H
#define PIER_DEVLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "names.h"

#define PIER_DEVLIST_MAGIC        "PDL1"
#define PIER_DEVLIST_MAGIC_LEN    4
#define PIER_DEVLIST_MAX_DEVICES  32
#define PIER_DEVLIST_NAME_MAX     64      /* bytes of a device name */
#define PIER_DEVICE_ID_LEN        16
#define PIER_DEVLIST_KEY_LEN      32      /* AK_pub, DSK_pub, DIK_pub */
#define PIER_DEVLIST_FLAG_RESET   0x01u   /* this list starts a new identity epoch */
#define PIER_DEVLIST_FLAGS_KNOWN  PIER_DEVLIST_FLAG_RESET
/* The longest valid list: magic, user, version, flags, AK, count, 32 devices with 64-byte
 * names. A buffer of this size always holds pier_devlist_encode's output. */
#define PIER_DEVLIST_ENTRY_MAX    (PIER_DEVICE_ID_LEN + 2 * PIER_DEVLIST_KEY_LEN + 8 + 1 + \
                                   PIER_DEVLIST_NAME_MAX)
#define PIER_DEVLIST_MAX_BYTES    (PIER_DEVLIST_MAGIC_LEN + 1 + PIER_NAME_MAX + 4 + 1 + \
                                   PIER_DEVLIST_KEY_LEN + 1 + \
                                   PIER_DEVLIST_MAX_DEVICES * PIER_DEVLIST_ENTRY_MAX)

struct pier_devlist_device {
	uint8_t  id[PIER_DEVICE_ID_LEN];
	uint8_t  sign_key[PIER_DEVLIST_KEY_LEN];   /* DSK_pub, Ed25519 */
	uint8_t  dh_key[PIER_DEVLIST_KEY_LEN];     /* DIK_pub, X25519 */
	uint64_t created_ms;
	char     name[PIER_DEVLIST_NAME_MAX + 1];  /* NUL-terminated UTF-8, may be empty */
};

struct pier_devlist {
	char     user[PIER_NAME_MAX + 1];          /* lower case, NUL-terminated */
	uint32_t version;
	uint8_t  flags;                            /* PIER_DEVLIST_FLAG_* */
	uint8_t  ak[PIER_DEVLIST_KEY_LEN];         /* AK_pub, Ed25519 */
	unsigned count;                            /* 1 .. PIER_DEVLIST_MAX_DEVICES */
	struct pier_devlist_device dev[PIER_DEVLIST_MAX_DEVICES];
};

enum pier_devlist_err {
	PIER_DEVLIST_OK = 0,
	PIER_DEVLIST_TRUNCATED,   /* the bytes end inside a field */
	PIER_DEVLIST_BAD_MAGIC,
	PIER_DEVLIST_BAD_USER,    /* not a valid user name in lower case */
	PIER_DEVLIST_BAD_FLAGS,   /* a flag bit other than reset */
	PIER_DEVLIST_BAD_COUNT,   /* 0 or over PIER_DEVLIST_MAX_DEVICES */
	PIER_DEVLIST_UNSORTED,    /* device ids not strictly increasing (bytewise) */
	PIER_DEVLIST_BAD_NAME,    /* over 64 bytes, not UTF-8, or holding a NUL */
	PIER_DEVLIST_TRAILING     /* bytes after the last device */
};

/* Parses len bytes of a list into *out (filled only in part on an error). Every rule of
 * E2EE.md is checked; the signature is not (the caller verifies it with out->ak). */
enum pier_devlist_err pier_devlist_parse(const uint8_t *buf, size_t len,
                                         struct pier_devlist *out);

/* Checks *l by the same rules as pier_devlist_parse, then writes its bytes to out (cap bytes;
 * PIER_DEVLIST_MAX_BYTES is always enough). Returns the length, or 0 if *l breaks a rule or
 * cap is too small. */
size_t pier_devlist_encode(const struct pier_devlist *l, uint8_t *out, size_t cap);

/* Checks *l by the rules of the format (the error pier_devlist_parse would give its bytes). */
enum pier_devlist_err pier_devlist_check(const struct pier_devlist *l);

/* The index of device id in l, or -1. */
int pier_devlist_find(const struct pier_devlist *l, const uint8_t id[PIER_DEVICE_ID_LEN]);

/* A short English text for an error (logs and tests). */
const char *pier_devlist_strerror(enum pier_devlist_err err);
/* The error's name as the vector files spell it: "ok", "truncated", "bad_magic", "bad_user",
 * "bad_flags", "bad_count", "unsorted", "bad_name", "trailing". */
const char *pier_devlist_err_name(enum pier_devlist_err err);

#endif
