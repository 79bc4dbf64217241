/* Batched UDP socket I/O for Turnpike's relay (docs/native-udp.md). Socket I/O only: no STUN or
 * TURN parsing here. Each socket is watched by a uv_poll_t on the calling environment's own loop
 * and drained with recvmmsg into one preallocated receive area; once per loop turn (a uv_check
 * handle, right after libuv's poll phase) JS is called with the turn's datagrams, and what JS
 * queued (iovecs into the receive area or into the send area behind it, where JS copies what it
 * made itself, plus an optional 4-byte ChannelData header) leaves with sendmmsg. Established
 * channel traffic JS installed a route for is relayed here without JS (udp-routes.h), a DTLS
 * client's too, its records opened and sealed with its keys (dtls-routes.h). State is
 * per N-API environment, so each relay worker thread has its own. */
#define _GNU_SOURCE
#define NAPI_VERSION 8   /* napi_add_async_cleanup_hook: libuv handles close before the loop does */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <node_api.h>
#include <uv.h>
#include "socket-addon.h"
#include "udp-routes.h"
#include "dtls-routes.h"

#define SLOTS 64          /* datagrams per turn; more wait for the next turn (level-triggered poll) */
#define SLOT 65536        /* bytes per datagram slot: any UDP payload fits; larger ones are flagged */
#define SEND_AREA 262144  /* bytes after the slots that JS fills with datagrams it made (DTLS records) */
#define AREA ((int64_t)SLOTS * SLOT + SEND_AREA)
#define META 10           /* int32 per received datagram: id, offset, length, flags, port, family, a0..a3 */
#define QUEUE 64          /* sends JS may queue per turn (one per datagram received, at most) */
#define MAX_SOCKETS 1048576
#define FLAG_TRUNCATED 1

typedef struct Instance Instance;

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
#define DTLS_PAYLOAD 25   /* a record's ChannelData payload, from its first byte: header, explicit nonce, ChannelData header */

static Instance *instanceOf(napi_env env) {
  Instance *inst = NULL;
  napi_get_instance_data(env, (void **)&inst);
  return inst;
}

static Sock *sockOf(Instance *inst, int32_t id) {
  if (!inst || id < 0 || id >= inst->capacity) return NULL;
  Sock *s = inst->socks[id];
  return s && s->open ? s : NULL;
}

/* Socket addresses <-> (family, four host-order words, port): JS sees numbers, never strings. */
static void writeAddress(int32_t *out, const struct sockaddr_storage *from) {
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

static socklen_t readAddress(struct sockaddr_storage *to, const int32_t *in) {
  memset(to, 0, sizeof *to);
  int32_t port = in[0];
  if (port <= 0 || port > 65535) return 0;
  if (in[1] == 4) {
    struct sockaddr_in *a = (struct sockaddr_in *)to;
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    a->sin_addr.s_addr = htonl((uint32_t)in[2]);
    return sizeof *a;
  }
  if (in[1] == 6) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)to;
    uint32_t words[4];
    for (int i = 0; i < 4; i++) words[i] = htonl((uint32_t)in[2 + i]);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons((uint16_t)port);
    memcpy(&a->sin6_addr, words, sizeof words);
    return sizeof *a;
  }
  return 0;
}

