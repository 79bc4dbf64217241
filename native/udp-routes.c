/* The channel routes' table (udp-routes.h): routes by handle, and two chained hash tables to
 * find one by its client side or its peer side on each datagram. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "udp-routes.h"

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

Route *routeByClient(const Routes *r, int32_t sock, int32_t channel, const int32_t *client) {
  if (!r->buckets) return NULL;
  for (Route *e = r->byClient[clientHash(sock, channel, client) & (r->buckets - 1)]; e; e = e->nextByClient)
    if (e->clientSock == sock && e->channel == channel && memcmp(e->client, client, sizeof e->client) == 0) return e;
  return NULL;
}

Route *routeByPeer(const Routes *r, int32_t sock, const int32_t *peer) {
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

void unlinkRoute(Routes *r, Route *e) {
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

FREE_SLOT_FUNCTION(freeRouteSlot, Route)

static int32_t freeHandle(Routes *r) {
  return freeRouteSlot(&r->byHandle, &r->capacity, &r->next, MAX_ROUTES);
}

Route *routeOf(const Routes *r, int32_t handle) {
  return handle >= 0 && handle < r->capacity ? r->byHandle[handle] : NULL;
}

int32_t addRoute(Routes *r, const Route *spec) {
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

void removeRoute(Routes *r, Route *e) {
  unlinkRoute(r, e);
  r->byHandle[e->handle] = NULL;
  r->count--;
  free(e);
}

void freeRoutes(Routes *r) {
  for (int32_t i = 0; i < r->capacity; i++) free(r->byHandle[i]);
  free(r->byHandle);
  free(r->byClient);
  free(r->byPeer);
  memset(r, 0, sizeof *r);
}
