// i18n.js - the interface's words in English and Chinese, chosen by navigator.languages.
// t('key', {name: 'x'}) fills {name}; a missing key falls back to English, then to the key.

import * as e2ee from './i18n-e2ee.js';
import * as social from './i18n-social.js';

const en = {
	'app.name': 'pier',
	'boot.connecting': 'Connecting…',

	'login.title': 'Welcome to pier',
	'login.subtitle': 'Log in, or register a new account.',
	'login.user': 'User name',
	'login.password': 'Password',
	'login.login': 'Log in',
	'login.register': 'Register',
	'login.rules': 'Names: 6–32 letters, digits, _ - . · Passwords: 6 characters or more.',
	'login.working': 'One moment…',
	'login.expired': 'Your session has ended. Please log in again.',
	'login.loggedOut': 'You have logged out.',
	'login.loggedOutAll': 'You have logged out on every device.',
	'login.loggedOutTab': 'You logged out in another tab of this browser.',
	'login.revoked': 'You were logged out from another device or by a password change.',

	// the report's status codes (login: -1, 0, 1; register: 2, 3, 4)
	'status.-1': 'Wrong password.',
	'status.0': 'No such user.',
	'status.1': 'Logged in.',
	'status.2': 'That user name is already taken.',
	'status.3': 'Registered! You can log in now.',
	'status.4': 'User name or password too short (6 characters at least).',

	'err.bad_name': 'A user name may only use letters, digits, _ - . and at most 32 of them.',
	'err.bad_password': 'That password is too long (1024 bytes at most).',
	'err.bad_token': 'Your session has ended. Please log in again.',
	'err.logged_out': 'You were logged out from another device or by a password change.',
	'err.wrong_password': 'The current password is wrong.',
	'err.too_short': 'The new password is too short (6 characters at least).',
	'err.rate_limited': 'Too many attempts. Try again in {s} s.',
	'err.busy': 'The server is busy. Please try again.',
	'err.offline': 'Cannot reach the server.',
	'err.timeout': 'The server did not answer in time.',
	'err.not_member': 'You are not in that room.',
	'err.no_such_user': 'There is no such user.',
	'err.no_such_room': 'There is no such room.',
	'err.bad_room': 'Room names are # and 1–32 letters, digits, _ - .',
	'err.bad_target': 'That is not a room or a user.',
	'err.cannot_part': 'Everyone stays in #lobby.',
	'err.too_many_rooms': 'Too many rooms: leave one first, or try later.',
	'err.empty_message': 'The message is empty.',
	'err.message_too_long': 'The message is too long (16 KiB at most).',
	'err.store_failed': 'The server could not store that. Nothing was saved.',
	'err.cid_conflict': 'That message id was already used for another conversation. Nothing was sent.',
	'err.no_such_media': 'That file is not available.',
	'err.shutting_down': 'The server is restarting.',
	'err.internal': 'The server hit a bug. Please report it.',
	'err.generic': 'Something went wrong ({code}).',
	'err.required': 'Please enter a user name and a password.',

	'conn.connecting': 'Connecting…',
	'conn.syncing': 'Catching up…',
	'conn.offline': 'Offline. Reconnecting in {s} s…',
	'conn.offlineNow': 'Offline. Reconnecting…',
	'conn.retry': 'Retry now',
	'conn.online': 'Connected',
	'conn.pillOffline': 'Offline',

	'side.rooms': 'Rooms',
	'side.private': 'Private chats',
	'side.join': 'Join or create a room, or chat with @user',
	'side.joinPlaceholder': '#room or @user',
	'side.joinButton': 'Join',
	'side.browse': 'All rooms',
	'side.browseEmpty': 'No other rooms yet.',
	'side.moreRooms': 'More rooms ({n} in all)',
	'side.members': '{n} members',
	'side.member1': '1 member',
	'side.noPrivate': 'Click a name in the online list, or type @name after +, to start a private chat.',
	'side.badUser': 'User names are 6–32 letters, digits, _ - .',
	'side.self': 'That is you.',
	'side.noUser': 'There is no user named “{name}”.',
	'side.created': 'Created {room}.',
	'side.joined': 'Joined {room}.',
	'side.unread': '{n} unread',
	'side.conversations': 'Conversations',
	'side.me': 'Logged in as {name}',

	'users.title': 'Online',
	'users.you': 'you',
	'users.chatWith': 'Private chat with {name}',
	'users.more': '{n} more online (not your contacts)',
	'users.none': 'Nobody else is online.',
	'users.notListed': '{n} more online (not listed)',
	'users.showAll': 'Show everyone online',
	'users.refresh': 'Refresh',
	'users.loading': 'Loading…',

	'conv.private': 'Private conversation',
	'conv.room': 'Room',
	'conv.leave': 'Leave',
	'conv.leaveTitle': 'Leave {room}',
	'conv.leaveConfirm': 'Leave {room}? You can join it again later.',
	'conv.close': 'Close',
	'conv.closeTitle': 'Hide this conversation from the list',
	'conv.menu': 'Conversations',
	'conv.people': 'Who is online',
	'conv.choose': 'Choose a conversation on the left.',

	'msg.today': 'Today',
	'msg.yesterday': 'Yesterday',
	'msg.loadingOlder': 'Loading older messages…',
	'msg.beginning': 'This is the beginning of {conv}.',
	'msg.beginningPrivate': 'This is the beginning of your private conversation with {name}.',
	'msg.sending': 'Sending…',
	'msg.queued': 'Waiting for the connection…',
	'msg.failed': 'Not sent: {reason}',
	'msg.retry': 'Retry',
	'msg.discard': 'Discard',
	'msg.privateTag': 'Private',
	'msg.you': 'You',
	'msg.new': 'New messages',
	'msg.new1': '1 new message',
	'msg.newN': '{n} new messages',
	'msg.region': 'Messages',
	'msg.announce': '{name}: {text}',
	'msg.jump': 'Jump to the newest',
	'msg.actions': 'Message actions',
	'msg.actionsOf': 'Actions for the message from {name}',
	'msg.reply': 'Reply',
	'msg.edit': 'Edit',
	'msg.recall': 'Recall',
	'msg.recallHint': 'Take it back for everyone (within {n} min of sending)',
	'msg.copy': 'Copy text',
	'msg.copied': 'Copied.',
	'msg.copyFailed': 'The browser did not allow copying.',
	'msg.react': 'React',
	'msg.reactWith': 'React with {emoji}',
	'msg.moreReactions': 'More reactions…',
	'msg.reactions': 'Reactions',
	'msg.reactedBy': '{emoji} {n}: {names}',
	'msg.namesMore': '{names} and {more} more',
	'msg.namesSep': ', ',
	'msg.recalledMe': 'You recalled a message',
	'msg.recalledBy': '{name} recalled a message',
	'msg.edited': '(edited)',
	'msg.quoteRecalled': 'The original message was recalled',
	'msg.quoteOpen': 'Reply to {name}: {text}. Show the original message',
	'msg.kind.image': 'Photo',
	'msg.kind.video': 'Video',
	'msg.kind.audio': 'Audio',
	'msg.kind.file': 'File',
	'msg.notFound': 'The original message is not available.',
	'msg.mentionsYou': 'Mentions you',

	'composer.room': 'Message {conv}',
	'composer.private': 'Private message to {name}',
	'composer.hint': 'Enter to send · Shift+Enter for a new line',
	'composer.attach': 'Attach files',
	'composer.send': 'Send',
	'composer.drop': 'Drop files to send them to {conv}',
	'composer.tooLong': 'The message is too long (16 KiB at most).',
	'composer.edit': 'Edit',
	'composer.sendAsWritten': 'Send to {conv} as written',
	'composer.askWord': '“~{word}” is not a user name, so this is not a private message.',
	'composer.askNoUser': 'There is no user named “{name}”, so this is not a private message.',
	'composer.noUser': 'There is no user named “{name}”. Nothing was sent.',
	'composer.checking': 'Looking for {name}…',
	'composer.sentPrivate': 'Sent privately to {name}.',
	'composer.left': 'Left {room}.',
	'composer.unknown': 'Unknown command /{name}: nothing was sent. /help lists the commands; //{name} sends it as text.',
	'composer.usage.msg': 'Usage: /msg USER TEXT',
	'composer.usage.join': 'Usage: /join #ROOM',
	'composer.usage.part': 'Usage: /part #ROOM (in a room: /part leaves it)',
	'composer.usage.tilde': 'Write the message before the ~: text~user',
	'composer.replyTo': 'Replying to {name}',
	'composer.cancelReply': 'Cancel the reply',
	'composer.editing': 'Editing your message',
	'composer.cancelEdit': 'Cancel editing',
	'composer.editHint': 'Enter to save · Esc to cancel',
	'composer.save': 'Save',
	'composer.saved': 'Edited.',
	'composer.replyGone': 'The message you were replying to was recalled.',
	'composer.editGone': 'The message you were editing was recalled.',
	'composer.mentions': 'People to mention',

	'help.title': 'Commands',
	'help.close': 'Close the list of commands',
	'help.tilde': 'text~user',
	'help.tildeWhat': 'send text privately to user',
	'help.msg': '/msg USER TEXT',
	'help.msgWhat': 'send TEXT privately to USER',
	'help.join': '/join #ROOM',
	'help.joinWhat': 'join (or create) a room and go there',
	'help.part': '/part [#ROOM]',
	'help.partWhat': 'leave a room (without #ROOM: this one)',
	'help.help': '/help',
	'help.helpWhat': 'this list',
	'help.slash': '//text',
	'help.slashWhat': 'send text that starts with /',
	'help.at': '+ then @user',
	'help.atWhat': 'a private chat with anyone, online or not',
	'help.mention': '@name',
	'help.mentionWhat': 'mention someone in a room (they are notified); Tab completes',
	'help.up': '↑ in an empty box',
	'help.upWhat': 'edit your last message',

	'upload.preparing': 'Preparing…',
	'upload.uploading': '{done} of {total}',
	'upload.resuming': 'Connection lost. Resuming…',
	'upload.sending': 'Sending…',
	'upload.failed': 'Upload failed: {reason}',
	'upload.cancel': 'Cancel upload',
	'upload.dismiss': 'Dismiss',
	'upload.tooLarge': 'the file is too large',
	'upload.quota': 'your storage quota is full',
	'upload.empty': 'the file is empty',

	'media.open': 'Open {name} full size',
	'media.download': 'Download',
	'media.close': 'Close',
	'media.unavailable': 'This file is not available.',

	'menu.logout': 'Log out',
	'menu.account': 'Account: display name, password, log out everywhere',

	'account.title': 'Account',
	'account.close': 'Close',
	'account.password': 'Change password',
	'account.passwordHint': 'Your other logins end; this one stays.',
	'account.current': 'Current password',
	'account.new': 'New password',
	'account.again': 'New password again',
	'account.change': 'Change password',
	'account.working': 'One moment…',
	'account.required': 'Please fill in all three fields.',
	'account.mismatch': 'The new passwords do not match.',
	'account.changed0': 'Password changed. There were no other logins to end.',
	'account.changed1': 'Password changed. 1 other login was ended.',
	'account.changedN': 'Password changed. {n} other logins were ended.',
	'account.everywhere': 'Log out everywhere',
	'account.everywhereHint': 'Ends every login of yours, on every device, this one included.',
	'account.everywhereAsk': 'Log out on every device, this one included?',
	'account.everywhereYes': 'Yes, log out everywhere',
	'account.cancel': 'Cancel',
	'menu.notify': 'Enable notifications',
	'menu.notifyOn': 'Notifications are on',
	'menu.notifyDenied': 'Notifications are blocked in the browser settings',
	'notify.private': '{name} (private)',
	'notify.file': 'Sent a file: {name}',
	'notify.mention': '{name} mentioned you in {conv}',
	'side.mentions': '{n} unread mentioning you',
	'picker.title': 'Add a reaction',
	'picker.custom': 'Or type a reaction',
	'picker.add': 'Add',
	'picker.close': 'Close',
	'picker.bad': 'A reaction is 1 to 10 characters (32 bytes at most), without spaces.',
	'err.no_such_message': 'That message is not there any more, or not one you can see.',
	'err.not_own_message': 'That message is not yours.',
	'err.recall_expired': 'Too late to recall: messages can be recalled for {n} s after they are sent.',
	'err.recall_off': 'Recalling messages is turned off on this server.',
	'err.message_recalled': 'That message was recalled.',
	'err.bad_emoji': 'That is not a reaction: 1 to 10 characters, without spaces.',
	'err.too_many_reactions': 'This message has as many different reactions as it may have ({limit}).',

	'search.open': 'Search messages',
	'search.openTitle': 'Search messages (Ctrl+K)',
	'search.title': 'Search messages',
	'search.label': 'Search for',
	'search.placeholder': 'Words, or Chinese, Japanese, Korean text…',
	'search.scope': 'Where to search',
	'search.everywhere': 'All conversations',
	'search.inRoom': 'Only in {room}',
	'search.withUser': 'Only with {name}',
	'search.go': 'Search',
	'search.results': 'Search results',
	'search.searching': 'Searching…',
	'search.none': 'No messages match “{q}”.',
	'search.one': '1 message',
	'search.count': '{n} messages',
	'search.countMore': '{n} messages so far; older ones below',
	'search.more': 'Older results',
	'search.close': 'Close',
	'search.notLoaded': 'That message is too far back to show here.',
	'err.query_too_short': 'Type a word of two or more letters, or a Chinese, Japanese or Korean character.',
	'err.query_too_long': 'That is too long to search for (256 bytes and 16 words at most).',
};

