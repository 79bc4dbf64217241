/* JS's calls that steer the fast path (udp-receive.c): channel routes added, refreshed, read and
 * removed; a client socket held for JS; a DTLS client's keys attached. */
#include "udp-io.h"
#include "socket-addon.h"

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
void forgetRoutesOf(Instance *inst, int32_t id) {
  for (int32_t i = 0; i < inst->routes.capacity && inst->socks[id]->routed > 0; i++) {
    Route *e = inst->routes.byHandle[i];
    if (e && e->linked && (e->clientSock == id || e->relaySock == id)) unrouteRoute(inst, e);
  }
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
napi_value routeAdd(napi_env env, napi_callback_info info) {
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
napi_value routeExpiry(napi_env env, napi_callback_info info) {
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
napi_value routeCounts(napi_env env, napi_callback_info info) {
  Instance *inst = instanceOf(env);
  if (!inst || !inst->routeCounts) return NULL;
  Route *e = routeOf(&inst->routes, firstInt32(env, info, -1));
  if (e) memcpy(inst->routeCounts, e->counts, sizeof e->counts);
  else memset(inst->routeCounts, 0, 4 * sizeof(double));
  return NULL;
}

/* routeRemove(handle): gone, its last counts left in the routeCounts buffer. */
napi_value routeRemove(napi_env env, napi_callback_info info) {
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
napi_value hold(napi_env env, napi_callback_info info) {
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
napi_value dtlsAttach(napi_env env, napi_callback_info info) {
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

