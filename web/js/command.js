// command.js - what a line typed in the composer means, in the syntax of the terminal client
// `pier` (src/cli/interactive.c): `text~user` and `/msg user text` send privately, `/join`,
// `/part`, `/help`; `//text` sends text that starts with '/'. Pure: no DOM, no network. The
// composer acts on the answer, and never sends to the conversation a line that looks meant
// for someone else (an unknown command, a `~word` that is no user name) without asking.

const USER_RE = /^[A-Za-z0-9_.-]{6,32}$/;
const ROOM_RE = /^#[A-Za-z0-9_.-]{1,32}$/;
const URL_START = /^[a-z][a-z0-9+.-]*:\/\//i;

export const isUserName = s => USER_RE.test(s);

/** "dev" or "#dev" as "#dev"; null when it is no room name. */
export function roomName(s) {
	const r = s[0] === '#' ? s : '#' + s;
	return ROOM_RE.test(r) ? r : null;
}

/** The commands the browser knows, with their other spellings (as in `pier`). */
const COMMANDS = {
	msg: 'msg', m: 'msg',
	join: 'join', j: 'join',
	part: 'part', leave: 'part',
	help: 'help', '?': 'help',
};

/**
 * What `line` asks for. One of:
 *   { op: 'text', text }               send text to the current conversation
 *   { op: 'private', user, text, how } send text privately to user (how: 'tilde' | 'msg')
 *   { op: 'join', room }               join (or create) the room and go there
 *   { op: 'part', room }               leave the room (null: the current one)
 *   { op: 'help' }
 *   { op: 'usage', cmd }               a known command used wrongly (cmd: 'msg', 'join',
 *                                      'part', 'tilde': `~user` with no text before it)
 *   { op: 'unknown', name }            no such command
 *   { op: 'ask', word, text }          `text~word` where word is no user name: ask first
 */
export function parseLine(line) {
	if (line.startsWith('//'))
		return { op: 'text', text: line.slice(1) };
	if (line[0] === '/')
		return command(line.slice(1));
	return tilde(line);
}

function command(rest) {
	const m = rest.match(/^(\S*)\s*([\s\S]*)$/);
	const name = m[1];
	const args = m[2].trim();
	const cmd = COMMANDS[name.toLowerCase()];
	if (!cmd)
		return { op: 'unknown', name };
	if (cmd === 'help')
		return { op: 'help' };
	if (cmd === 'msg') {
		const a = args.match(/^(\S+)\s+([\s\S]*\S)/);
		const user = a ? a[1].replace(/^@/, '') : '';
		if (!a || !isUserName(user))
			return { op: 'usage', cmd };
		return { op: 'private', user, text: a[2], how: 'msg' };
	}
	if (cmd === 'join') {
		const room = /\s/.test(args) ? null : roomName(args);
		return room ? { op: 'join', room } : { op: 'usage', cmd };
	}
	// part
	if (!args)
		return { op: 'part', room: null };
	const room = /\s/.test(args) ? null : roomName(args);
	return room ? { op: 'part', room } : { op: 'usage', cmd };
}

/**
 * `text~user`: the last '~' counts, spaces around the name are allowed. What follows the
 * '~' is a name only if it is one word; a '~' inside a link (https://host/~me) is text.
 */
function tilde(line) {
	const i = line.lastIndexOf('~');
	if (i < 0)
		return { op: 'text', text: line };
	const word = line.slice(i + 1).trim().replace(/^@/, '');
	if (!word || /\s/.test(word))
		return { op: 'text', text: line };
	const token = line.slice(0, i).split(/\s/).pop();
	if (URL_START.test(token))
		return { op: 'text', text: line };
	const text = line.slice(0, i).replace(/\s+$/, '');
	if (!isUserName(word))
		return { op: 'ask', word, text: line };
	if (!text.trim())
		return { op: 'usage', cmd: 'tilde' };
	return { op: 'private', user: word, text, how: 'tilde' };
}
