/* AES-GCM seal and open for DTLS records (docs/native-crypto.md), with OpenSSL's EVP API as the
 * Node binary exports it (its own headers, its own symbols: nothing is linked). One cipher
 * context per key and direction, made once per epoch; each record only re-initialises it with
 * its nonce. node:crypto needs a new cipher object per nonce, which cost more than the AES-GCM.
 * seal and open take the nonce and the additional data from JS. openRecord and sealChannelData
 * take a whole record where it lies (a part of the native receive or send area), one call per
 * record: they build the nonce and additional data from the record header and the context's
 * salt (the implicit IV, RFC 5288 §3), as protection.ts does in JS. Every offset and length is
 * checked against its buffer before OpenSSL sees a pointer. */
#define NAPI_VERSION 8   /* type tags: a context from elsewhere is refused, never dereferenced */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <node_api.h>
#include "gcm-record.h"

#define NONCE GCM_NONCE
#define TAG GCM_TAG
#define SALT GCM_SALT
#define OVERHEAD RECORD_OVERHEAD

/* A key in one direction: its OpenSSL context and, for whole records, its salt. */
typedef struct {
  EVP_CIPHER_CTX *cipher;
  unsigned char salt[SALT];
  bool hasSalt;
} Context;

static const napi_type_tag CONTEXT_TAG = { 0x7475726e70696b65ULL, 0x647473616561640aULL };

static napi_value throwUsage(napi_env env, const char *usage) {
  napi_throw_type_error(env, NULL, usage);
  return NULL;
}

static void freeContext(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  Context *context = data;
  EVP_CIPHER_CTX_free(context->cipher);
  free(context);
}

/* createContext(key, encrypt[, salt]) -> a context: AES-128-GCM for a 16-byte key, AES-256-GCM
   for 32. With the 4-byte salt it also opens or seals whole records. */
static napi_value createContext(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], result;
  void *key = NULL, *salt = NULL;
  size_t keyLength = 0, saltLength = 0;
  bool encrypt = false;
  napi_valuetype saltType = napi_undefined;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2 || napi_get_buffer_info(env, argv[0], &key, &keyLength) != napi_ok
      || napi_get_value_bool(env, argv[1], &encrypt) != napi_ok
      || (argc > 2 && napi_typeof(env, argv[2], &saltType) != napi_ok)
      || (saltType != napi_undefined && (napi_get_buffer_info(env, argv[2], &salt, &saltLength) != napi_ok || saltLength != SALT)))
    return throwUsage(env, "createContext(key, encrypt[, salt4])");
  if (keyLength != 16 && keyLength != 32) return throwUsage(env, "createContext(): the key is 16 or 32 bytes");
  Context *context = calloc(1, sizeof *context);
  if (!context) {
    napi_throw_error(env, NULL, "createContext(): out of memory");
    return NULL;
  }
  if (salt) memcpy(context->salt, salt, SALT);
  context->hasSalt = salt != NULL;
  context->cipher = gcmContext(key, keyLength, encrypt);
  if (!context->cipher) {
    freeContext(env, context, NULL);
    napi_throw_error(env, NULL, "createContext(): OpenSSL refused the AES-GCM context");
    return NULL;
  }
  if (napi_create_external(env, context, freeContext, NULL, &result) != napi_ok) {
    freeContext(env, context, NULL);
    return NULL;
  }
  /* From here the external owns context: freeing it here too would free it twice at collection. */
  return napi_type_tag_object(env, result, &CONTEXT_TAG) == napi_ok ? result : NULL;
}

static Context *contextOf(napi_env env, napi_value value) {
  bool ours = false;
  void *context = NULL;
  if (napi_check_object_type_tag(env, value, &CONTEXT_TAG, &ours) != napi_ok || !ours
      || napi_get_value_external(env, value, &context) != napi_ok)
    return NULL;
  return context;
}

