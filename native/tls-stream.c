/* TLS client connections run in C with the OpenSSL the node binary exports (docs/native-tls.md).
 * A tls.TLSSocket costs ~48k instructions per echoed record where SSL_read/SSL_write cost ~8k
 * (docs/performance.md, "TLS: kernel TLS, or OpenSSL in C"). JS still accepts and sniffs the
 * first byte (native-tcp-accept.ts); a TLS connection is then adopted here: its fd is dup()ed
 * (JS closes its own), the bytes JS already read are read first through this file's BIO, and a
 * uv_poll on the environment's own loop drives SSL_accept, SSL_read and SSL_write. Reads go to
 * one buffer JS gave (one callback per batch, as onread does for TCP); each write is one record
 * (one SSL_write), queued here in order when the socket cannot take it. State is per N-API
 * environment, so each relay worker thread has its own. Events go to one JS callback:
 * (id, event, value, text). */
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>
#include <node_api.h>
#include <uv.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include "tls-stream-context.h"

enum { EV_DATA = 0, EV_SECURE = 1, EV_DRAIN = 2, EV_END = 3, EV_CLOSE = 4 };
enum { HANDSHAKING, OPEN, CLOSED };

/* What a read batch needs left in the buffer: one record's plaintext. */
#define RECORD_MAX 16384
/* A client that does not read its answers is not read from either while this much waits for it. */
#define QUEUE_READ_LIMIT (1 << 20)
/* A round of reading takes at most this many recv()s (as libuv's 32 reads per callback), then the
   loop runs other handles: a client that sends faster than it is served cannot hold the thread. */
#define RECVS_PER_ROUND 32

typedef struct Instance Instance;

typedef struct Pending {
  struct Pending *next;
  size_t length;
  uint8_t data[];
} Pending;

typedef struct {
  uv_poll_t poll;        /* first: the close callback gets this pointer */
  Instance *owner;
  int32_t id;
  int fd;
  int state;
  SSL *ssl;
  int events;            /* what the poll watches now */
  int paused;            /* JS wants no reads */
  int ending;            /* close_notify and FIN once the queue is written */
  int shutDown;          /* they were sent */
  int readEof;
  int notify;            /* EV_CLOSE to JS when the handle is closed (C closed it) */
  int sysErrno;          /* errno of the BIO's last failed call */
  int recvsLeft;         /* this round's recv()s, once open (readAll) */
  uint8_t *early;        /* read by JS before the hand-over: the BIO's first bytes */
  size_t earlyLength, earlyOffset;
  Pending *head, *tail;  /* records not yet taken by SSL_write, oldest first */
  size_t pendingBytes;
  char reason[200];
} Conn;

struct Instance {
  napi_env env;
  napi_ref callback;
  napi_ref readRef;
  uint8_t *readBuffer;
  size_t readSize;
  napi_async_context async;
  Conn **conns;
  int32_t capacity;
  napi_async_cleanup_hook_handle teardown;
  int closing;
  int32_t live;   /* connections whose SSL is not freed yet */
};

/* Makes `poll` watch `fd` on this environment's own loop (a relay worker's, or the main one). */
static int pollOnOwnLoop(napi_env env, uv_poll_t *poll, int fd) {
  uv_loop_t *loop = NULL;
  napi_get_uv_event_loop(env, &loop);
  return loop ? uv_poll_init_socket(loop, poll, fd) : UV_EINVAL;
}

static Instance *instanceOf(napi_env env) {
  Instance *inst = NULL;
  napi_get_instance_data(env, (void **)&inst);
  return inst;
}

