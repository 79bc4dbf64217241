/* udp-io.c's fast path (docs/native-udp.md, "Channels relayed in C"): established ChannelData
 * traffic relayed without calling JS. JS installs a route once a channel is bound (and its peer
 * permitted), with the channel's and the permission's expiry times, and removes it when either
 * ends; a route names the client's socket (and, on an unconnected listener, the client's
 * address), the channel number, the allocation's relay socket and the peer's address. A client's
 * ChannelData on a routed channel leaves by the relay socket, a routed peer's datagram leaves to
 * the client behind a ChannelData header; each route counts its packets and bytes, which JS reads.
 * Anything else, or anything whose route has lapsed by the clock, goes to JS as before. Included
 * once, by udp-io.c. */
#ifndef TURNPIKE_UDP_ROUTES_H
#define TURNPIKE_UDP_ROUTES_H
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ADDRESS_WORDS 6   /* port, family, four host-order words: writeAddress's form */
#define MAX_ROUTES 4194304

typedef struct Route Route;
struct Route {
  int32_t handle;
  int32_t clientSock;
  int32_t client[ADDRESS_WORDS];   /* the client's address on an unconnected socket, else zeros */
  int32_t channel;
  int32_t relaySock;
  int32_t peer[ADDRESS_WORDS];
  double channelExpiresAt;         /* ms since the epoch, as JS's Date.now() */
  double permissionExpiresAt;
  double counts[4];                /* packets to the peer, bytes to the peer, packets to the client, bytes to the client */
  int linked;                      /* in the hash tables; not once a socket of it closed (kept for its counts) */
  Route *nextByClient, *nextByPeer;
};

typedef struct {
  Route **byHandle;
  int32_t capacity, next, count;
  Route **byClient, **byPeer;     /* chained hash tables, `buckets` long (a power of two) */
  uint32_t buckets;
} Routes;

enum { COUNT_TO_PEER_PACKETS, COUNT_TO_PEER_BYTES, COUNT_TO_CLIENT_PACKETS, COUNT_TO_CLIENT_BYTES };

static inline double nowMs(void) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  return (double)t.tv_sec * 1000.0 + (double)(t.tv_nsec / 1000000);
}

static inline uint32_t mix(uint32_t h, int32_t word) {
  h ^= (uint32_t)word;
  h *= 0x9e3779b1u;
  return h ^ (h >> 15);
}

static uint32_t clientHash(int32_t sock, int32_t channel, const int32_t *client) {
  uint32_t h = mix(mix(2166136261u, sock), channel);
  for (int i = 0; i < ADDRESS_WORDS; i++) h = mix(h, client[i]);
  return h;
}

static uint32_t peerHash(int32_t sock, const int32_t *peer) {
  uint32_t h = mix(2166136261u, sock);
  for (int i = 0; i < ADDRESS_WORDS; i++) h = mix(h, peer[i]);
  return h;
}

static Route *routeByClient(const Routes *r, int32_t sock, int32_t channel, const int32_t *client) {
  if (!r->buckets) return NULL;
  for (Route *e = r->byClient[clientHash(sock, channel, client) & (r->buckets - 1)]; e; e = e->nextByClient)
    if (e->clientSock == sock && e->channel == channel && memcmp(e->client, client, sizeof e->client) == 0) return e;
  return NULL;
}

static Route *routeByPeer(const Routes *r, int32_t sock, const int32_t *peer) {
  if (!r->buckets) return NULL;
  for (Route *e = r->byPeer[peerHash(sock, peer) & (r->buckets - 1)]; e; e = e->nextByPeer)
    if (e->relaySock == sock && memcmp(e->peer, peer, sizeof e->peer) == 0) return e;
  return NULL;
}

static void linkRoute(Routes *r, Route *e) {
  e->linked = 1;
  uint32_t c = clientHash(e->clientSock, e->channel, e->client) & (r->buckets - 1);
  uint32_t p = peerHash(e->relaySock, e->peer) & (r->buckets - 1);
  e->nextByClient = r->byClient[c];
  r->byClient[c] = e;
  e->nextByPeer = r->byPeer[p];
  r->byPeer[p] = e;
}

