/* Batched UDP socket I/O for Turnpike's relay (docs/native-udp.md). Socket I/O only: no STUN or
 * TURN parsing here. Each socket is watched by a uv_poll_t on the calling environment's own loop
 * and drained with recvmmsg into one preallocated receive area; once per loop turn (a uv_check
 * handle, right after libuv's poll phase) JS is called with the turn's datagrams, and what JS
 * queued (iovecs into the receive area or into the send area behind it, where JS copies what it
 * made itself, plus an optional 4-byte ChannelData header) leaves with sendmmsg. Established
 * channel traffic JS installed a route for is relayed here without JS (udp-routes.h), a DTLS
 * client's too, its records opened and sealed with its keys (dtls-routes.h). State is
 * per N-API environment, so each relay worker thread has its own. This file is the addon's entry:
 * an environment's instance, start() and teardown; udp-io.h names the other parts. */
#include "udp-io.h"
#include <errno.h>
#include <stdlib.h>
#include "socket-addon.h"

void finishTeardown(Instance *inst) {
  if (!inst->teardown || inst->closing > 0) return;
  napi_remove_async_cleanup_hook(inst->teardown);
  freeRoutes(&inst->routes);
  free(inst->socks);
  free(inst->scratch);
  free(inst);
}

static napi_value sharedBuffer(napi_env env, size_t bytes, void **data, napi_ref *ref) {
  napi_value buffer;
  if (napi_create_arraybuffer(env, bytes, data, &buffer) != napi_ok) return NULL;
  napi_create_reference(env, buffer, 1, ref);   /* the memory lives as long as the instance */
  return buffer;
}

/* start(onBatch) -> { slab, meta, queue, stats, slots, slotBytes, sendAreaBytes, stride, queueSize }: once per
   environment. The send area is the slab's last sendAreaBytes, from slots x slotBytes on. */
static napi_value start(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result, name;
  napi_valuetype type;
  Instance *inst = instanceOf(env);
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (!inst) return throwUsage(env, "no instance");
  if (inst->callback) return throwUsage(env, "start() once per thread");
  if (argc < 1 || napi_typeof(env, argv[0], &type) != napi_ok || type != napi_function) return throwUsage(env, "start(onBatch)");
  napi_value slab = sharedBuffer(env, (size_t)AREA, (void **)&inst->slab, &inst->slabRef);
  napi_value meta = sharedBuffer(env, (size_t)SLOTS * META * sizeof(int32_t), (void **)&inst->meta, &inst->metaRef);
  napi_value queue = sharedBuffer(env, (size_t)QUEUE * META * sizeof(int32_t), (void **)&inst->queue, &inst->queueRef);
  napi_value stats = sharedBuffer(env, STAT_COUNT * sizeof(double), (void **)&inst->stats, &inst->statsRef);
  napi_value counts = sharedBuffer(env, 4 * sizeof(double), (void **)&inst->routeCounts, &inst->routeCountsRef);
  inst->scratch = malloc(SLOT);
  if (!slab || !meta || !queue || !stats || !counts || !inst->scratch) return throwErrno(env, ENOMEM, "start");
  memset(inst->stats, 0, STAT_COUNT * sizeof(double));
  prepareReceive(inst);
  uv_loop_t *loop = NULL;
  napi_get_uv_event_loop(env, &loop);
  inst->check = calloc(1, sizeof *inst->check);
  if (!inst->check) return throwErrno(env, ENOMEM, "start");
  uv_check_init(loop, inst->check);
  inst->check->data = inst;
  uv_check_start(inst->check, onCheck);
  uv_unref((uv_handle_t *)inst->check);   /* the sockets keep the loop alive, not this */
  napi_create_reference(env, argv[0], 1, &inst->callback);
  napi_create_string_utf8(env, "turnpike-udp-batch", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &inst->async);
  napi_create_object(env, &result);
  napi_set_named_property(env, result, "slab", slab);
  napi_set_named_property(env, result, "meta", meta);
  napi_set_named_property(env, result, "queue", queue);
  napi_set_named_property(env, result, "stats", stats);
  napi_set_named_property(env, result, "routeCounts", counts);
  static const struct { const char *name; int32_t value; } sizes[] = {
    { "slots", SLOTS }, { "slotBytes", SLOT }, { "sendAreaBytes", SEND_AREA }, { "stride", META }, { "queueSize", QUEUE },
  };
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    napi_value value;
    napi_create_int32(env, sizes[i].value, &value);
    napi_set_named_property(env, result, sizes[i].name, value);
  }
  return result;
}

static void onCheckClosed(uv_handle_t *handle) {
  Instance *inst = handle->data;
  free(handle);
  inst->closing--;
  finishTeardown(inst);
}

/* The environment is going (process exit, worker thread ending): every handle stops and closes;
   Node runs the loop until the last close callback, which frees the instance (finishTeardown). */
static void cleanup(napi_async_cleanup_hook_handle hook, void *data) {
  Instance *inst = data;
  inst->teardown = hook;
  inst->closing++;   /* held until every handle below is on its way */
  for (int32_t id = 0; id < inst->capacity; id++) {
    Sock *s = inst->socks[id];
    if (s && s->open) closeSock(s);
  }
  if (inst->check) {
    uv_check_stop(inst->check);
    inst->closing++;
    uv_close((uv_handle_t *)inst->check, onCheckClosed);
    inst->check = NULL;
  }
  inst->closing--;
  finishTeardown(inst);
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  Instance *inst = calloc(1, sizeof *inst);
  if (!inst) return NULL;
  inst->env = env;
  napi_set_instance_data(env, inst, NULL, NULL);
  napi_add_async_cleanup_hook(env, cleanup, inst, NULL);
  napi_property_descriptor props[] = {
    { "start", NULL, start, NULL, NULL, NULL, napi_default, NULL },
    { "open", NULL, openSocket, NULL, NULL, NULL, napi_default, NULL },
    { "localPort", NULL, localPort, NULL, NULL, NULL, napi_default, NULL },
    { "close", NULL, closeSocket, NULL, NULL, NULL, napi_default, NULL },
    { "send", NULL, sendNow, NULL, NULL, NULL, napi_default, NULL },
    { "flush", NULL, flush, NULL, NULL, NULL, napi_default, NULL },
    ADDON_FUNCTION("routeAdd", routeAdd),
    ADDON_FUNCTION("routeExpiry", routeExpiry),
    ADDON_FUNCTION("routeCounts", routeCounts),
    ADDON_FUNCTION("routeRemove", routeRemove),
    ADDON_FUNCTION("hold", hold),
    ADDON_FUNCTION("dtlsAttach", dtlsAttach),
    ADDON_FUNCTION("bindingAnswers", bindingAnswers),
    ADDON_FUNCTION("bindingsAnswered", bindingsAnswered),
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}