static void emit(Instance *inst, int32_t id, int event, int32_t value, const char *text) {
  napi_env env = inst->env;
  napi_handle_scope scope;
  napi_value fn, recv, argv[4], result;
  if (inst->teardown) return;
  napi_open_handle_scope(env, &scope);
  napi_get_reference_value(env, inst->callback, &fn);
  napi_get_global(env, &recv);
  napi_create_int32(env, id, &argv[0]);
  napi_create_int32(env, event, &argv[1]);
  napi_create_int32(env, value, &argv[2]);
  if (text) napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &argv[3]);
  else napi_get_undefined(env, &argv[3]);
  if (napi_make_callback(env, inst->async, recv, fn, 4, argv, &result) != napi_ok) {
    napi_value error;
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending && napi_get_and_clear_last_exception(env, &error) == napi_ok) napi_fatal_exception(env, error);
  }
  napi_close_handle_scope(env, scope);
}

/* SSL_get_error reads the thread's error queue, so it must hold nothing older before an SSL
   call; ERR_clear_error on an empty queue still costs a few hundred instructions, a peek a few. */
static inline void freshErrors(void) {
  if (ERR_peek_error()) ERR_clear_error();
}

/* ---- the BIO: the early bytes, then the socket (send with MSG_NOSIGNAL) ---- */

static int bioRead(BIO *bio, char *out, size_t size, size_t *read) {
  Conn *c = BIO_get_data(bio);
  BIO_clear_flags(bio, BIO_FLAGS_RWS | BIO_FLAGS_SHOULD_RETRY);
  *read = 0;
  if (c->earlyOffset < c->earlyLength) {
    size_t n = c->earlyLength - c->earlyOffset;
    if (n > size) n = size;
    memcpy(out, c->early + c->earlyOffset, n);
    c->earlyOffset += n;
    if (c->earlyOffset == c->earlyLength) {
      free(c->early);
      c->early = NULL;
      c->earlyLength = c->earlyOffset = 0;
    }
    *read = n;
    return 1;
  }
  if (c->state == OPEN && c->recvsLeft <= 0) {
    /* This round's share is read: OpenSSL hands out what it holds, then says WANT_READ; what is
       left in the socket keeps it readable, so the poll comes back from the next loop iteration. */
    BIO_set_flags(bio, BIO_FLAGS_READ | BIO_FLAGS_SHOULD_RETRY);
    return 0;
  }
  ssize_t got;
  do got = recv(c->fd, out, size, 0);
  while (got < 0 && errno == EINTR);
  if (got > 0) {
    c->recvsLeft--;
    *read = (size_t)got;
    return 1;
  }
  if (got == 0) c->readEof = 1;
  else if (errno == EAGAIN || errno == EWOULDBLOCK) BIO_set_flags(bio, BIO_FLAGS_READ | BIO_FLAGS_SHOULD_RETRY);
  else c->sysErrno = errno;
  return 0;
}