const zh = {
	'boot.connecting': '正在连接…',

	'login.title': '欢迎来到 pier',
	'login.subtitle': '登录，或注册一个新账号。',
	'login.user': '用户名',
	'login.password': '密码',
	'login.login': '登录',
	'login.register': '注册',
	'login.rules': '用户名：6–32 个字母、数字或 _ - . · 密码：至少 6 个字符。',
	'login.working': '请稍候…',
	'login.expired': '会话已失效，请重新登录。',
	'login.loggedOut': '已退出登录。',
	'login.loggedOutAll': '已在所有设备上退出登录。',
	'login.loggedOutTab': '你已在此浏览器的另一个标签页中退出登录。',
	'login.revoked': '由于在其他设备上的操作或密码修改，你已退出登录。',

	// 报告中的状态码文字
	'status.-1': '密码错误',
	'status.0': '用户名不存在',
	'status.1': '登录成功',
	'status.2': '用户名已存在',
	'status.3': '注册成功',
	'status.4': '账号或密码过短',

	'err.bad_name': '用户名只能包含字母、数字和 _ - .，最多 32 个字符。',
	'err.bad_password': '密码过长（最多 1024 字节）。',
	'err.bad_token': '会话已失效，请重新登录。',
	'err.logged_out': '由于在其他设备上的操作或密码修改，你已退出登录。',
	'err.wrong_password': '当前密码错误。',
	'err.too_short': '新密码过短（至少 6 个字符）。',
	'err.rate_limited': '尝试次数过多，请 {s} 秒后再试。',
	'err.busy': '服务器繁忙，请重试。',
	'err.offline': '无法连接服务器。',
	'err.timeout': '服务器响应超时。',
	'err.not_member': '你不在这个群聊中。',
	'err.no_such_user': '没有这个用户。',
	'err.no_such_room': '没有这个群聊。',
	'err.bad_room': '群聊名称为 # 加 1–32 个字母、数字或 _ - .',
	'err.bad_target': '这不是群聊或用户。',
	'err.cannot_part': '所有人都留在 #lobby。',
	'err.too_many_rooms': '聊天室太多：请先退出一个，或稍后再试。',
	'err.empty_message': '消息为空。',
	'err.message_too_long': '消息过长（最多 16 KiB）。',
	'err.store_failed': '服务器无法保存，未做任何更改。',
	'err.cid_conflict': '该消息编号已用于另一个会话，消息未发送。',
	'err.no_such_media': '该文件不可用。',
	'err.shutting_down': '服务器正在重启。',
	'err.internal': '服务器出错，请报告此问题。',
	'err.generic': '出错了（{code}）。',
	'err.required': '请输入用户名和密码。',

	'conn.connecting': '正在连接…',
	'conn.syncing': '正在同步…',
	'conn.offline': '离线，{s} 秒后重新连接…',
	'conn.offlineNow': '离线，正在重新连接…',
	'conn.retry': '立即重试',
	'conn.online': '已连接',
	'conn.pillOffline': '离线',

	'side.rooms': '群聊',
	'side.private': '私聊',
	'side.join': '加入或创建群聊，或用 @用户名 私聊',
	'side.joinPlaceholder': '#群聊 或 @用户名',
	'side.joinButton': '加入',
	'side.browse': '所有群聊',
	'side.browseEmpty': '还没有其他群聊。',
	'side.moreRooms': '更多群聊（共 {n} 个）',
	'side.members': '{n} 位成员',
	'side.member1': '1 位成员',
	'side.noPrivate': '点击在线列表中的名字，或在 + 中输入 @用户名，即可开始私聊。',
	'side.badUser': '用户名为 6–32 个字母、数字或 _ - .',
	'side.self': '这是你自己。',
	'side.noUser': '没有名为“{name}”的用户。',
	'side.created': '已创建 {room}。',
	'side.joined': '已加入 {room}。',
	'side.unread': '{n} 条未读',
	'side.conversations': '会话',
	'side.me': '当前用户：{name}',

	'users.title': '在线',
	'users.you': '你',
	'users.chatWith': '与 {name} 私聊',
	'users.more': '另有 {n} 人在线（非联系人）',
	'users.none': '没有其他人在线。',
	'users.notListed': '另有 {n} 人在线（未列出）',
	'users.showAll': '显示所有在线用户',
	'users.refresh': '刷新',
	'users.loading': '加载中…',

	'conv.private': '私聊',
	'conv.room': '群聊',
	'conv.leave': '退出',
	'conv.leaveTitle': '退出 {room}',
	'conv.leaveConfirm': '确定退出 {room}？之后可以再加入。',
	'conv.close': '关闭',
	'conv.closeTitle': '从列表中隐藏此会话',
	'conv.menu': '会话',
	'conv.people': '在线用户',
	'conv.choose': '请在左侧选择一个会话。',

	'msg.today': '今天',
	'msg.yesterday': '昨天',
	'msg.loadingOlder': '正在加载更早的消息…',
	'msg.beginning': '这是 {conv} 的开始。',
	'msg.beginningPrivate': '这是你与 {name} 私聊的开始。',
	'msg.sending': '发送中…',
	'msg.queued': '等待连接…',
	'msg.failed': '发送失败：{reason}',
	'msg.retry': '重试',
	'msg.discard': '丢弃',
	'msg.privateTag': '私聊',
	'msg.you': '你',
	'msg.new': '新消息',
	'msg.new1': '1 条新消息',
	'msg.newN': '{n} 条新消息',
	'msg.region': '消息',
	'msg.announce': '{name}：{text}',
	'msg.jump': '跳到最新',
	'msg.actions': '消息操作',
	'msg.actionsOf': '{name} 的消息的操作',
	'msg.reply': '回复',
	'msg.edit': '编辑',
	'msg.recall': '撤回',
	'msg.recallHint': '为所有人撤回（发送后 {n} 分钟内）',
	'msg.copy': '复制文字',
	'msg.copied': '已复制。',
	'msg.copyFailed': '浏览器不允许复制。',
	'msg.react': '表情回应',
	'msg.reactWith': '用 {emoji} 回应',
	'msg.moreReactions': '更多表情…',
	'msg.reactions': '表情回应',
	'msg.reactedBy': '{emoji} {n}：{names}',
	'msg.namesMore': '{names} 等 {n} 人',
	'msg.namesSep': '、',
	'msg.recalledMe': '你撤回了一条消息',
	'msg.recalledBy': '{name} 撤回了一条消息',
	'msg.edited': '（已编辑）',
	'msg.quoteRecalled': '原消息已撤回',
	'msg.quoteOpen': '回复 {name}：{text}。查看原消息',
	'msg.kind.image': '图片',
	'msg.kind.video': '视频',
	'msg.kind.audio': '语音',
	'msg.kind.file': '文件',
	'msg.notFound': '找不到原消息。',
	'msg.mentionsYou': '有人@我',

	'composer.room': '发送到 {conv}',
	'composer.private': '私聊 {name}',
	'composer.hint': 'Enter 发送 · Shift+Enter 换行',
	'composer.attach': '添加文件',
	'composer.send': '发送',
	'composer.drop': '拖放文件以发送到 {conv}',
	'composer.tooLong': '消息过长（最多 16 KiB）。',
	'composer.edit': '修改',
	'composer.sendAsWritten': '按原样发送到 {conv}',
	'composer.askWord': '“~{word}”不是用户名，所以这不是私聊。',
	'composer.askNoUser': '没有名为“{name}”的用户，所以这不是私聊。',
	'composer.noUser': '没有名为“{name}”的用户，消息未发送。',
	'composer.checking': '正在查找 {name}…',
	'composer.sentPrivate': '已私聊发送给 {name}。',
	'composer.left': '已退出 {room}。',
	'composer.unknown': '未知命令 /{name}，消息未发送。输入 /help 查看命令；//{name} 可作为文字发送。',
	'composer.usage.msg': '用法：/msg 用户名 文字',
	'composer.usage.join': '用法：/join #群聊',
	'composer.usage.part': '用法：/part #群聊（在群聊中直接输入 /part 即退出该群聊）',
	'composer.usage.tilde': '请在 ~ 前写消息：文字~用户名',
	'composer.replyTo': '回复 {name}',
	'composer.cancelReply': '取消回复',
	'composer.editing': '编辑你的消息',
	'composer.cancelEdit': '取消编辑',
	'composer.editHint': 'Enter 保存 · Esc 取消',
	'composer.save': '保存',
	'composer.saved': '已编辑。',
	'composer.replyGone': '你回复的消息已被撤回。',
	'composer.editGone': '你正在编辑的消息已被撤回。',
	'composer.mentions': '可以@的人',

	'help.title': '命令',
	'help.close': '关闭命令列表',
	'help.tilde': '文字~用户名',
	'help.tildeWhat': '私聊：把文字发给该用户',
	'help.msg': '/msg 用户名 文字',
	'help.msgWhat': '私聊：把文字发给该用户',
	'help.join': '/join #群聊',
	'help.joinWhat': '加入（或创建）群聊并切换过去',
	'help.part': '/part [#群聊]',
	'help.partWhat': '退出群聊（不写 #群聊：退出当前群聊）',
	'help.help': '/help',
	'help.helpWhat': '显示此列表',
	'help.slash': '//文字',
	'help.slashWhat': '发送以 / 开头的文字',
	'help.at': '+ 后输入 @用户名',
	'help.atWhat': '与任何人私聊，无论是否在线',
	'help.mention': '@用户名',
	'help.mentionWhat': '在群聊中提到某人（对方会收到通知）；Tab 补全',
	'help.up': '输入框为空时按 ↑',
	'help.upWhat': '编辑你的上一条消息',

	'upload.preparing': '准备中…',
	'upload.uploading': '{done} / {total}',
	'upload.resuming': '连接中断，正在续传…',
	'upload.sending': '发送中…',
	'upload.failed': '上传失败：{reason}',
	'upload.cancel': '取消上传',
	'upload.dismiss': '关闭',
	'upload.tooLarge': '文件过大',
	'upload.quota': '存储空间已满',
	'upload.empty': '文件为空',

	'media.open': '查看原图：{name}',
	'media.download': '下载',
	'media.close': '关闭',
	'media.unavailable': '该文件不可用。',

	'menu.logout': '退出登录',
	'menu.account': '账号：显示名称、修改密码、在所有设备上退出',

	'account.title': '账号',
	'account.close': '关闭',
	'account.password': '修改密码',
	'account.passwordHint': '其他设备上的登录将被结束，本次登录保留。',
	'account.current': '当前密码',
	'account.new': '新密码',
	'account.again': '再次输入新密码',
	'account.change': '修改密码',
	'account.working': '请稍候…',
	'account.required': '请填写全部三项。',
	'account.mismatch': '两次输入的新密码不一致。',
	'account.changed0': '密码已修改。没有其他需要结束的登录。',
	'account.changed1': '密码已修改。已结束 1 处其他登录。',
	'account.changedN': '密码已修改。已结束 {n} 处其他登录。',
	'account.everywhere': '在所有设备上退出',
	'account.everywhereHint': '结束你在所有设备上的登录，包括本设备。',
	'account.everywhereAsk': '确定在所有设备上退出登录（包括本设备）？',
	'account.everywhereYes': '确定，全部退出',
	'account.cancel': '取消',
	'menu.notify': '开启通知',
	'menu.notifyOn': '通知已开启',
	'menu.notifyDenied': '通知已在浏览器设置中被禁止',
	'notify.private': '{name}（私聊）',
	'notify.file': '发送了文件：{name}',
	'notify.mention': '{name} 在 {conv} 中提到了你',
	'side.mentions': '{n} 条未读消息提到了你',
	'picker.title': '添加表情回应',
	'picker.custom': '或输入一个表情',
	'picker.add': '添加',
	'picker.close': '关闭',
	'picker.bad': '表情回应为 1–10 个字符（最多 32 字节），不能有空格。',
	'err.no_such_message': '该消息已不存在，或你无权查看。',
	'err.not_own_message': '这不是你的消息。',
	'err.recall_expired': '已超过可撤回时间：消息发送 {n} 秒内才能撤回。',
	'err.recall_off': '此服务器已关闭撤回功能。',
	'err.message_recalled': '该消息已被撤回。',
	'err.bad_emoji': '这不是有效的表情回应：1–10 个字符，不能有空格。',
	'err.too_many_reactions': '这条消息的表情回应种类已达上限（{limit} 种）。',

	'search.open': '搜索消息',
	'search.openTitle': '搜索消息 (Ctrl+K)',
	'search.title': '搜索消息',
	'search.label': '搜索内容',
	'search.placeholder': '输入词语，中文、日文、韩文均可…',
	'search.scope': '搜索范围',
	'search.everywhere': '所有会话',
	'search.inRoom': '仅在 {room}',
	'search.withUser': '仅与 {name} 的私聊',
	'search.go': '搜索',
	'search.results': '搜索结果',
	'search.searching': '正在搜索…',
	'search.none': '没有消息匹配“{q}”。',
	'search.one': '1 条消息',
	'search.count': '{n} 条消息',
	'search.countMore': '已找到 {n} 条消息，更早的见下方',
	'search.more': '更早的结果',
	'search.close': '关闭',
	'search.notLoaded': '该消息太早，无法在此显示。',
	'err.query_too_short': '请输入至少两个字母的词，或一个中文、日文或韩文字符。',
	'err.query_too_long': '搜索内容过长（最多 256 字节、16 个词）。',
};

