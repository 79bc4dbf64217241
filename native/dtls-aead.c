/* AES-GCM seal and open for DTLS records (docs/native-crypto.md), with OpenSSL's EVP API as the
 * Node binary exports it (its own headers, its own symbols: nothing is linked). One cipher
 * context per key and direction, made once per epoch; each record only re-initialises it with
 * its nonce. node:crypto needs a new cipher object per nonce, which cost more than the AES-GCM.
 * No DTLS is parsed here: JS gives the nonce, the additional data and where the bytes are, and
 * every offset and length is checked against its buffer before OpenSSL sees a pointer. */
#define NAPI_VERSION 8   /* type tags: a context from elsewhere is refused, never dereferenced */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <node_api.h>
#include <openssl/evp.h>

#define NONCE 12
#define TAG 16

static const napi_type_tag CONTEXT_TAG = { 0x7475726e70696b65ULL, 0x647473616561640aULL };

static napi_value throwUsage(napi_env env, const char *usage) {
  napi_throw_type_error(env, NULL, usage);
  return NULL;
}

static void freeContext(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  EVP_CIPHER_CTX_free(data);
}

/* createContext(key, encrypt) -> a context: AES-128-GCM for a 16-byte key, AES-256-GCM for 32 */
static napi_value createContext(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], result;
  void *key = NULL;
  size_t keyLength = 0;
  bool encrypt = false;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2 || napi_get_buffer_info(env, argv[0], &key, &keyLength) != napi_ok
      || napi_get_value_bool(env, argv[1], &encrypt) != napi_ok)
    return throwUsage(env, "createContext(key, encrypt)");
  const EVP_CIPHER *cipher = keyLength == 16 ? EVP_aes_128_gcm() : keyLength == 32 ? EVP_aes_256_gcm() : NULL;
  if (!cipher) return throwUsage(env, "createContext(): the key is 16 or 32 bytes");
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  if (!ctx || EVP_CipherInit_ex(ctx, cipher, NULL, NULL, NULL, encrypt) != 1
      || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, NONCE, NULL) != 1
      || EVP_CipherInit_ex(ctx, NULL, NULL, key, NULL, encrypt) != 1) {
    EVP_CIPHER_CTX_free(ctx);
    napi_throw_error(env, NULL, "createContext(): OpenSSL refused the AES-GCM context");
    return NULL;
  }
  if (napi_create_external(env, ctx, freeContext, NULL, &result) != napi_ok) {
    EVP_CIPHER_CTX_free(ctx);
    return NULL;
  }
  /* From here the external owns ctx: freeing it here too would free it twice at collection. */
  return napi_type_tag_object(env, result, &CONTEXT_TAG) == napi_ok ? result : NULL;
}

static EVP_CIPHER_CTX *contextOf(napi_env env, napi_value value) {
  bool ours = false;
  void *ctx = NULL;
  if (napi_check_object_type_tag(env, value, &CONTEXT_TAG, &ours) != napi_ok || !ours
      || napi_get_value_external(env, value, &ctx) != napi_ok)
    return NULL;
  return ctx;
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

/* Starts a record: the context's key, this nonce, this additional data. */
static int begin(EVP_CIPHER_CTX *ctx, const unsigned char *nonce, const unsigned char *aad, int aadLength) {
  int ignored = 0;
  return EVP_CipherInit_ex(ctx, NULL, NULL, NULL, nonce, -1) == 1
      && (aadLength == 0 || EVP_CipherUpdate(ctx, NULL, &ignored, aad, aadLength) == 1);
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
  EVP_CIPHER_CTX *ctx = argc < 6 ? NULL : contextOf(env, argv[0]);
  if (!ctx || !EVP_CIPHER_CTX_encrypting(ctx) || !nonceAndAad(env, argv[1], argv[2], &nonce, &aad, &aadLength)
      || napi_get_value_int32(env, argv[5], &length) != napi_ok
      || !rangeOf(env, argv[3], argv[4], length, TAG, &text))
    return throwUsage(env, "seal(encryptingContext, nonce12, aad, buffer, offset, length): length + 16 bytes from offset");
  if (!begin(ctx, nonce, aad, aadLength)
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
  EVP_CIPHER_CTX *ctx = argc < 8 ? NULL : contextOf(env, argv[0]);
  if (!ctx || EVP_CIPHER_CTX_encrypting(ctx) || !nonceAndAad(env, argv[1], argv[2], &nonce, &aad, &aadLength)
      || napi_get_value_int32(env, argv[5], &length) != napi_ok
      || !rangeOf(env, argv[3], argv[4], length, TAG, &in)
      || !rangeOf(env, argv[6], argv[7], length, 0, &out))
    return throwUsage(env, "open(decryptingContext, nonce12, aad, input, inputOffset, length, output, outputOffset)");
  /* OpenSSL decrypts in place or into separate memory, never into a partial overlap. */
  if (out != in && out < in + length + TAG && in < out + length) return throwUsage(env, "open(): output overlaps input");
  int ok = begin(ctx, nonce, aad, aadLength)
      && (length == 0 || EVP_CipherUpdate(ctx, out, &written, in, length) == 1)
      && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG, in + length) == 1
      && EVP_CipherFinal_ex(ctx, out + written, &last) == 1;
  napi_get_boolean(env, ok, &result);
  return result;
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_property_descriptor props[] = {
    { "createContext", NULL, createContext, NULL, NULL, NULL, napi_default, NULL },
    { "seal", NULL, sealRecord, NULL, NULL, NULL, napi_default, NULL },
    { "open", NULL, openRecord, NULL, NULL, NULL, napi_default, NULL },
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}
