/* Client TCP connections run in C (docs/native-tls.md, docs/native-tcp-accept.md): JS accepts and
 * sniffs the first bytes (native-tcp-accept.ts), then the connection is adopted here on a dup()
 * of its fd (JS closes its own), the bytes JS already read are read first, and a uv_poll on the
 * environment's own loop drives it. Reads go to one buffer JS gave (one callback per batch, as
 * onread does), at most 32 recv()s a round; each write is one layer write (one TLS record),
 * queued here in order when the socket cannot take it. Plain TCP moves bytes with recv/send
 * (this file's layer); TLS with OpenSSL (tls-stream.c). State is per N-API environment, so each
 * relay worker thread has its own. Events go to one JS callback: (id, event, value, text); JS's
 * calls are stream-calls.c's. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>
#include "stream-conn.h"
#include "socket-addon.h"

/* A client that does not read its answers is not read from either while this much waits for it. */
#define QUEUE_READ_LIMIT (1 << 20)
/* A round of reading takes at most this many recv()s (as libuv's 32 reads per callback), then the
   loop runs other handles: a client that sends faster than it is served cannot hold the thread. */
#define RECVS_PER_ROUND 32

Instance *connInstance(napi_env env) {
  Instance *inst = NULL;
  napi_get_instance_data(env, (void **)&inst);
  return inst;
}

static void emit(Instance *inst, int32_t id, int event, int32_t value, const char *text) {
  napi_env env = inst->env;
  napi_handle_scope scope;
  napi_value argv[4];
  if (inst->teardown) return;
  napi_open_handle_scope(env, &scope);
  napi_create_int32(env, id, &argv[0]);
  napi_create_int32(env, event, &argv[1]);
  napi_create_int32(env, value, &argv[2]);
  if (text) napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &argv[3]);
  else napi_get_undefined(env, &argv[3]);
  callJsFromLoop(env, inst->async, inst->callback, 4, argv);
  napi_close_handle_scope(env, scope);
}

/* ---- the socket ---- */

int connRecv(Conn *c, uint8_t *out, size_t size, size_t *got) {
  *got = 0;
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
    *got = n;
    return IO_DONE;
  }
  /* This round's share is read: what is left in the socket keeps it readable, so the poll comes
     back from the next loop iteration. */
  if (c->state == OPEN && c->recvsLeft <= 0) return IO_WAIT_READ;
  ssize_t n;
  do n = recv(c->fd, out, size, 0);
  while (n < 0 && errno == EINTR);
  if (n > 0) {
    c->recvsLeft--;
    *got = (size_t)n;
    return IO_DONE;
  }
  if (n == 0) {
    c->readEof = 1;
    return IO_END;
  }
  if (errno == EAGAIN || errno == EWOULDBLOCK) return IO_WAIT_READ;
  c->sysErrno = errno;
  return IO_FAILED;
}

int connSend(Conn *c, const uint8_t *data, size_t length, size_t *written) {
  ssize_t n;
  *written = 0;
  do n = send(c->fd, data, length, MSG_NOSIGNAL | MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);
  if (n >= 0) {
    *written = (size_t)n;
    return IO_DONE;
  }
  if (errno == EAGAIN || errno == EWOULDBLOCK) return IO_WAIT_WRITE;
  c->sysErrno = errno;
  return IO_FAILED;
}

void connDescribeErrno(Conn *c, const char *what) {
  if (c->sysErrno) snprintf(c->reason, sizeof c->reason, "%s: %s", what, strerror(c->sysErrno));
  else snprintf(c->reason, sizeof c->reason, "%s", what);
}

/* ---- plain TCP: the socket's bytes as they are ---- */

static int plainRead(Conn *c, uint8_t *out, size_t size, size_t *got) {
  int early = c->early != NULL;
  int done = connRecv(c, out, size, got);
  /* A recv() that did not fill what it was given emptied the socket: the round ends here rather
     than with a recv() that says EAGAIN (as libuv's reads do). */
  if (done == IO_DONE && *got < size && !early) c->recvsLeft = 0;
  if (done == IO_FAILED) connDescribeErrno(c, "read failed");
  return done;
}

