/* pier_text.c - texts for people: login/register statuses (the report's table 4.1) and error
 * codes (docs/PROTOCOL.md), in English and Chinese. */
#include "pier.h"
#include "protocol.h"

#include <stdlib.h>
#include <string.h>

struct text {
	const char *en;
	const char *zh;
};

static const char *pick(const struct text *t, enum pier_lang lang)
{
	return lang == PIER_LANG_ZH ? t->zh : t->en;
}

static const struct text unknown_status = { "Unknown status", "未知状态" };

enum pier_lang pier_lang_from_env(void)
{
	/* POSIX precedence: the first of these that is set and not empty decides. */
	static const char *const vars[] = { "LC_ALL", "LC_MESSAGES", "LANG" };

	for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
		const char *v = getenv(vars[i]);

		if (v == NULL || v[0] == '\0')
			continue;
		return strncmp(v, "zh", 2) == 0 ? PIER_LANG_ZH : PIER_LANG_EN;
	}
	return PIER_LANG_EN;
}

const char *pier_login_status_text(int status, enum pier_lang lang)
{
	static const struct text texts[] = {
		{ "Wrong password", "密码错误" },   /* -1 */
		{ "No such user", "用户名不存在" }, /* 0 */
		{ "Logged in", "登录成功" },        /* 1 */
	};

	if (status < PIER_LOGIN_WRONG_PASSWORD || status > PIER_LOGIN_OK)
		return pick(&unknown_status, lang);
	return pick(&texts[status - PIER_LOGIN_WRONG_PASSWORD], lang);
}

const char *pier_register_status_text(int status, enum pier_lang lang)
{
	static const struct text texts[] = {
		{ "User name already exists", "用户名已存在" },           /* 2 */
		{ "Registered", "注册成功" },                             /* 3 */
		{ "User name or password too short", "账号或密码过短" }, /* 4 */
		{ "Invalid user name or password", "账号或密码无效" },    /* 5 */
	};

	if (status < PIER_REGISTER_NAME_TAKEN || status > PIER_REGISTER_INVALID)
		return pick(&unknown_status, lang);
	return pick(&texts[status - PIER_REGISTER_NAME_TAKEN], lang);
}

