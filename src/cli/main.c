/* main.c - `pier`, the terminal client: parses the command line and starts the interactive
 * chat or a one-shot command. */
#include <errno.h>
#include <getopt.h>
#include <langinfo.h>
#include <limits.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "input.h"
#include "interactive.h"
#include "oneshot.h"
#include "render.h"

enum {
	OPT_HOST = 256, OPT_PORT, OPT_USER, OPT_LANG, OPT_NO_COLOR, OPT_TO, OPT_LIMIT, OPT_BEFORE,
	OPT_JSON, OPT_HELP, OPT_TLS, OPT_INSECURE, OPT_CA_FILE, OPT_FILE, OPT_HTTP_URL, OPT_REPLY_TO,
	OPT_OFF, OPT_DISPLAY, OPT_WITH, OPT_NO_E2EE, OPT_PASSPHRASE
};

static bool codeset_is_utf8(void)
{
	const char *cs = nl_langinfo(CODESET);

	return cs != NULL && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0);
}

/* Multibyte input and character widths in the line editor need a UTF-8 LC_CTYPE (numbers
 * stay "C"). The environment's when it is one; else C.UTF-8, saying so on a terminal: a
 * LANG naming a locale that is not installed (zh_CN.UTF-8 over ssh) or a non-UTF-8 one
 * would make the line editor drop or garble every non-ASCII character typed. False when
 * no UTF-8 locale exists at all. */
static bool utf8_locale(void)
{
	static const char *const fallbacks[] = { "C.UTF-8", "C.utf8", "en_US.UTF-8" };
	const char *asked = getenv("LC_ALL") != NULL && getenv("LC_ALL")[0] != '\0' ? "LC_ALL"
	                  : getenv("LC_CTYPE") != NULL && getenv("LC_CTYPE")[0] != '\0' ? "LC_CTYPE"
	                  : "LANG";
	const char *value = getenv(asked);

	if (setlocale(LC_CTYPE, "") != NULL && codeset_is_utf8())
		return true;
	for (size_t i = 0; i < sizeof(fallbacks) / sizeof(fallbacks[0]); i++) {
		if (setlocale(LC_CTYPE, fallbacks[i]) != NULL && codeset_is_utf8()) {
			if (isatty(STDERR_FILENO))
				fprintf(stderr, "pier: %s=%s is not an installed UTF-8 locale; using %s\n",
				        asked, value != NULL ? value : "", fallbacks[i]);
			return true;
		}
	}
	setlocale(LC_CTYPE, "C");
	return false;
}

static const char usage_text[] =
	"Usage: pier [OPTIONS]                  chat in the terminal\n"
	"       pier [OPTIONS] COMMAND [ARGS]   one request, for scripts\n"
	"\n"
	"Options:\n"
	"  --host HOST     server address (default 127.0.0.1)\n"
	"  --port PORT     server port (default " PIER_DEFAULT_PORT ", with --tls "
	PIER_DEFAULT_TLS_PORT ")\n"
	"  --tls           connect with TLS, checking the server's certificate against the\n"
	"                  system's trusted certificates and the host name\n"
	"  --ca-file FILE  trust the certificates in FILE (PEM) instead, e.g. the server's\n"
	"                  self-signed cert.pem (implies --tls)\n"
	"  --insecure      TLS without checking the certificate: for tests only (implies --tls)\n"
	"  --user NAME     user name; the chat then logs in as NAME without asking\n"
	"  --display NAME  with register (or registering in the chat): a display name, any\n"
	"                  script, shown as \"NAME (user)\"; /nick changes it later\n"
	"  --lang en|zh    language of the texts (default: from LC_ALL, LC_MESSAGES, LANG;\n"
	"                  zh* means Chinese)\n"
	"  --no-color      no colours; there are none either when NO_COLOR is set, TERM is\n"
	"                  \"dumb\" or stdout is not a terminal\n"
	"  --passphrase    ask for a passphrase that encrypts this device's keys and messages\n"
	"                  on disk (argon2id); $PIER_PASSPHRASE gives it without asking. The\n"
	"                  same passphrase is needed at every run once it was set\n"
	"  --no-e2ee       do not act as one of your devices: private messages are not\n"
	"                  end-to-end encrypted, so users who have devices cannot be written\n"
	"                  to and their messages to you are not shown here\n"
	"  --http-url URL  the server's HTTP side, for files (default http://HOST:8080, with\n"
	"                  --tls https://HOST:8443)\n"
	"  -h, --help      show this help\n";