/* Sends `count` queued entries: consecutive entries of one socket go in one sendmmsg. */
static void sendEntries(Instance *inst, const int32_t *entries, int32_t count) {
  if (count <= 0) return;
  if (count > QUEUE) count = QUEUE;
  struct mmsghdr msgs[QUEUE];
  int32_t ids[QUEUE];
  int n = 0;
  for (int32_t i = 0; i < count; i++) {
    const int32_t *q = entries + (size_t)i * META;
    int32_t id = q[0], offset = q[1], length = q[2];
    uint32_t header = (uint32_t)q[3];
    if (!sockOf(inst, id) || offset < 0 || length < 0 || (int64_t)offset + length > AREA) {
      inst->stats[STAT_SEND_ERRORS]++;
      continue;
    }
    struct iovec *iov = inst->iov + (size_t)n * 2;
    int parts = 0;
    if (header != 0) {
      inst->headers[n] = htonl(header);
      iov[parts++] = (struct iovec){ &inst->headers[n], 4 };
    }
    iov[parts++] = (struct iovec){ inst->slab + offset, (size_t)length };
    socklen_t nameLength = q[4] == 0 ? 0 : readAddress(&inst->to[n], q + 4);
    if (q[4] != 0 && nameLength == 0) {
      inst->stats[STAT_SEND_ERRORS]++;
      continue;
    }
    msgs[n].msg_hdr = (struct msghdr){ .msg_name = nameLength ? &inst->to[n] : NULL, .msg_namelen = nameLength,
                                       .msg_iov = iov, .msg_iovlen = (size_t)parts };
    ids[n] = id;
    n++;
  }
  for (int start = 0; start < n;) {
    int end = start + 1;
    while (end < n && ids[end] == ids[start]) end++;
    int fd = inst->socks[ids[start]]->fd;
    while (start < end) {
      int sent = sendmmsg(fd, msgs + start, (unsigned)(end - start), MSG_DONTWAIT);
      if (sent > 0) {
        inst->stats[STAT_SENT] += sent;
        start += sent;
      } else if (sent < 0 && errno == EINTR) {
        continue;
      } else {
        /* This message failed (EAGAIN: the kernel's buffer is full; ECONNREFUSED; EMSGSIZE):
           dropped and counted, as a datagram socket drops; the rest still go. */
        inst->stats[STAT_SEND_ERRORS]++;
        start++;
      }
    }
  }
}

/* What JS queued for this turn. */
static void sendQueued(Instance *inst, int32_t count) {
  sendEntries(inst, inst->queue, count);
}

static void callJs(Instance *inst) {
  napi_env env = inst->env;
  napi_handle_scope scope;
  napi_value fn, recv, arg, result;
  int32_t queued = 0;
  napi_open_handle_scope(env, &scope);
  napi_get_reference_value(env, inst->callback, &fn);
  napi_get_global(env, &recv);
  napi_create_int32(env, inst->jsPending, &arg);
  inst->stats[STAT_BATCHES]++;
  if (napi_make_callback(env, inst->async, recv, fn, 1, &arg, &result) == napi_ok) {
    if (napi_get_value_int32(env, result, &queued) != napi_ok) queued = 0;
  } else {
    napi_value error;
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending && napi_get_and_clear_last_exception(env, &error) == napi_ok) napi_fatal_exception(env, error);
  }
  sendQueued(inst, queued);
  napi_close_handle_scope(env, scope);
}

/* flush(count): sends the first `count` queued entries now, before the batch ends. JS calls it when
   its queue or send area is full, so that what it queues next leaves after them, in order. */
static napi_value flush(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t count = 0;
  Instance *inst = instanceOf(env);
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || napi_get_value_int32(env, argv[0], &count) != napi_ok) return throwUsage(env, "flush(count)");
  if (!inst || !inst->callback) return throwUsage(env, "start() first");
  sendQueued(inst, count);
  return NULL;
}

/* What the routes relayed this turn leaves (once: their slots stay taken until the turn ends). */
static void sendRelayed(Instance *inst) {
  sendEntries(inst, inst->fast, inst->relayed);
  inst->relayed = 0;
}

/* Once per loop turn: what was relayed here leaves first, then JS has the rest. */
static void onCheck(uv_check_t *handle) {
  Instance *inst = handle->data;
  if (!inst || inst->pending == 0 || !inst->callback) return;
  sendRelayed(inst);
  if (inst->jsPending > 0) callJs(inst);
  inst->pending = inst->jsPending = 0;
  inst->turn++;
}

static const int32_t CONNECTED_CLIENT[ADDRESS_WORDS];

/* A DTLS client's datagram (dtls-routes.h): its route when it is one record of ChannelData on a
   live route, the payload then put back where the record lay, at DTLS_PAYLOAD; else NULL, the
   datagram as it was (its plaintext went to the scratch area only). */
static Route *dtlsFromClient(Instance *inst, Sock *s, unsigned char *d, unsigned length, const int32_t *client, uint32_t *dataLength) {
  uint64_t sequence = 0;
  int32_t plain = s->dtls ? dtlsOpen(s->dtls, d, length, inst->scratch, &sequence) : -1;
  const unsigned char *p = inst->scratch;
  if (plain < 4 || p[0] < 0x40 || p[0] > 0x7f) return NULL;
  uint32_t n = (uint32_t)(p[2] << 8 | p[3]);
  if (4 + n > (uint32_t)plain) return NULL;
  Route *e = routeByClient(&inst->routes, s->id, p[0] << 8 | p[1], client);
  if (!e || !(e->channelExpiresAt > inst->now)) return NULL;
  dtlsAccept(s->dtls, sequence, inst->now);
  memcpy(d + DTLS_PAYLOAD, p + 4, n);
  *dataLength = n;
  return e;
}

