/* TCP listening sockets whose connections JS wraps itself (docs/native-tcp-accept.md). Node's
 * net.Server hands out sockets that read through the Readable stream machinery, one fresh 64 KiB
 * buffer per read; a net.Socket JS makes from an accepted fd can take the documented `onread`
 * option instead (one reused buffer, no stream push). So this only listens and accepts: each
 * listening socket is watched by a uv_poll_t on the calling environment's own loop, and every
 * connection accept4 returns goes to JS as a file descriptor, which JS then owns. State is per
 * N-API environment, so each relay worker thread has its own. One write is done here too:
 * writeChannelData, a relayed datagram framed as ChannelData and sent in one call, which JS
 * uses while Node has nothing queued on the socket (src/net/native-frame-writer.ts). */
#define _GNU_SOURCE
#define NAPI_VERSION 8   /* napi_add_async_cleanup_hook: libuv handles close before the loop does */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <node_api.h>
#include <uv.h>
#include "socket-addon.h"

#define BACKLOG 511          /* what Node's net.Server asks for */
#define ACCEPTS_PER_WAKE 64  /* more wait for the next poll (level-triggered) */
#define MAX_LISTENERS 4096

typedef struct Instance Instance;

typedef struct {
  uv_poll_t poll;         /* first: the close callback gets this pointer */
  Instance *owner;
  int32_t id;
  int fd;
  int open;
} Listener;

struct Instance {
  napi_env env;
  napi_ref callback;
  napi_async_context async;
  Listener *listeners[MAX_LISTENERS];
  int spareFd;                               /* held for refuseOne */
  napi_async_cleanup_hook_handle teardown;   /* set while the environment goes */
  int closing;                               /* handles whose close callback is still to come */
};

static Instance *instanceOf(napi_env env) {
  Instance *inst = NULL;
  napi_get_instance_data(env, (void **)&inst);
  return inst;
}

static Listener *listenerOf(Instance *inst, int32_t id) {
  if (!inst || id < 0 || id >= MAX_LISTENERS) return NULL;
  Listener *l = inst->listeners[id];
  return l && l->open ? l : NULL;
}

/* JS gets (listenerId, fd); an exception it throws goes to the process as any callback's would. */
static void handOver(Instance *inst, int32_t id, int fd) {
  napi_env env = inst->env;
  napi_handle_scope scope;
  napi_value argv[2];
  napi_open_handle_scope(env, &scope);
  napi_create_int32(env, id, &argv[0]);
  napi_create_int32(env, fd, &argv[1]);
  callJsFromLoop(env, inst->async, inst->callback, 2, argv);
  napi_close_handle_scope(env, scope);
}

/* Out of file descriptors, the waiting connection would wake the poll again at once, for ever:
   as libuv does for net.Server, the spare descriptor is given up to accept it and close it. */
static void refuseOne(Instance *inst, int listenFd) {
  if (inst->spareFd < 0) return;
  close(inst->spareFd);
  int fd = accept4(listenFd, NULL, NULL, SOCK_CLOEXEC);
  if (fd >= 0) close(fd);
  inst->spareFd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static void onAcceptable(uv_poll_t *handle, int status, int events) {
  (void)events;
  Listener *l = (Listener *)handle;
  Instance *inst = l->owner;
  if (!inst || !l->open || status < 0) return;
  for (int i = 0; i < ACCEPTS_PER_WAKE && l->open; i++) {
    int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      /* EAGAIN: none left. ECONNABORTED and the like: that one is gone, try the next. */
      if (errno == ECONNABORTED || errno == EPROTO || errno == EINTR) continue;
      if (errno == EMFILE || errno == ENFILE) refuseOne(inst, l->fd);
      return;
    }
    handOver(inst, l->id, fd);
  }
}

static void finishTeardown(Instance *inst) {
  if (!inst->teardown || inst->closing > 0) return;
  napi_remove_async_cleanup_hook(inst->teardown);
  if (inst->spareFd >= 0) close(inst->spareFd);
  free(inst);
}

