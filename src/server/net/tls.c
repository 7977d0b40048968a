/* tls.c - TLS as a transport layer: OpenSSL memory BIOs between the socket and the owner.
 *
 * Input: ciphertext goes into the read BIO; the handshake runs until done, then SSL_read hands
 * plaintext up. Output: the owner's plaintext goes through SSL_write into the write BIO; the
 * ciphertext collects in `pend` and is written with one uv_write (`out`) at a time. The TLS
 * layer writes on its own too (handshake, alerts, session tickets), so the owner's write is
 * tracked until the write that carries its last byte has finished.
 *
 * Every SSL_* call starts with an empty error queue (ERR_clear_error), and WANT_READ /
 * WANT_WRITE mean "again later", never an error.
 */
#include "tls.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "log.h"
#include "net_context.h"
#include "transport.h"
#include "xalloc.h"

#define TLS_RECORD_HANDSHAKE 0x16

struct bytes {
	char *data;
	size_t len, cap;
};

struct tls {
	SSL *ssl;
	BIO *rbio, *wbio;               /* memory BIOs owned by ssl */
	const char *refusal;
	bool started;                   /* the first bytes were seen */
	bool handshake_done;
	bool failed;                    /* no more SSL calls */
	struct bytes out;               /* ciphertext in the uv_write in flight */
	struct bytes pend;              /* ciphertext waiting for the next uv_write */
	bool uv_writing;
	bool owner_in_pend;             /* the owner's write is encrypted, in pend */
	bool owner_in_out;              /* the owner's write ends in the uv_write in flight */
	uv_buf_t *held;                 /* the owner's write waiting for the handshake */
	unsigned nheld;
	size_t counted;                 /* ciphertext counted in the output budget */
};

/* Counts the ciphertext held (pend and the write in flight) in the output budget. */
static void account(struct transport *t)
{
	struct tls *s = t->tls;

	transport_out_set(t, &s->counted, s->pend.len + s->out.len);
}

static void log_ssl_error(const struct transport *t, const char *what)
{
	char buf[256];
	unsigned long e = ERR_peek_last_error();

	if (e == 0)
		snprintf(buf, sizeof(buf), "%s", errno ? strerror(errno) : "unknown error");
	else
		ERR_error_string_n(e, buf, sizeof(buf));
	log_debug("tls %s: %s: %s", t->addr, what, buf);
	ERR_clear_error();
}