/* Relays the datagram in `slot` when a live route covers it: true when it is queued in `fast`
   (or, sealing failed, dropped). Not once a datagram of this socket went to JS this turn: what
   follows it waits behind it. */
static int relayHere(Instance *inst, Sock *s, int slot, unsigned length, const int32_t *from) {
  if (s->held || s->jsTurn == inst->turn + 1) return 0;
  unsigned char *d = inst->slab + (size_t)slot * SLOT;
  int32_t *q = inst->fast + (size_t)inst->relayed * META;
  const int32_t *client = s->connected ? CONNECTED_CLIENT : from;
  Route *e = NULL;
  if (s->facesClients && s->connected && memcmp(from, s->remote, sizeof s->remote) != 0) return 0;
  if (s->facesClients && (s->dtlsOnly || (length >= 4 && d[0] >= 0x40 && d[0] <= 0x7f))) {
    uint32_t dataLength = (uint32_t)(d[2] << 8 | d[3]), offset = 4;
    if (s->dtlsOnly) {
      e = dtlsFromClient(inst, s, d, length, client, &dataLength);
      offset = DTLS_PAYLOAD;
    } else if (4 + dataLength <= length) {
      e = routeByClient(&inst->routes, s->id, d[0] << 8 | d[1], client);
    }
    if (!e || !(e->channelExpiresAt > inst->now)) return 0;
    q[0] = e->relaySock;
    q[1] = slot * SLOT + (int32_t)offset;
    q[2] = (int32_t)dataLength;
    q[3] = 0;
    memcpy(q + 4, e->peer, sizeof e->peer);
    e->counts[COUNT_TO_PEER_PACKETS]++;
    e->counts[COUNT_TO_PEER_BYTES] += dataLength;
  } else if (s->facesPeers && length <= 0xffff) {
    e = routeByPeer(&inst->routes, s->id, from);
    if (!e || !(e->channelExpiresAt > inst->now) || !(e->permissionExpiresAt > inst->now)) return 0;
    Sock *to = sockOf(inst, e->clientSock);
    int32_t sealed = 0;
    if (to && to->dtlsOnly) {
      sealed = to->dtls ? dtlsSealChannelData(to->dtls, d, SLOT, length, e->channel) : -1;
      if (sealed == -1) return 0;
      if (sealed < 0) {   /* OpenSSL failed, the datagram half sealed: dropped */
        inst->stats[STAT_SEND_ERRORS]++;
        return 1;
      }
    }
    q[0] = e->clientSock;
    q[1] = slot * SLOT;
    q[2] = sealed > 0 ? sealed : (int32_t)length;
    q[3] = sealed > 0 ? 0 : (int32_t)((uint32_t)e->channel << 16 | length);
    memcpy(q + 4, e->client, sizeof e->client);
    e->counts[COUNT_TO_CLIENT_PACKETS]++;
    e->counts[COUNT_TO_CLIENT_BYTES] += length;
    if (sealed > 0) inst->stats[STAT_DTLS_RELAYED]++;
  } else {
    return 0;
  }
  if (s->dtlsOnly) inst->stats[STAT_DTLS_RELAYED]++;
  inst->relayed++;
  inst->stats[STAT_RELAYED]++;
  return 1;
}

/* Points each slot's recvmmsg header at its part of the receive area and its source address. */
static void prepareReceive(Instance *inst) {
  for (int slot = 0; slot < SLOTS; slot++) {
    inst->receiveIov[slot] = (struct iovec){ inst->slab + (size_t)slot * SLOT, SLOT };
    inst->msgs[slot].msg_hdr = (struct msghdr){ .msg_name = &inst->from[slot], .msg_namelen = sizeof inst->from[slot],
                                                .msg_iov = &inst->receiveIov[slot], .msg_iovlen = 1 };
  }
}