static int plainWrite(Conn *c, const uint8_t *data, size_t length, size_t *written) {
  int done = connSend(c, data, length, written);
  if (done == IO_FAILED) connDescribeErrno(c, "write failed");
  return done;
}

static int plainHolds(Conn *c) {
  return c->early != NULL;
}

static const Layer plainLayer = {
  .read = plainRead,
  .write = plainWrite,
  .holds = plainHolds,
  .describe = connDescribeErrno,
};

/* ---- connections ---- */

static void freePending(Conn *c) {
  for (Pending *p = c->head, *next; p; p = next) {
    next = p->next;
    free(p);
  }
  c->head = c->tail = NULL;
  c->pendingBytes = 0;
}

void connFreeInstance(Instance *inst) {
  napi_remove_async_cleanup_hook(inst->teardown);
  free(inst->conns);
  free(inst);
}

static void onConnClosed(uv_handle_t *handle) {
  Conn *c = (Conn *)handle;
  Instance *inst = c->owner;
  if (c->notify) emit(inst, c->id, EV_CLOSE, c->sysErrno, c->reason[0] ? c->reason : NULL);
  if (!inst->teardown && inst->conns[c->id] == c) inst->conns[c->id] = NULL;
  if (c->layer->release) c->layer->release(c);
  inst->live--;
  free(c->early);
  freePending(c);
  free(c);
  inst->closing--;
  if (inst->teardown && inst->closing == 0) connFreeInstance(inst);
}

/* Closes at once; JS hears of it (EV_CLOSE, with `reason` when set) unless it asked. The layer's
   state is freed in the close callback: a close may come from JS while C is between two calls. */
void connClose(Conn *c, int notify) {
  if (c->state == CLOSED) return;
  c->state = CLOSED;
  c->notify = notify;
  uv_poll_stop(&c->poll);
  close(c->fd);
  c->fd = -1;
  c->owner->closing++;
  uv_close((uv_handle_t *)&c->poll, onConnClosed);
}

static void fail(Conn *c, const char *what) {
  if (c->state == CLOSED) return;
  c->layer->describe(c, what);
  connClose(c, 1);
}

static void onPoll(uv_poll_t *handle, int status, int events);

void connSetPoll(Conn *c, int events) {
  if (c->state == CLOSED || events == c->events) return;
  c->events = events;
  if (events) uv_poll_start(&c->poll, events, onPoll);
  else uv_poll_stop(&c->poll);
}

/* Writes queued bytes in order; 0 once a failure closed the connection. */
static int flush(Conn *c, int *wantRead, int *wantWrite) {
  int hadPending = c->head != NULL;
  while (c->head && c->state == OPEN) {
    Pending *p = c->head;
    size_t written = 0;
    int done = c->layer->write(c, p->data + p->offset, p->length - p->offset, &written);
    if (done == IO_FAILED) {
      connClose(c, 1);
      return 0;
    }
    p->offset += written;
    c->pendingBytes -= written;
    if (p->offset == p->length) {
      c->head = p->next;
      if (!c->head) c->tail = NULL;
      free(p);
      continue;
    }
    if (done == IO_WAIT_READ) *wantRead = 1;
    else *wantWrite = 1;
    return 1;
  }
  if (hadPending && !c->head && c->state == OPEN) emit(c->owner, c->id, EV_DRAIN, 0, NULL);
  return c->state == OPEN;
}

/* Reads into the shared buffer, one JS callback per batch, until the socket is empty or the round's share is read. */
static void readAll(Conn *c) {
  Instance *inst = c->owner;
  size_t used = 0;
  c->recvsLeft = RECVS_PER_ROUND;
  while (c->state == OPEN && !c->paused && !c->readEof && c->pendingBytes < QUEUE_READ_LIMIT) {
    size_t got = 0;
    /* The layer says why it failed before the data's JS runs (JS may change OpenSSL's error queue). */
    int done = c->layer->read(c, inst->readBuffer + used, inst->readSize - used, &got);
    if (done == IO_DONE) {
      used += got;
      if (inst->readSize - used < RECORD_MAX) {
        emit(inst, c->id, EV_DATA, (int32_t)used, NULL);
        used = 0;
      }
      continue;
    }
    if (used > 0) {
      emit(inst, c->id, EV_DATA, (int32_t)used, NULL);
      used = 0;
      if (c->state != OPEN) return;
    }
    if (done == IO_WAIT_READ || done == IO_WAIT_WRITE) return;  /* WRITE: a TLS KeyUpdate answer waits for the socket */
    if (done == IO_END) {
      /* close_notify, or the TCP FIN (a client that just goes counts the same, as Node does) */
      c->readEof = 1;
      emit(inst, c->id, EV_END, 0, NULL);
      c->ending = 1;   /* no half-open connections, as net.Server's and tls.Server's allowHalfOpen: false */
      return;
    }
    connClose(c, 1);  /* the reason was said above */
    return;
  }
  if (used > 0) emit(inst, c->id, EV_DATA, (int32_t)used, NULL);
}