static int bioWrite(BIO *bio, const char *data, size_t size, size_t *written) {
  Conn *c = BIO_get_data(bio);
  BIO_clear_flags(bio, BIO_FLAGS_RWS | BIO_FLAGS_SHOULD_RETRY);
  *written = 0;
  ssize_t sent;
  do sent = send(c->fd, data, size, MSG_NOSIGNAL | MSG_DONTWAIT);
  while (sent < 0 && errno == EINTR);
  if (sent >= 0) {
    *written = (size_t)sent;
    return 1;
  }
  if (errno == EAGAIN || errno == EWOULDBLOCK) BIO_set_flags(bio, BIO_FLAGS_WRITE | BIO_FLAGS_SHOULD_RETRY);
  else c->sysErrno = errno;
  return 0;
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

/* ---- connections ---- */

static void freePending(Conn *c) {
  for (Pending *p = c->head, *next; p; p = next) {
    next = p->next;
    free(p);
  }
  c->head = c->tail = NULL;
  c->pendingBytes = 0;
}

static void onConnClosed(uv_handle_t *handle) {
  Conn *c = (Conn *)handle;
  Instance *inst = c->owner;
  if (c->notify) emit(inst, c->id, EV_CLOSE, c->sysErrno, c->reason[0] ? c->reason : NULL);
  if (!inst->teardown && inst->conns[c->id] == c) inst->conns[c->id] = NULL;
  SSL_free(c->ssl);  /* frees the BIO too */
  inst->live--;
  free(c->early);
  freePending(c);
  free(c);
  inst->closing--;
  if (inst->teardown && inst->closing == 0) {
    napi_remove_async_cleanup_hook(inst->teardown);
    free(inst->conns);
    free(inst);
  }
}

/* Closes at once; JS hears of it (EV_CLOSE, with `reason` when set) unless it asked. The SSL is
   freed in the close callback: a close may come from JS while C is between two SSL calls. */
static void closeConn(Conn *c, int notify) {
  if (c->state == CLOSED) return;
  c->state = CLOSED;
  c->notify = notify;
  uv_poll_stop(&c->poll);
  close(c->fd);
  c->fd = -1;
  c->owner->closing++;
  uv_close((uv_handle_t *)&c->poll, onConnClosed);
}

/* Why the connection fails, from this thread's OpenSSL error queue (then emptied) or errno. */
static void describeFailure(Conn *c, const char *what) {
  if (ERR_peek_error()) describeErrors(c->reason, sizeof c->reason, what);
  else if (c->sysErrno) snprintf(c->reason, sizeof c->reason, "%s: %s", what, strerror(c->sysErrno));
  else snprintf(c->reason, sizeof c->reason, "%s", what);
  ERR_clear_error();
}

static void fail(Conn *c, const char *what) {
  if (c->state == CLOSED) return;
  describeFailure(c, what);
  closeConn(c, 1);
}

static void onPoll(uv_poll_t *handle, int status, int events);

static void setPoll(Conn *c, int events) {
  if (c->state == CLOSED || events == c->events) return;
  c->events = events;
  if (events) uv_poll_start(&c->poll, events, onPoll);
  else uv_poll_stop(&c->poll);
}

/* Writes queued records in order; 0 once a fatal error closed the connection. */
static int flush(Conn *c, int *wantRead, int *wantWrite) {
  int hadPending = c->head != NULL;
  while (c->head && c->state == OPEN) {
    Pending *p = c->head;
    size_t written = 0;
    freshErrors();
    if (SSL_write_ex(c->ssl, p->data, p->length, &written) == 1) {
      c->head = p->next;
      if (!c->head) c->tail = NULL;
      c->pendingBytes -= p->length;
      free(p);
      continue;
    }
    int error = SSL_get_error(c->ssl, 0);
    if (error == SSL_ERROR_WANT_WRITE) *wantWrite = 1;
    else if (error == SSL_ERROR_WANT_READ) *wantRead = 1;
    else {
      fail(c, "TLS write failed");
      return 0;
    }
    return 1;
  }
  if (hadPending && !c->head && c->state == OPEN) emit(c->owner, c->id, EV_DRAIN, 0, NULL);
  return c->state == OPEN;
}

/* Reads records into the shared buffer, one JS callback per batch, until the socket is empty. */
static void readAll(Conn *c) {
  Instance *inst = c->owner;
  size_t used = 0;
  c->recvsLeft = RECVS_PER_ROUND;
  while (c->state == OPEN && !c->paused && !c->readEof && c->pendingBytes < QUEUE_READ_LIMIT) {
    size_t got = 0;
    freshErrors();
    if (SSL_read_ex(c->ssl, inst->readBuffer + used, inst->readSize - used, &got) == 1) {
      used += got;
      if (inst->readSize - used < RECORD_MAX) {
        emit(inst, c->id, EV_DATA, (int32_t)used, NULL);
        used = 0;
      }
      continue;
    }
    int error = SSL_get_error(c->ssl, 0);
    int waits = error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE;  /* WRITE: a KeyUpdate answer waits for the socket */
    int ended = !waits && (error == SSL_ERROR_ZERO_RETURN || (c->readEof && !c->sysErrno));
    /* Said now: the data's JS below may call OpenSSL on this thread and change its error queue. */
    if (!waits && !ended) describeFailure(c, "TLS read failed");
    if (used > 0) {
      emit(inst, c->id, EV_DATA, (int32_t)used, NULL);
      used = 0;
      if (c->state != OPEN) return;
    }
    if (waits) return;
    if (ended) {
      /* close_notify, or the TCP FIN (a client that just goes counts the same, as Node does) */
      c->readEof = 1;
      ERR_clear_error();
      emit(inst, c->id, EV_END, 0, NULL);
      c->ending = 1;   /* no half-open connections, as tls.Server's allowHalfOpen: false */
      return;
    }
    closeConn(c, 1);  /* the reason was said above */
    return;
  }
  if (used > 0) emit(inst, c->id, EV_DATA, (int32_t)used, NULL);
}

/* Everything the connection can do now, then what it waits for. */
static void progress(Conn *c) {
  int wantRead = 0, wantWrite = 0;
  if (c->state == HANDSHAKING) {
    freshErrors();
    int done = SSL_do_handshake(c->ssl);
    if (done != 1) {
      int error = SSL_get_error(c->ssl, done);
      if (error == SSL_ERROR_WANT_READ && !c->readEof) setPoll(c, UV_READABLE);
      else if (error == SSL_ERROR_WANT_WRITE) setPoll(c, UV_WRITABLE);
      else fail(c, c->readEof ? "TLS handshake failed: connection closed" : "TLS handshake failed");
      return;
    }
    c->state = OPEN;
    const unsigned char *alpn = NULL;
    unsigned int alpnLength = 0;
    char label[256] = "";
    SSL_get0_alpn_selected(c->ssl, &alpn, &alpnLength);
    if (alpn && alpnLength < sizeof label) memcpy(label, alpn, alpnLength), label[alpnLength] = 0;
    emit(c->owner, c->id, EV_SECURE, 0, label);
    if (c->state != OPEN) return;
  }
  if (!flush(c, &wantRead, &wantWrite)) return;
  readAll(c);
  if (c->state != OPEN) return;
  if (!c->head && !wantWrite && !wantRead && !c->paused && c->pendingBytes < QUEUE_READ_LIMIT) {
    /* readAll may have left a KeyUpdate answer unwritten. Only while reads go on: SSL_read
       writes it, and readAll does not run while reads are held, so writable would wake the
       poll again and again until JS resumes; the next SSL_read writes it then. */
    if (SSL_want_write(c->ssl)) wantWrite = 1;
  }
  if (c->ending && !c->head && !c->shutDown) {
    c->shutDown = 1;
    ERR_clear_error();
    SSL_shutdown(c->ssl);  /* close_notify; best effort */
    ERR_clear_error();
    shutdown(c->fd, SHUT_WR);
  }
  if (c->shutDown && c->readEof) {
    closeConn(c, 1);
    return;
  }
  int events = 0;
  if ((!c->paused && !c->readEof && c->pendingBytes < QUEUE_READ_LIMIT) || wantRead) events |= UV_READABLE;
  if ((c->head && !wantRead) || wantWrite) events |= UV_WRITABLE;
  if (!events && c->readEof) {  /* nothing left to wait for */
    closeConn(c, 1);
    return;
  }
  setPoll(c, events);
}

static void onPoll(uv_poll_t *handle, int status, int events) {
  (void)events;
  Conn *c = (Conn *)handle;
  if (c->state == CLOSED) return;
  if (status < 0) {
    c->sysErrno = -status;
    fail(c, "socket error");
    return;
  }
  progress(c);
}

static Conn *connOf(napi_env env, napi_value value) {
  Instance *inst = instanceOf(env);
  int32_t id = -1;
  if (!inst || napi_get_value_int32(env, value, &id) != napi_ok || id < 0 || id >= inst->capacity) return NULL;
  Conn *c = inst->conns[id];
  return c && c->state != CLOSED ? c : NULL;
}

/* ---- JS calls ---- */

/* start(callback(id, event, value, text), readBuffer): once per thread */
static napi_value start(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], name;
  napi_valuetype type;
  Instance *inst = instanceOf(env);
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (!inst || inst->callback) return throwType(env, "start() once per thread");
  void *data;
  size_t size;
  if (argc < 2 || napi_typeof(env, argv[0], &type) != napi_ok || type != napi_function
      || !getBuffer(env, argv[1], &data, &size) || size < 2 * RECORD_MAX || size > INT32_MAX)
    return throwType(env, "start(callback, readBuffer of 32 KiB or more)");
  napi_create_reference(env, argv[0], 1, &inst->callback);
  napi_create_reference(env, argv[1], 1, &inst->readRef);
  inst->readBuffer = data;
  inst->readSize = size;
  napi_create_string_utf8(env, "turnpike-tls-stream", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &inst->async);
  return NULL;
}

