/* test_names.c - user, room and password rules, and case folding. */
#include <string.h>

#include "names.h"
#include "tap.h"

int main(void)
{
	char key[PIER_KEY_MAX], long_pw[PIER_PASSWORD_MAX + 2];

	CHECK(pier_name_check("alice_1") == PIER_NAME_OK, "plain name");
	CHECK(pier_name_check("A.b-c_9") == PIER_NAME_OK, "every allowed character");
	CHECK(pier_name_check("abcde") == PIER_NAME_TOO_SHORT, "5 characters is too short");
	CHECK(pier_name_check("abcdef") == PIER_NAME_OK, "6 characters is enough");
	CHECK(pier_name_check("") == PIER_NAME_TOO_SHORT, "empty");
	CHECK(pier_name_check("abcdefghijabcdefghijabcdefghij12") == PIER_NAME_OK, "32 characters");
	CHECK(pier_name_check("abcdefghijabcdefghijabcdefghij123") == PIER_NAME_TOO_LONG, "33 characters");
	CHECK(pier_name_check("bad name!") == PIER_NAME_BAD_CHAR, "space");
	CHECK(pier_name_check("名字名字名字") == PIER_NAME_BAD_CHAR, "non-ASCII");
	CHECK(pier_name_check("abc/def") == PIER_NAME_BAD_CHAR, "slash");
	CHECK(pier_name_check("abcdef~") == PIER_NAME_BAD_CHAR, "tilde (the private-message mark)");

	CHECK(pier_room_check("#lobby") == PIER_NAME_OK, "#lobby");
	CHECK(pier_room_check("#a") == PIER_NAME_OK, "one character room");
	CHECK(pier_room_check("#") == PIER_NAME_TOO_SHORT, "bare #");
	CHECK(pier_room_check("lobby") == PIER_NAME_BAD_CHAR, "no #");
	CHECK(pier_room_check("#two words") == PIER_NAME_BAD_CHAR, "space in room");
	CHECK(pier_room_check("#abcdefghijabcdefghijabcdefghij123") == PIER_NAME_TOO_LONG, "33 after #");

	CHECK(pier_password_check("12345") == PIER_NAME_TOO_SHORT, "short password");
	CHECK(pier_password_check("123456") == PIER_NAME_OK, "6-byte password");
	memset(long_pw, 'x', sizeof(long_pw) - 1);
	long_pw[sizeof(long_pw) - 1] = '\0';
	CHECK(pier_password_check(long_pw) == PIER_NAME_TOO_LONG, "1025-byte password");
	long_pw[PIER_PASSWORD_MAX] = '\0';
	CHECK(pier_password_check(long_pw) == PIER_NAME_OK, "1024-byte password");

	pier_name_key("Alice_1", key);
	CHECK(strcmp(key, "alice_1") == 0, "user key folds case: %s", key);
	pier_name_key("#DevOps", key);
	CHECK(strcmp(key, "#devops") == 0, "room key folds case: %s", key);
	{
		char out[64];

		CHECK(pier_filename_clean("\xE2\x80\xAEgpj.exe", out, sizeof(out)) == 7 &&
		      strcmp(out, "gpj.exe") == 0, "U+202E (RLO) goes: %s", out);
		pier_filename_clean("a\xE2\x80\x8E" "b\xE2\x80\x8F" "c\xD8\x9C" "d", out, sizeof(out));
		CHECK(strcmp(out, "abcd") == 0, "LRM, RLM and ALM go: %s", out);
		pier_filename_clean("\xE2\x80\xAA\xE2\x80\xAB\xE2\x80\xAC\xE2\x80\xAD" "x", out,
		                    sizeof(out));
		CHECK(strcmp(out, "x") == 0, "U+202A-U+202D go: %s", out);
		pier_filename_clean("\xE2\x81\xA6" "1\xE2\x81\xA7" "2\xE2\x81\xA8" "3\xE2\x81\xA9",
		                    out, sizeof(out));
		CHECK(strcmp(out, "123") == 0, "isolates U+2066-U+2069 go: %s", out);
		pier_filename_clean("z\xE2\x80\x8B\xE2\x80\x8C\xE2\x80\x8D\xEF\xBB\xBF\xE2\x81\xA0"
		                    "\xE2\x81\xA4" "w", out, sizeof(out));
		CHECK(strcmp(out, "zw") == 0, "zero-width, BOM, word joiner, U+2064 go: %s", out);
		pier_filename_clean("\xF3\xA0\x80\x81tag\xC2\xAD", out, sizeof(out));
		CHECK(strcmp(out, "tag") == 0, "tag characters and soft hyphen (Cf) go: %s", out);
		pier_filename_clean("caf\xC3\xA9 \xE5\x90\x8D.\xD7\xA9\xD7\x9C\xD7\x95\xD7\x9D.png",
		                    out, sizeof(out));
		CHECK(strcmp(out, "caf\xC3\xA9 \xE5\x90\x8D.\xD7\xA9\xD7\x9C\xD7\x95\xD7\x9D.png") == 0,
		      "letters of any script (Hebrew too) stay");
		pier_filename_clean("a\xFF\xE2\x80" "b", out, sizeof(out));
		CHECK(strcmp(out, "a\xFF\xE2\x80" "b") == 0, "malformed bytes are left to the caller");
		CHECK(pier_filename_clean("ab\xE5\x90\x8D", out, 5) == 2 && strcmp(out, "ab") == 0,
		      "cut at a character boundary");
		CHECK(pier_filename_clean("\xE2\x80\xAE", out, sizeof(out)) == 0 && out[0] == '\0',
		      "only controls: empty");
		CHECK(pier_is_format_char(0x202E) && pier_is_format_char(0x061C) &&
		      !pier_is_format_char('a') && !pier_is_format_char(0x05D0), "the table");
	}
	return tap_done();
}
