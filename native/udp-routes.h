/* The udp-io addon's fast path (docs/native-udp.md, "Channels relayed in C"): established ChannelData
 * traffic relayed without calling JS. JS installs a route once a channel is bound (and its peer
 * permitted), with the channel's and the permission's expiry times, and removes it when either
 * ends; a route names the client's socket (and, on an unconnected listener, the client's
 * address), the channel number, the allocation's relay socket and the peer's address. A client's
 * ChannelData on a routed channel leaves by the relay socket, a routed peer's datagram leaves to
 * the client behind a ChannelData header; each route counts its packets and bytes, which JS reads.
 * Anything else, or anything whose route has lapsed by the clock, goes to JS as before. The
 * table is udp-routes.c's; udp-receive.c looks routes up, udp-relay-calls.c adds and removes them. */
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

/* `name`: a free index of a growable array of Type pointers (udp-sockets.c's sockets, the routes):
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

/* The linked route of client socket `sock`, `channel` and (on an unconnected socket) `client`, or NULL. */
Route *routeByClient(const Routes *r, int32_t sock, int32_t channel, const int32_t *client);
/* The linked route of relay socket `sock` to `peer`, or NULL. */
Route *routeByPeer(const Routes *r, int32_t sock, const int32_t *peer);
/* Route `handle`, live or not (kept for its counts), or NULL. */
Route *routeOf(const Routes *r, int32_t handle);
/* A new route, or -1 (out of memory, or its client side or peer side is another route's). */
int32_t addRoute(Routes *r, const Route *spec);
/* Out of the hash tables: it relays no more, it keeps its handle and counts. */
void unlinkRoute(Routes *r, Route *e);
/* Gone, handle and all. */
void removeRoute(Routes *r, Route *e);
void freeRoutes(Routes *r);

#endif
