/* What the socket addons (udp-io's C files, tcp-accept.c, stream-conn.c) share: errors thrown as
 * Node's own socket errors are, IP addresses parsed from JS's strings, and JS called from the
 * loop. Static inline: included by each C file of an addon that needs them, unused ones draw no
 * warning. */
#ifndef TURNPIKE_SOCKET_ADDON_H
#define TURNPIKE_SOCKET_ADDON_H
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <node_api.h>
#include <uv.h>

static inline napi_value throwErrno(napi_env env, int code, const char *what) {
  char message[160];
  napi_value error, text, codeValue;
  /* Worded as dgram's errors are ("bind EADDRINUSE"): logs and the operators who grep them see one form. */
  snprintf(message, sizeof message, "%s %s", what, uv_err_name(-code));
  napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &text);
  napi_create_error(env, NULL, text, &error);
  /* The code dgram's errors carry for the same errno (libuv's error numbers are -errno here). */
  napi_create_string_utf8(env, uv_err_name(-code), NAPI_AUTO_LENGTH, &codeValue);
  napi_set_named_property(env, error, "code", codeValue);
  napi_throw(env, error);
  return NULL;
}

/* A socket that could not be set up: closed, and `code` thrown as `what`'s error. The caller
   passes errno as `code`, so it is read before close() can change it. */
static inline napi_value closeAndThrow(napi_env env, int fd, int code, const char *what) {
  close(fd);
  return throwErrno(env, code, what);
}

static inline napi_value throwUsage(napi_env env, const char *usage) {
  napi_throw_type_error(env, NULL, usage);
  return NULL;
}

static inline socklen_t parseAddress(struct sockaddr_storage *to, int family, const char *ip, int32_t port) {
  memset(to, 0, sizeof *to);
  if (port < 0 || port > 65535) return 0;
  if (family == 4) {
    struct sockaddr_in *a = (struct sockaddr_in *)to;
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    return inet_pton(AF_INET, ip, &a->sin_addr) == 1 ? sizeof *a : 0;
  }
  if (family == 6) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)to;
    a->sin6_family = AF_INET6;
    a->sin6_port = htons((uint16_t)port);
    return inet_pton(AF_INET6, ip, &a->sin6_addr) == 1 ? sizeof *a : 0;
  }
  return 0;
}

/* The first argument as an int32, or `fallback` when there is none or it is not a number. */
static inline int32_t firstInt32(napi_env env, napi_callback_info info, int32_t fallback) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t value = fallback;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || napi_get_value_int32(env, argv[0], &value) != napi_ok) return fallback;
  return value;
}

/* Makes `poll` watch `fd` on this environment's own loop (a relay worker's, or the main one). */
static inline int pollOnOwnLoop(napi_env env, uv_poll_t *poll, int fd) {
  uv_loop_t *loop = NULL;
  napi_get_uv_event_loop(env, &loop);
  return loop ? uv_poll_init_socket(loop, poll, fd) : UV_EINVAL;
}

/* Calls JS's `callback` from a libuv callback (no JS on the stack): its result, or NULL when it
   threw. What it throws is the process's uncaught exception, as an event handler's would be, so
   that it is neither lost here nor left pending for the next N-API call. */
static inline napi_value callJsFromLoop(napi_env env, napi_async_context async, napi_ref callback, size_t argc, const napi_value *argv) {
  napi_value fn, recv, result, error;
  bool pending = false;
  napi_get_reference_value(env, callback, &fn);
  napi_get_global(env, &recv);
  if (napi_make_callback(env, async, recv, fn, argc, argv, &result) == napi_ok) return result;
  napi_is_exception_pending(env, &pending);
  if (pending && napi_get_and_clear_last_exception(env, &error) == napi_ok) napi_fatal_exception(env, error);
  return NULL;
}

/* One function an addon exports. */
#define ADDON_FUNCTION(name, fn) { name, NULL, fn, NULL, NULL, NULL, napi_default, NULL }

#endif
