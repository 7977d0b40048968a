/* bench_search.c - the search scenario (bench_search.h).
 *
 * 1. The database is written with SQL in one transaction, as the pierd before search left it
 *    (the schema up to the step before the message index; store_internal.h): users (four of
 *    them search), 100 rooms, memberships, contacts and the messages, mixed text from word
 *    lists: Chinese 50%, English 20%, Chinese with English and numbers 15%, Japanese 8%,
 *    Korean 7%; 8% in #lobby, 52% in rooms, 40% private.
 * 2. The rest of the migrations run on it, the message index among them (pier's tokenizer
 *    registered as pierd does): that is how long indexing the whole history takes, and the
 *    index's pages (dbstat) are its size.
 * 3. pierd starts on the directory; the searchers log in and ask every query of the set in
 *    turn (one request at a time: latency, not throughput), several rounds. The searchers'
 *    scopes differ: one is in every room, one in 30, one in 10, one in none (only #lobby and
 *    private chats: a word found only in rooms, 机密文件, makes the server look through as many
 *    matches as it ever does for one request, STORE_SEARCH_SCAN_MAX, to find none).
 */
#include "bench_search.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>
#include <sqlite3.h>

#include "bench_server.h"
#include "bench_stats.h"
#include "names.h"
#include "pier.h"
#include "rundir.h"
#include "store_fts.h"
#include "store_internal.h"     /* store_schema_migrate_to: a database of an older version */

#define NUSERS      2000
#define NROOMS      100
#define NSEARCHERS  4
#define PASSWORD    "bench-search-pw"
#define REPLY_MS    60000
#define TEXT_MAX    512
#define ROOM_ONLY_WORD "机密文件"

static const int searcher_rooms[NSEARCHERS] = { NROOMS, 30, 10, 0 };

/* ---- text ---- */

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * UINT64_C(2685821657736338717);
}

#define PICK(s, v) ((v)[rnd(s) % (sizeof(v) / sizeof((v)[0]))])

static const char *const zh_words[] = {
	"我们", "今天", "明天", "昨天", "晚上", "电影", "会议", "项目", "工作", "朋友", "周末",
	"天气", "吃饭", "咖啡", "下班", "上班", "老板", "同事", "问题", "时间", "地方", "北京",
	"上海", "学校", "老师", "学生", "手机", "电脑", "服务器", "代码", "测试", "发布", "版本",
	"文档", "需要", "可以", "已经", "还是", "因为", "所以", "但是", "如果", "什么", "怎么",
	"大家", "一起", "开始", "结束", "看看", "觉得", "知道", "喜欢", "不错", "好的", "没有",
	"可能", "应该", "一下", "东西", "时候", "真的", "非常", "特别", "感觉", "事情", "下周",
	"早上", "中午", "下午", "火锅", "奶茶", "旅游", "机票", "酒店", "地铁", "快递", "价格",
	"便宜", "好吃", "好看", "开会", "讨论", "方案", "设计", "用户", "数据", "接口", "数据库",
	"搜索", "消息", "通知", "文件", "图片", "视频", "音乐", "游戏", "跑步", "健身", "休息",
	"生日", "快乐", "谢谢", "加油", "哈哈", "电影院", "天气预报", "你好", "中文", "翻译",
};
static const char *const zh_small[] = {
	"的", "了", "吗", "呢", "吧", "啊", "在", "是", "有", "和", "也", "都", "就", "很", "太",
	"不", "我", "你", "他", "她", "这", "那", "个", "去", "来", "说", "想", "要", "会", "能",
};
static const char *const zh_rare[] = { "熊猫", "猫咪", "长城", "故宫", "西湖", "小猫" };
static const char *const zh_punct[] = { "，", "。", "！", "？", "、", "～" };
static const char *const en_words[] = {
	"the", "meeting", "project", "deadline", "server", "deploy", "release", "bug", "fix",
	"test", "review", "tomorrow", "today", "lunch", "coffee", "movie", "weekend", "team",
	"please", "thanks", "update", "build", "notes", "docs", "api", "database", "search",
	"index", "query", "message", "room", "chat", "client", "browser", "terminal", "is", "a",
	"to", "and", "of", "in", "we", "you", "it", "for", "on", "at", "this", "that", "will",
	"can", "should", "done", "ready", "later", "now", "good", "great", "maybe", "ok", "Pier",
	"Linux", "Debian", "SQLite", "café", "naïve", "résumé", "v2.1", "2026", "PR#42",
};
static const char *const ja_words[] = {
	"今日は", "映画", "を", "見ました", "東京", "会議", "明日", "よろしく", "お願いします",
	"ありがとう", "コーヒー", "ラーメン", "仕事", "終わった", "電車", "遅れ", "です", "ます",
	"が", "に", "で", "と", "の", "新しい", "プロジェクト", "サーバー", "テスト", "週末",
};
static const char *const ko_words[] = {
	"안녕하세요", "오늘", "회의", "영화", "번역", "내일", "감사합니다", "프로젝트", "점심",
	"커피", "친구", "주말", "서버", "배포", "테스트", "문서", "정말", "좋아요", "ㅋㅋㅋ",
	"시간", "사람", "우리", "같이",
};
static const char *const ko_particles[] = { "", "", "을", "를", "이", "가", "은", "는", "에서", "도" };
static const char *const emoji[] = { "😀", "👍", "🎬", "☕", "🎉", "🙏" };