/* The one-shot commands (one string would pass what C compilers must support). */
static const char usage_commands[] =
	"\n"
	"Commands (all need --user; all but register log in first):\n"
	"  register                   register the user (does not log in)\n"
	"  send --to TARGET TEXT...   send TEXT (the arguments joined by spaces) to #room or\n"
	"                             @user (a bare NAME means @NAME); prints the message id.\n"
	"                             To @user it is end-to-end encrypted, as in the chat\n"
	"                             (this installation's device; a first run sets it up)\n"
	"  send --to TARGET --file PATH [TEXT...]\n"
	"                             upload PATH (a progress bar on a terminal; run again\n"
	"                             after an interruption, it resumes) and send it, TEXT\n"
	"                             as its caption; prints the message id\n"
	"  history TARGET [--limit N] [--before ID] [--json]\n"
	"                             messages of #room or @user, oldest first, one per line:\n"
	"                             ID, TIME, FROM, TO, TEXT separated by tabs, with \\, tab,\n"
	"                             newline and other control characters of TEXT escaped;\n"
	"                             --json: one JSON object per message instead.\n"
	"                             --limit: at most N (1-200; the server's default is 50),\n"
	"                             the newest; --before: only messages older than ID\n"
	"  search [--with TARGET] [--limit N] [--before ID] [--json] TEXT...\n"
	"                             the messages of your rooms, #lobby and your private\n"
	"                             chats that contain TEXT (the arguments joined by spaces:\n"
	"                             every word must be there; \"a b\" in quotes for a phrase;\n"
	"                             Chinese, Japanese and Korean are found inside sentences),\n"
	"                             newest first, as history prints them (on a terminal the\n"
	"                             match in reverse video); --with: only #room or @user;\n"
	"                             --limit: at most N (the server's default 50, at most\n"
	"                             100); --before ID: older ones (stderr says which ID)\n"
	"  rooms [--json]             every room: ROOM, MEMBERS, \"joined\" or \"-\" (tabs);\n"
	"                             --json: one JSON object per room\n"
	"  who [--json]               the users online, one per line (--json: JSON strings)\n"
	"  join ROOM                  join ROOM (the '#' may be left out); created if new\n"
	"  part ROOM                  leave ROOM\n"
	"  send --to TARGET --reply-to ID TEXT...\n"
	"                             answer message ID (of the same conversation), quoting it\n"
	"  recall ID                  recall (撤回) your message ID, within the server's window\n"
	"                             (2 minutes by default); prints \"recalled ID\"\n"
	"  edit ID TEXT...            replace the text of your message ID; prints \"edited ID\"\n"
	"  react ID EMOJI [--off]     react to message ID with EMOJI (--off: take it back);\n"
	"                             prints ID, EMOJI and how many of it the message has\n"
	"                             Message ids are those send prints and history shows.\n";