Object.assign(en, social.en);
Object.assign(zh, social.zh);
Object.assign(en, e2ee.en);
Object.assign(zh, e2ee.zh);
const dicts = { en, zh };

function pick() {
	const langs = navigator.languages && navigator.languages.length ? navigator.languages
		: [navigator.language || 'en'];
	for (const l of langs) {
		const base = String(l).toLowerCase().split('-')[0];
		if (dicts[base])
			return { lang: base, tag: l };
	}
	return { lang: 'en', tag: 'en' };
}

const chosen = pick();
/** 'en' or 'zh' */
export const lang = chosen.lang;
/** the BCP 47 tag used for dates and numbers (e.g. zh-CN, en-GB) */
export const locale = chosen.tag;

export function t(key, vars) {
	let s = dicts[lang][key] ?? en[key] ?? key;
	if (vars)
		s = s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
	return s;
}

/** Text for an error code from the server (or 'offline', 'timeout'). */
export function errorText(code, extra) {
	if (code === 'rate_limited')
		return t('err.rate_limited', { s: Math.max(1, Math.ceil((extra?.retry_after_ms ?? 1000) / 1000)) });
	if (code === 'recall_expired')
		return extra?.window_s > 0 ? t('err.recall_expired', { n: Math.round(extra.window_s) }) : t('err.recall_off');
	if (code === 'too_many_reactions')
		return t('err.too_many_reactions', { limit: extra?.limit ?? 20 });
	if (code === 'e2ee_required')
		return t('err.e2ee_required', { name: extra?.name ?? '' });
	const key = 'err.' + code;
	// a refusal with a reason (bad_display, bad_topic) has a text per reason
	const why = key + '.' + extra?.reason;
	if (typeof extra?.reason === 'string' && (dicts[lang][why] ?? en[why]) !== undefined)
		return t(why);
	if ((dicts[lang][key] ?? en[key]) !== undefined)
		return t(key);
	return t('err.generic', { code: code || '?' });
}