/* adopt(fd, context, early) -> id: the connection is this addon's (on a dup of fd: JS closes
   its own); `early`, the bytes JS read from it, are read first. Throws when it cannot. */
static napi_value adopt(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], result;
  int32_t fd;
  SSL_CTX *ctx = NULL;
  void *early;
  size_t earlyLength;
  Instance *inst = instanceOf(env);
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (!inst || !inst->callback) return throwType(env, "start() first");
  if (argc < 3 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0
      || napi_get_value_external(env, argv[1], (void **)&ctx) != napi_ok || !ctx
      || !getBuffer(env, argv[2], &early, &earlyLength))
    return throwType(env, "adopt(fd, context, early)");
  int32_t id = -1;
  for (int32_t i = 0; i < inst->capacity && id < 0; i++) if (!inst->conns[i]) id = i;
  if (id < 0) {
    int32_t grown = inst->capacity ? inst->capacity * 2 : 64;
    Conn **conns = realloc(inst->conns, (size_t)grown * sizeof *conns);
    if (!conns) return throwType(env, "out of memory");
    memset(conns + inst->capacity, 0, (size_t)(grown - inst->capacity) * sizeof *conns);
    id = inst->capacity;
    inst->conns = conns;
    inst->capacity = grown;
  }
  Conn *c = calloc(1, sizeof *c);
  int copy = c ? fcntl(fd, F_DUPFD_CLOEXEC, 3) : -1;
  if (c && earlyLength) {
    c->early = malloc(earlyLength);
    if (c->early) memcpy(c->early, early, earlyLength), c->earlyLength = earlyLength;
  }
  BIO *bio = copy >= 0 ? BIO_new(socketBio) : NULL;
  if (c && bio) c->ssl = SSL_new(ctx);
  if (!c || copy < 0 || !bio || !c->ssl || (earlyLength && !c->early) || pollOnOwnLoop(env, &c->poll, copy) != 0) {
    if (c) {
      if (c->ssl) SSL_free(c->ssl);
      free(c->early);
    }
    if (bio) BIO_free(bio);  /* not the SSL's yet: SSL_set_bio comes below */
    if (copy >= 0) close(copy);
    free(c);
    ERR_clear_error();
    return throwType(env, "adopt(): out of memory or descriptors");
  }
  int on = 1;
  setsockopt(copy, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);  /* as StreamSession asks of every socket */
  c->owner = inst;
  c->id = id;
  c->fd = copy;
  c->state = HANDSHAKING;
  BIO_set_data(bio, c);
  BIO_set_init(bio, 1);
  SSL_set_bio(c->ssl, bio, bio);
  SSL_set_accept_state(c->ssl);
  SSL_set_read_ahead(c->ssl, 1);  /* one recv per record or more, not two */
  inst->conns[id] = c;
  inst->live++;
  /* The early bytes (a ClientHello) are no event on the socket: writable is one at once, and
     progress() then watches what the handshake waits for. */
  setPoll(c, c->early ? UV_READABLE | UV_WRITABLE : UV_READABLE);
  napi_create_int32(env, id, &result);
  return result;
}

