/* test_e2ee_queue_flood.c - adversarial: 400 encrypted messages with ~15 KB payloads wait in
 * an offline device's queue (6 MB, past the 4 MiB output limit). The device says hello and
 * then reads nothing for a while: pierd neither drops it as slow_consumer nor holds the queue
 * in memory (it grows by less than 4 MiB, the soft mark and a page: the queue is in the
 * store, and what is read of it is paced by the connection's output budget). Then it reads some and leaves without acking: at the next hello every envelope
 * comes again, each once, in order; after the ack, nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "e2eetest.h"
#include "rawline.h"

#define NMSGS       400
#define PAYLOAD     20000        /* base64url characters: 15 000 bytes */
#define IDLE_MS     3000
/* Less than the queue: the soft mark (1 MiB) and a page. Under ThreadSanitizer every byte
 * pierd touches also has shadow memory in its RSS (about 5x in all; heap reuse from before
 * the measure decides how much is new): the bound scales, still below the queue's 6 MB
 * times the same factor. */
#ifdef __SANITIZE_THREAD__
#define GROWTH_MAX_KIB (5 * 4 * 1024)
#else
#define GROWTH_MAX_KIB (4 * 1024)
#endif
#define RCVBUF      (32 * 1024)  /* the reader's socket: the queue waits in pierd */

static const char *const args[] = { "--msg-burst", "1000", "--msg-rate", "1000", NULL };

static int64_t acked[NMSGS];

/* A raw session of d's user that said device_hello for d (the reply in *hello, new ref). */
static struct rawline *raw_device(struct pierd *p, struct tdev *d, json_t **hello)
{
	struct rawline *r = raw_connect_rcvbuf(pierd_port(p), RCVBUF);
	unsigned char challenge[32];
	char proof[T_SIG_TEXT];
	size_t len = 0;
	json_t *rep = r != NULL ? raw_login(r, d->user, HARNESS_PASSWORD, NULL) : NULL;
	const char *ch = rep != NULL ? jstr(rep, "challenge") : NULL;

