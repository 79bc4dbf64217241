/* What a socket receives (udp-io.h): drained with recvmmsg into the turn's free slots of the
 * receive area; a datagram a live route covers is relayed here without JS (docs/native-udp.md,
 * "Channels relayed in C"), queued in the instance's `fast` rows, a DTLS client's record opened
 * or sealed with its keys (dtls-routes.h) on the way; the rest go to JS's meta rows. The fast
 * path is in the same file as the receive loop so that the compiler inlines it there. */
#include "udp-io.h"

#define DTLS_PAYLOAD 25   /* a record's ChannelData payload, from its first byte: header, explicit nonce, ChannelData header */

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
void prepareReceive(Instance *inst) {
  for (int slot = 0; slot < SLOTS; slot++) {
    inst->receiveIov[slot] = (struct iovec){ inst->slab + (size_t)slot * SLOT, SLOT };
    inst->msgs[slot].msg_hdr = (struct msghdr){ .msg_name = &inst->from[slot], .msg_namelen = sizeof inst->from[slot],
                                                .msg_iov = &inst->receiveIov[slot], .msg_iovlen = 1 };
  }
}

void onReadable(uv_poll_t *handle, int status, int events) {
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
      if (!truncated && s->binding && answerBindingHere(inst, s, slot, length, from)) continue;
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
