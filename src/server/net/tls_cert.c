/* tls_cert.c - TLS at start, not at run time: the server's SSL_CTX from PEM files (protocol
 * versions, ciphers, certificate and key checked) and self-signed certificates for a first
 * run (pierd --gen-cert). The runtime layer is tls.c. */
#include "tls_cert.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "log.h"

/* Mozilla's "intermediate" list for TLS 1.2: forward secrecy and AEAD only. */
#define TLS12_CIPHERS \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
#define TLS13_SUITES "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"

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