const timeFmt = new Intl.DateTimeFormat(locale, { hour: 'numeric', minute: '2-digit' });
const fullFmt = new Intl.DateTimeFormat(locale, { dateStyle: 'full', timeStyle: 'medium' });
const dayFmt = new Intl.DateTimeFormat(locale, { weekday: 'long', month: 'long', day: 'numeric' });
const dayYearFmt = new Intl.DateTimeFormat(locale,
	{ weekday: 'long', year: 'numeric', month: 'long', day: 'numeric' });

export const formatTime = ts => timeFmt.format(new Date(ts));
export const formatFull = ts => fullFmt.format(new Date(ts));

/** A local calendar day as a number (for day separators). */
export function dayKey(ts) {
	const d = new Date(ts);
	return d.getFullYear() * 10000 + (d.getMonth() + 1) * 100 + d.getDate();
}

export function formatDay(ts) {
	const now = new Date();
	const today = dayKey(now.getTime());
	const y = new Date(now.getFullYear(), now.getMonth(), now.getDate() - 1).getTime();
	const k = dayKey(ts);
	if (k === today)
		return t('msg.today');
	if (k === dayKey(y))
		return t('msg.yesterday');
	return (new Date(ts).getFullYear() === now.getFullYear() ? dayFmt : dayYearFmt).format(new Date(ts));
}

const units = ['B', 'KB', 'MB', 'GB', 'TB'];
export function formatSize(n) {
	let i = 0;
	let v = Number(n) || 0;
	while (v >= 1024 && i < units.length - 1) {
		v /= 1024;
		i++;
	}
	const digits = i === 0 || v >= 100 ? 0 : v >= 10 ? 1 : 1;
	return new Intl.NumberFormat(locale, { maximumFractionDigits: digits }).format(v) + ' ' + units[i];
}
