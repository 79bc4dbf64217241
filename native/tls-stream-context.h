/* The SSL_CTX of native/tls-stream.c (docs/native-tls.md, "The SSL_CTX"), made from the bytes
 * JS read from the files named by cert, pkey, dh-file and the other TLS options. Included once. */
#ifndef TURNPIKE_TLS_STREAM_CONTEXT_H
#define TURNPIKE_TLS_STREAM_CONTEXT_H
#include <stdio.h>
#include <string.h>
#include "stream-conn.h"
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

/* OpenSSL's default is 2 TLS 1.3 tickets; one lets a client that comes back resume once. */
#define TICKETS 1

/* OpenSSL's queued errors as one line (the first one says what went wrong); the queue is emptied. */
static void describeErrors(char *out, size_t size, const char *prefix) {
  unsigned long code = ERR_get_error();
  char text[160] = "";
  if (code) ERR_error_string_n(code, text, sizeof text);
  snprintf(out, size, "%s%s%s", prefix, code ? ": " : "", text);
  ERR_clear_error();
}

static int selectAlpn(SSL *ssl, const unsigned char **out, unsigned char *outLength, const unsigned char *in, unsigned int inLength, void *arg) {
  (void)ssl;
  (void)arg;
  /* RFC 7443 labels, most wanted first; a client that offers only others is refused, as Node's ALPNCallback returning undefined does */
  static const char *const wanted[] = {"stun.turn", "stun.nat-discovery"};
  for (size_t w = 0; w < sizeof wanted / sizeof wanted[0]; w++) {
    size_t length = strlen(wanted[w]);
    for (unsigned int i = 0; i < inLength;) {
      unsigned int n = in[i];
      if (i + 1 + n > inLength) return SSL_TLSEXT_ERR_ALERT_FATAL;
      if (n == length && memcmp(in + i + 1, wanted[w], length) == 0) {
        *out = in + i + 1;
        *outLength = (unsigned char)n;
        return SSL_TLSEXT_ERR_OK;
      }
      i += 1 + n;
    }
  }
  return SSL_TLSEXT_ERR_ALERT_FATAL;
}

static void finalizeContext(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  SSL_CTX_free(data);  /* connections made with it hold their own reference */
}

static napi_value throwContextError(napi_env env, SSL_CTX *ctx, const char *what) {
  char message[256];
  describeErrors(message, sizeof message, what);
  SSL_CTX_free(ctx);
  napi_throw_error(env, NULL, message);
  return NULL;
}

/* context(certPem, keyPem, passphrase, minVersion 12|13, cipherList, cipherSuites, groups, dhPem|null)
   -> an external SSL_CTX; throws with OpenSSL's reason. The PEM buffers are what JS read from the files. */
static napi_value context(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8], result;
  void *cert, *key, *dh;
  size_t certSize, keySize, dhSize;
  char passphrase[1024] = "", cipherList[4096] = "", cipherSuites[1024] = "", groups[1024] = "";
  size_t n;
  int32_t minVersion;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 8 || !connGetBuffer(env, argv[0], &cert, &certSize) || !connGetBuffer(env, argv[1], &key, &keySize)
      || napi_get_value_string_utf8(env, argv[2], passphrase, sizeof passphrase, &n) != napi_ok
      || napi_get_value_int32(env, argv[3], &minVersion) != napi_ok
      || napi_get_value_string_utf8(env, argv[4], cipherList, sizeof cipherList, &n) != napi_ok
      || napi_get_value_string_utf8(env, argv[5], cipherSuites, sizeof cipherSuites, &n) != napi_ok
      || napi_get_value_string_utf8(env, argv[6], groups, sizeof groups, &n) != napi_ok)
    return connThrowType(env, "context(cert, key, passphrase, minVersion, cipherList, cipherSuites, groups, dh)");
  connGetBuffer(env, argv[7], &dh, &dhSize);
  ERR_clear_error();
  SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
  if (!ctx) return throwContextError(env, NULL, "SSL_CTX_new");
  SSL_CTX_set_min_proto_version(ctx, minVersion == 13 ? TLS1_3_VERSION : TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
  /* As Node's contexts: an idle connection holds no record buffers. A write retried after
     WANT_WRITE offers the same bytes from the queue, not from where they first were. */
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_num_tickets(ctx, TICKETS);
  /* No session cache, as Node's contexts keep none: OpenSSL's default holds up to 20,480 sessions
     (a TLS 1.2 client without tickets each) per context. Tickets resume as before. */
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_alpn_select_cb(ctx, selectAlpn, NULL);
  /* As Node takes its `ciphers`: no TLS 1.3 suite named keeps OpenSSL's and serves TLS 1.2 at most. */
  if (cipherSuites[0] && !SSL_CTX_set_ciphersuites(ctx, cipherSuites)) return throwContextError(env, ctx, "ciphers");
  if (!cipherSuites[0] && minVersion != 13) SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
  /* An empty TLS 1.2 list only says "TLS 1.3 suites only", as Node takes it. */
  if (!SSL_CTX_set_cipher_list(ctx, cipherList) && cipherList[0]) return throwContextError(env, ctx, "ciphers");
  ERR_clear_error();
  if (groups[0] && !SSL_CTX_set1_groups_list(ctx, groups)) return throwContextError(env, ctx, "ec-curve-name");
  BIO *bio = BIO_new_mem_buf(cert, (int)certSize);
  X509 *leaf = bio ? PEM_read_bio_X509_AUX(bio, NULL, NULL, NULL) : NULL;
  int ok = leaf && SSL_CTX_use_certificate(ctx, leaf);
  X509_free(leaf);
  X509 *extra;
  while (ok && (extra = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL)
    if (!SSL_CTX_add0_chain_cert(ctx, extra)) X509_free(extra), ok = 0;
  BIO_free(bio);
  if (!ok) return throwContextError(env, ctx, "cert");
  ERR_clear_error();  /* the end of the chain reads as "no start line" */
  bio = BIO_new_mem_buf(key, (int)keySize);
  EVP_PKEY *pkey = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, passphrase) : NULL;
  BIO_free(bio);
  ok = pkey && SSL_CTX_use_PrivateKey(ctx, pkey) && SSL_CTX_check_private_key(ctx);
  EVP_PKEY_free(pkey);
  if (!ok) return throwContextError(env, ctx, "pkey");
  if (dh && dhSize > 0) {
    bio = BIO_new_mem_buf(dh, (int)dhSize);
    EVP_PKEY *params = bio ? PEM_read_bio_Parameters(bio, NULL) : NULL;
    BIO_free(bio);
    if (!params || !SSL_CTX_set0_tmp_dh_pkey(ctx, params)) {
      EVP_PKEY_free(params);
      return throwContextError(env, ctx, "dh-file");
    }
  }
  if (napi_create_external(env, ctx, finalizeContext, NULL, &result) != napi_ok) return throwContextError(env, ctx, "external");
  return result;
}

#endif
