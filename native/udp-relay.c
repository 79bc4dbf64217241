/* The receive loop's fast path (docs/native-udp.md, "Channels relayed in C"): a datagram that a
 * live route covers is relayed without JS, queued in the instance's `fast` rows, a DTLS client's
 * record opened or sealed with its keys (dtls-routes.h) on the way. */
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
int relayHere(Instance *inst, Sock *s, int slot, unsigned length, const int32_t *from) {
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
