/* tls.h - the TLS layer of a transport (OpenSSL with memory BIOs over the same uv_tcp_t:
 * ciphertext read from the socket is decrypted and passed up, the owner's plaintext is
 * encrypted and written). The SSL_CTX it runs with comes from tls_cert.h.
 */
#ifndef PIER_TLS_H
#define PIER_TLS_H

#include <stdbool.h>

#include <openssl/ssl.h>

struct transport;

/* Makes the freshly accepted transport t a TLS server transport. refusal (a static string)
 * is what a peer whose first byte is not a TLS handshake gets, in plain text, before the
 * connection closes: a JSON error line or an HTTP 400 response, so that a client that forgot
 * TLS learns why. */
void tls_transport_init(struct transport *t, SSL_CTX *ctx, const char *refusal);

/* The negotiated protocol version ("TLSv1.3"), or "" before the handshake finished. */
const char *tls_version(const struct transport *t);

#endif
