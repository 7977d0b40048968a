/* tls.h - the TLS layer of a transport (OpenSSL with memory BIOs over the same uv_tcp_t:
 * ciphertext read from the socket is decrypted and passed up, the owner's plaintext is
 * encrypted and written), the server's TLS settings, and self-signed certificates for a
 * first run.
 *
 * Settings: TLS 1.2 and 1.3 only; for 1.2 only ECDHE key exchange with AEAD ciphers (AES-GCM,
 * ChaCha20-Poly1305); no compression; no renegotiation; the server's cipher order.
 */
#ifndef PIER_TLS_H
#define PIER_TLS_H

#include <stdbool.h>

#include <openssl/ssl.h>

struct transport;

/* The server's context from PEM files (the certificate file may hold the chain). NULL, with
 * the reason logged, when a file cannot be read or the key does not match. */
SSL_CTX *tls_server_ctx_new(const char *cert_file, const char *key_file);
void tls_server_ctx_free(SSL_CTX *ctx);

/* Makes the freshly accepted transport t a TLS server transport. refusal (a static string)
 * is what a peer whose first byte is not a TLS handshake gets, in plain text, before the
 * connection closes: a JSON error line or an HTTP 400 response, so that a client that forgot
 * TLS learns why. */
void tls_transport_init(struct transport *t, SSL_CTX *ctx, const char *refusal);

/* The negotiated protocol version ("TLSv1.3"), or "" before the handshake finished. */
const char *tls_version(const struct transport *t);

/* Writes a new self-signed certificate (EC P-256, SHA-256, valid 397 days, for localhost,
 * 127.0.0.1 and ::1) to DIR/cert.pem and its key to DIR/key.pem (mode 0600). DIR is created
 * if missing; existing files are not overwritten. 0, or -1 with a message on stderr. */
int tls_gen_cert(const char *dir);

#endif
