/* The addon's sockets by number (udp-io.h): open (bind, SO_REUSEPORT, connect), localPort and
 * close; each is polled on its environment's own loop (udp-receive.c reads it). */
#include "udp-io.h"
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include "socket-addon.h"

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

void closeSock(Sock *s) {
  if (!s->open) return;
  if (s->routed > 0) forgetRoutesOf(s->owner, s->id);   /* none left when JS ended their allocations first */
  dtlsKeysFree(s->owner->teardown ? NULL : s->owner->env, s->dtls);
  s->dtls = NULL;
  stopAnsweringBindings(s);
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
napi_value openSocket(napi_env env, napi_callback_info info) {
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
  if (reusePort && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0) return closeAndThrow(env, fd, errno, "SO_REUSEPORT");
  if (receiveBuffer > 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receiveBuffer, sizeof receiveBuffer);
  if (bind(fd, (struct sockaddr *)&local, localLength) != 0) return closeAndThrow(env, fd, errno, "bind");
  if (connectTo && connect(fd, (struct sockaddr *)&remote, remoteLength) != 0) return closeAndThrow(env, fd, errno, "connect");
  int32_t id = freeId(inst);
  Sock *s = id < 0 ? NULL : calloc(1, sizeof *s);
  if (!s || pollOnOwnLoop(env, &s->poll, fd) != 0) {
    free(s);
    return closeAndThrow(env, fd, ENOMEM, "open");
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
napi_value localPort(napi_env env, napi_callback_info info) {
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
napi_value closeSocket(napi_env env, napi_callback_info info) {
  Sock *s = sockOf(instanceOf(env), firstInt32(env, info, -1));
  if (s) closeSock(s);
  return NULL;
}
