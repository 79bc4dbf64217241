/* The batched UDP addon's shared state (docs/native-udp.md), one per N-API environment, and
 * what its C files call of each other:
 *   udp-io.c          the addon: an environment's instance, start(), its teardown
 *   udp-receive.c     what a socket receives (recvmmsg): relayed here on a live route, else to JS
 *   udp-send.c        a loop turn's end: what was relayed, JS called once, what it queued sent
 *                     (sendmmsg); send(), flush()
 *   udp-sockets.c     sockets by number: open, localPort, close
 *   udp-relay-calls.c JS's calls that steer the fast path: routes, hold, a DTLS client's keys
 *   udp-binding.c     a listener's plain Binding requests answered here (stun-answer.c builds the answer)
 * with the route table (udp-routes.c) and DTLS records (dtls-routes.c). Each C file of the addon
 * includes this first: _GNU_SOURCE must come before any system header (recvmmsg, sendmmsg). */
#ifndef TURNPIKE_UDP_IO_H
#define TURNPIKE_UDP_IO_H
#define _GNU_SOURCE
#define NAPI_VERSION 8   /* napi_add_async_cleanup_hook: libuv handles close before the loop does */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <node_api.h>
#include <uv.h>
#include "udp-routes.h"
#include "dtls-routes.h"
#include "stun-answer.h"

#define SLOTS 64          /* datagrams per turn; more wait for the next turn (level-triggered poll) */
#define SLOT 65536        /* bytes per datagram slot: any UDP payload fits; larger ones are flagged */
#define SEND_AREA 262144  /* bytes after the slots that JS fills with datagrams it made (DTLS records) */
#define AREA ((int64_t)SLOTS * SLOT + SEND_AREA)
#define META 10           /* int32 per received datagram: id, offset, length, flags, port, family, a0..a3 */
#define QUEUE 64          /* sends JS may queue per turn (one per datagram received, at most) */
#define MAX_SOCKETS 1048576
#define FLAG_TRUNCATED 1

typedef struct Instance Instance;
typedef struct BindingAnswers BindingAnswers;   /* udp-binding.c's */

typedef struct {
  uv_poll_t poll;         /* first: the close callback gets this pointer */
  Instance *owner;        /* NULL once the environment is gone */
  int32_t id;
  int fd;
  int family;             /* 4 or 6: a send's destination is parsed as one of these */
  int open;
  int connected;          /* a client's own socket: connected to `remote` */
  int32_t remote[ADDRESS_WORDS]; /* its remote in writeAddress's words (another source's datagram, queued
                             between bind and connect, is not its client's: io.ts's fromStranger) */
  int facesClients;       /* a route's client side (ChannelData arrives here), or its relay side */
  int facesPeers;
  int32_t routed;         /* live routes through it */
  int held;               /* JS handles its datagrams for now (a request of its client is being answered) */
  uint32_t jsTurn;        /* the turn in which a datagram of it last went to JS */
  int dtlsOnly;           /* a DTLS client's: never plain ChannelData relayed here, records only */
  DtlsKeys *dtls;         /* its association's keys, when attached */
  BindingAnswers *binding; /* a listener's, once JS has let it answer plain Bindings (udp-binding.c) */
} Sock;

struct Instance {
  napi_env env;
  napi_ref callback;
  napi_async_context async;
  uv_check_t *check;
  Sock **socks;
  int32_t capacity, next;
  unsigned char *slab;    /* SLOTS x SLOT that recvmmsg fills, then SEND_AREA: an ArrayBuffer JS shares */
  int32_t *meta;          /* SLOTS x META, an ArrayBuffer JS reads */
  int32_t *queue;         /* QUEUE x META, an ArrayBuffer JS writes */
  double *stats;          /* counters JS reads: see STAT_* */
  napi_ref slabRef, metaRef, queueRef, statsRef;
  int pending;
  struct mmsghdr msgs[SLOTS];
  struct iovec iov[SLOTS * 2];       /* a send's parts, set per flush */
  struct iovec receiveIov[SLOTS];    /* each slot's part of the receive area, set once */
  struct sockaddr_storage from[SLOTS];
  struct sockaddr_storage to[QUEUE];
  uint32_t headers[QUEUE];
  int32_t jsPending;                 /* of `pending`, those handed to JS (meta rows 0..jsPending-1) */
  int32_t relayed;                   /* of `pending`, those relayed here: rows of `fast` */
  int32_t fast[SLOTS * META];        /* sends of relayed datagrams, in the queue's layout */
  uint32_t turn;
  double now;                        /* Date.now() at the last receive, for the routes' expiry */
  Routes routes;
  double *routeCounts;               /* 4 doubles JS reads: routeCounts()'s or routeRemove()'s */
  napi_ref routeCountsRef;
  unsigned char *scratch;            /* SLOT bytes: a DTLS record's plaintext, until it is known to be relayed */
  napi_async_cleanup_hook_handle teardown;   /* set while the environment goes */
  int closing;                               /* handles whose close callback is still to come */
};