/* The rest of --help (one string would pass what C compilers must support). */
static const char usage_chat[] =
	"\n"
	"The password comes from $PIER_PASSWORD, else from one line of stdin when stdin is not\n"
	"a terminal, else it is asked for without echo.\n"
	"\n"
	"Chat: without --user, pier asks whether to log in or register, then the user name and\n"
	"the password; after registering it offers to log in. Typed text goes to the current\n"
	"room or user (shown in the prompt; first #lobby). \"text~user\" sends text privately\n"
	"to user (the last '~' counts; when what follows is not a user name, the line is sent\n"
	"as it is). Room messages are red, private ones magenta. Commands:\n"
	"  /msg USER TEXT       send TEXT privately to USER\n"
	"  /join #ROOM          join (or create) #ROOM and talk there\n"
	"  /part [#ROOM]        leave #ROOM (default: the current room)\n"
	"  /rooms [AFTER] /who [AFTER]  list the rooms, the users online (a page each; the\n"
	"                       live list is your contacts: /who asks for everyone)\n"
	"  /history [N]         the last N (default 20) messages of the current conversation\n"
	"  /reply N TEXT        answer message N, quoting it (N: the number shown before each\n"
	"                       message on the screen)\n"
	"  /edit N TEXT         change your message N; /recall [N] recalls it (default: your\n"
	"                       last message), within the server's window\n"
	"  /react N EMOJI       react to message N; /unreact N EMOJI takes it back\n"
	"  /search TEXT         find TEXT in your rooms and private chats, the match\n"
	"                       highlighted, numbered like every message (/search alone:\n"
	"                       older matches)\n"
	"  /switch #ROOM|@USER  talk to another room or user\n"
	"  /send PATH [TEXT]    upload a file and send it here (a progress bar; resumes if cut)\n"
	"  /open N              download file number N (shown after it) and open it\n"
	"  /devices             your devices (this one marked; waiting ones with their code)\n"
	"  /approve CODE        approve your new device that shows CODE (8 digits) there too\n"
	"  /rename-device ID|this NAME, /remove-device ID\n"
	"                       change your device list (signed on this device)\n"
	"  /reset yes           a new identity from a new device when all others are lost\n"
	"                       (your contacts see that your safety number changed)\n"
	"  /safety USER         the safety number with USER (60 digits, the same on both\n"
	"                       sides: compare them in person); /verify USER marks USER\n"
	"                       verified (/unverify takes it back)\n"
	"  /help  /quit         (Ctrl-D quits too, as does Ctrl-C twice on an empty line; Ctrl-C\n"
	"                       first clears the line being typed; //text sends text starting\n"
	"                       with '/')\n"
	"Tab completes @names; a message that mentions you rings the bell and is highlighted.\n"
	"Edits, recalls and reactions show as they happen, and those made while pier was\n"
	"offline after it reconnects.\n"
	"\n";

/* End-to-end encryption and the rest (one string would pass what C compilers must support). */
static const char usage_e2ee[] =
	"End-to-end encryption: private chats are encrypted on this device for every device of\n"
	"both people; the server stores ciphertext only (rooms are not end-to-end encrypted).\n"
	"The first login makes this installation a device (named after the host). Your first\n"
	"device is approved at once; a further one shows an 8-digit code and waits until you\n"
	"type /approve CODE on a device you already have (that device then sends it your\n"
	"account key). Encrypted messages are marked [e2ee], older plaintext ones [not\n"
	"encrypted]. The keys and the decrypted messages are kept in\n"
	"$XDG_DATA_HOME/pier/HOST_PORT/USER (default ~/.local/share/...), mode 0600, saved\n"
	"before each message is acknowledged; set $PIER_PASSPHRASE to keep them encrypted\n"
	"with a passphrase (argon2id). A file that others may read is refused. pier warns when\n"
	"a contact's safety number changes and when the server offers a device the contact did\n"
	"not approve (it is never used). Files sent privately are encrypted before upload.\n"
	"\n"
	"When the connection drops, the prompt says \"(offline)\" and pier reconnects by itself\n"
	"(waiting 0.5 s, doubling up to 30 s), logs in again with its session token (asking for\n"
	"the password if the server refuses it) and shows the messages it missed. Lines typed\n"
	"meanwhile (up to 100) are sent after reconnecting, each stored once. Quitting logs out.\n"
	"When stdin is not a terminal, the chat reads plain lines (first the answers to the\n"
	"questions) and ends at end of input, once the server has answered what was sent\n"
	"(waiting up to 30 s for a reconnect); there a refused token ends the chat with status 1\n"
	"unless $PIER_PASSWORD holds the password.\n"
	"\n"
	"Exit status: 0 success, 1 failure (refused by the server, connection, chat messages\n"
	"left unsent), 2 bad usage.\n";

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("pier: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'pier --help'.\n", stderr);
	return CLI_EXIT_USAGE;
}