/* Queues `length` bytes as one record behind what waits; the caller then tries to write. */
static int enqueue(Conn *c, const uint8_t *head, size_t headLength, const uint8_t *data, size_t length, size_t padding) {
  Pending *p = malloc(sizeof *p + headLength + length + padding);
  if (!p) return 0;
  p->next = NULL;
  p->length = headLength + length + padding;
  memcpy(p->data, head, headLength);
  memcpy(p->data + headLength, data, length);
  memset(p->data + headLength + length, 0, padding);
  if (c->tail) c->tail->next = p;
  else c->head = p;
  c->tail = p;
  c->pendingBytes += p->length;
  return 1;
}

/* One record now, or queued: what is left queued (bytes), or -1 once the connection is closed. */
static int32_t send1(Conn *c, const uint8_t *head, size_t headLength, const uint8_t *data, size_t length, size_t padding) {
  if (c->state == OPEN && !c->head && !c->ending && headLength + length + padding <= RECORD_MAX) {
    uint8_t record[RECORD_MAX];
    const uint8_t *bytes = data;
    size_t total = length;
    if (headLength || padding) {
      memcpy(record, head, headLength);
      memcpy(record + headLength, data, length);
      memset(record + headLength + length, 0, padding);
      bytes = record;
      total = headLength + length + padding;
    }
    size_t written = 0;
    freshErrors();
    if (SSL_write_ex(c->ssl, bytes, total, &written) == 1) return 0;
    int error = SSL_get_error(c->ssl, 0);
    if (error != SSL_ERROR_WANT_WRITE && error != SSL_ERROR_WANT_READ) {
      fail(c, "TLS write failed");
      return -1;
    }
    /* OpenSSL holds the record now; the retry must offer the same bytes: they go first in the queue */
    if (!enqueue(c, bytes, total, NULL, 0, 0)) {
      fail(c, "out of memory");
      return -1;
    }
    setPoll(c, (c->events | (error == SSL_ERROR_WANT_WRITE ? UV_WRITABLE : UV_READABLE)));
    return (int32_t)c->pendingBytes;
  }
  if (c->state == CLOSED || c->ending) return -1;
  if (!enqueue(c, head, headLength, data, length, padding)) {
    fail(c, "out of memory");
    return -1;
  }
  if (c->state == OPEN) setPoll(c, c->events | UV_WRITABLE);
  return c->pendingBytes > INT32_MAX ? INT32_MAX : (int32_t)c->pendingBytes;
}