enum { STAT_RECEIVED, STAT_SENT, STAT_SEND_ERRORS, STAT_TRUNCATED, STAT_BATCHES, STAT_RELAYED, STAT_DTLS_RELAYED, STAT_COUNT };

/* Inline: used by several of the addon's files, sockOf and writeAddress on every datagram's path. */
static inline Instance *instanceOf(napi_env env) {
  Instance *inst = NULL;
  napi_get_instance_data(env, (void **)&inst);
  return inst;
}

static inline Sock *sockOf(Instance *inst, int32_t id) {
  if (!inst || id < 0 || id >= inst->capacity) return NULL;
  Sock *s = inst->socks[id];
  return s && s->open ? s : NULL;
}

/* Socket addresses <-> (family, four host-order words, port): JS sees numbers, never strings. */
static inline void writeAddress(int32_t *out, const struct sockaddr_storage *from) {
  memset(out, 0, 6 * sizeof *out);
  if (from->ss_family == AF_INET) {
    const struct sockaddr_in *a = (const struct sockaddr_in *)from;
    out[0] = ntohs(a->sin_port);
    out[1] = 4;
    out[2] = (int32_t)ntohl(a->sin_addr.s_addr);
  } else if (from->ss_family == AF_INET6) {
    const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)from;
    uint32_t words[4];
    memcpy(words, &a->sin6_addr, sizeof words);
    out[0] = ntohs(a->sin6_port);
    out[1] = 6;
    for (int i = 0; i < 4; i++) out[2 + i] = (int32_t)ntohl(words[i]);
  }
}

/* What the addon's C files call of each other, by the file that has it. */
/* udp-io.c */
void finishTeardown(Instance *inst);
/* udp-receive.c */
void prepareReceive(Instance *inst);
void onReadable(uv_poll_t *handle, int status, int events);   /* each socket's poll callback */
/* udp-send.c */
void onCheck(uv_check_t *handle);                              /* the turn's uv_check callback */
/* udp-sockets.c */
void closeSock(Sock *s);
/* udp-relay-calls.c */
void forgetRoutesOf(Instance *inst, int32_t id);
/* udp-binding.c */
int answerBindingHere(Instance *inst, Sock *s, int slot, unsigned length, const int32_t *from);
void stopAnsweringBindings(Sock *s);

/* The addon's functions JS calls (udp-io.c's module table gives their JS names). */
napi_value sendNow(napi_env env, napi_callback_info info);
napi_value flush(napi_env env, napi_callback_info info);
napi_value openSocket(napi_env env, napi_callback_info info);
napi_value localPort(napi_env env, napi_callback_info info);
napi_value closeSocket(napi_env env, napi_callback_info info);
napi_value routeAdd(napi_env env, napi_callback_info info);
napi_value routeExpiry(napi_env env, napi_callback_info info);
napi_value routeCounts(napi_env env, napi_callback_info info);
napi_value routeRemove(napi_env env, napi_callback_info info);
napi_value hold(napi_env env, napi_callback_info info);
napi_value dtlsAttach(napi_env env, napi_callback_info info);
napi_value bindingAnswers(napi_env env, napi_callback_info info);
napi_value bindingsAnswered(napi_env env, napi_callback_info info);

#endif