static void onReadable(uv_poll_t *handle, int status, int events) {
  (void)events;
  Sock *s = (Sock *)handle;
  Instance *inst = s->owner;
  if (!inst || !s->open) return;
  if (status < 0) {
    /* libuv stops a poll handle on POLLERR, which a pending socket error raises: an ICMP port
       unreachable on a client's connected socket. Clear the error and watch on, as dgram does. */
    int error;
    socklen_t size = sizeof error;
    getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &error, &size);
    if (uv_poll_start(&s->poll, UV_READABLE, onReadable) != 0) return;
  }
  if (s->routed > 0) inst->now = nowMs();
  for (int errors = 0; inst->pending < SLOTS && errors < 4;) {
    int room = SLOTS - inst->pending;
    /* Each slot's header was set up once (prepareReceive); the kernel changes only the name
       length of those it fills, which are set back below. Setting up all the free slots here
       cost more than the rest of the receive when, as usual, one datagram was waiting. */
    struct mmsghdr *m = inst->msgs + inst->pending;
    int r = recvmmsg(s->fd, m, (unsigned)room, MSG_DONTWAIT, NULL);
    if (r < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      errors++; /* ECONNREFUSED after an ICMP error on a connected socket: consumed, read on */
      continue;
    }
    if (r == 0) break;
    for (int i = 0; i < r; i++) {
      int slot = inst->pending + i;
      m[i].msg_hdr.msg_namelen = sizeof inst->from[slot];
      unsigned length = m[i].msg_len;
      int truncated = (m[i].msg_hdr.msg_flags & MSG_TRUNC) != 0;
      if (length > SLOT) length = SLOT;
      if (truncated) inst->stats[STAT_TRUNCATED]++;
      int32_t from[ADDRESS_WORDS];
      writeAddress(from, &inst->from[slot]);
      if (!truncated && s->routed > 0 && relayHere(inst, s, slot, length, from)) continue;
      s->jsTurn = inst->turn + 1;
      int32_t *meta = inst->meta + (size_t)inst->jsPending * META;
      meta[0] = s->id;
      meta[1] = slot * SLOT;
      meta[2] = (int32_t)length;
      meta[3] = truncated ? FLAG_TRUNCATED : 0;
      memcpy(meta + 4, from, sizeof from);
      inst->jsPending++;
    }
    inst->pending += r;
    inst->stats[STAT_RECEIVED] += r;
    if (r < room) break;
  }
}

static void finishTeardown(Instance *inst) {
  if (!inst->teardown || inst->closing > 0) return;
  napi_remove_async_cleanup_hook(inst->teardown);
  freeRoutes(&inst->routes);
  free(inst->socks);
  free(inst->scratch);
  free(inst);
}

static void onSockClosed(uv_handle_t *handle) {
  Sock *s = (Sock *)handle;
  Instance *inst = s->owner;
  int32_t id = s->id;
  if (inst && !inst->teardown && inst->socks[id] == s) inst->socks[id] = NULL;
  free(s);
  if (!inst) return;
  inst->closing--;
  finishTeardown(inst);
}

/* Out of the hash tables: it relays no more, its counts stay until JS removes it. */
static void unrouteRoute(Instance *inst, Route *e) {
  if (!e->linked) return;
  Sock *client = sockOf(inst, e->clientSock), *relay = sockOf(inst, e->relaySock);
  if (client) client->routed--;
  if (relay) relay->routed--;
  unlinkRoute(&inst->routes, e);
}

/* A closing socket's routes stop with it, as its number may be the next socket's; JS removes
   them (reading their counts) when their allocation ends. */
static void forgetRoutesOf(Instance *inst, int32_t id) {
  for (int32_t i = 0; i < inst->routes.capacity && inst->socks[id]->routed > 0; i++) {
    Route *e = inst->routes.byHandle[i];
    if (e && e->linked && (e->clientSock == id || e->relaySock == id)) unrouteRoute(inst, e);
  }
}

static void closeSock(Sock *s) {
  if (!s->open) return;
  if (s->routed > 0) forgetRoutesOf(s->owner, s->id);   /* none left when JS ended their allocations first */
  dtlsKeysFree(s->owner->teardown ? NULL : s->owner->env, s->dtls);
  s->dtls = NULL;
  s->open = 0;
  uv_poll_stop(&s->poll);   /* libuv forgets the fd here, so it may be closed at once */
  close(s->fd);
  s->owner->closing++;
  uv_close((uv_handle_t *)&s->poll, onSockClosed);
}

FREE_SLOT_FUNCTION(freeSockSlot, Sock)