static void bytes_reserve(struct bytes *b, size_t more)
{
	if (b->len + more <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 4096;

	while (cap < b->len + more)
		cap *= 2;
	b->data = xrealloc(b->data, cap);
	b->cap = cap;
}

/* Moves what OpenSSL wrote into the write BIO to pend. */
static void drain_wbio(struct tls *s)
{
	size_t n = BIO_ctrl_pending(s->wbio);

	if (n == 0)
		return;
	bytes_reserve(&s->pend, n);
	if (BIO_read(s->wbio, s->pend.data + s->pend.len, (int)n) == (int)n)
		s->pend.len += n;
}

/* Best effort: what waits in the write BIO goes out now (alerts, close_notify). */
static void try_send_wbio(struct transport *t)
{
	struct tls *s = t->tls;

	drain_wbio(s);
	if (s->pend.len > 0 && !s->uv_writing) {
		uv_buf_t b = uv_buf_init(s->pend.data, (unsigned)s->pend.len);

		if (uv_try_write((uv_stream_t *)&t->tcp, &b, 1) > 0)
			t->ctx->metrics->bytes_out += s->pend.len;
		s->pend.len = 0;
	}
	account(t);
}

static void tls_written(struct transport *t, int status);

/* Starts writing pend when no write is in flight. 0 or a negative libuv code. */
static int start_write(struct transport *t)
{
	struct tls *s = t->tls;
	struct bytes tmp;
	uv_buf_t b;
	int rc;

	if (s->uv_writing || s->pend.len == 0)
		return 0;
	tmp = s->out;
	s->out = s->pend;
	s->pend = tmp;
	s->pend.len = 0;
	b = uv_buf_init(s->out.data, (unsigned)s->out.len);
	rc = transport_uv_write(t, &b, 1, tls_written);
	if (rc != 0) {
		s->out.len = 0;
		account(t);
		return rc;
	}
	account(t);
	s->uv_writing = true;
	if (s->owner_in_pend) {
		s->owner_in_pend = false;
		s->owner_in_out = true;
	}
	return 0;
}

/* start_write from a callback (not from inside the owner's own write): failures are reported
 * to the owner. */
static void flush_out(struct transport *t)
{
	struct tls *s = t->tls;
	bool owner_waits = s->owner_in_pend;
	int rc;

	drain_wbio(s);
	account(t);
	rc = start_write(t);
	if (rc == 0)
		return;
	s->failed = true;
	if (owner_waits) {
		s->owner_in_pend = false;
		t->owner_ops->on_written(t->owner, rc);
	} else {
		t->owner_ops->on_error(t->owner, rc);
	}
}

static void tls_written(struct transport *t, int status)
{
	struct tls *s = t->tls;
	bool owner_done = s->owner_in_out;

	s->uv_writing = false;
	s->owner_in_out = false;
	s->out.len = 0;
	account(t);
	if (status < 0) {
		s->failed = true;
		if (owner_done)
			t->owner_ops->on_written(t->owner, status);
		else if (!t->closing)
			t->owner_ops->on_error(t->owner, status);
		return;
	}
	if (!t->closing && !s->failed)
		flush_out(t);
	if (owner_done)
		t->owner_ops->on_written(t->owner, 0);
}

/* Encrypts bufs into pend. 0, or UV_EPROTO. */
static int encrypt(struct transport *t, const uv_buf_t *bufs, unsigned nbufs)
{
	struct tls *s = t->tls;

	for (unsigned i = 0; i < nbufs; i++) {
		if (bufs[i].len == 0)
			continue;
		ERR_clear_error();
		/* A memory BIO takes everything: SSL_write writes all or fails. */
		if (SSL_write(s->ssl, bufs[i].base, (int)bufs[i].len) <= 0) {
			log_ssl_error(t, "write");
			s->failed = true;
			return UV_EPROTO;
		}
	}
	drain_wbio(s);
	account(t);
	return 0;
}

/* A peer that does not speak TLS: a plain-text answer, then the owner closes. */
static void refuse(struct transport *t)
{
	struct tls *s = t->tls;
	uv_buf_t b = uv_buf_init((char *)s->refusal, (unsigned)strlen(s->refusal));

	s->failed = true;
	t->ctx->metrics->tls_handshake_failures++;
	log_info("tls %s: not a TLS client, refused", t->addr);
	if (uv_try_write((uv_stream_t *)&t->tcp, &b, 1) > 0)
		t->ctx->metrics->bytes_out += b.len;
	t->owner_ops->on_error(t->owner, UV_EPROTO);
}

static void handshake_failed(struct transport *t)
{
	struct tls *s = t->tls;

	log_ssl_error(t, "handshake failed");
	t->ctx->metrics->tls_handshake_failures++;
	try_send_wbio(t);         /* the alert, if OpenSSL wrote one */
	s->failed = true;
	t->owner_ops->on_error(t->owner, UV_EPROTO);
}

static void tls_input(struct transport *t, const char *data, size_t len)
{
	struct tls *s = t->tls;
	char *buf = t->ctx->readbuf;   /* data is in the BIO once written: the buffer is free */
	int r, err;

	if (s->failed)
		return;
	if (!s->started) {
		s->started = true;
		if ((unsigned char)data[0] != TLS_RECORD_HANDSHAKE) {
			refuse(t);
			return;
		}
	}
	if (BIO_write(s->rbio, data, (int)len) != (int)len) {
		handshake_failed(t);
		return;
	}
	if (!s->handshake_done) {
		ERR_clear_error();
		r = SSL_do_handshake(s->ssl);
		if (r != 1) {
			err = SSL_get_error(s->ssl, r);
			if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
				flush_out(t);
			else
				handshake_failed(t);
			return;
		}
		s->handshake_done = true;
		log_debug("tls %s: %s %s", t->addr, SSL_get_version(s->ssl), SSL_get_cipher_name(s->ssl));
		if (s->held != NULL) {
			int rc = encrypt(t, s->held, s->nheld);

			free(s->held);
			s->held = NULL;
			s->nheld = 0;
			if (rc != 0) {
				t->owner_ops->on_written(t->owner, rc);
				return;
			}
			s->owner_in_pend = true;
		}
	}
	while (!t->closing && !s->failed) {
		ERR_clear_error();
		r = SSL_read(s->ssl, buf, (int)sizeof(t->ctx->readbuf));
		if (r > 0) {
			t->owner_ops->on_read(t->owner, buf, (size_t)r);
			continue;
		}
		err = SSL_get_error(s->ssl, r);
		if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
			break;
		s->failed = true;
		if (err == SSL_ERROR_ZERO_RETURN) {      /* close_notify */
			t->owner_ops->on_error(t->owner, UV_EOF);
		} else {
			log_ssl_error(t, "read");
			t->owner_ops->on_error(t->owner, UV_EPROTO);
		}
		return;
	}
	if (!t->closing && !s->failed)
		flush_out(t);
}

static int tls_write(struct transport *t, const uv_buf_t *bufs, unsigned nbufs)
{
	struct tls *s = t->tls;
	int rc;

	if (s->failed)
		return UV_EPROTO;
	if (!s->handshake_done) {
		/* Kept (the owner keeps the bytes alive) until the handshake is done. */
		s->held = xmalloc(nbufs * sizeof(*s->held));
		memcpy(s->held, bufs, nbufs * sizeof(*bufs));
		s->nheld = nbufs;
		return 0;
	}
	rc = encrypt(t, bufs, nbufs);
	if (rc != 0)
		return rc;
	s->owner_in_pend = true;
	rc = start_write(t);
	if (rc != 0) {
		s->owner_in_pend = false;
		s->failed = true;
	}
	return rc;
}

static void tls_try_write(struct transport *t, const char *data, size_t len)
{
	struct tls *s = t->tls;
	uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);

	if (s->failed || !s->handshake_done || s->uv_writing)
		return;
	if (encrypt(t, &b, 1) == 0)
		try_send_wbio(t);
}

