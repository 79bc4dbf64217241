/* The connection layer of the stream addon (docs/native-tls.md): a client TCP connection run in C
 * on a uv_poll, with read batching, a write queue, pause/resume and close (stream-conn.c; its JS
 * calls in stream-calls.c), under one of two layers that move its bytes: plain TCP
 * (stream-conn.c's own recv/send) or TLS (tls-stream.c, OpenSSL). Shared by the addon's C files. */
#ifndef TURNPIKE_STREAM_CONN_H
#define TURNPIKE_STREAM_CONN_H
#define NAPI_VERSION 8
#include <stddef.h>
#include <stdint.h>
#include <node_api.h>
#include <uv.h>

enum { EV_DATA = 0, EV_SECURE = 1, EV_DRAIN = 2, EV_END = 3, EV_CLOSE = 4 };
enum { HANDSHAKING, OPEN, CLOSED };

/* What a read batch needs left in the buffer: one TLS record's plaintext. */
#define RECORD_MAX 16384

/* What a layer's call did. */
enum { IO_DONE, IO_WAIT_READ, IO_WAIT_WRITE, IO_END, IO_FAILED };

typedef struct Conn Conn;
typedef struct Instance Instance;

/* How a connection's bytes are moved. Calls that fail (IO_FAILED) have said why in c->reason. */
typedef struct {
  /* NULL: open at once. IO_DONE with the ALPN label (may be empty), or what it waits for. */
  int (*handshake)(Conn *c, char *label, size_t labelSize);
  /* Bytes for JS: IO_DONE (*got > 0), a wait, IO_END (the client closed) or IO_FAILED. */
  int (*read)(Conn *c, uint8_t *out, size_t size, size_t *got);
  /* IO_DONE with *written (all of it, or for plain TCP maybe fewer), a wait, or IO_FAILED.
     After a wait, the same bytes are offered again (TLS needs them). */
  int (*write)(Conn *c, const uint8_t *data, size_t length, size_t *written);
  /* Something to write although nothing is queued (a TLS KeyUpdate answer); NULL: never. */
  int (*wantsWrite)(Conn *c);
  /* Bytes taken from the socket that JS has not had yet: a resume must pump them. */
  int (*holds)(Conn *c);
  /* Before the FIN (close_notify); NULL: nothing. */
  void (*goodbye)(Conn *c);
  /* Says in c->reason why `what` failed. */
  void (*describe)(Conn *c, const char *what);
  /* Frees the layer's state (c->layerData), in the poll's close callback; NULL: none. */
  void (*release)(Conn *c);
} Layer;

typedef struct Pending {
  struct Pending *next;
  size_t length, offset;  /* offset: written already (plain TCP takes part of a write) */
  uint8_t data[];
} Pending;

struct Conn {
  uv_poll_t poll;        /* first: the close callback gets this pointer */
  Instance *owner;
  const Layer *layer;
  void *layerData;       /* the SSL */
  int32_t id;
  int fd;
  int state;
  int events;            /* what the poll watches now */
  int paused;            /* JS wants no reads */
  int ending;            /* the layer's goodbye and FIN once the queue is written */
  int shutDown;          /* they were sent */
  int readEof;
  int notify;            /* EV_CLOSE to JS when the handle is closed (C closed it) */
  int sysErrno;          /* errno of the last failed socket call */
  int recvsLeft;         /* this round's recv()s, once open (readAll) */
  uint8_t *early;        /* read by JS before the hand-over: read first */
  size_t earlyLength, earlyOffset;
  Pending *head, *tail;  /* writes not taken yet, oldest first */
  size_t pendingBytes;
  char reason[200];
};

/* One per N-API environment (the main thread, each relay worker). */
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
  int32_t live;   /* connections not freed yet */
};

/* The early bytes, then one recv() (at most RECVS_PER_ROUND a round once open). */
int connRecv(Conn *c, uint8_t *out, size_t size, size_t *got);
/* One send() with MSG_NOSIGNAL: IO_DONE (*written may be short), IO_WAIT_WRITE or IO_FAILED. */
int connSend(Conn *c, const uint8_t *data, size_t length, size_t *written);
/* c->reason from `what` and errno. */
void connDescribeErrno(Conn *c, const char *what);

/* A connection on a dup of `fd` with `early` to read first, not yet polled, or NULL (no memory
   or descriptor). The caller sets its layer (and layerData), then connOpen() or connAbandon(). */
Conn *connNew(napi_env env, int fd, const void *early, size_t earlyLength);
/* Polled from now on, in `state` (HANDSHAKING or OPEN); returns its id, or -1 (then abandoned). */
int32_t connOpen(napi_env env, Conn *c, int state);
/* Frees a connection that was never opened (its layer's state included). */
void connAbandon(Conn *c);

Instance *connInstance(napi_env env);
void connFreeInstance(Instance *inst);
/* The open (or handshaking) connection a JS id names, or NULL. */
Conn *connOf(napi_env env, napi_value value);
/* Closes at once; JS hears of it (EV_CLOSE, with c->reason when set) unless notify is 0. */
void connClose(Conn *c, int notify);
void connSetPoll(Conn *c, int events);
/* Everything the connection can do now (calls back), then what it waits for. */
void connProgress(Conn *c);
/* head, data and zero padding as one write (one TLS record) now, or queued: the bytes left
   queued, or -1 once the connection is closed. */
int32_t connWrite(Conn *c, const uint8_t *head, size_t headLength, const uint8_t *data, size_t length, size_t padding);

napi_value connThrowType(napi_env env, const char *usage);
int connGetBuffer(napi_env env, napi_value value, void **data, size_t *size);
/* Puts the connection layer's calls on `exports`; 0 when it cannot (no memory). */
int connRegister(napi_env env, napi_value exports);

#endif
