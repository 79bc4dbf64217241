/* DTLS records of routed channels, opened and sealed in C (dtls-routes.h). The keys are the
 * association's epoch-1 keys, copied from JS once; the sequence counter and replay window live
 * in a Float64Array JS made and reads and writes too (its records, its window checks), kept
 * alive here by a reference: one counter, one window, whoever takes a record. Sequence numbers
 * are below 2^48, exact as doubles. Every length is checked before OpenSSL sees a pointer. */
#define NAPI_VERSION 8
#include <stdlib.h>
#include <string.h>
#include "dtls-routes.h"
#include "gcm-record.h"

#define SEQUENCE_LIMIT 281474976710656.0   /* 2^48: a record's sequence number is 48 bits */

struct DtlsKeys {
  EVP_CIPHER_CTX *opener, *sealer;   /* the client's write key, the server's */
  unsigned char openSalt[GCM_SALT], sealSalt[GCM_SALT];
  double *shared;
  napi_ref sharedRef;
};

static int bufferOf(napi_env env, napi_value value, size_t wanted, unsigned char **data, size_t *length) {
  void *at = NULL;
  if (napi_get_buffer_info(env, value, &at, length) != napi_ok || (wanted && *length != wanted)) return 0;
  *data = at;
  return 1;
}

DtlsKeys *dtlsKeysCreate(napi_env env, const napi_value *argv, const char **usage) {
  unsigned char *clientKey, *clientIv, *serverKey, *serverIv;
  size_t clientKeyLength, serverKeyLength, ivLength, elements;
  napi_typedarray_type type;
  void *shared = NULL;
  *usage = "dtlsAttach(id, clientKey, clientIv4, serverKey, serverIv4, sharedFloat64Array)";
  if (!bufferOf(env, argv[0], 0, &clientKey, &clientKeyLength) || !bufferOf(env, argv[1], GCM_SALT, &clientIv, &ivLength)
      || !bufferOf(env, argv[2], 0, &serverKey, &serverKeyLength) || !bufferOf(env, argv[3], GCM_SALT, &serverIv, &ivLength)
      || clientKeyLength != serverKeyLength || (clientKeyLength != 16 && clientKeyLength != 32)
      || napi_get_typedarray_info(env, argv[4], &type, &elements, &shared, NULL, NULL) != napi_ok
      || type != napi_float64_array || elements < DTLS_SHARED || !shared)
    return NULL;
  *usage = NULL;
  DtlsKeys *keys = calloc(1, sizeof *keys);
  if (!keys) return NULL;
  keys->opener = gcmContext(clientKey, clientKeyLength, 0);
  keys->sealer = gcmContext(serverKey, serverKeyLength, 1);
  memcpy(keys->openSalt, clientIv, GCM_SALT);
  memcpy(keys->sealSalt, serverIv, GCM_SALT);
  keys->shared = shared;
  if (!keys->opener || !keys->sealer || napi_create_reference(env, argv[4], 1, &keys->sharedRef) != napi_ok) {
    dtlsKeysFree(NULL, keys);
    return NULL;
  }
  return keys;
}

void dtlsKeysFree(napi_env env, DtlsKeys *keys) {
  if (!keys) return;
  EVP_CIPHER_CTX_free(keys->opener);
  EVP_CIPHER_CTX_free(keys->sealer);
  if (env && keys->sharedRef) napi_delete_reference(env, keys->sharedRef);
  free(keys);
}

/* session.ts's ReplayWindow, on the same doubles: seen[seq % 64] holds seq + 1 once accepted. */
static int isReplay(const double *shared, uint64_t sequence) {
  double at = (double)sequence;
  if (at + DTLS_WINDOW <= shared[DTLS_HIGHEST]) return 1;
  return shared[DTLS_SEEN + sequence % DTLS_WINDOW] == at + 1;
}

int32_t dtlsOpen(const DtlsKeys *keys, unsigned char *d, uint32_t length, unsigned char *out, uint64_t *sequence) {
  /* One record the whole datagram (endpoint.ts's isSingleApplicationRecordAt), of epoch 1. */
  if (length < RECORD_OVERHEAD || length > 0xffff + RECORD_HEADER || d[0] != RECORD_APPLICATION_DATA || d[1] != 0xfe || d[3] != 0 || d[4] != 1)
    return -1;
  uint64_t number = 0;
  for (int i = 5; i < 11; i++) number = number << 8 | d[i];
  if (isReplay(keys->shared, number)) return -1;
  *sequence = number;
  return openRecordInto(keys->opener, keys->openSalt, d, (int32_t)length, out);
}

void dtlsAccept(DtlsKeys *keys, uint64_t sequence, double now) {
  double *shared = keys->shared;
  shared[DTLS_SEEN + sequence % DTLS_WINDOW] = (double)sequence + 1;
  if ((double)sequence > shared[DTLS_HIGHEST]) shared[DTLS_HIGHEST] = (double)sequence;
  shared[DTLS_LAST_RECEIVED] = now;
}

int32_t dtlsSealChannelData(DtlsKeys *keys, unsigned char *d, uint32_t room, uint32_t length, int32_t channel) {
  double *shared = keys->shared;
  double next = shared[DTLS_NEXT_WRITE];
  if (length > RECORD_MAX_CHANNEL_DATA || (uint64_t)length + RECORD_OVERHEAD + CHANNEL_DATA_HEADER > room || !(next >= 0 && next < SEQUENCE_LIMIT))
    return -1;
  int32_t sealed = sealChannelDataInto(keys->sealer, keys->sealSalt, d, 1, (uint64_t)next, channel, d, (int32_t)length);
  if (sealed < 0) return -2;
  shared[DTLS_NEXT_WRITE] = next + 1;
  return sealed;
}
