/* The stream addon's calls from JS (native-stream.ts): start, adopt a plain TCP connection, write,
 * pause, resume, end, destroy; the connections themselves are stream-conn.c's. */
#include <stdlib.h>
#include "stream-conn.h"

napi_value connThrowType(napi_env env, const char *usage) {
  napi_throw_type_error(env, NULL, usage);
  return NULL;
}

int connGetBuffer(napi_env env, napi_value value, void **data, size_t *size) {
  bool is = false;
  napi_is_buffer(env, value, &is);
  if (!is) {
    *data = NULL;
    *size = 0;
    return 0;
  }
  return napi_get_buffer_info(env, value, data, size) == napi_ok;
}

/* ---- JS calls ---- */

/* start(callback(id, event, value, text), readBuffer): once per thread */
static napi_value start(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], name;
  napi_valuetype type;
  Instance *inst = connInstance(env);
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (!inst || inst->callback) return connThrowType(env, "start() once per thread");
  void *data;
  size_t size;
  if (argc < 2 || napi_typeof(env, argv[0], &type) != napi_ok || type != napi_function
      || !connGetBuffer(env, argv[1], &data, &size) || size < 2 * RECORD_MAX || size > INT32_MAX)
    return connThrowType(env, "start(callback, readBuffer of 32 KiB or more)");
  napi_create_reference(env, argv[0], 1, &inst->callback);
  napi_create_reference(env, argv[1], 1, &inst->readRef);
  inst->readBuffer = data;
  inst->readSize = size;
  napi_create_string_utf8(env, "turnpike-tls-stream", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &inst->async);
  return NULL;
}

/* adoptPlain(fd, early) -> id: a plain TCP connection is this addon's (on a dup of fd: JS closes
   its own), open at once; `early`, the bytes JS read from it, are read first. Throws when it cannot. */
static napi_value adoptPlain(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], result;
  int32_t fd;
  void *early;
  size_t earlyLength;
  Instance *inst = connInstance(env);
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (!inst || !inst->callback) return connThrowType(env, "start() first");
  if (argc < 2 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0 || !connGetBuffer(env, argv[1], &early, &earlyLength))
    return connThrowType(env, "adoptPlain(fd, early)");
  Conn *c = connNew(env, fd, early, earlyLength);
  int32_t id = c ? connOpen(env, c, OPEN) : -1;
  if (id < 0) return connThrowType(env, "adoptPlain(): out of memory or descriptors");
  napi_create_int32(env, id, &result);
  return result;
}

/* write(id, data) -> bytes queued behind, or -1 when closed */
static napi_value writeData(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], result;
  void *data;
  size_t size;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2 || !connGetBuffer(env, argv[1], &data, &size)) return connThrowType(env, "write(id, data)");
  Conn *c = connOf(env, argv[0]);
  napi_create_int32(env, c ? connWrite(c, NULL, 0, data, size, 0) : -1, &result);
  return result;
}

/* writeChannelData(id, channel, data, offset, length) -> as write: the frame (RFC 8656 §12.5) in one write */
static napi_value writeChannelData(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5], result;
  int32_t channel, offset, length;
  void *data;
  size_t size;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 5 || napi_get_value_int32(env, argv[1], &channel) != napi_ok || !connGetBuffer(env, argv[2], &data, &size)
      || napi_get_value_int32(env, argv[3], &offset) != napi_ok || napi_get_value_int32(env, argv[4], &length) != napi_ok
      || channel < 0 || channel > 0xffff || offset < 0 || length < 0 || length > 0xffff || (size_t)offset + (size_t)length > size)
    return connThrowType(env, "writeChannelData(id, channel, data, offset, length)");
  Conn *c = connOf(env, argv[0]);
  uint8_t header[4] = {(uint8_t)(channel >> 8), (uint8_t)channel, (uint8_t)(length >> 8), (uint8_t)length};
  napi_create_int32(env, c ? connWrite(c, header, 4, (uint8_t *)data + offset, (size_t)length, (size_t)((4 - length % 4) % 4)) : -1, &result);
  return result;
}

static Conn *connArgument(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  return argc ? connOf(env, argv[0]) : NULL;
}

/* pause(id) */
static napi_value pauseReads(napi_env env, napi_callback_info info) {
  Conn *c = connArgument(env, info);
  if (!c) return NULL;
  c->paused = 1;
  if (c->state == OPEN) connSetPoll(c, (c->events & ~UV_READABLE) | (c->head ? UV_WRITABLE : 0));
  return NULL;
}

/* resume(id) -> true when bytes already taken from the socket wait (OpenSSL's): pump() them then, from a setImmediate */
static napi_value resumeReads(napi_env env, napi_callback_info info) {
  napi_value result;
  Conn *c = connArgument(env, info);
  int held = 0;
  if (c) {
    c->paused = 0;
    if (c->state == OPEN) {
      connSetPoll(c, c->events | UV_READABLE);
      held = c->layer->holds(c);
    }
  }
  napi_get_boolean(env, held, &result);
  return result;
}

/* pump(id): a round of progress now (calls back) */
static napi_value pump(napi_env env, napi_callback_info info) {
  Conn *c = connArgument(env, info);
  if (c && c->state == OPEN) connProgress(c);
  return NULL;
}

/* end(id): the layer's goodbye and FIN once the queue is written; the connection closes at the client's */
static napi_value endWrites(napi_env env, napi_callback_info info) {
  Conn *c = connArgument(env, info);
  if (!c) return NULL;
  if (c->state != OPEN) {
    connClose(c, 1);
    return NULL;
  }
  c->ending = 1;
  connSetPoll(c, c->events | UV_WRITABLE);  /* progress() sends them from the next round */
  return NULL;
}

/* destroy(id): closed now, no event */
static napi_value destroyConn(napi_env env, napi_callback_info info) {
  Conn *c = connArgument(env, info);
  if (c) connClose(c, 0);
  return NULL;
}

/* live() -> connections adopted whose layer state, buffers and descriptor are not freed yet */
static napi_value liveConnections(napi_env env, napi_callback_info info) {
  (void)info;
  Instance *inst = connInstance(env);
  napi_value result;
  napi_create_int32(env, inst ? inst->live : 0, &result);
  return result;
}

static void cleanup(napi_async_cleanup_hook_handle hook, void *data) {
  Instance *inst = data;
  inst->teardown = hook;
  inst->closing++;
  for (int32_t id = 0; id < inst->capacity; id++) {
    Conn *c = inst->conns[id];
    if (c && c->state != CLOSED) connClose(c, 0);
  }
  inst->closing--;
  if (inst->closing == 0) connFreeInstance(inst);
}

#define FUNCTION(name, fn) { name, NULL, fn, NULL, NULL, NULL, napi_default, NULL }

int connRegister(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    FUNCTION("start", start),
    FUNCTION("adoptPlain", adoptPlain),
    FUNCTION("write", writeData),
    FUNCTION("writeChannelData", writeChannelData),
    FUNCTION("pause", pauseReads),
    FUNCTION("resume", resumeReads),
    FUNCTION("pump", pump),
    FUNCTION("end", endWrites),
    FUNCTION("destroy", destroyConn),
    FUNCTION("live", liveConnections),
  };
  Instance *inst = calloc(1, sizeof *inst);
  if (!inst) return 0;
  inst->env = env;
  napi_set_instance_data(env, inst, NULL, NULL);
  napi_add_async_cleanup_hook(env, cleanup, inst, NULL);
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return 1;
}