static const struct text error_texts[PIER_ERR_COUNT] = {
	[PIER_ERR_BAD_JSON] = { "The request is not a JSON object", "请求不是 JSON 对象" },
	[PIER_ERR_BAD_UTF8] = { "The request is not valid UTF-8", "请求不是有效的 UTF-8" },
	[PIER_ERR_LINE_TOO_LONG] = { "The request is too long", "请求过长" },
	[PIER_ERR_BAD_REQUEST] = { "Malformed request", "请求格式错误" },
	[PIER_ERR_UNKNOWN_OP] = { "Unknown request", "未知请求" },
	[PIER_ERR_NOT_LOGGED_IN] = { "Not logged in", "尚未登录" },
	[PIER_ERR_ALREADY_LOGGED_IN] = { "Already logged in", "已经登录" },
	[PIER_ERR_BAD_TARGET] = { "Not a room (#room) or a user (@user)", "目标不是聊天室 (#room) 或用户 (@user)" },
	[PIER_ERR_BAD_ROOM] = { "Invalid room name", "聊天室名称无效" },
	[PIER_ERR_NO_SUCH_USER] = { "No such user", "用户名不存在" },
	[PIER_ERR_NO_SUCH_ROOM] = { "No such room", "聊天室不存在" },
	[PIER_ERR_NOT_MEMBER] = { "You are not in that room", "你不在该聊天室中" },
	[PIER_ERR_NO_SUCH_MEDIA] = { "No such file, or not one you may send", "没有该文件，或你无权发送" },
	[PIER_ERR_CANNOT_PART] = { "You cannot leave #lobby", "不能退出 #lobby" },
	[PIER_ERR_TOO_MANY_ROOMS] = { "Too many rooms: leave one first, or try later",
	                              "聊天室太多：请先退出一个，或稍后再试" },
	[PIER_ERR_EMPTY_MESSAGE] = { "The message is empty", "消息为空" },
	[PIER_ERR_MESSAGE_TOO_LONG] = { "The message is too long", "消息过长" },
	[PIER_ERR_RATE_LIMITED] = { "Too many requests; try again later", "请求过于频繁，请稍后再试" },
	[PIER_ERR_BUSY] = { "The server is busy; try again", "服务器繁忙，请重试" },
	[PIER_ERR_TOO_MANY_CONNECTIONS] = { "Too many connections from your address", "来自你的地址的连接过多" },
	[PIER_ERR_LOGIN_TIMEOUT] = { "Login took too long", "登录超时" },
	[PIER_ERR_SLOW_CONSUMER] = { "Disconnected: the client fell behind", "客户端接收过慢，连接已断开" },
	[PIER_ERR_SHUTTING_DOWN] = { "The server is shutting down", "服务器正在关闭" },
	[PIER_ERR_STORE_FAILED] = { "The server could not store it; nothing was saved", "服务器存储失败，未保存任何内容" },
	[PIER_ERR_INTERNAL] = { "Internal server error (a bug)", "服务器内部错误" },
	[PIER_ERR_BAD_NAME] = { "Invalid user name", "用户名无效" },
	[PIER_ERR_BAD_PASSWORD] = { "Invalid password", "密码无效" },
	[PIER_ERR_BAD_TOKEN] = { "The saved session is no longer valid", "登录凭证已失效" },
	[PIER_ERR_LOGGED_OUT] = { "Logged out: this session was ended from another device or by a password change",
	                          "已登出：此会话已在其他设备上结束，或密码已更改" },
	[PIER_ERR_WRONG_PASSWORD] = { "Wrong password", "密码错误" },
	[PIER_ERR_TOO_SHORT] = { "The password is too short (at least 6 characters)", "密码过短（至少 6 个字符）" },
	[PIER_ERR_BAD_DISPLAY] = { "Display names are 1-32 letters, marks, digits and single spaces, in one script, "
	                           "without control or bidi characters, and not like another user's name",
	                           "显示名称须为 1 到 32 个字母、附加符号、数字或单个空格，使用同一种文字，"
	                           "不含控制或双向控制字符，且不能与其他用户名相似" },
	[PIER_ERR_BAD_TOPIC] = { "Topics are at most 256 bytes, without control or bidi characters",
	                         "话题最多 256 字节，且不能包含控制或双向控制字符" },
	[PIER_ERR_FORBIDDEN] = { "Not allowed", "不允许该操作" },
	[PIER_ERR_CID_CONFLICT] = { "That message id was already used for another conversation; nothing was sent",
	                            "该消息编号已用于另一个会话，消息未发送" },
	[PIER_ERR_NO_SUCH_MESSAGE] = { "No such message, or not one you can see", "消息不存在，或你无权查看" },
	[PIER_ERR_NOT_OWN_MESSAGE] = { "That is not your message", "这不是你发送的消息" },
	[PIER_ERR_RECALL_EXPIRED] = { "Too late to recall that message", "已超过可撤回的时间" },
	[PIER_ERR_MESSAGE_RECALLED] = { "That message was recalled", "该消息已被撤回" },
	[PIER_ERR_BAD_EMOJI] = { "Not a reaction (one short emoji, no spaces or control characters)",
	                         "无效的表情回应（应为一个简短的表情，不含空格或控制字符）" },
	[PIER_ERR_TOO_MANY_REACTIONS] = { "That message has as many different reactions as it may have",
	                                  "该消息的表情回应种类已达上限" },
	[PIER_ERR_QUERY_TOO_SHORT] = { "Nothing to search for: type a word of two or more letters, or a Chinese, Japanese or Korean character",
	                               "没有可搜索的内容：请输入至少两个字母的词，或一个中文、日文或韩文字符" },
	[PIER_ERR_QUERY_TOO_LONG] = { "The search is too long (at most 256 bytes and 16 words)",
	                              "搜索内容过长（最多 256 字节、16 个词）" },
	[PIER_ERR_E2EE_REQUIRED] = { "This conversation is end-to-end encrypted: use a client that encrypts",
	                             "此会话为端到端加密：请使用支持加密的客户端" },
	[PIER_ERR_NO_DEVICE] = { "No encryption device: this session has none, or the recipient has none",
	                         "没有加密设备：此会话或收件人尚无设备" },
	[PIER_ERR_BAD_ENVELOPE] = { "A malformed or oversized encrypted message; nothing was sent",
	                            "加密消息格式错误或过大，未发送" },
	[PIER_ERR_QUEUE_FULL] = { "A device has too many undelivered messages; nothing was sent",
	                          "某设备待接收的消息过多，未发送" },
	[PIER_ERR_DEVICES_CHANGED] = { "The devices changed: encrypting again", "设备已变更，正在重新加密" },
	[PIER_ERR_BAD_SIGNATURE] = { "A signature did not verify", "签名验证失败" },
	[PIER_ERR_DEVICE_EXISTS] = { "That device id is taken", "该设备编号已被占用" },
	[PIER_ERR_TOO_MANY_DEVICES] = { "Too many devices: remove one first", "设备过多：请先移除一个" },
	[PIER_ERR_ALREADY_HAS_DEVICE] = { "This session already speaks for a device", "此会话已绑定一个设备" },
	[PIER_ERR_NO_SUCH_DEVICE] = { "No such device", "设备不存在" },
	[PIER_ERR_DEVICE_REVOKED] = { "This device was removed from the account", "此设备已从账号中移除" },
	[PIER_ERR_BAD_LIST] = { "The device list is malformed or does not fit the account", "设备列表格式错误或与账号不符" },
	[PIER_ERR_STALE_VERSION] = { "The device list changed meanwhile: fetch it and try again",
	                             "设备列表已被更新：请重新获取后再试" },
	[PIER_ERR_RESET_NEEDS_PASSWORD] = { "Resetting the encryption identity needs a login with the password",
	                                    "重置加密身份需要使用密码登录" },
};

const char *pier_error_text(const char *code, enum pier_lang lang)
{
	enum pier_error err = pier_error_from_name(code);

	if (err == PIER_ERR_COUNT || error_texts[err].en == NULL)
		return NULL;
	return pick(&error_texts[err], lang);
}
