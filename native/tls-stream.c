/* The TLS layer of the stream addon (docs/native-tls.md): TLS client connections run in C with
 * the OpenSSL the node binary exports. A tls.TLSSocket costs ~48k instructions per echoed record
 * where SSL_read/SSL_write cost ~8k (docs/performance.md, "TLS: kernel TLS, or OpenSSL in C").
 * JS still accepts and sniffs the first byte (native-tcp-accept.ts); a TLS connection is then
 * adopted by the connection layer (stream-conn.c: poll, read batching, write queue, close) with
 * this file's layer: an SSL whose BIO reads the bytes JS already read first, then the socket,
 * driving SSL_accept, SSL_read and SSL_write. Each write is one record (one SSL_write). */
#define _GNU_SOURCE
#include "stream-conn.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include "tls-stream-context.h"

/* SSL_get_error reads the thread's error queue, so it must hold nothing older before an SSL
   call; ERR_clear_error on an empty queue still costs a few hundred instructions, a peek a few. */
static inline void freshErrors(void) {
  if (ERR_peek_error()) ERR_clear_error();
}

/* ---- the BIO: the connection's early bytes, then the socket ---- */

static int bioRead(BIO *bio, char *out, size_t size, size_t *read) {
  Conn *c = BIO_get_data(bio);
  BIO_clear_flags(bio, BIO_FLAGS_RWS | BIO_FLAGS_SHOULD_RETRY);
  int done = connRecv(c, (uint8_t *)out, size, read);
  /* A round's share read: OpenSSL hands out what it holds, then says WANT_READ. */
  if (done == IO_WAIT_READ) BIO_set_flags(bio, BIO_FLAGS_READ | BIO_FLAGS_SHOULD_RETRY);
  return done == IO_DONE;
}

static int bioWrite(BIO *bio, const char *data, size_t size, size_t *written) {
  Conn *c = BIO_get_data(bio);
  BIO_clear_flags(bio, BIO_FLAGS_RWS | BIO_FLAGS_SHOULD_RETRY);
  int done = connSend(c, (const uint8_t *)data, size, written);
  if (done == IO_WAIT_WRITE) BIO_set_flags(bio, BIO_FLAGS_WRITE | BIO_FLAGS_SHOULD_RETRY);
  return done == IO_DONE;
}

static long bioCtrl(BIO *bio, int command, long number, void *pointer) {
  (void)number;
  (void)pointer;
  Conn *c = BIO_get_data(bio);
  switch (command) {
    case BIO_CTRL_FLUSH: return 1;
    case BIO_CTRL_EOF: return c && c->readEof;
    case BIO_CTRL_PENDING: return c ? (long)(c->earlyLength - c->earlyOffset) : 0;
    default: return 0;
  }
}

/* One BIO type for the process, made once and never freed: each environment (a relay worker
   that starts again is a new one) making its own would take a new BIO_get_new_index(), of
   which OpenSSL has 127 per process. */
static BIO_METHOD *socketBio;
static uv_once_t socketBioOnce = UV_ONCE_INIT;

static void makeSocketBio(void) {
  BIO_METHOD *method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "turnpike socket");
  if (!method) return;
  BIO_meth_set_read_ex(method, bioRead);
  BIO_meth_set_write_ex(method, bioWrite);
  BIO_meth_set_ctrl(method, bioCtrl);
  socketBio = method;
}

/* ---- the layer ---- */

/* Why the connection fails, from this thread's OpenSSL error queue (then emptied) or errno. */
static void tlsDescribe(Conn *c, const char *what) {
  if (ERR_peek_error()) describeErrors(c->reason, sizeof c->reason, what);
  else connDescribeErrno(c, what);
  ERR_clear_error();
}

static int tlsHandshake(Conn *c, char *label, size_t labelSize) {
  SSL *ssl = c->layerData;
  freshErrors();
  int done = SSL_do_handshake(ssl);
  if (done != 1) {
    int error = SSL_get_error(ssl, done);
    if (error == SSL_ERROR_WANT_READ && !c->readEof) return IO_WAIT_READ;
    if (error == SSL_ERROR_WANT_WRITE) return IO_WAIT_WRITE;
    tlsDescribe(c, c->readEof ? "TLS handshake failed: connection closed" : "TLS handshake failed");
    return IO_FAILED;
  }
  const unsigned char *alpn = NULL;
  unsigned int alpnLength = 0;
  SSL_get0_alpn_selected(ssl, &alpn, &alpnLength);
  if (alpn && alpnLength < labelSize) memcpy(label, alpn, alpnLength), label[alpnLength] = 0;
  return IO_DONE;
}