/* Everything the connection can do now, then what it waits for. */
void connProgress(Conn *c) {
  int wantRead = 0, wantWrite = 0;
  if (c->state == HANDSHAKING) {
    char label[256] = "";
    int done = c->layer->handshake(c, label, sizeof label);
    if (done == IO_WAIT_READ) connSetPoll(c, UV_READABLE);
    else if (done == IO_WAIT_WRITE) connSetPoll(c, UV_WRITABLE);
    else if (done == IO_FAILED) connClose(c, 1);
    if (done != IO_DONE) return;
    c->state = OPEN;
    emit(c->owner, c->id, EV_SECURE, 0, label);
    if (c->state != OPEN) return;
  }
  if (!flush(c, &wantRead, &wantWrite)) return;
  readAll(c);
  if (c->state != OPEN) return;
  if (!c->head && !wantWrite && !wantRead && !c->paused && c->pendingBytes < QUEUE_READ_LIMIT) {
    /* readAll may have left a KeyUpdate answer unwritten. Only while reads go on: a read
       writes it, and readAll does not run while reads are held, so writable would wake the
       poll again and again until JS resumes; the next read writes it then. */
    if (c->layer->wantsWrite && c->layer->wantsWrite(c)) wantWrite = 1;
  }
  if (c->ending && !c->head && !c->shutDown) {
    c->shutDown = 1;
    if (c->layer->goodbye) c->layer->goodbye(c);  /* best effort */
    shutdown(c->fd, SHUT_WR);
  }
  if (c->shutDown && c->readEof) {
    connClose(c, 1);
    return;
  }
  int events = 0;
  if ((!c->paused && !c->readEof && c->pendingBytes < QUEUE_READ_LIMIT) || wantRead) events |= UV_READABLE;
  if ((c->head && !wantRead) || wantWrite) events |= UV_WRITABLE;
  if (!events && c->readEof) {  /* nothing left to wait for */
    connClose(c, 1);
    return;
  }
  connSetPoll(c, events);
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
  connProgress(c);
}

Conn *connOf(napi_env env, napi_value value) {
  Instance *inst = connInstance(env);
  int32_t id = -1;
  if (!inst || napi_get_value_int32(env, value, &id) != napi_ok || id < 0 || id >= inst->capacity) return NULL;
  Conn *c = inst->conns[id];
  return c && c->state != CLOSED ? c : NULL;
}

Conn *connNew(napi_env env, int fd, const void *early, size_t earlyLength) {
  Instance *inst = connInstance(env);
  Conn *c = inst && inst->callback ? calloc(1, sizeof *c) : NULL;
  if (!c) return NULL;
  c->owner = inst;
  c->id = -1;
  c->layer = &plainLayer;
  c->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (earlyLength) {
    c->early = malloc(earlyLength);
    if (c->early) memcpy(c->early, early, earlyLength), c->earlyLength = earlyLength;
  }
  if (c->fd < 0 || (earlyLength && !c->early)) {
    connAbandon(c);
    return NULL;
  }
  return c;
}

void connAbandon(Conn *c) {
  if (c->layer->release) c->layer->release(c);
  if (c->fd >= 0) close(c->fd);
  free(c->early);
  free(c);
}

