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
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "log.h"
#include "server.h"
#include "transport.h"
#include "xalloc.h"

#define TLS_RECORD_HANDSHAKE 0x16

/* Mozilla's "intermediate" list for TLS 1.2: forward secrecy and AEAD only. */
#define TLS12_CIPHERS \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
#define TLS13_SUITES "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"

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
			t->srv->metrics.bytes_out += s->pend.len;
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
	t->srv->metrics.tls_handshake_failures++;
	log_info("tls %s: not a TLS client, refused", t->addr);
	if (uv_try_write((uv_stream_t *)&t->tcp, &b, 1) > 0)
		t->srv->metrics.bytes_out += b.len;
	t->owner_ops->on_error(t->owner, UV_EPROTO);
}

static void handshake_failed(struct transport *t)
{
	struct tls *s = t->tls;

	log_ssl_error(t, "handshake failed");
	t->srv->metrics.tls_handshake_failures++;
	try_send_wbio(t);         /* the alert, if OpenSSL wrote one */
	s->failed = true;
	t->owner_ops->on_error(t->owner, UV_EPROTO);
}

static void tls_input(struct transport *t, const char *data, size_t len)
{
	struct tls *s = t->tls;
	char *buf = t->srv->readbuf;   /* data is in the BIO once written: the buffer is free */
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
		r = SSL_read(s->ssl, buf, (int)sizeof(t->srv->readbuf));
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

SSL_CTX *tls_server_ctx_new(const char *cert_file, const char *key_file)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	char err[256];

	ERR_clear_error();
	if (ctx == NULL)
		goto fail;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
	                         SSL_OP_CIPHER_SERVER_PREFERENCE);
	/* Idle connections give their record buffers back. */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	if (SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) != 1 ||
	    SSL_CTX_set_ciphersuites(ctx, TLS13_SUITES) != 1)
		goto fail;
	if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) {
		ERR_error_string_n(ERR_peek_last_error(), err, sizeof(err));
		log_error("tls: cannot use the certificate %s: %s", cert_file, err);
		goto out;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1) {
		ERR_error_string_n(ERR_peek_last_error(), err, sizeof(err));
		log_error("tls: cannot use the key %s: %s", key_file, err);
		goto out;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		log_error("tls: the key %s does not belong to the certificate %s", key_file, cert_file);
		goto out;
	}
	ERR_clear_error();
	return ctx;
fail:
	ERR_error_string_n(ERR_peek_last_error(), err, sizeof(err));
	log_error("tls: cannot set up: %s", err);
out:
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return NULL;
}

void tls_server_ctx_free(SSL_CTX *ctx)
{
	SSL_CTX_free(ctx);
}

/* ---- self-signed certificates ---- */

static int add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (ext == NULL)
		return -1;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok == 1 ? 0 : -1;
}

static int write_pem(const char *path, mode_t mode, EVP_PKEY *key, X509 *cert)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	FILE *f;
	int ok;

	if (fd < 0) {
		fprintf(stderr, "pierd: cannot create %s: %s\n", path, strerror(errno));
		return -1;
	}
	f = fdopen(fd, "w");
	if (f == NULL) {
		close(fd);
		return -1;
	}
	ok = key != NULL ? PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL)
	                 : PEM_write_X509(f, cert);
	if (fclose(f) != 0)
		ok = 0;
	if (ok != 1) {
		fprintf(stderr, "pierd: cannot write %s\n", path);
		return -1;
	}
	return 0;
}

int tls_gen_cert(const char *dir)
{
	char cert_path[4200], key_path[4200];
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	X509_NAME *name;
	BIGNUM *serial = NULL;
	unsigned char rnd[16];
	int rc = -1;

	snprintf(cert_path, sizeof(cert_path), "%s/cert.pem", dir);
	snprintf(key_path, sizeof(key_path), "%s/key.pem", dir);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "pierd: cannot create %s: %s\n", dir, strerror(errno));
		return -1;
	}
	if (access(cert_path, F_OK) == 0 || access(key_path, F_OK) == 0) {
		fprintf(stderr, "pierd: %s or %s exists already; not overwritten\n", cert_path,
		        key_path);
		return -1;
	}
	key = EVP_EC_gen("P-256");
	x = X509_new();
	serial = BN_new();
	if (key == NULL || x == NULL || serial == NULL || RAND_bytes(rnd, sizeof(rnd)) != 1)
		goto out;
	rnd[0] &= 0x7f;             /* a positive serial number */
	if (BN_bin2bn(rnd, sizeof(rnd), serial) == NULL ||
	    BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x)) == NULL)
		goto out;
	X509_set_version(x, 2);     /* v3 */
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 397L * 24 * 3600);
	X509_set_pubkey(x, key);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"pier self-signed",
	                           -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"localhost", -1,
	                           -1, 0);
	X509_set_issuer_name(x, name);
	if (add_ext(x, NID_basic_constraints, "critical,CA:FALSE") != 0 ||
	    add_ext(x, NID_ext_key_usage, "serverAuth") != 0 ||
	    add_ext(x, NID_subject_key_identifier, "hash") != 0 ||
	    add_ext(x, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1") != 0)
		goto out;
	if (X509_sign(x, key, EVP_sha256()) == 0)
		goto out;
	if (write_pem(key_path, 0600, key, NULL) != 0)
		goto out;
	if (write_pem(cert_path, 0644, NULL, x) != 0) {
		unlink(key_path);
		goto out;
	}
	rc = 0;
out:
	if (rc != 0 && ERR_peek_last_error() != 0) {
		char err[256];

		ERR_error_string_n(ERR_peek_last_error(), err, sizeof(err));
		fprintf(stderr, "pierd: cannot make a certificate: %s\n", err);
	}
	BN_free(serial);
	X509_free(x);
	EVP_PKEY_free(key);
	ERR_clear_error();
	return rc;
}
