/* X25519 key shares for the DTLS handshake (docs/native-crypto.md), with OpenSSL's EVP API as the
 * Node binary exports it (its own headers, its own symbols: nothing is linked). node:crypto
 * reaches the same X25519 only through KeyObjects: a new pair, its public key exported, the
 * client's share imported from SPKI text by OpenSSL's decoders; those steps cost several times
 * the curve arithmetic, more so on a busy machine. Here the keys are raw 32-byte strings, as
 * TLS carries them. JS gives every buffer; each length is checked before OpenSSL sees it. */
#define NAPI_VERSION 8
#include <stdbool.h>
#include <node_api.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#define KEY 32

static napi_value throwUsage(napi_env env, const char *usage) {
  napi_throw_type_error(env, NULL, usage);
  return NULL;
}

/* `count` buffers of exactly KEY bytes each, else false. */
static bool keyBuffers(napi_env env, napi_callback_info info, size_t count, unsigned char **out) {
  size_t argc = 3;
  napi_value argv[3];
  if (count > 3 || napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < count) return false;
  for (size_t i = 0; i < count; i++) {
    void *data = NULL;
    size_t length = 0;
    if (napi_get_buffer_info(env, argv[i], &data, &length) != napi_ok || length != KEY) return false;
    out[i] = data;
  }
  return true;
}

/* A refusal leaves its reasons on the thread's OpenSSL error queue, where Node's own crypto
 * would later find them: cleared here. */
static napi_value boolean(napi_env env, bool value) {
  napi_value result;
  if (!value) ERR_clear_error();
  napi_get_boolean(env, value, &result);
  return result;
}

/* x25519Share(privateKey, publicKey): fills a fresh private key and its public key; false if
 * OpenSSL refused. */
static napi_value x25519Share(napi_env env, napi_callback_info info) {
  unsigned char *keys[2];
  if (!keyBuffers(env, info, 2, keys)) return throwUsage(env, "x25519Share(privateKey, publicKey): two 32-byte buffers");
  size_t length = KEY;
  EVP_PKEY *key = RAND_bytes(keys[0], KEY) == 1 ? EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, keys[0], KEY) : NULL;
  bool ok = key && EVP_PKEY_get_raw_public_key(key, keys[1], &length) == 1 && length == KEY;
  EVP_PKEY_free(key);
  return boolean(env, ok);
}

/* x25519(privateKey, peerPublicKey, secret): fills the shared secret; false when OpenSSL refuses
 * (a share that is a small-order point gives all zeros, which OpenSSL's X25519 rejects). */
static napi_value x25519(napi_env env, napi_callback_info info) {
  unsigned char *keys[3];
  if (!keyBuffers(env, info, 3, keys)) return throwUsage(env, "x25519(privateKey, peerPublicKey, secret): three 32-byte buffers");
  EVP_PKEY *own = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, keys[0], KEY);
  EVP_PKEY *peer = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, keys[1], KEY);
  EVP_PKEY_CTX *ctx = own && peer ? EVP_PKEY_CTX_new_from_pkey(NULL, own, NULL) : NULL;
  size_t length = KEY;
  bool ok = ctx && EVP_PKEY_derive_init(ctx) == 1 && EVP_PKEY_derive_set_peer(ctx, peer) == 1
      && EVP_PKEY_derive(ctx, keys[2], &length) == 1 && length == KEY;
  EVP_PKEY_CTX_free(ctx);
  EVP_PKEY_free(peer);
  EVP_PKEY_free(own);
  return boolean(env, ok);
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_property_descriptor props[] = {
    { "x25519Share", NULL, x25519Share, NULL, NULL, NULL, napi_default, NULL },
    { "x25519", NULL, x25519, NULL, NULL, NULL, napi_default, NULL },
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}
