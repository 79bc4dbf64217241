/* What leaves a socket (udp-io.h): at a loop turn's end, what C relayed (udp-receive.c), then
 * JS is called once with the datagrams it is to handle and what it queued leaves, each run of
 * one socket's datagrams with one sendmmsg; JS's flush() and send() for what cannot wait. */
#include "udp-io.h"
#include <errno.h>
#include <sys/socket.h>
#include "socket-addon.h"

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
  napi_value arg, result;
  int32_t queued = 0;
  napi_open_handle_scope(env, &scope);
  napi_create_int32(env, inst->jsPending, &arg);
  inst->stats[STAT_BATCHES]++;
  result = callJsFromLoop(env, inst->async, inst->callback, 1, &arg);
  if (!result || napi_get_value_int32(env, result, &queued) != napi_ok) queued = 0;
  sendQueued(inst, queued);
  napi_close_handle_scope(env, scope);
}

/* flush(count): sends the first `count` queued entries now, before the batch ends. JS calls it when
   its queue or send area is full, so that what it queues next leaves after them, in order. */
napi_value flush(napi_env env, napi_callback_info info) {
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
void onCheck(uv_check_t *handle) {
  Instance *inst = handle->data;
  if (!inst || inst->pending == 0 || !inst->callback) return;
  sendRelayed(inst);
  if (inst->jsPending > 0) callJs(inst);
  inst->pending = inst->jsPending = 0;
  inst->turn++;
}

/* send(id, buffer, offset, length, port?, ip?) -> 0 or an errno: one datagram, sent (copied) now.
   Without port and ip: a connected socket's peer. */
napi_value sendNow(napi_env env, napi_callback_info info) {
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