static void tls_shutdown(struct transport *t)
{
	struct tls *s = t->tls;

	if (s->failed || !s->handshake_done || s->uv_writing)
		return;
	ERR_clear_error();
	SSL_shutdown(s->ssl);         /* queues close_notify; the answer is not waited for */
	try_send_wbio(t);
	ERR_clear_error();
}

static void tls_release(struct transport *t)
{
	struct tls *s = t->tls;

	/* An owner write that never reached the socket still gets its answer. */
	if (s->held != NULL || s->owner_in_pend) {
		s->owner_in_pend = false;
		if (t->owner_ops != NULL)
			t->owner_ops->on_written(t->owner, UV_ECANCELED);
	}
	free(s->held);
	SSL_free(s->ssl);
	free(s->out.data);
	free(s->pend.data);
	free(s);
	t->tls = NULL;
}

static const struct transport_ops tls_transport_ops = {
	.name = "tls",
	.input = tls_input,
	.write = tls_write,
	.try_write = tls_try_write,
	.shutdown = tls_shutdown,
	.release = tls_release,
};

void tls_transport_init(struct transport *t, SSL_CTX *ctx, const char *refusal)
{
	struct tls *s = xcalloc(1, sizeof(*s));

	s->refusal = refusal;
	s->ssl = SSL_new(ctx);
	s->rbio = BIO_new(BIO_s_mem());
	s->wbio = BIO_new(BIO_s_mem());
	if (s->ssl == NULL || s->rbio == NULL || s->wbio == NULL) {
		fputs("pierd: out of memory (TLS)\n", stderr);
		abort();
	}
	BIO_set_mem_eof_return(s->rbio, -1);   /* an empty read BIO means "wait", not EOF */
	SSL_set_bio(s->ssl, s->rbio, s->wbio);
	SSL_set_accept_state(s->ssl);
	t->tls = s;
	t->ops = &tls_transport_ops;
}

const char *tls_version(const struct transport *t)
{
	return t->tls != NULL && t->tls->handshake_done ? SSL_get_version(t->tls->ssl) : "";
}