static int32_t freeId(Instance *inst) {
  return freeSockSlot(&inst->socks, &inst->capacity, &inst->next, MAX_SOCKETS);
}

/* open(family, ip, port, reusePort, receiveBufferSize, remoteIp?, remotePort?) -> id; throws with .code */
static napi_value openSocket(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7], result;
  int32_t family, port, receiveBuffer, remotePort = 0;
  bool reusePort = false;
  char ip[64], remoteIp[64];
  size_t ipLength;
  Instance *inst = instanceOf(env);
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (!inst || !inst->callback) return throwUsage(env, "start() first");
  if (argc < 5 || napi_get_value_int32(env, argv[0], &family) != napi_ok
      || napi_get_value_string_utf8(env, argv[1], ip, sizeof ip, &ipLength) != napi_ok
      || napi_get_value_int32(env, argv[2], &port) != napi_ok
      || napi_get_value_bool(env, argv[3], &reusePort) != napi_ok
      || napi_get_value_int32(env, argv[4], &receiveBuffer) != napi_ok)
    return throwUsage(env, "open(family, ip, port, reusePort, receiveBufferSize, remoteIp?, remotePort?)");
  bool connectTo = argc >= 7;
  if (connectTo && (napi_get_value_string_utf8(env, argv[5], remoteIp, sizeof remoteIp, &ipLength) != napi_ok
                    || napi_get_value_int32(env, argv[6], &remotePort) != napi_ok))
    return throwUsage(env, "open(): remoteIp, remotePort");
  struct sockaddr_storage local, remote;
  socklen_t localLength = parseAddress(&local, family, ip, port);
  socklen_t remoteLength = connectTo ? parseAddress(&remote, family, remoteIp, remotePort) : 0;
  if (!localLength || (connectTo && !remoteLength)) return throwUsage(env, "open(): not an IP address of that family");
  int fd = socket(family == 6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throwErrno(env, errno, "socket");
  int on = 1;
  if (family == 6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
  if (reusePort && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0) {
    int code = errno;
    close(fd);
    return throwErrno(env, code, "SO_REUSEPORT");
  }
  if (receiveBuffer > 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receiveBuffer, sizeof receiveBuffer);
  if (bind(fd, (struct sockaddr *)&local, localLength) != 0) {
    int code = errno;
    close(fd);
    return throwErrno(env, code, "bind");
  }
  if (connectTo && connect(fd, (struct sockaddr *)&remote, remoteLength) != 0) {
    int code = errno;
    close(fd);
    return throwErrno(env, code, "connect");
  }
  int32_t id = freeId(inst);
  Sock *s = id < 0 ? NULL : calloc(1, sizeof *s);
  uv_loop_t *loop = NULL;
  napi_get_uv_event_loop(env, &loop);
  if (!s || uv_poll_init_socket(loop, &s->poll, fd) != 0) {
    free(s);
    close(fd);
    return throwErrno(env, ENOMEM, "open");
  }
  s->owner = inst;
  s->id = id;
  s->fd = fd;
  s->family = family == 6 ? 6 : 4;
  s->open = 1;
  s->connected = connectTo;
  if (connectTo) writeAddress(s->remote, &remote);
  inst->socks[id] = s;
  uv_poll_start(&s->poll, UV_READABLE, onReadable);
  napi_create_int32(env, id, &result);
  return result;
}

/* localPort(id) -> the bound port, 0 when the id is not open */
static napi_value localPort(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  int32_t id = -1, port = 0;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc >= 1) napi_get_value_int32(env, argv[0], &id);
  Sock *s = sockOf(instanceOf(env), id);
  struct sockaddr_storage local;
  socklen_t length = sizeof local;
  if (s && getsockname(s->fd, (struct sockaddr *)&local, &length) == 0) {
    int32_t words[6];
    writeAddress(words, &local);
    port = words[0];
  }
  napi_create_int32(env, port, &result);
  return result;
}

/* close(id): idempotent */
static napi_value closeSocket(napi_env env, napi_callback_info info) {
  Sock *s = sockOf(instanceOf(env), firstInt32(env, info, -1));
  if (s) closeSock(s);
  return NULL;
}

/* send(id, buffer, offset, length, port?, ip?) -> 0 or an errno: one datagram, sent (copied) now.
   Without port and ip: a connected socket's peer. */