/* A context of ours in the direction asked (with a salt when whole records need one), or NULL. */
static Context *contextFor(napi_env env, napi_value value, bool encrypting, bool needsSalt) {
  Context *context = contextOf(env, value);
  if (!context || (needsSalt && !context->hasSalt) || EVP_CIPHER_CTX_encrypting(context->cipher) != encrypting) return NULL;
  return context;
}

/* The cipher of contextFor(), or NULL. */
static EVP_CIPHER_CTX *cipherOf(napi_env env, napi_value value, bool encrypting) {
  Context *context = contextFor(env, value, encrypting, false);
  return context ? context->cipher : NULL;
}

/* A range of a Buffer: [offset, offset + length + extra) must lie inside it. An empty Buffer's
   data may be NULL, so the answer is whether it does, and the pointer goes to *at. */
static int rangeOf(napi_env env, napi_value buffer, napi_value offsetValue, int32_t length, size_t extra, unsigned char **at) {
  void *data = NULL;
  size_t size = 0;
  int32_t offset = -1;
  if (napi_get_buffer_info(env, buffer, &data, &size) != napi_ok
      || napi_get_value_int32(env, offsetValue, &offset) != napi_ok
      || offset < 0 || length < 0 || (uint64_t)offset + (uint64_t)length + extra > size)
    return 0;
  *at = (unsigned char *)data + offset;
  return 1;
}

/* The nonce (12 bytes) and additional data of a record, read from their Buffers. */
static int nonceAndAad(napi_env env, napi_value nonceValue, napi_value aadValue, unsigned char **nonce, unsigned char **aad, int *aadLength) {
  size_t nonceSize = 0, aadSize = 0;
  if (napi_get_buffer_info(env, nonceValue, (void **)nonce, &nonceSize) != napi_ok || nonceSize != NONCE
      || napi_get_buffer_info(env, aadValue, (void **)aad, &aadSize) != napi_ok || aadSize > INT_MAX)
    return 0;
  *aadLength = (int)aadSize;
  return 1;
}

/* seal(ctx, nonce, aad, buffer, offset, length): encrypts buffer[offset, +length) in place and
   writes the 16-byte tag right after it. */
static napi_value sealRecord(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  unsigned char *nonce, *aad, *text;
  int aadLength = 0, written = 0, last = 0;
  int32_t length = -1;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  EVP_CIPHER_CTX *ctx = argc < 6 ? NULL : cipherOf(env, argv[0], true);
  if (!ctx || !nonceAndAad(env, argv[1], argv[2], &nonce, &aad, &aadLength)
      || napi_get_value_int32(env, argv[5], &length) != napi_ok
      || !rangeOf(env, argv[3], argv[4], length, TAG, &text))
    return throwUsage(env, "seal(encryptingContext, nonce12, aad, buffer, offset, length): length + 16 bytes from offset");
  if (!gcmBegin(ctx, nonce, aad, aadLength)
      || (length > 0 && EVP_CipherUpdate(ctx, text, &written, text, length) != 1)
      || EVP_CipherFinal_ex(ctx, text + written, &last) != 1
      || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG, text + length) != 1)
    napi_throw_error(env, NULL, "seal(): OpenSSL failed");
  return NULL;
}

/* open(ctx, nonce, aad, input, inputOffset, length, output, outputOffset) -> true when the tag
   (16 bytes after input's length bytes) authenticates; the plaintext is then in output. */