/* A decimal number in [min, max]; false if s is not one. */
static bool parse_num(const char *s, long long min, long long max, long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* Options that belong to some commands only. */
static int check_command_options(const struct cli_options *o, bool seen_to, bool seen_limit,
				 bool seen_before)
{
	const char *cmd = o->command != NULL ? o->command : "";
	bool search = strcmp(cmd, "search") == 0;

	if (seen_to && strcmp(cmd, "send") != 0)
		return usage_error("--to belongs to send");
	if (o->with != NULL && !search)
		return usage_error("--with belongs to search");
	if (o->file != NULL && strcmp(cmd, "send") != 0)
		return usage_error("--file belongs to send");
	if (o->display != NULL && o->command != NULL && strcmp(cmd, "register") != 0)
		return usage_error("--display belongs to register (and the chat's registration)");
	if ((seen_limit || seen_before) && strcmp(cmd, "history") != 0 && !search)
		return usage_error("--limit and --before belong to history and search");
	if (o->reply_to != 0 && (strcmp(cmd, "send") != 0 || o->file != NULL))
		return usage_error("--reply-to belongs to send (without --file)");
	if (o->off && strcmp(cmd, "react") != 0)
		return usage_error("--off belongs to react");
	if (o->json && strcmp(cmd, "history") != 0 && strcmp(cmd, "rooms") != 0 &&
	    strcmp(cmd, "who") != 0 && !search)
		return usage_error("--json belongs to history, search, rooms and who");
	return CLI_EXIT_OK;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "host", required_argument, NULL, OPT_HOST },
		{ "port", required_argument, NULL, OPT_PORT },
		{ "user", required_argument, NULL, OPT_USER },
		{ "lang", required_argument, NULL, OPT_LANG },
		{ "no-color", no_argument, NULL, OPT_NO_COLOR },
		{ "to", required_argument, NULL, OPT_TO },
		{ "limit", required_argument, NULL, OPT_LIMIT },
		{ "before", required_argument, NULL, OPT_BEFORE },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, OPT_HELP },
		{ "tls", no_argument, NULL, OPT_TLS },
		{ "insecure", no_argument, NULL, OPT_INSECURE },
		{ "ca-file", required_argument, NULL, OPT_CA_FILE },
		{ "file", required_argument, NULL, OPT_FILE },
		{ "http-url", required_argument, NULL, OPT_HTTP_URL },
		{ "reply-to", required_argument, NULL, OPT_REPLY_TO },
		{ "off", no_argument, NULL, OPT_OFF },
		{ "display", required_argument, NULL, OPT_DISPLAY },
		{ "with", required_argument, NULL, OPT_WITH },
		{ "no-e2ee", no_argument, NULL, OPT_NO_E2EE },
		{ "passphrase", no_argument, NULL, OPT_PASSPHRASE },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_options o = {
		.host = "127.0.0.1",
		.port = PIER_DEFAULT_PORT,
		.lang = pier_lang_from_env(),
	};
	bool no_color = false, seen_to = false, seen_limit = false, seen_before = false;
	bool seen_port = false, utf8, ask_passphrase = false;
	long long num;
	int c, rc;

	utf8 = utf8_locale();
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_HOST:
			o.host = optarg;
			break;
		case OPT_PORT:
			if (!parse_num(optarg, 1, 65535, &num))
				return usage_error("bad port '%s'", optarg);
			o.port = optarg;
			seen_port = true;
			break;
		case OPT_TLS:
			o.tls = true;
			break;
		case OPT_INSECURE:
			o.tls = true;
			o.tls_opt.insecure = true;
			break;
		case OPT_CA_FILE:
			o.tls = true;
			o.tls_opt.ca_file = optarg;
			break;
		case OPT_USER:
			o.user = optarg;
			break;
		case OPT_LANG:
			if (strcmp(optarg, "en") == 0)
				o.lang = PIER_LANG_EN;
			else if (strcmp(optarg, "zh") == 0)
				o.lang = PIER_LANG_ZH;
			else
				return usage_error("--lang is en or zh, not '%s'", optarg);
			break;
		case OPT_NO_COLOR:
			no_color = true;
			break;
		case OPT_FILE:
			o.file = optarg;
			break;
		case OPT_HTTP_URL:
			o.http_url = optarg;
			break;
		case OPT_DISPLAY:
			o.display = optarg;
			break;
		case OPT_TO:
			o.to = optarg;
			seen_to = true;
			break;
		case OPT_WITH:
			o.with = optarg;
			break;
		case OPT_NO_E2EE:
			o.no_e2ee = true;
			break;
		case OPT_PASSPHRASE:
			ask_passphrase = true;
			break;
		case OPT_LIMIT:
			if (!parse_num(optarg, 1, 200, &num))
				return usage_error("--limit is a number from 1 to 200, not '%s'", optarg);
			o.limit = (int)num;
			seen_limit = true;
			break;
		case OPT_BEFORE:
			if (!parse_num(optarg, 1, LLONG_MAX, &num))
				return usage_error("--before is a message id, not '%s'", optarg);
			o.before = (int64_t)num;
			seen_before = true;
			break;
		case OPT_JSON:
			o.json = true;
			break;
		case OPT_REPLY_TO:
			if (!parse_num(optarg, 1, LLONG_MAX, &num))
				return usage_error("--reply-to is a message id, not '%s'", optarg);
			o.reply_to = (int64_t)num;
			break;
		case OPT_OFF:
			o.off = true;
			break;
		case 'h':
		case OPT_HELP:
			fputs(usage_text, stdout);
			fputs(usage_commands, stdout);
			fputs(usage_chat, stdout);
			fputs(usage_e2ee, stdout);
			return CLI_EXIT_OK;
		case ':':
			return usage_error("%s needs a value", argv[optind - 1]);
		default:
			return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc) {
		o.command = argv[optind];
		o.args = argv + optind + 1;
		o.nargs = argc - optind - 1;
		if (!oneshot_is_command(o.command))
			return usage_error("unknown command '%s'", o.command);
	}
	if (o.tls_opt.insecure && o.tls_opt.ca_file != NULL)
		return usage_error("--insecure and --ca-file do not go together");
	if (o.tls && !seen_port)
		o.port = PIER_DEFAULT_TLS_PORT;
	rc = check_command_options(&o, seen_to, seen_limit, seen_before);
	if (rc != CLI_EXIT_OK)
		return rc;
	o.color = render_color_wanted(STDOUT_FILENO, no_color);
	/* The device keys' passphrase: $PIER_PASSPHRASE, or asked for with --passphrase (kept
	 * for the whole run: every save seals the file again). */
	o.passphrase = getenv("PIER_PASSPHRASE") != NULL && getenv("PIER_PASSPHRASE")[0] != '\0'
	             ? getenv("PIER_PASSPHRASE") : NULL;
	if (ask_passphrase && o.passphrase == NULL) {
		if (isatty(STDIN_FILENO) != 1)
			return usage_error("--passphrase asks on a terminal; without one set "
			                   "PIER_PASSPHRASE");
		o.passphrase = input_password_tty(STDIN_FILENO, o.lang == PIER_LANG_ZH
		                                  ? "设备密钥口令: " : "Passphrase of the device keys: ");
		if (o.passphrase == NULL || o.passphrase[0] == '\0')
			return usage_error("no passphrase given");
	}
	if (o.command == NULL && !utf8) {
		fprintf(stderr, "pier: %s\n", o.lang == PIER_LANG_ZH
		        ? "没有可用的 UTF-8 区域设置（locale），无法正确读取和显示中文；"
		          "请安装 locales，或设置 LANG=C.UTF-8"
		        : "no UTF-8 locale is available, so typed Chinese (any non-ASCII text) could "
		          "not be read or shown; install one, or set LANG=C.UTF-8");
		return CLI_EXIT_USAGE;
	}
	return o.command == NULL ? interactive_run(&o) : oneshot_run(&o);
}
