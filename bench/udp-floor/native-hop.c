/* The bare relay hop as a Node addon: the same K sockets, watched by uv_poll on Node's own event
 * loop, drained with recvmmsg and sent on to the sink with one sendmmsg per loop turn (a uv_check
 * handle runs right after libuv's poll phase, so one turn's datagrams from all sockets go out
 * together). Without a callback no JS runs per datagram (a native data plane); with one, JS is
 * called once per turn with the turn's batch and chooses each datagram's port (batched
 * crossings). Built by udp-floor.ts with gcc against the running Node's headers. */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <node_api.h>
#include <uv.h>

#define SLOTS 256   /* datagrams held per turn before a forced flush */
#define SLOT 2048   /* bytes per datagram slot: enough for the bench; MSG_TRUNC is counted */

typedef struct {
  napi_env env;
  napi_ref callback, data, lengths, ports;
  napi_async_context async;
  int out, k, *fds;
  uv_poll_t *polls;
  uv_check_t flush;
  struct sockaddr_in sink;
  unsigned char *slots;           /* SLOTS x SLOT bytes, JS sees them as an ArrayBuffer */
  int32_t *length, *port;         /* per slot: datagram length; destination port (0 = drop) */
  struct mmsghdr msgs[SLOTS];
  struct iovec iov[SLOTS];
  struct sockaddr_in to[SLOTS];
  int pending;
  double received, sent, truncated, dropped, count, batches;
  double startUser, startSys;     /* getrusage at the first datagram, µs */
} Hop;

static Hop hop;

static double micros(struct timeval t) { return t.tv_sec * 1e6 + t.tv_usec; }

static void callJs(void) {
  napi_env env = hop.env;
  napi_handle_scope scope;
  napi_value fn, recv, arg, result;
  napi_open_handle_scope(env, &scope);
  napi_get_reference_value(env, hop.callback, &fn);
  napi_get_global(env, &recv);   /* napi_make_callback wants an object as `this` */
  napi_create_int32(env, hop.pending, &arg);
  if (napi_make_callback(env, hop.async, recv, fn, 1, &arg, &result) != napi_ok) {
    napi_value error;               /* a bench that silently skipped JS would measure the wrong hop */
    napi_get_and_clear_last_exception(env, &error);
    napi_fatal_exception(env, error);
  }
  napi_close_handle_scope(env, scope);
}

static void flush(void) {
  if (hop.pending == 0) return;
  hop.batches++;
  if (hop.callback) callJs();
  int n = 0;
  for (int i = 0; i < hop.pending; i++) {     /* compact out what JS dropped (port 0) */
    int port = hop.callback ? hop.port[i] : hop.sink.sin_port;
    if (port == 0) { hop.dropped++; continue; }
    hop.to[n] = hop.sink;
    hop.to[n].sin_port = hop.callback ? htons(port) : port;
    hop.iov[n].iov_base = hop.slots + (size_t)i * SLOT;
    hop.iov[n].iov_len = hop.length[i];
    hop.msgs[n].msg_hdr = (struct msghdr){ .msg_name = &hop.to[n], .msg_namelen = sizeof hop.to[n],
                                           .msg_iov = &hop.iov[n], .msg_iovlen = 1 };
    n++;
  }
  for (int done = 0; done < n;) {
    int r = sendmmsg(hop.out, hop.msgs + done, n - done, MSG_DONTWAIT);
    if (r <= 0) { hop.dropped += n - done; break; }
    done += r;
    hop.sent += r;
  }
  hop.pending = 0;
}

static void onCheck(uv_check_t *handle) { (void)handle; flush(); }

static void stopAll(void) {
  for (int i = 0; i < hop.k; i++) uv_poll_stop(&hop.polls[i]);
  uv_check_stop(&hop.flush);
}

static void onReadable(uv_poll_t *handle, int status, int events) {
  (void)events;
  if (status < 0) return;
  int fd = hop.fds[(uv_poll_t *)handle - hop.polls];
  for (;;) {
    if (hop.pending == SLOTS) flush();
    int room = SLOTS - hop.pending;
    struct mmsghdr *m = hop.msgs + hop.pending;
    for (int i = 0; i < room; i++) {
      hop.iov[hop.pending + i] = (struct iovec){ hop.slots + (size_t)(hop.pending + i) * SLOT, SLOT };
      m[i].msg_hdr = (struct msghdr){ .msg_iov = &hop.iov[hop.pending + i], .msg_iovlen = 1 };
    }
    int r = recvmmsg(fd, m, room, MSG_DONTWAIT, NULL);
    if (r <= 0) break;
    if (hop.received == 0) {
      struct rusage u;
      getrusage(RUSAGE_SELF, &u);
      hop.startUser = micros(u.ru_utime);
      hop.startSys = micros(u.ru_stime);
    }
    for (int i = 0; i < r; i++) {
      if (m[i].msg_hdr.msg_flags & MSG_TRUNC) hop.truncated++;
      hop.length[hop.pending + i] = m[i].msg_len;
      hop.port[hop.pending + i] = (int32_t)((uv_poll_t *)handle - hop.polls); /* source socket index */
    }
    hop.pending += r;
    hop.received += r;
    if (r < room) break;
  }
  if (hop.received >= hop.count) { flush(); stopAll(); }
}

