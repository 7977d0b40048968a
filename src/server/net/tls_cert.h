/* tls_cert.h - TLS set up at start: the server's settings and certificate (an SSL_CTX for
 * tls_transport_init), and self-signed certificates for a first run.
 *
 * Settings: TLS 1.2 and 1.3 only; for 1.2 only ECDHE key exchange with AEAD ciphers (AES-GCM,
 * ChaCha20-Poly1305); no compression; no renegotiation; the server's cipher order.
 */
#ifndef PIER_TLS_CERT_H
#define PIER_TLS_CERT_H

#include <openssl/ssl.h>

/* The server's context from PEM files (the certificate file may hold the chain). NULL, with
 * the reason logged, when a file cannot be read or the key does not match. */
SSL_CTX *tls_server_ctx_new(const char *cert_file, const char *key_file);
void tls_server_ctx_free(SSL_CTX *ctx);

/* Writes a new self-signed certificate (EC P-256, SHA-256, valid 397 days, for localhost,
 * 127.0.0.1 and ::1) to DIR/cert.pem and its key to DIR/key.pem (mode 0600). DIR is created
 * if missing; existing files are not overwritten. 0, or -1 with a message on stderr. */
int tls_gen_cert(const char *dir);

#endif