int32_t connOpen(napi_env env, Conn *c, int state) {
  Instance *inst = c->owner;
  int32_t id = -1;
  for (int32_t i = 0; i < inst->capacity && id < 0; i++) if (!inst->conns[i]) id = i;
  if (id < 0) {
    int32_t grown = inst->capacity ? inst->capacity * 2 : 64;
    Conn **conns = realloc(inst->conns, (size_t)grown * sizeof *conns);
    if (conns) {
      memset(conns + inst->capacity, 0, (size_t)(grown - inst->capacity) * sizeof *conns);
      id = inst->capacity;
      inst->conns = conns;
      inst->capacity = grown;
    }
  }
  uv_loop_t *loop = NULL;
  napi_get_uv_event_loop(env, &loop);
  if (id < 0 || !loop || uv_poll_init_socket(loop, &c->poll, c->fd) != 0) {
    connAbandon(c);
    return -1;
  }
  int on = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);  /* as StreamSession asks of every socket */
  c->id = id;
  c->state = state;
  inst->conns[id] = c;
  inst->live++;
  /* The early bytes are no event on the socket: writable is one at once, and progress() then
     watches what the connection waits for. */
  connSetPoll(c, c->early ? UV_READABLE | UV_WRITABLE : UV_READABLE);
  return id;
}

/* head, data and zero padding in one buffer that can wait in the queue, or NULL (no memory). */
static Pending *newPending(const uint8_t *head, size_t headLength, const uint8_t *data, size_t length, size_t padding) {
  Pending *p = malloc(sizeof *p + headLength + length + padding);
  if (!p) return NULL;
  p->next = NULL;
  p->length = headLength + length + padding;
  p->offset = 0;
  memcpy(p->data, head, headLength);
  memcpy(p->data + headLength, data, length);
  memset(p->data + headLength + length, 0, padding);
  return p;
}

/* Behind what waits; the caller then tries to write. */
static void enqueue(Conn *c, Pending *p) {
  if (c->tail) c->tail->next = p;
  else c->head = p;
  c->tail = p;
  c->pendingBytes += p->length - p->offset;
}

static int32_t queuedBytes(Conn *c) {
  return c->pendingBytes > INT32_MAX ? INT32_MAX : (int32_t)c->pendingBytes;
}

/* One write now (one TLS record), or queued: what is left queued (bytes), or -1 once the connection is closed. */
int32_t connWrite(Conn *c, const uint8_t *head, size_t headLength, const uint8_t *data, size_t length, size_t padding) {
  size_t total = headLength + length + padding;
  if (c->state == CLOSED || c->ending) return -1;
  Pending *frame = NULL;
  if (c->state == OPEN && !c->head) {
    uint8_t record[RECORD_MAX];
    const uint8_t *bytes = data;
    if (headLength || padding) {
      /* Up to a record, made on the stack; a larger frame (ChannelData up to 64 KiB) where it can
         wait, and still written now: queueing it whole would count against the client's queue
         bytes the kernel would have taken. */
      if (total <= RECORD_MAX) {
        memcpy(record, head, headLength);
        memcpy(record + headLength, data, length);
        memset(record + headLength + length, 0, padding);
        bytes = record;
      } else if ((frame = newPending(head, headLength, data, length, padding)) != NULL) {
        bytes = frame->data;
      } else {
        fail(c, "out of memory");
        return -1;
      }
    }
    size_t written = 0;
    int done = c->layer->write(c, bytes, total, &written);
    if (done == IO_FAILED || (done == IO_DONE && written == total)) {
      free(frame);
      if (done == IO_DONE) return 0;
      connClose(c, 1);
      return -1;
    }
    /* TLS holds the record now and its retry must offer the same bytes: they go first in the queue */
    if (frame) frame->offset = written;
    else if ((frame = newPending(bytes + written, total - written, NULL, 0, 0)) == NULL) {
      fail(c, "out of memory");
      return -1;
    }
    enqueue(c, frame);
    connSetPoll(c, (c->events | (done == IO_WAIT_READ ? UV_READABLE : UV_WRITABLE)));
    return queuedBytes(c);
  }
  if ((frame = newPending(head, headLength, data, length, padding)) == NULL) {
    fail(c, "out of memory");
    return -1;
  }
  enqueue(c, frame);
  if (c->state == OPEN) connSetPoll(c, c->events | UV_WRITABLE);
  return queuedBytes(c);
}