static void unlinkRoute(Routes *r, Route *e) {
  if (!e->linked) return;
  e->linked = 0;
  Route **at = &r->byClient[clientHash(e->clientSock, e->channel, e->client) & (r->buckets - 1)];
  while (*at && *at != e) at = &(*at)->nextByClient;
  if (*at) *at = e->nextByClient;
  at = &r->byPeer[peerHash(e->relaySock, e->peer) & (r->buckets - 1)];
  while (*at && *at != e) at = &(*at)->nextByPeer;
  if (*at) *at = e->nextByPeer;
}

/* Keeps the chains short: twice the buckets when the routes outnumber them. */
static int growBuckets(Routes *r) {
  if (r->buckets && (uint32_t)r->count < r->buckets) return 1;   /* room for one more */
  uint32_t grown = r->buckets ? r->buckets * 2 : 256;
  Route **byClient = calloc(grown, sizeof *byClient), **byPeer = calloc(grown, sizeof *byPeer);
  if (!byClient || !byPeer) {
    free(byClient);
    free(byPeer);
    return 0;
  }
  free(r->byClient);
  free(r->byPeer);
  r->byClient = byClient;
  r->byPeer = byPeer;
  r->buckets = grown;
  for (int32_t i = 0; i < r->capacity; i++)
    if (r->byHandle[i] && r->byHandle[i]->linked) linkRoute(r, r->byHandle[i]);
  return 1;
}

/* `name`: a free index of a growable array of Type pointers (udp-io.c's sockets, the routes):
   the first empty one from *next on, else the array doubled; -1 past `max` or out of memory.
   A macro, so that each array is read as what it is. */
#define FREE_SLOT_FUNCTION(name, Type)                                               \
  static int32_t name(Type ***slots, int32_t *capacity, int32_t *next, int32_t max) {  \
    for (int32_t tries = 0; tries < *capacity; tries++) {                            \
      int32_t i = (*next + tries) % *capacity;                                       \
      if (!(*slots)[i]) {                                                            \
        *next = (i + 1) % *capacity;                                                 \
        return i;                                                                    \
      }                                                                              \
    }                                                                                \
    if (*capacity >= max) return -1;                                                 \
    int32_t grown = *capacity ? *capacity * 2 : 256;                                 \
    Type **bigger = realloc(*slots, (size_t)grown * sizeof *bigger);                 \
    if (!bigger) return -1;                                                          \
    memset(bigger + *capacity, 0, (size_t)(grown - *capacity) * sizeof *bigger);     \
    int32_t i = *capacity;                                                           \
    *slots = bigger;                                                                 \
    *capacity = grown;                                                               \
    *next = i + 1;                                                                   \
    return i;                                                                        \
  }

FREE_SLOT_FUNCTION(freeRouteSlot, Route)

static int32_t freeHandle(Routes *r) {
  return freeRouteSlot(&r->byHandle, &r->capacity, &r->next, MAX_ROUTES);
}

static Route *routeOf(const Routes *r, int32_t handle) {
  return handle >= 0 && handle < r->capacity ? r->byHandle[handle] : NULL;
}

/* A new route, or -1 (out of memory, or its client side or peer side is another route's). */
static int32_t addRoute(Routes *r, const Route *spec) {
  if (routeByClient(r, spec->clientSock, spec->channel, spec->client) || routeByPeer(r, spec->relaySock, spec->peer)) return -1;
  int32_t handle = freeHandle(r);
  Route *e = handle < 0 ? NULL : malloc(sizeof *e);
  if (!e || !growBuckets(r)) {
    free(e);
    return -1;
  }
  *e = *spec;
  e->handle = handle;
  memset(e->counts, 0, sizeof e->counts);
  r->byHandle[handle] = e;
  r->count++;
  linkRoute(r, e);
  return handle;
}

static void removeRoute(Routes *r, Route *e) {
  unlinkRoute(r, e);
  r->byHandle[e->handle] = NULL;
  r->count--;
  free(e);
}

static void freeRoutes(Routes *r) {
  for (int32_t i = 0; i < r->capacity; i++) free(r->byHandle[i]);
  free(r->byHandle);
  free(r->byClient);
  free(r->byPeer);
  memset(r, 0, sizeof *r);
}

#endif