/* write(id, data) -> bytes queued behind, or -1 when closed */
static napi_value writeData(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], result;
  void *data;
  size_t size;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2 || !getBuffer(env, argv[1], &data, &size)) return throwType(env, "write(id, data)");
  Conn *c = connOf(env, argv[0]);
  napi_create_int32(env, c ? send1(c, NULL, 0, data, size, 0) : -1, &result);
  return result;
}

/* writeChannelData(id, channel, data, offset, length) -> as write: the frame (RFC 8656 §12.5) in one record */
static napi_value writeChannelData(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5], result;
  int32_t channel, offset, length;
  void *data;
  size_t size;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 5 || napi_get_value_int32(env, argv[1], &channel) != napi_ok || !getBuffer(env, argv[2], &data, &size)
      || napi_get_value_int32(env, argv[3], &offset) != napi_ok || napi_get_value_int32(env, argv[4], &length) != napi_ok
      || channel < 0 || channel > 0xffff || offset < 0 || length < 0 || length > 0xffff || (size_t)offset + (size_t)length > size)
    return throwType(env, "writeChannelData(id, channel, data, offset, length)");
  Conn *c = connOf(env, argv[0]);
  uint8_t header[4] = {(uint8_t)(channel >> 8), (uint8_t)channel, (uint8_t)(length >> 8), (uint8_t)length};
  napi_create_int32(env, c ? send1(c, header, 4, (uint8_t *)data + offset, (size_t)length, (size_t)((4 - length % 4) % 4)) : -1, &result);
  return result;
}