static napi_value sendNow(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6], result;
  int32_t id = -1, offset = 0, length = 0, port = 0, code = EBADF;
  void *data = NULL;
  size_t size = 0;
  char ip[64];
  size_t ipLength;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 4 || napi_get_value_int32(env, argv[0], &id) != napi_ok
      || napi_get_buffer_info(env, argv[1], &data, &size) != napi_ok
      || napi_get_value_int32(env, argv[2], &offset) != napi_ok
      || napi_get_value_int32(env, argv[3], &length) != napi_ok)
    return throwUsage(env, "send(id, buffer, offset, length, port?, ip?)");
  if (offset < 0 || length < 0 || (uint64_t)offset + (uint64_t)length > size) return throwUsage(env, "send(): offset and length outside the buffer");
  Instance *inst = instanceOf(env);
  Sock *s = sockOf(inst, id);
  if (s) {
    /* What the routes relayed this turn leaves first: a DTLS record sealed here took a lower
       sequence number than one JS sends now, and the client is to see them in order. */
    sendRelayed(inst);
    struct sockaddr_storage to;
    socklen_t toLength = 0;
    if (argc >= 6) {
      if (napi_get_value_int32(env, argv[4], &port) != napi_ok
          || napi_get_value_string_utf8(env, argv[5], ip, sizeof ip, &ipLength) != napi_ok)
        return throwUsage(env, "send(): port, ip");
      /* The family it was opened with, not a getsockname per send (a system call per datagram). */
      toLength = parseAddress(&to, s->family, ip, port);
      if (!toLength) return throwUsage(env, "send(): not an IP address of the socket's family");
    }
    ssize_t sent;
    do sent = sendto(s->fd, (char *)data + offset, (size_t)length, MSG_DONTWAIT, toLength ? (struct sockaddr *)&to : NULL, toLength);
    while (sent < 0 && errno == EINTR);
    code = sent < 0 ? errno : 0;
    if (sent < 0) inst->stats[STAT_SEND_ERRORS]++;
    else inst->stats[STAT_SENT]++;
  }
  napi_create_int32(env, code, &result);
  return result;
}

/* An address given as (ip, port) of the socket's family, in writeAddress's words. */
static int addressWords(napi_env env, napi_value ip, napi_value port, int family, int32_t *words) {
  char text[64];
  size_t length;
  int32_t number;
  struct sockaddr_storage address;
  if (napi_get_value_string_utf8(env, ip, text, sizeof text, &length) != napi_ok || napi_get_value_int32(env, port, &number) != napi_ok) return 0;
  if (!parseAddress(&address, family, text, number) || number == 0) return 0;
  writeAddress(words, &address);
  return 1;
}

/* routeAdd(clientId, clientIp, clientPort, channel, relayId, peerIp, peerPort, channelExpiresAt,
   permissionExpiresAt) -> handle, or -1 when it cannot be routed here (JS relays it then).
   clientIp "" on a client's own (connected) socket. Expiry times in ms as Date.now(). */
static napi_value routeAdd(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value argv[9], result;
  Route spec;
  Instance *inst = instanceOf(env);
  int32_t handle = -1;
  memset(&spec, 0, sizeof spec);
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 9 || napi_get_value_int32(env, argv[0], &spec.clientSock) != napi_ok
      || napi_get_value_int32(env, argv[3], &spec.channel) != napi_ok
      || napi_get_value_int32(env, argv[4], &spec.relaySock) != napi_ok
      || napi_get_value_double(env, argv[7], &spec.channelExpiresAt) != napi_ok
      || napi_get_value_double(env, argv[8], &spec.permissionExpiresAt) != napi_ok)
    return throwUsage(env, "routeAdd(clientId, clientIp, clientPort, channel, relayId, peerIp, peerPort, channelExpiresAt, permissionExpiresAt)");
  Sock *client = sockOf(inst, spec.clientSock), *relay = sockOf(inst, spec.relaySock);
  int clientOk = client && (client->connected || addressWords(env, argv[1], argv[2], client->family, spec.client));
  if (client && relay && clientOk && !relay->connected && spec.channel >= 0x4000 && spec.channel <= 0x7fff
      && addressWords(env, argv[5], argv[6], relay->family, spec.peer)) {
    handle = addRoute(&inst->routes, &spec);
    if (handle >= 0) {
      client->facesClients = 1;
      relay->facesPeers = 1;
      client->routed++;
      relay->routed++;
    }
  }
  napi_create_int32(env, handle, &result);
  return result;
}