static int tlsRead(Conn *c, uint8_t *out, size_t size, size_t *got) {
  SSL *ssl = c->layerData;
  freshErrors();
  if (SSL_read_ex(ssl, out, size, got) == 1) return IO_DONE;
  int error = SSL_get_error(ssl, 0);
  if (error == SSL_ERROR_WANT_READ) return IO_WAIT_READ;
  if (error == SSL_ERROR_WANT_WRITE) return IO_WAIT_WRITE;  /* a KeyUpdate answer waits for the socket */
  if (error == SSL_ERROR_ZERO_RETURN || (c->readEof && !c->sysErrno)) {
    ERR_clear_error();
    return IO_END;
  }
  tlsDescribe(c, "TLS read failed");
  return IO_FAILED;
}

static int tlsWrite(Conn *c, const uint8_t *data, size_t length, size_t *written) {
  SSL *ssl = c->layerData;
  freshErrors();
  if (SSL_write_ex(ssl, data, length, written) == 1) return IO_DONE;
  *written = 0;  /* the retry offers the same bytes (SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER) */
  int error = SSL_get_error(ssl, 0);
  if (error == SSL_ERROR_WANT_WRITE) return IO_WAIT_WRITE;
  if (error == SSL_ERROR_WANT_READ) return IO_WAIT_READ;
  tlsDescribe(c, "TLS write failed");
  return IO_FAILED;
}

static int tlsWantsWrite(Conn *c) {
  return SSL_want_write((SSL *)c->layerData);
}

static int tlsHolds(Conn *c) {
  return c->early != NULL || SSL_has_pending((SSL *)c->layerData);
}

static void tlsGoodbye(Conn *c) {
  ERR_clear_error();
  SSL_shutdown(c->layerData);  /* close_notify */
  ERR_clear_error();
}

static void tlsRelease(Conn *c) {
  SSL_free(c->layerData);  /* frees the BIO too */
  c->layerData = NULL;
}

static const Layer tlsLayer = {
  .handshake = tlsHandshake,
  .read = tlsRead,
  .write = tlsWrite,
  .wantsWrite = tlsWantsWrite,
  .holds = tlsHolds,
  .goodbye = tlsGoodbye,
  .describe = tlsDescribe,
  .release = tlsRelease,
};

/* adopt(fd, context, early) -> id: the TLS connection is this addon's (on a dup of fd: JS closes
   its own); `early`, the bytes JS read from it, are read first. Throws when it cannot. */
static napi_value adopt(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], result;
  int32_t fd;
  SSL_CTX *ctx = NULL;
  void *early;
  size_t earlyLength;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 3 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0
      || napi_get_value_external(env, argv[1], (void **)&ctx) != napi_ok || !ctx
      || !connGetBuffer(env, argv[2], &early, &earlyLength))
    return connThrowType(env, "adopt(fd, context, early)");
  Conn *c = connNew(env, fd, early, earlyLength);
  BIO *bio = c ? BIO_new(socketBio) : NULL;
  SSL *ssl = bio ? SSL_new(ctx) : NULL;
  if (!ssl) {
    if (bio) BIO_free(bio);  /* not the SSL's yet */
    if (c) connAbandon(c);
    ERR_clear_error();
    return connThrowType(env, "adopt(): out of memory or descriptors");
  }
  BIO_set_data(bio, c);
  BIO_set_init(bio, 1);
  SSL_set_bio(ssl, bio, bio);
  SSL_set_accept_state(ssl);
  SSL_set_read_ahead(ssl, 1);  /* one recv per record or more, not two */
  c->layer = &tlsLayer;
  c->layerData = ssl;
  int32_t id = connOpen(env, c, HANDSHAKING);
  if (id < 0) return connThrowType(env, "adopt(): out of memory or descriptors");
  napi_create_int32(env, id, &result);
  return result;
}

#define FUNCTION(name, fn) { name, NULL, fn, NULL, NULL, NULL, napi_default, NULL }

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_property_descriptor props[] = {
    FUNCTION("context", context),
    FUNCTION("adopt", adopt),
  };
  uv_once(&socketBioOnce, makeSocketBio);
  if (!socketBio || !connRegister(env, exports)) return NULL;
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}