static int openUdp(int port) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
  if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) != 0) { if (s >= 0) close(s); return -1; }
  return s;
}

static napi_value fail(napi_env env, const char *message) {
  napi_throw_error(env, NULL, message);
  return NULL;
}

static napi_value arrayBuffer(napi_env env, size_t bytes, void **data, napi_ref *ref) {
  napi_value ab;
  napi_create_arraybuffer(env, bytes, data, &ab);
  napi_create_reference(env, ab, 1, ref);   /* keeps the memory alive while native code uses it */
  return ab;
}

/* start(base, k, sinkPort, count, callback?) -> { data, lengths, ports } (ArrayBuffers) */
static napi_value start(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5], result, name;
  napi_valuetype type;
  int32_t base, k, sinkPort, count;
  if (hop.env) return fail(env, "already started");
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 4 || napi_get_value_int32(env, argv[0], &base) != napi_ok
      || napi_get_value_int32(env, argv[1], &k) != napi_ok || k < 1
      || napi_get_value_int32(env, argv[2], &sinkPort) != napi_ok
      || napi_get_value_int32(env, argv[3], &count) != napi_ok)
    return fail(env, "start(base, k, sinkPort, count, callback?)");
  hop.env = env;
  hop.k = k;
  hop.count = count;
  hop.sink = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(sinkPort),
                                   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
  if (argc == 5 && napi_typeof(env, argv[4], &type) == napi_ok && type == napi_function) {
    napi_create_reference(env, argv[4], 1, &hop.callback);
    napi_create_string_utf8(env, "udp-floor-batch", NAPI_AUTO_LENGTH, &name);
    napi_async_init(env, NULL, name, &hop.async);
  }
  napi_create_object(env, &result);
  napi_set_named_property(env, result, "data",
                          arrayBuffer(env, (size_t)SLOTS * SLOT, (void **)&hop.slots, &hop.data));
  napi_set_named_property(env, result, "lengths",
                          arrayBuffer(env, SLOTS * sizeof(int32_t), (void **)&hop.length, &hop.lengths));
  napi_set_named_property(env, result, "ports",
                          arrayBuffer(env, SLOTS * sizeof(int32_t), (void **)&hop.port, &hop.ports));
  uv_loop_t *loop;
  napi_get_uv_event_loop(env, &loop);
  hop.out = socket(AF_INET, SOCK_DGRAM, 0);
  hop.fds = calloc(k, sizeof *hop.fds);
  hop.polls = calloc(k, sizeof *hop.polls);
  for (int i = 0; i < k; i++) {
    if ((hop.fds[i] = openUdp(base + i)) < 0) return fail(env, "bind failed");
    uv_poll_init_socket(loop, &hop.polls[i], hop.fds[i]);
    uv_poll_start(&hop.polls[i], UV_READABLE, onReadable);
  }
  uv_check_init(loop, &hop.flush);
  uv_check_start(&hop.flush, onCheck);
  return result;
}

static void setNumber(napi_env env, napi_value object, const char *key, double value) {
  napi_value v;
  napi_create_double(env, value, &v);
  napi_set_named_property(env, object, key, v);
}

/* stats() -> counters, and the CPU clock (µs) read at the first datagram */
static napi_value stats(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  napi_create_object(env, &result);
  setNumber(env, result, "received", hop.received);
  setNumber(env, result, "sent", hop.sent);
  setNumber(env, result, "dropped", hop.dropped);
  setNumber(env, result, "truncated", hop.truncated);
  setNumber(env, result, "batches", hop.batches);
  setNumber(env, result, "startUser", hop.startUser);
  setNumber(env, result, "startSys", hop.startSys);
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    { "start", NULL, start, NULL, NULL, NULL, napi_default, NULL },
    { "stats", NULL, stats, NULL, NULL, NULL, napi_default, NULL },
  };
  napi_define_properties(env, exports, 2, props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