/* routeExpiry(handle, channelExpiresAt, permissionExpiresAt): a refreshed channel or permission. */
static napi_value routeExpiry(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  int32_t handle = -1;
  double channel = 0, permission = 0;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 3 || napi_get_value_int32(env, argv[0], &handle) != napi_ok || napi_get_value_double(env, argv[1], &channel) != napi_ok
      || napi_get_value_double(env, argv[2], &permission) != napi_ok)
    return throwUsage(env, "routeExpiry(handle, channelExpiresAt, permissionExpiresAt)");
  Instance *inst = instanceOf(env);
  Route *e = inst ? routeOf(&inst->routes, handle) : NULL;
  if (e) {
    e->channelExpiresAt = channel;
    e->permissionExpiresAt = permission;
  }
  return NULL;
}

/* routeCounts(handle): its counts into the shared routeCounts buffer (zeros when there is no such route). */
static napi_value routeCounts(napi_env env, napi_callback_info info) {
  Instance *inst = instanceOf(env);
  if (!inst || !inst->routeCounts) return NULL;
  Route *e = routeOf(&inst->routes, firstInt32(env, info, -1));
  if (e) memcpy(inst->routeCounts, e->counts, sizeof e->counts);
  else memset(inst->routeCounts, 0, 4 * sizeof(double));
  return NULL;
}

/* routeRemove(handle): gone, its last counts left in the routeCounts buffer. */
static napi_value routeRemove(napi_env env, napi_callback_info info) {
  routeCounts(env, info);
  Instance *inst = instanceOf(env);
  Route *e = inst ? routeOf(&inst->routes, firstInt32(env, info, -1)) : NULL;
  if (e) {
    unrouteRoute(inst, e);
    removeRoute(&inst->routes, e);
  }
  return NULL;
}

/* hold(id, held): while held, every datagram of this client's socket goes to JS, in order behind
   what JS is still answering (net/datagram-order.ts). */
static napi_value hold(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t id = -1;
  bool held = false;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2 || napi_get_value_int32(env, argv[0], &id) != napi_ok || napi_get_value_bool(env, argv[1], &held) != napi_ok)
    return throwUsage(env, "hold(id, held)");
  Sock *s = sockOf(instanceOf(env), id);
  if (s) s->held = held;
  return NULL;
}

/* dtlsAttach(id, clientKey, clientIv, serverKey, serverIv, shared) -> true when client socket
   `id` relays its routed channels' DTLS records here from now on, with these epoch-1 keys and
   the state in `shared` (dtls-routes.h); from then on it relays no plain ChannelData. */
static napi_value dtlsAttach(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6], result;
  int32_t id = -1;
  const char *usage = "dtlsAttach(id, ...)";
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 6 || napi_get_value_int32(env, argv[0], &id) != napi_ok) return throwUsage(env, usage);
  Sock *s = sockOf(instanceOf(env), id);
  DtlsKeys *keys = s && s->connected ? dtlsKeysCreate(env, argv + 1, &usage) : NULL;
  if (!keys && usage && s && s->connected) return throwUsage(env, usage);
  if (keys) {
    dtlsKeysFree(env, s->dtls);
    s->dtls = keys;
    s->dtlsOnly = 1;
  }
  napi_get_boolean(env, keys != NULL, &result);
  return result;
}

static napi_value sharedBuffer(napi_env env, size_t bytes, void **data, napi_ref *ref) {
  napi_value buffer;
  if (napi_create_arraybuffer(env, bytes, data, &buffer) != napi_ok) return NULL;
  napi_create_reference(env, buffer, 1, ref);   /* the memory lives as long as the instance */
  return buffer;
}

/* start(onBatch) -> { slab, meta, queue, stats, slots, slotBytes, sendAreaBytes, stride, queueSize }: once per
   environment. The send area is the slab's last sendAreaBytes, from slots x slotBytes on. */