static napi_value setPaused(napi_env env, napi_callback_info info, int paused) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  Conn *c = argc ? connOf(env, argv[0]) : NULL;
  if (!c) return NULL;
  c->paused = paused;
  if (c->state == OPEN) setPoll(c, paused ? (c->events & ~UV_READABLE) | (c->head ? UV_WRITABLE : 0) : c->events | UV_READABLE);
  return NULL;
}

static napi_value pauseReads(napi_env env, napi_callback_info info) { return setPaused(env, info, 1); }

/* resume(id): reads again; what OpenSSL already holds is not in the socket, so pump() it (from a setImmediate) */
static napi_value resumeReads(napi_env env, napi_callback_info info) { return setPaused(env, info, 0); }

/* pump(id): a round of progress now (calls back) */
static napi_value pump(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  Conn *c = argc ? connOf(env, argv[0]) : NULL;
  if (c && c->state == OPEN) progress(c);
  return NULL;
}

/* end(id): close_notify and FIN once the queue is written; the connection closes at the client's */
static napi_value endWrites(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  Conn *c = argc ? connOf(env, argv[0]) : NULL;
  if (!c) return NULL;
  if (c->state != OPEN) {
    closeConn(c, 1);
    return NULL;
  }
  c->ending = 1;
  setPoll(c, c->events | UV_WRITABLE);  /* progress() sends them from the next round */
  return NULL;
}

/* destroy(id): closed now, no event */
static napi_value destroyConn(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  Conn *c = argc ? connOf(env, argv[0]) : NULL;
  if (c) closeConn(c, 0);
  return NULL;
}

/* live() -> connections adopted whose SSL, buffers and descriptor are not freed yet */
static napi_value liveConnections(napi_env env, napi_callback_info info) {
  (void)info;
  Instance *inst = instanceOf(env);
  napi_value result;
  napi_create_int32(env, inst ? inst->live : 0, &result);
  return result;
}

static void cleanup(napi_async_cleanup_hook_handle hook, void *data) {
  Instance *inst = data;
  inst->teardown = hook;
  inst->closing++;
  for (int32_t id = 0; id < inst->capacity; id++) {
    Conn *c = inst->conns[id];
    if (c && c->state != CLOSED) closeConn(c, 0);
  }
  inst->closing--;
  if (inst->closing == 0) {
    napi_remove_async_cleanup_hook(hook);
    free(inst->conns);
    free(inst);
  }
}

#define FUNCTION(name, fn) { name, NULL, fn, NULL, NULL, NULL, napi_default, NULL }

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_property_descriptor props[] = {
    FUNCTION("start", start),
    FUNCTION("context", context),
    FUNCTION("adopt", adopt),
    FUNCTION("write", writeData),
    FUNCTION("writeChannelData", writeChannelData),
    FUNCTION("pause", pauseReads),
    FUNCTION("resume", resumeReads),
    FUNCTION("pump", pump),
    FUNCTION("end", endWrites),
    FUNCTION("destroy", destroyConn),
    FUNCTION("live", liveConnections),
  };
  Instance *inst = calloc(1, sizeof *inst);
  if (!inst) return NULL;
  inst->env = env;
  uv_once(&socketBioOnce, makeSocketBio);
  if (!socketBio) {
    free(inst);
    return NULL;
  }
  napi_set_instance_data(env, inst, NULL, NULL);
  napi_add_async_cleanup_hook(env, cleanup, inst, NULL);
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}