static void onListenerClosed(uv_handle_t *handle) {
  Listener *l = (Listener *)handle;
  Instance *inst = l->owner;
  if (!inst->teardown && inst->listeners[l->id] == l) inst->listeners[l->id] = NULL;
  free(l);
  inst->closing--;
  finishTeardown(inst);
}

static void closeListener(Listener *l) {
  if (!l->open) return;
  l->open = 0;
  uv_poll_stop(&l->poll);   /* libuv forgets the fd here, so it may be closed at once */
  close(l->fd);
  l->owner->closing++;
  uv_close((uv_handle_t *)&l->poll, onListenerClosed);
}

static int boundPort(int fd) {
  struct sockaddr_storage local;
  socklen_t length = sizeof local;
  if (getsockname(fd, (struct sockaddr *)&local, &length) != 0) return 0;
  if (local.ss_family == AF_INET) return ntohs(((struct sockaddr_in *)&local)->sin_port);
  if (local.ss_family == AF_INET6) return ntohs(((struct sockaddr_in6 *)&local)->sin6_port);
  return 0;
}

/* start(onConnection(listenerId, fd)): once per thread */
static napi_value start(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], name;
  napi_valuetype type;
  Instance *inst = instanceOf(env);
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (!inst) return throwUsage(env, "no instance");
  if (inst->callback) return throwUsage(env, "start() once per thread");
  if (argc < 1 || napi_typeof(env, argv[0], &type) != napi_ok || type != napi_function) return throwUsage(env, "start(onConnection)");
  napi_create_reference(env, argv[0], 1, &inst->callback);
  napi_create_string_utf8(env, "turnpike-tcp-accept", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &inst->async);
  return NULL;
}