static napi_value start(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result, name;
  napi_valuetype type;
  Instance *inst = instanceOf(env);
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (!inst) return throwUsage(env, "no instance");
  if (inst->callback) return throwUsage(env, "start() once per thread");
  if (argc < 1 || napi_typeof(env, argv[0], &type) != napi_ok || type != napi_function) return throwUsage(env, "start(onBatch)");
  napi_value slab = sharedBuffer(env, (size_t)AREA, (void **)&inst->slab, &inst->slabRef);
  napi_value meta = sharedBuffer(env, (size_t)SLOTS * META * sizeof(int32_t), (void **)&inst->meta, &inst->metaRef);
  napi_value queue = sharedBuffer(env, (size_t)QUEUE * META * sizeof(int32_t), (void **)&inst->queue, &inst->queueRef);
  napi_value stats = sharedBuffer(env, STAT_COUNT * sizeof(double), (void **)&inst->stats, &inst->statsRef);
  napi_value counts = sharedBuffer(env, 4 * sizeof(double), (void **)&inst->routeCounts, &inst->routeCountsRef);
  inst->scratch = malloc(SLOT);
  if (!slab || !meta || !queue || !stats || !counts || !inst->scratch) return throwErrno(env, ENOMEM, "start");
  memset(inst->stats, 0, STAT_COUNT * sizeof(double));
  prepareReceive(inst);
  uv_loop_t *loop = NULL;
  napi_get_uv_event_loop(env, &loop);
  inst->check = calloc(1, sizeof *inst->check);
  if (!inst->check) return throwErrno(env, ENOMEM, "start");
  uv_check_init(loop, inst->check);
  inst->check->data = inst;
  uv_check_start(inst->check, onCheck);
  uv_unref((uv_handle_t *)inst->check);   /* the sockets keep the loop alive, not this */
  napi_create_reference(env, argv[0], 1, &inst->callback);
  napi_create_string_utf8(env, "turnpike-udp-batch", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &inst->async);
  napi_create_object(env, &result);
  napi_set_named_property(env, result, "slab", slab);
  napi_set_named_property(env, result, "meta", meta);
  napi_set_named_property(env, result, "queue", queue);
  napi_set_named_property(env, result, "stats", stats);
  napi_set_named_property(env, result, "routeCounts", counts);
  static const struct { const char *name; int32_t value; } sizes[] = {
    { "slots", SLOTS }, { "slotBytes", SLOT }, { "sendAreaBytes", SEND_AREA }, { "stride", META }, { "queueSize", QUEUE },
  };
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    napi_value value;
    napi_create_int32(env, sizes[i].value, &value);
    napi_set_named_property(env, result, sizes[i].name, value);
  }
  return result;
}

static void onCheckClosed(uv_handle_t *handle) {
  Instance *inst = handle->data;
  free(handle);
  inst->closing--;
  finishTeardown(inst);
}

/* The environment is going (process exit, worker thread ending): every handle stops and closes;
   Node runs the loop until the last close callback, which frees the instance (finishTeardown). */
static void cleanup(napi_async_cleanup_hook_handle hook, void *data) {
  Instance *inst = data;
  inst->teardown = hook;
  inst->closing++;   /* held until every handle below is on its way */
  for (int32_t id = 0; id < inst->capacity; id++) {
    Sock *s = inst->socks[id];
    if (s && s->open) closeSock(s);
  }
  if (inst->check) {
    uv_check_stop(inst->check);
    inst->closing++;
    uv_close((uv_handle_t *)inst->check, onCheckClosed);
    inst->check = NULL;
  }
  inst->closing--;
  finishTeardown(inst);
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  Instance *inst = calloc(1, sizeof *inst);
  if (!inst) return NULL;
  inst->env = env;
  napi_set_instance_data(env, inst, NULL, NULL);
  napi_add_async_cleanup_hook(env, cleanup, inst, NULL);
  napi_property_descriptor props[] = {
    { "start", NULL, start, NULL, NULL, NULL, napi_default, NULL },
    { "open", NULL, openSocket, NULL, NULL, NULL, napi_default, NULL },
    { "localPort", NULL, localPort, NULL, NULL, NULL, napi_default, NULL },
    { "close", NULL, closeSocket, NULL, NULL, NULL, napi_default, NULL },
    { "send", NULL, sendNow, NULL, NULL, NULL, napi_default, NULL },
    { "flush", NULL, flush, NULL, NULL, NULL, napi_default, NULL },
    ADDON_FUNCTION("routeAdd", routeAdd),
    ADDON_FUNCTION("routeExpiry", routeExpiry),
    ADDON_FUNCTION("routeCounts", routeCounts),
    ADDON_FUNCTION("routeRemove", routeRemove),
    ADDON_FUNCTION("hold", hold),
    ADDON_FUNCTION("dtlsAttach", dtlsAttach),
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}