struct textbuf {
	char s[TEXT_MAX];
	size_t len;
};

static void put(struct textbuf *t, const char *w)
{
	size_t n = strlen(w);

	if (t->len + n < sizeof(t->s)) {
		memcpy(t->s + t->len, w, n);
		t->len += n;
		t->s[t->len] = '\0';
	}
}

static void zh_sentence(struct textbuf *t, uint64_t *s, bool with_english)
{
	int n = 3 + (int)(rnd(s) % 10);

	for (int i = 0; i < n; i++) {
		uint64_t r = rnd(s) % 100;

		if (r < 55)
			put(t, PICK(s, zh_words));
		else if (r < 92)
			put(t, PICK(s, zh_small));
		else if (r < 93)
			put(t, PICK(s, zh_rare));
		else if (with_english && r < 98)
			put(t, PICK(s, en_words));
		else
			put(t, PICK(s, zh_punct));
	}
	if (with_english && rnd(s) % 3 == 0) {
		char num[24];

		snprintf(num, sizeof(num), "%u", (unsigned)(rnd(s) % 10000));
		put(t, num);
		put(t, PICK(s, zh_words));
	}
	put(t, rnd(s) % 2 ? "。" : (rnd(s) % 2 ? "！" : "？"));
	if (rnd(s) % 8 == 0)
		put(t, PICK(s, emoji));
}

static void make_text(struct textbuf *t, uint64_t *s)
{
	uint64_t kind = rnd(s) % 100;
	int n;

	t->len = 0;
	t->s[0] = '\0';
	if (kind < 50) {
		zh_sentence(t, s, false);
		if (rnd(s) % 4 == 0)
			zh_sentence(t, s, false);
	} else if (kind < 70) {
		n = 4 + (int)(rnd(s) % 12);
		for (int i = 0; i < n; i++) {
			if (i > 0)
				put(t, " ");
			put(t, PICK(s, en_words));
		}
		put(t, rnd(s) % 3 ? "." : "!");
	} else if (kind < 85) {
		zh_sentence(t, s, true);
	} else if (kind < 93) {
		n = 3 + (int)(rnd(s) % 8);
		for (int i = 0; i < n; i++)
			put(t, PICK(s, ja_words));
		put(t, "。");
	} else {
		n = 3 + (int)(rnd(s) % 6);
		for (int i = 0; i < n; i++) {
			if (i > 0)
				put(t, " ");
			put(t, PICK(s, ko_words));
			put(t, PICK(s, ko_particles));
		}
	}
}

/* ---- the database ---- */

