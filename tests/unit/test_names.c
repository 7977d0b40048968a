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
	return tap_done();
}
