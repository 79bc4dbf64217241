/* Binding answered in C (docs/native-udp.md): on a listener JS has allowed to, a plain Binding
 * request (stun-answer.h) is answered where it lies in the receive area and its answer queued
 * with what the routes relayed, for the turn's sendmmsg; JS reads how many were answered. */
#include "udp-io.h"
#include <stdlib.h>
#include "socket-addon.h"

struct BindingAnswers {
  int on;
  StunAnswerSettings settings;
  double answered;   /* since JS last read it (bindingsAnswered) */
};

/* The hook in the receive loop (udp-receive.c): true when the datagram in `slot` was answered here. */
int answerBindingHere(Instance *inst, Sock *s, int slot, unsigned length, const int32_t *from) {
  if (!s->binding->on) return 0;
  unsigned char *d = inst->slab + (size_t)slot * SLOT;
  unsigned answer = stunAnswerBinding(d, length, SLOT, from, &s->binding->settings);
  if (answer == 0) return 0;
  int32_t *q = inst->fast + (size_t)inst->relayed * META;
  q[0] = s->id;
  q[1] = slot * SLOT;
  q[2] = (int32_t)answer;
  q[3] = 0;
  memcpy(q + 4, from, ADDRESS_WORDS * sizeof *from);
  inst->relayed++;
  s->binding->answered++;
  return 1;
}

void stopAnsweringBindings(Sock *s) {
  free(s->binding);
  s->binding = NULL;
}

/* bindingAnswers(id, fingerprint?, software?) -> whether socket `id` answers from now on: its
   plain Binding requests answered here, with FINGERPRINT on every answer when `fingerprint`,
   SOFTWARE when `software` (a Buffer) is given; not with a SOFTWARE longer than C keeps (JS
   answers then). bindingAnswers(id) alone stops it (what was answered is counted until read). */
napi_value bindingAnswers(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], result;
  int32_t id = -1;
  bool fingerprint = false;
  void *software = NULL;
  size_t softwareLength = 0;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || napi_get_value_int32(env, argv[0], &id) != napi_ok
      || (argc >= 2 && napi_get_value_bool(env, argv[1], &fingerprint) != napi_ok)
      || (argc >= 3 && napi_get_buffer_info(env, argv[2], &software, &softwareLength) != napi_ok))
    return throwUsage(env, "bindingAnswers(id, fingerprint?, software?)");
  Sock *s = sockOf(instanceOf(env), id);
  int on = argc >= 2 && softwareLength <= STUN_SOFTWARE_MAX;
  if (s && !s->binding) s->binding = calloc(1, sizeof *s->binding);
  if (s && s->binding) {
    s->binding->on = on;
    if (!on) softwareLength = 0;
    s->binding->settings.fingerprint = fingerprint;
    s->binding->settings.softwareLength = (uint16_t)softwareLength;
    if (softwareLength) memcpy(s->binding->settings.software, software, softwareLength);
  }
  napi_get_boolean(env, s != NULL && s->binding != NULL && on, &result);
  return result;
}

/* bindingsAnswered(id) -> how many Binding requests socket `id` answered here since the last call. */
napi_value bindingsAnswered(napi_env env, napi_callback_info info) {
  Sock *s = sockOf(instanceOf(env), firstInt32(env, info, -1));
  napi_value result;
  double answered = s && s->binding ? s->binding->answered : 0;
  if (s && s->binding) s->binding->answered = 0;
  napi_create_double(env, answered, &result);
  return result;
}