struct build {
	char tag[12];
	size_t nmsgs;
	double write_s, index_s;
	int64_t base_bytes, index_bytes, total_bytes;
	char err[512];
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void user_name(const struct build *b, int i, char *out, size_t n)
{
	snprintf(out, n, "%su%d", b->tag, i);
}

static int fail_sql(struct build *b, sqlite3 *db, const char *what)
{
	snprintf(b->err, sizeof(b->err), "%.200s: %.250s", what, sqlite3_errmsg(db));
	return -1;
}

static int exec(struct build *b, sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : fail_sql(b, db, sql);
}

static int64_t one_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s = NULL;
	int64_t v = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

static int step_reset(struct build *b, sqlite3 *db, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : fail_sql(b, db, what);
}

/* Users, rooms, memberships (searchers first: user ids 1..NSEARCHERS). */
static int write_people(struct build *b, sqlite3 *db, uint64_t *rng)
{
	char hash[crypto_pwhash_STRBYTES], name[64], key[PIER_KEY_MAX];
	sqlite3_stmt *u = NULL, *r = NULL, *m = NULL;
	int rc = -1;

	if (crypto_pwhash_str(hash, PASSWORD, strlen(PASSWORD), crypto_pwhash_OPSLIMIT_MIN,
	                      crypto_pwhash_MEMLIMIT_MIN) != 0) {
		snprintf(b->err, sizeof(b->err), "hashing the password");
		return -1;
	}
	if (sqlite3_prepare_v2(db, "INSERT INTO users(id, name, name_key, pw_hash, created) "
	                           "VALUES(?1, ?2, ?3, ?4, 0)", -1, &u, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT INTO rooms(id, name, name_key, created) VALUES(?1, ?2, ?3, 0)",
	                       -1, &r, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO members(room_id, user_id, joined) "
	                           "VALUES(?1, ?2, 0)", -1, &m, NULL) != SQLITE_OK) {
		fail_sql(b, db, "preparing");
		goto out;
	}
	for (int i = 1; i <= NUSERS; i++) {
		user_name(b, i, name, sizeof(name));
		pier_name_key(name, key);
		sqlite3_bind_int(u, 1, i);
		sqlite3_bind_text(u, 2, name, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(u, 3, key, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(u, 4, hash, -1, SQLITE_STATIC);
		if (step_reset(b, db, u, "users") != 0)
			goto out;
	}
	/* #lobby is room 1; ours are 2 .. NROOMS + 1 */
	for (int i = 0; i < NROOMS; i++) {
		snprintf(name, sizeof(name), "#%sr%d", b->tag, i);
		pier_name_key(name, key);
		sqlite3_bind_int(r, 1, i + 2);
		sqlite3_bind_text(r, 2, name, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(r, 3, key, -1, SQLITE_TRANSIENT);
		if (step_reset(b, db, r, "rooms") != 0)
			goto out;
	}
	for (int i = 1; i <= NUSERS; i++) {
		int n = i <= NSEARCHERS ? searcher_rooms[i - 1] : 3;

		for (int k = 0; k < n; k++) {
			sqlite3_bind_int(m, 1, 2 + (i <= NSEARCHERS ? k : (int)(rnd(rng) % NROOMS)));
			sqlite3_bind_int(m, 2, i);
			if (step_reset(b, db, m, "members") != 0)
				goto out;
		}
	}
	rc = 0;
out:
	sqlite3_finalize(u);
	sqlite3_finalize(r);
	sqlite3_finalize(m);
	return rc;
}

static int write_messages(struct build *b, sqlite3 *db, uint64_t *rng)
{
	sqlite3_stmt *ins = NULL, *con = NULL;
	struct textbuf t;
	int64_t ts0 = 1795000000000LL;
	int rc = -1;

	if (sqlite3_prepare_v2(db, "INSERT INTO messages(id, ts, sender_id, room_id, recipient_id, "
	                           "pair_lo, pair_hi, text) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	                       -1, &ins, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO contacts(user_id, peer_id) "
	                           "VALUES(?1, ?2), (?2, ?1)", -1, &con, NULL) != SQLITE_OK) {
		fail_sql(b, db, "preparing");
		goto out;
	}
	for (size_t i = 0; i < b->nmsgs; i++) {
		uint64_t where = rnd(rng) % 100;
		int from = 1 + (int)(rnd(rng) % NUSERS);

		make_text(&t, rng);
		/* a word only some rooms' messages have (never #lobby's, never private ones): the
		 * searcher in no room looks through STORE_SEARCH_SCAN_MAX matches and finds none */
		if (where >= 8 && where < 60 && rnd(rng) % 20 == 0)
			put(&t, ROOM_ONLY_WORD);
		sqlite3_bind_int64(ins, 1, (int64_t)i + 1);
		sqlite3_bind_int64(ins, 2, ts0 + (int64_t)i * 100);
		if (where < 60) {
			sqlite3_bind_int(ins, 3, from);
			sqlite3_bind_int(ins, 4, where < 8 ? 1 : 2 + (int)(rnd(rng) % NROOMS));
		} else {
			/* a tenth of the private messages involve a searcher */
			int to = rnd(rng) % 10 == 0 ? 1 + (int)(rnd(rng) % NSEARCHERS)
			                            : 1 + (int)(rnd(rng) % NUSERS);

			if (to == from)
				to = to % NUSERS + 1;
			sqlite3_bind_int(ins, 3, from);
			sqlite3_bind_int(ins, 5, to);
			sqlite3_bind_int(ins, 6, from < to ? from : to);
			sqlite3_bind_int(ins, 7, from < to ? to : from);
			sqlite3_bind_int(con, 1, from);
			sqlite3_bind_int(con, 2, to);
			if (step_reset(b, db, con, "contacts") != 0)
				goto out;
		}
		sqlite3_bind_text(ins, 8, t.s, (int)t.len, SQLITE_STATIC);
		if (step_reset(b, db, ins, "messages") != 0)
			goto out;
		sqlite3_clear_bindings(ins);
	}
	rc = 0;
out:
	sqlite3_finalize(ins);
	sqlite3_finalize(con);
	return rc;
}

/* Writes DIR/pier.db as the pierd before search would have, then migrates it (indexing). */
static int build_database(struct build *b, const char *dir)
{
	char path[600];
	sqlite3 *db = NULL;
	char *err = NULL;
	uint64_t rng = UINT64_C(0x9E3779B97F4A7C15);
	double t0;
	int rc = -1;

	snprintf(path, sizeof(path), "%s/pier.db", dir);
	if (sqlite3_open(path, &db) != SQLITE_OK) {
		fail_sql(b, db, path);
		goto out;
	}
	if (store_fts_register(db, &err) != 0 ||
	    store_schema_migrate_to(db, STORE_SCHEMA_SEARCH_VERSION - 1, &err) != 0) {
		snprintf(b->err, sizeof(b->err), "%s", err != NULL ? err : "schema");
		goto out;
	}
	/* a bulk load: no journal to speak of, nothing synced (pierd sets its own pragmas) */
	if (exec(b, db, "PRAGMA journal_mode = MEMORY; PRAGMA synchronous = OFF; "
	                "PRAGMA cache_size = -262144") != 0)
		goto out;
	t0 = now_s();
	if (exec(b, db, "BEGIN") != 0 || write_people(b, db, &rng) != 0 ||
	    write_messages(b, db, &rng) != 0 || exec(b, db, "COMMIT") != 0)
		goto out;
	b->write_s = now_s() - t0;
	b->base_bytes = one_int(db, "PRAGMA page_count") * one_int(db, "PRAGMA page_size");

	/* the migration that indexes every message, timed */
	t0 = now_s();
	if (store_schema_migrate(db, &err) != 0) {
		snprintf(b->err, sizeof(b->err), "%s", err != NULL ? err : "migration");
		goto out;
	}
	b->index_s = now_s() - t0;
	b->index_bytes = one_int(db, "SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'message_fts%'");
	b->total_bytes = one_int(db, "PRAGMA page_count") * one_int(db, "PRAGMA page_size");
	if (b->index_bytes <= 0) {
		snprintf(b->err, sizeof(b->err), "dbstat gave no size for the index");
		goto out;
	}
	rc = 0;
out:
	free(err);
	sqlite3_close(db);
	return rc;
}

/* ---- the searches ---- */

struct query {
	const char *q;
	const char *what;
};

static const struct query queries[] = {
	{ "电影", "2-char word" },
	{ "会议", "2-char word" },
	{ "哈哈", "2-char word" },
	{ "的", "1 char, very common" },
	{ "猫", "1 char, rare" },
	{ "电影院", "3-char phrase" },
	{ "今天天气", "4-char phrase" },
	{ "周末 电影", "two terms" },
	{ "meeting", "English word" },
	{ "deploy server", "two English terms" },
	{ "\"release notes\"", "English phrase" },
	{ "cafe", "accent-folded" },
	{ "映画", "Japanese" },
	{ "번역", "Korean stem" },
	{ "pier服务器", "mixed phrase, rare" },
	{ ROOM_ONLY_WORD, "in rooms only: the searcher in none reads 2000, finds 0" },
	{ "不存在的词语", "no match (CJK)" },
	{ "zyxwvu", "no match (word)" },
};
#define NQUERIES (sizeof(queries) / sizeof(queries[0]))

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static struct pier_conn *log_in(const struct build *b, const struct bserver *srv, int i,
                                char *err, size_t errlen)
{
	char port[16], name[64], *cerr = NULL;
	struct pier_conn *c;
	json_t *r;

	snprintf(port, sizeof(port), "%d", srv->port);
	c = pier_conn_open(srv->host, port, 10000, &cerr);
	if (c == NULL) {
		snprintf(err, errlen, "connect: %s", cerr != NULL ? cerr : "?");
		free(cerr);
		return NULL;
	}
	user_name(b, i, name, sizeof(name));
	r = pier_conn_call(c, pier_req_login(name, PASSWORD), REPLY_MS);
	if (json_integer_value(json_object_get(r, "status")) != PIER_LOGIN_OK) {
		snprintf(err, errlen, "login %s failed", name);
		json_decref(r);
		pier_conn_close(c);
		return NULL;
	}
	json_decref(r);
	return c;
}

static double ms(int64_t ns)
{
	return (double)ns / 1e6;
}

void bscen_search(const struct bconfig *cfg, struct breport *rep, size_t nmsgs)
{
	static struct bstats_hist all, per[NQUERIES];
	struct build b;
	struct bserver srv;
	struct bscenario *s;
	struct pier_conn *conn[NSEARCHERS] = { NULL };
	const char *tmp = getenv("TMPDIR");
	char dir[512], label[96], name[64], err[512] = "";
	int rounds = cfg->quick ? 2 : 5;
	int64_t hits[NQUERIES] = { 0 };
	double t_start = now_s();
	bool started = false;

	memset(&b, 0, sizeof(b));
	memset(&srv, 0, sizeof(srv));
	b.nmsgs = nmsgs != 0 ? nmsgs : cfg->quick ? BSEARCH_QUICK_MESSAGES : BSEARCH_MESSAGES;
	snprintf(b.tag, sizeof(b.tag), "%s", cfg->tag);
	snprintf(label, sizeof(label), "search %zu messages", b.nmsgs);
	s = breport_add(rep, "search", label);
	if (s == NULL)
		return;
	snprintf(s->params, sizeof(s->params),
	         "%zu messages written with SQL (Chinese 50%%, English 20%%, mixed 15%%, Japanese 8%%, "
	         "Korean 7%%; 8%% #lobby, 52%% in %d rooms, 40%% private among %d users), indexed by "
	         "the migration; %d searchers (in %d, %d, %d and %d rooms) ask %zu queries in turn, "
	         "one at a time, %d rounds, page of 50",
	         b.nmsgs, NROOMS, NUSERS, NSEARCHERS, searcher_rooms[0], searcher_rooms[1],
	         searcher_rooms[2], searcher_rooms[3], NQUERIES, rounds);
	printf("== %s\n", label);
	if (cfg->target != NULL) {
		bscen_skip(s, "needs its own pierd (the database is written before it starts)");
		return;
	}
	if (sodium_init() < 0) {
		bscen_fail(s, "libsodium did not start");
		return;
	}
	if (tmp == NULL || tmp[0] == '\0')
		tmp = "/tmp";
	snprintf(dir, sizeof(dir), "%s/pier-bench-XXXXXX", tmp);
	if (mkdtemp(dir) == NULL) {
		bscen_fail(s, "mkdtemp %s: %s", dir, strerror(errno));
		return;
	}
	printf("   writing %zu messages...\n", b.nmsgs);
	if (build_database(&b, dir) != 0) {
		bscen_fail(s, "building the database: %s", b.err);
		/* bserver_stop removes the directory; start nothing, remove it by hand */
		snprintf(srv.dir, sizeof(srv.dir), "%s", dir);
		goto out;
	}
	printf("   written in %.1f s, indexed in %.1f s (%.1f MB of index)\n", b.write_s, b.index_s,
	       (double)b.index_bytes / 1e6);
	if (bserver_start_dir(&srv, cfg->pierd, dir, cfg->max_output, err, sizeof(err)) != 0) {
		bscen_fail(s, "starting pierd: %s", err);
		snprintf(srv.dir, sizeof(srv.dir), "%s", dir);
		goto out;
	}
	started = true;
	srv.keep_dir = cfg->keep_data;
	if (rep->pierd_flags[0] == '\0')
		snprintf(rep->pierd_flags, sizeof(rep->pierd_flags), "%s", srv.flags);
	for (int i = 0; i < NSEARCHERS; i++) {
		conn[i] = log_in(&b, &srv, i + 1, err, sizeof(err));
		if (conn[i] == NULL) {
			bscen_fail(s, "%s", err);
			goto out;
		}
	}
	bstats_init(&all);
	for (size_t q = 0; q < NQUERIES; q++)
		bstats_init(&per[q]);
	/* one round to warm up (not counted), then the measured ones */
	for (int round = 0; round <= rounds; round++) {
		for (size_t q = 0; q < NQUERIES; q++) {
			for (int i = 0; i < NSEARCHERS; i++) {
				int64_t t0 = mono_ns(), dt;
				json_t *r = pier_conn_call(conn[i], pier_req_search(queries[q].q, NULL, 0, 0),
				                           REPLY_MS);

				dt = mono_ns() - t0;
				if (r == NULL || strcmp(pier_event_op(r), "search") != 0) {
					char *dump = r != NULL ? json_dumps(r, JSON_COMPACT) : NULL;

					bscen_fail(s, "search \"%s\": %s", queries[q].q,
					           dump != NULL ? dump : "no reply");
					free(dump);
					json_decref(r);
					goto out;
				}
				if (round > 0) {
					bstats_record(&all, dt);
					bstats_record(&per[q], dt);
				}
				if (round == 0 && i == 0)
					hits[q] = (int64_t)json_array_size(json_object_get(r, "messages"));
				json_decref(r);
			}
		}
		if (now_s() - t_start > BSEARCH_TIME_LIMIT_S) {
			bscen_fail(s, "over the time limit of %d s", BSEARCH_TIME_LIMIT_S);
			goto out;
		}
	}

	bscen_metric(s, "messages", (double)b.nmsgs, "");
	bscen_metric(s, "index size per 1M messages", (double)b.index_bytes / 1e6 * 1e6 /
	             (double)b.nmsgs, "MB");
	bscen_metric(s, "index bytes per message", (double)b.index_bytes / (double)b.nmsgs, "B");
	bscen_metric(s, "database without index", (double)b.base_bytes / 1e6, "MB");
	bscen_metric(s, "database with index", (double)b.total_bytes / 1e6, "MB");
	bscen_metric(s, "indexing (migration)", b.index_s, "s");
	bscen_metric(s, "indexing rate", (double)b.nmsgs / b.index_s, "msg/s");
	bscen_metric(s, "writing (SQL, no index)", b.write_s, "s");
	bscen_metric(s, "search p50", ms(bstats_quantile(&all, 0.50)), "ms");
	bscen_metric_target(s, "search p99", ms(bstats_quantile(&all, 0.99)), "ms", "<=", 250,
	                    "<= 250 ms");
	bscen_metric(s, "search max", ms(all.max), "ms");
	bscen_metric(s, "searches", (double)all.n, "");
	for (size_t q = 0; q < NQUERIES; q++) {
		struct bmetric *m;

		snprintf(name, sizeof(name), "%s p50", queries[q].q);
		m = bscen_metric(s, name, ms(bstats_quantile(&per[q], 0.50)), "ms");
		if (m != NULL)
			snprintf(m->note, sizeof(m->note), "%s; p99 %.1f ms; first page of the searcher "
			         "in all rooms: %" PRId64, queries[q].what,
			         ms(bstats_quantile(&per[q], 0.99)), hits[q]);
	}
out:
	for (int i = 0; i < NSEARCHERS; i++)
		pier_conn_close(conn[i]);
	if (started) {
		if (bserver_stop(&srv, err, sizeof(err)) != 0)
			bscen_fail(s, "%s", err);
	} else if (srv.dir[0] != '\0' && !cfg->keep_data) {
		rundir_remove(srv.dir);
	}
	s->seconds = now_s() - t_start;
}