/* listen(family, ip, port, reusePort) -> [id, boundPort]; throws with .code (EADDRINUSE...) */
static napi_value listenOn(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4], result, value;
  int32_t family, port;
  bool reusePort = false;
  char ip[64];
  size_t ipLength;
  Instance *inst = instanceOf(env);
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (!inst || !inst->callback) return throwUsage(env, "start() first");
  if (argc < 4 || napi_get_value_int32(env, argv[0], &family) != napi_ok
      || napi_get_value_string_utf8(env, argv[1], ip, sizeof ip, &ipLength) != napi_ok
      || napi_get_value_int32(env, argv[2], &port) != napi_ok
      || napi_get_value_bool(env, argv[3], &reusePort) != napi_ok)
    return throwUsage(env, "listen(family, ip, port, reusePort)");
  struct sockaddr_storage local;
  socklen_t localLength = parseAddress(&local, family, ip, port);
  if (!localLength) return throwUsage(env, "listen(): not an IP address of that family");
  int32_t id = -1;
  for (int32_t i = 0; i < MAX_LISTENERS && id < 0; i++) if (!inst->listeners[i]) id = i;
  if (id < 0) return throwErrno(env, EMFILE, "listen");
  int fd = socket(family == 6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throwErrno(env, errno, "socket");
  int on = 1;
  /* As libuv binds a TCP server: SO_REUSEADDR lets a restart bind past TIME_WAIT. */
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  if (family == 6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
  if (reusePort && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0) return closeAndThrow(env, fd, errno, "SO_REUSEPORT");
  if (bind(fd, (struct sockaddr *)&local, localLength) != 0 || listen(fd, BACKLOG) != 0) return closeAndThrow(env, fd, errno, "listen");
  Listener *l = calloc(1, sizeof *l);
  if (!l || pollOnOwnLoop(env, &l->poll, fd) != 0) {
    free(l);
    return closeAndThrow(env, fd, ENOMEM, "listen");
  }
  l->owner = inst;
  l->id = id;
  l->fd = fd;
  l->open = 1;
  inst->listeners[id] = l;
  uv_poll_start(&l->poll, UV_READABLE, onAcceptable);
  napi_create_array_with_length(env, 2, &result);
  napi_create_int32(env, id, &value);
  napi_set_element(env, result, 0, value);
  napi_create_int32(env, boundPort(fd), &value);
  napi_set_element(env, result, 1, value);
  return result;
}

/* close(id): idempotent; connections already handed over stay open (JS owns them) */
static napi_value closeListening(napi_env env, napi_callback_info info) {
  Listener *l = listenerOf(instanceOf(env), firstInt32(env, info, -1));
  if (l) closeListener(l);
  return NULL;
}

/* closeFd(fd): for a handed-over connection JS could not wrap */
static napi_value closeFd(napi_env env, napi_callback_info info) {
  int32_t fd = firstInt32(env, info, -1);
  if (fd > 2) close(fd);
  return NULL;
}

/* writeChannelData(fd, channel, data, offset, length) -> bytes written (maybe fewer than the
   frame: 4 + length, padded to 4, RFC 8656 §12.5), or -errno (EAGAIN: none). Never waits:
   what did not go is JS's to queue on the socket. The frame is put together by sendmsg's iovec,
   so `data` (maybe a view of the UDP receive area) is read once and not copied in JS. */
static napi_value writeChannelData(napi_env env, napi_callback_info info) {
  static const uint8_t padding[3] = {0, 0, 0};
  size_t argc = 5;
  napi_value argv[5], result;
  int32_t fd, channel, offset, length;
  void *data = NULL;
  size_t size = 0;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 5 || napi_get_value_int32(env, argv[0], &fd) != napi_ok
      || napi_get_value_int32(env, argv[1], &channel) != napi_ok
      || napi_get_buffer_info(env, argv[2], &data, &size) != napi_ok
      || napi_get_value_int32(env, argv[3], &offset) != napi_ok
      || napi_get_value_int32(env, argv[4], &length) != napi_ok
      || fd < 0 || channel < 0 || channel > 0xffff || offset < 0 || length < 0 || length > 0xffff
      || (size_t)offset + (size_t)length > size)
    return throwUsage(env, "writeChannelData(fd, channel, data, offset, length)");
  uint8_t header[4] = {(uint8_t)(channel >> 8), (uint8_t)channel, (uint8_t)(length >> 8), (uint8_t)length};
  struct iovec parts[3] = {
    {header, sizeof header},
    {(uint8_t *)data + offset, (size_t)length},
    {(void *)padding, (size_t)((4 - length % 4) % 4)},
  };
  struct msghdr message;
  memset(&message, 0, sizeof message);
  message.msg_iov = parts;
  message.msg_iovlen = parts[2].iov_len > 0 ? 3 : 2;
  ssize_t sent;
  do sent = sendmsg(fd, &message, MSG_DONTWAIT | MSG_NOSIGNAL);
  while (sent < 0 && errno == EINTR);
  napi_create_int32(env, sent < 0 ? -errno : (int32_t)sent, &result);
  return result;
}

/* The environment is going (process exit, worker thread ending): every listener stops and
   closes; the last close callback frees the instance (finishTeardown). */
static void cleanup(napi_async_cleanup_hook_handle hook, void *data) {
  Instance *inst = data;
  inst->teardown = hook;
  inst->closing++;   /* held until every handle below is on its way */
  for (int32_t id = 0; id < MAX_LISTENERS; id++) {
    Listener *l = inst->listeners[id];
    if (l && l->open) closeListener(l);
  }
  inst->closing--;
  finishTeardown(inst);
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_property_descriptor props[] = {
    ADDON_FUNCTION("start", start),
    ADDON_FUNCTION("listen", listenOn),
    ADDON_FUNCTION("close", closeListening),
    ADDON_FUNCTION("closeFd", closeFd),
    ADDON_FUNCTION("writeChannelData", writeChannelData),
  };
  Instance *inst = calloc(1, sizeof *inst);
  if (!inst) return NULL;
  inst->env = env;
  inst->spareFd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  napi_set_instance_data(env, inst, NULL, NULL);
  napi_add_async_cleanup_hook(env, cleanup, inst, NULL);
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}