	*hello = NULL;
	if (!CHECK(ch != NULL && sodium_base642bin(challenge, sizeof(challenge), ch, strlen(ch),
	                                           NULL, &len, NULL,
	                                           sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0 &&
	           len == 32, "the reader logs in with a challenge: %s", jdump(rep))) {
		json_decref(rep);
		raw_free(r);
		return NULL;
	}
	json_decref(rep);
	t_proof(d, challenge, proof);
	raw_send_json(r, pier_req_device_hello(d->id64, proof));
	*hello = raw_wait_op(r, "device_hello", 10000);
	return r;
}

/* Takes envelopes from r, checking they are the acked messages in order from *next. */
static int take(struct rawline *r, int *next, int limit, int timeout_ms, int *slow, bool *bad,
                int64_t *last_qid)
{
	long long end = raw_now_ms() + timeout_ms;
	int got = 0;
	json_t *j;

	while (got < limit && raw_now_ms() < end &&
	       (j = raw_next(r, (int)(end - raw_now_ms()))) != NULL) {
		if (is_error(j, "slow_consumer"))
			(*slow)++;
		if (is_op(j, "envelope")) {
			int64_t id = jint(j, "id", -1);

			if (*next >= NMSGS || id != acked[*next]) {
				if (!*bad)
					CHECK(false, "envelope of %lld where %lld was due (dup, gap or order)",
					      (long long)id, *next < NMSGS ? (long long)acked[*next] : -1LL);
				*bad = true;
			} else {
				(*next)++;
				*last_qid = jint(j, "qid", 0);
			}
			got++;
		}
		json_decref(j);
	}
	return got;
}

int main(void)
{
	char alice[HARNESS_NAME_MAX], bob[HARNESS_NAME_MAX], to_bob[HARNESS_NAME_MAX + 1];
	struct tdev a1, b1, *one[1];
	struct tacct ak, bk;
	struct rawline *r;
	struct pierd *p;
	json_t *hello;
	char *payload;
	int next = 0, slow = 0, n = 0;
	int64_t last_qid = 0;
	bool bad = false;
	long rss, rss0;

	harness_watchdog(300);
	if (sodium_init() < 0)
		return 1;
	/* Under AddressSanitizer freed memory stays resident in its quarantine (256 MB by
	 * default): 400 pipelined 20 KB requests churn far more than they keep (JSON parsing,
	 * SQLite records), so pierd's RSS would measure the quarantine (some 150 MB here) rather
	 * than what the queue holds. A small quarantine makes RSS say what is live (a build
	 * without ASan holds about 20 MB after the sends, measured). */
	{
		const char *old = getenv("ASAN_OPTIONS");
		char opts[1024];

		snprintf(opts, sizeof(opts), "%s%squarantine_size_mb=1", old != NULL ? old : "",
		         old != NULL && old[0] != '\0' ? ":" : "");
		setenv("ASAN_OPTIONS", opts, 1);
	}
	p = pierd_start(args);
	if (p == NULL)
		return harness_done();
	harness_user(alice, "fa");
	harness_user(bob, "fb");
	snprintf(to_bob, sizeof(to_bob), "@%s", bob);
	t_dev_init(&a1, alice, "a1");
	t_dev_init(&b1, bob, "b1");
	t_acct_init(&ak, alice);
	t_acct_init(&bk, bob);
	if (!t_register(p, alice) || !t_register(p, bob) || !t_dev_register(p, &a1, 1) ||
	    !t_dev_register(p, &b1, 1))
		goto out;
	one[0] = &a1;
	if (!t_publish(a1.s.c, &ak, one, 1))
		goto out;
	one[0] = &b1;
	if (!t_publish(b1.s.c, &bk, one, 1))
		goto out;
	t_dev_close(&b1);

	/* The flood: pipelined, then every ack collected (ids in send order). */
	payload = t_random_b64(PAYLOAD * 3 / 4);
	for (int i = 0; i < NMSGS; i++) {
		const char *ids[] = { b1.id64 };

		pier_conn_send(a1.s.c, t_send_req(to_bob, payload, ids, 1, NULL), NULL);
	}
	for (int i = 0; i < NMSGS; i++) {
		json_t *rep = pier_conn_wait_op(a1.s.c, "sent", 20000);

		if (rep == NULL)
			break;
		acked[n++] = jint(rep, "id", -1);
		json_decref(rep);
	}
	free(payload);
	if (!CHECK(n == NMSGS, "all %d encrypted sends acked (%d)", NMSGS, n))
		goto out;

	/* Hello, then nothing read for a while: not dropped, bounded. */
	rss0 = proc_rss_kib(pierd_pid(p));
	r = raw_device(p, &b1, &hello);
	CHECK(hello != NULL && jint(hello, "queued", -1) == NMSGS, "hello: %d queued: %s", NMSGS,
	      jdump(hello));
	json_decref(hello);
	if (r == NULL)
		goto out;
	usleep(IDLE_MS * 1000);
	rss = proc_rss_kib(pierd_pid(p));
	fprintf(stderr, "# a device idling over its queue of %d envelopes (6 MB): pierd's RSS "
	        "%ld KiB, grew %ld KiB from before its hello\n", NMSGS, rss, rss - rss0);
	CHECK(pierd_is_running(p) && rss0 > 0 && rss > 0 && rss - rss0 < GROWTH_MAX_KIB,
	      "pierd grew %ld KiB while a device does not read its 6 MB queue (under %d: the "
	      "queue is not in memory)", rss - rss0, GROWTH_MAX_KIB);
	/* Some read, then gone without an ack: it all comes again. */
	take(r, &next, 30, 10000, &slow, &bad, &last_qid);
	CHECK(next == 30, "30 envelopes read, in order (%d)", next);
	raw_free(r);
	next = 0;
	r = raw_device(p, &b1, &hello);
	CHECK(hello != NULL && jint(hello, "queued", -1) == NMSGS, "unacked: all %d again: %s",
	      NMSGS, jdump(hello));
	json_decref(hello);
	if (r == NULL)
		goto out;
	take(r, &next, NMSGS, 60000, &slow, &bad, &last_qid);
	CHECK(next == NMSGS && !bad, "every envelope once, in order (%d of %d)", next, NMSGS);
	CHECK(slow == 0, "no slow_consumer (%d)", slow);
	raw_send_json(r, pier_req_ack(last_qid));
	hello = raw_wait_op(r, "ack", 10000);
	CHECK(hello != NULL, "ack");
	json_decref(hello);
	raw_free(r);
	r = raw_device(p, &b1, &hello);
	CHECK(hello != NULL && jint(hello, "queued", -1) == 0, "after the ack: nothing queued: %s",
	      jdump(hello));
	json_decref(hello);
	raw_free(r);
out:
	t_dev_close(&a1);
	t_dev_close(&b1);
	pierd_stop(p);
	return harness_done();
}