static napi_value openRecord(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8], result;
  unsigned char *nonce, *aad, *in, *out;
  int aadLength = 0, written = 0, last = 0;
  int32_t length = -1;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  EVP_CIPHER_CTX *ctx = argc < 8 ? NULL : cipherOf(env, argv[0], false);
  if (!ctx || !nonceAndAad(env, argv[1], argv[2], &nonce, &aad, &aadLength)
      || napi_get_value_int32(env, argv[5], &length) != napi_ok
      || !rangeOf(env, argv[3], argv[4], length, TAG, &in)
      || !rangeOf(env, argv[6], argv[7], length, 0, &out))
    return throwUsage(env, "open(decryptingContext, nonce12, aad, input, inputOffset, length, output, outputOffset)");
  /* OpenSSL decrypts in place or into separate memory, never into a partial overlap. */
  if (out != in && out < in + length + TAG && in < out + length) return throwUsage(env, "open(): output overlaps input");
  int ok = gcmBegin(ctx, nonce, aad, aadLength)
      && (length == 0 || EVP_CipherUpdate(ctx, out, &written, in, length) == 1)
      && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG, in + length) == 1
      && EVP_CipherFinal_ex(ctx, out + written, &last) == 1;
  napi_get_boolean(env, ok, &result);
  return result;
}

/* openRecord(ctx, buffer, offset, length) -> the plaintext's length, or -1: the record at
   buffer[offset, +length) (its header's length says the rest of it), decrypted in place, the
   plaintext at offset + 21. -1 when it does not authenticate (its bytes are then garbled) or
   its header does not frame exactly these bytes. */
static napi_value openWholeRecord(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4], result;
  unsigned char *record;
  int32_t length = -1;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  Context *context = argc < 4 ? NULL : contextFor(env, argv[0], false, true);
  if (!context || napi_get_value_int32(env, argv[3], &length) != napi_ok
      || !rangeOf(env, argv[1], argv[2], length, 0, &record))
    return throwUsage(env, "openRecord(decryptingContextWithSalt, buffer, offset, length)");
  napi_create_int32(env, openRecordInto(context->cipher, context->salt, record, length, record + RECORD_PLAINTEXT), &result);
  return result;
}

/* sealChannelData(ctx, out, at, epoch, sequence, channel, data, from, length) -> the record's
   length: an application data record at out[at, ...) holding ChannelData on `channel` with
   data[from, +length). out must have room for length + 41 bytes from at. */
static napi_value sealChannelDataRecord(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value argv[9], result;
  unsigned char *record, *payload;
  int32_t length = -1, epoch = -1, channel = -1;
  int64_t sequence = -1;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  Context *context = argc < 9 ? NULL : contextFor(env, argv[0], true, true);
  if (!context || napi_get_value_int32(env, argv[3], &epoch) != napi_ok || epoch < 0 || epoch > 0xffff
      || napi_get_value_int64(env, argv[4], &sequence) != napi_ok || sequence < 0 || sequence >= (int64_t)1 << 48
      || napi_get_value_int32(env, argv[5], &channel) != napi_ok || channel < 0 || channel > 0xffff
      || napi_get_value_int32(env, argv[8], &length) != napi_ok || length < 0 || length > RECORD_MAX_CHANNEL_DATA
      || !rangeOf(env, argv[6], argv[7], length, 0, &payload)
      || !rangeOf(env, argv[1], argv[2], length, OVERHEAD + CHANNEL_DATA_HEADER, &record))
    return throwUsage(env, "sealChannelData(encryptingContextWithSalt, out, at, epoch, sequence, channel, data, from, length): room for length + 41 bytes at out[at]");
  int32_t sealed = sealChannelDataInto(context->cipher, context->salt, record, epoch, (uint64_t)sequence, channel, payload, length);
  if (sealed < 0) {
    napi_throw_error(env, NULL, "sealChannelData(): OpenSSL failed");
    return NULL;
  }
  napi_create_int32(env, sealed, &result);
  return result;
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_property_descriptor props[] = {
    { "createContext", NULL, createContext, NULL, NULL, NULL, napi_default, NULL },
    { "seal", NULL, sealRecord, NULL, NULL, NULL, napi_default, NULL },
    { "open", NULL, openRecord, NULL, NULL, NULL, napi_default, NULL },
    { "openRecord", NULL, openWholeRecord, NULL, NULL, NULL, napi_default, NULL },
    { "sealChannelData", NULL, sealChannelDataRecord, NULL, NULL, NULL, napi_default, NULL },
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}
