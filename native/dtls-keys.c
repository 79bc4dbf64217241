/* X25519 key shares, the TLS 1.2 PRF, the cookies' HMAC-SHA256 and the ServerKeyExchange's ECDSA
 * signature for the DTLS handshake (docs/native-crypto.md), with
 * OpenSSL's EVP API as the Node binary exports it (its own headers, its own symbols: nothing is
 * linked). node:crypto reaches the same X25519 only through KeyObjects: a new pair, its public
 * key exported, the client's share imported from SPKI text by OpenSSL's decoders; those steps
 * cost several times the curve arithmetic, more so on a busy machine. Here the keys are raw
 * 32-byte strings, as TLS carries them. The PRF is OpenSSL's TLS1-PRF in one call, where
 * node:crypto needs two HMAC objects per 32 bytes of output; a cookie key is one HMAC context,
 * made once per key. JS gives every buffer; each length is checked before OpenSSL sees it. */
#define NAPI_VERSION 8
#include <stdbool.h>
#include <stdlib.h>
#include <node_api.h>
#include <openssl/err.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <limits.h>

#define KEY 32
#define SHA256_LENGTH 32
#define SHA384_LENGTH 48

static const napi_type_tag HMAC_TAG = { 0x7475726e70696b65ULL, 0x646b65797368610aULL };

static napi_value throwUsage(napi_env env, const char *usage) {
  napi_throw_type_error(env, NULL, usage);
  return NULL;
}

/* A refusal leaves its reasons on the thread's OpenSSL error queue, where Node's own crypto
 * would later find them: cleared here. */
static napi_value boolean(napi_env env, bool value) {
  napi_value result;
  if (!value) ERR_clear_error();
  napi_get_boolean(env, value, &result);
  return result;
}

/* The call's first argument as a buffer that is not empty; false if it is not one. */
static bool soleBuffer(napi_env env, napi_callback_info info, void **data, size_t *length) {
  size_t argc = 1;
  napi_value argv[1];
  return napi_get_cb_info(env, info, &argc, argv, NULL, NULL) == napi_ok && argc >= 1
      && napi_get_buffer_info(env, argv[0], data, length) == napi_ok && *length > 0;
}

/* OpenSSL refused: its reasons are cleared from the thread's error queue (as in boolean()) and
 * the call throws `message`. */
static napi_value throwRefused(napi_env env, const char *message) {
  ERR_clear_error();
  napi_throw_error(env, NULL, message);
  return NULL;
}

/* `data` in a type-tagged external that `finalize` frees with it; NULL (and `data` freed) if
 * Node refuses. */
static napi_value tagged(napi_env env, void *data, napi_finalize finalize, const napi_type_tag *tag) {
  napi_value result;
  if (napi_create_external(env, data, finalize, NULL, &result) != napi_ok) {
    finalize(env, data, NULL);
    return NULL;
  }
  /* From here the external owns `data`: the garbage collector frees it. */
  return napi_type_tag_object(env, result, tag) == napi_ok ? result : NULL;
}

/* What an external made by `tagged` with this tag holds; NULL for anything else. */
static void *untagged(napi_env env, napi_value value, const napi_type_tag *tag) {
  bool matches = false;
  void *data = NULL;
  if (napi_check_object_type_tag(env, value, tag, &matches) != napi_ok || !matches
      || napi_get_value_external(env, value, &data) != napi_ok)
    return NULL;
  return data;
}

static const napi_type_tag X25519_TAG = { 0x7475726e70696b65ULL, 0x646b65797832350aULL };

static void freeKey(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  EVP_PKEY_free(data);
}

/* x25519Share(publicKey[, privateKey]) -> the private key, an external that never leaves C; fills
 * the 32-byte publicKey. A fresh random key, or the given one (for test vectors). OpenSSL works
 * out the public key as it takes the private one: kept with it, so deriving needs one scalar
 * multiplication, not two. */
static napi_value x25519Share(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  void *buffers[2] = { NULL, NULL };
  size_t lengths[2] = { 0, 0 };
  unsigned char fresh[KEY];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1
      || napi_get_buffer_info(env, argv[0], &buffers[0], &lengths[0]) != napi_ok || lengths[0] != KEY
      || (argc > 1 && (napi_get_buffer_info(env, argv[1], &buffers[1], &lengths[1]) != napi_ok || lengths[1] != KEY)))
    return throwUsage(env, "x25519Share(publicKey[, privateKey]): 32-byte buffers");
  const unsigned char *secret = argc > 1 ? buffers[1] : (RAND_bytes(fresh, KEY) == 1 ? fresh : NULL);
  EVP_PKEY *key = secret ? EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, secret, KEY) : NULL;
  OPENSSL_cleanse(fresh, KEY);
  size_t length = KEY;
  if (!key || EVP_PKEY_get_raw_public_key(key, buffers[0], &length) != 1 || length != KEY) {
    EVP_PKEY_free(key);
    return throwRefused(env, "x25519Share(): OpenSSL refused the key");
  }
  return tagged(env, key, freeKey, &X25519_TAG);
}

/* x25519(privateKey, peerPublicKey, secret): fills the 32-byte shared secret; false when OpenSSL
 * refuses (a share that is a small-order point gives all zeros, which OpenSSL's X25519 rejects). */
static napi_value x25519(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  void *own = NULL, *buffers[2] = { NULL, NULL };
  size_t lengths[2] = { 0, 0 };
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3
      || !(own = untagged(env, argv[0], &X25519_TAG))
      || napi_get_buffer_info(env, argv[1], &buffers[0], &lengths[0]) != napi_ok || lengths[0] != KEY
      || napi_get_buffer_info(env, argv[2], &buffers[1], &lengths[1]) != napi_ok || lengths[1] != KEY)
    return throwUsage(env, "x25519(privateKey, peerPublicKey, secret): a key from x25519Share, two 32-byte buffers");
  EVP_PKEY *peer = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, buffers[0], KEY);
  EVP_PKEY_CTX *ctx = peer ? EVP_PKEY_CTX_new_from_pkey(NULL, own, NULL) : NULL;
  size_t length = KEY;
  bool ok = ctx && EVP_PKEY_derive_init(ctx) == 1 && EVP_PKEY_derive_set_peer(ctx, peer) == 1
      && EVP_PKEY_derive(ctx, buffers[1], &length) == 1 && length == KEY;
  EVP_PKEY_CTX_free(ctx);
  EVP_PKEY_free(peer);
  return boolean(env, ok);
}

static void freeHmac(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  EVP_MAC_CTX_free(data);
}

/* hmacSha256Key(key) -> an HMAC-SHA256 context holding the key, for hmacSha256. */
static napi_value hmacSha256Key(napi_env env, napi_callback_info info) {
  void *key = NULL;
  size_t length = 0;
  if (!soleBuffer(env, info, &key, &length))
    return throwUsage(env, "hmacSha256Key(key): a buffer, not empty");
  EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
  EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
  EVP_MAC_free(mac); /* the context holds its own reference */
  OSSL_PARAM params[] = { OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0), OSSL_PARAM_construct_end() };
  if (!ctx || EVP_MAC_init(ctx, key, length, params) != 1) {
    EVP_MAC_CTX_free(ctx);
    return throwRefused(env, "hmacSha256Key(): OpenSSL refused the HMAC context");
  }
  return tagged(env, ctx, freeHmac, &HMAC_TAG);
}

/* hmacSha256(context, data, out): fills the 32-byte `out` with the HMAC of `data`; false if
 * OpenSSL refused. Each call starts over with the context's key. */
static napi_value hmacSha256(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  void *ctx = NULL, *data = NULL, *out = NULL;
  size_t dataLength = 0, outLength = 0, written = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3
      || !(ctx = untagged(env, argv[0], &HMAC_TAG))
      || napi_get_buffer_info(env, argv[1], &data, &dataLength) != napi_ok
      || napi_get_buffer_info(env, argv[2], &out, &outLength) != napi_ok || outLength != SHA256_LENGTH)
    return throwUsage(env, "hmacSha256(context, data, out): a context from hmacSha256Key, a buffer, 32 bytes out");
  bool ok = EVP_MAC_init(ctx, NULL, 0, NULL) == 1 && EVP_MAC_update(ctx, data, dataLength) == 1
      && EVP_MAC_final(ctx, out, &written, outLength) == 1 && written == SHA256_LENGTH;
  return boolean(env, ok);
}

static const napi_type_tag ECDSA_TAG = { 0x7475726e70696b65ULL, 0x6563647361736967ULL };

static void freeSigner(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  EVP_PKEY_CTX_free(data);
}

/* ecdsaSigner(pkcs8) -> a signing context for the EC private key in this PKCS#8 DER, made once
 * per certificate: node:crypto's sign() sets one up (and checks its arguments in JS) for every
 * signature, which on a busy machine cost more than the signing. */
static napi_value ecdsaSigner(napi_env env, napi_callback_info info) {
  void *der = NULL;
  size_t length = 0;
  if (!soleBuffer(env, info, &der, &length) || length > LONG_MAX)
    return throwUsage(env, "ecdsaSigner(pkcs8): a DER buffer, not empty");
  const unsigned char *at = der;
  EVP_PKEY *key = d2i_AutoPrivateKey(NULL, &at, (long)length);
  EVP_PKEY_CTX *ctx = key && EVP_PKEY_get_base_id(key) == EVP_PKEY_EC ? EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL) : NULL;
  EVP_PKEY_free(key); /* the context holds its own reference */
  if (!ctx || EVP_PKEY_sign_init(ctx) != 1) {
    EVP_PKEY_CTX_free(ctx);
    return throwRefused(env, "ecdsaSigner(): OpenSSL refused the key (not an EC private key?)");
  }
  return tagged(env, ctx, freeSigner, &ECDSA_TAG);
}

/* ecdsaSign(signer, sha384, data, out) -> the length of the DER signature written at the start of
 * `out`, over the SHA-256 (or SHA-384) of `data`; 0 if OpenSSL refused or `out` is too short. A
 * context signs any number of times (EVP_PKEY_sign keeps its parameters), each with a fresh k. */
static napi_value ecdsaSign(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  void *ctx = NULL, *data = NULL, *out = NULL;
  size_t dataLength = 0, outLength = 0;
  bool sha384 = false;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 4
      || !(ctx = untagged(env, argv[0], &ECDSA_TAG))
      || napi_get_value_bool(env, argv[1], &sha384) != napi_ok
      || napi_get_buffer_info(env, argv[2], &data, &dataLength) != napi_ok
      || napi_get_buffer_info(env, argv[3], &out, &outLength) != napi_ok)
    return throwUsage(env, "ecdsaSign(signer, sha384, data, out): a signer from ecdsaSigner, a boolean, two buffers");
  unsigned char digest[SHA384_LENGTH];
  size_t digestLength = sha384 ? SHA384_LENGTH : SHA256_LENGTH;
  size_t written = outLength;
  bool ok = (sha384 ? SHA384(data, dataLength, digest) : SHA256(data, dataLength, digest)) != NULL
      && EVP_PKEY_sign(ctx, out, &written, digest, digestLength) == 1 && written <= outLength;
  napi_value result;
  if (!ok) ERR_clear_error();
  napi_create_uint32(env, ok ? (uint32_t)written : 0, &result);
  return result;
}

/* Per thread (each relay worker loads the addon): a TLS1-PRF context per hash with its digest
 * set, copied for each use, so the KDF and digest are looked up once. */
typedef struct {
  EVP_KDF_CTX *sha256;
  EVP_KDF_CTX *sha384;
} Prfs;

static void freePrfs(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  Prfs *prfs = data;
  EVP_KDF_CTX_free(prfs->sha256);
  EVP_KDF_CTX_free(prfs->sha384);
  free(prfs);
}

static EVP_KDF_CTX *prfTemplate(EVP_KDF *kdf, const char *digest) {
  EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
  OSSL_PARAM params[] = { OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)digest, 0), OSSL_PARAM_construct_end() };
  if (ctx && EVP_KDF_CTX_set_params(ctx, params) == 1) return ctx;
  EVP_KDF_CTX_free(ctx);
  return NULL;
}

/* tls12Prf(sha384, secret, label, seed, out): fills `out` with P_SHA256 (or P_SHA384) of the
 * secret over label + seed (RFC 5246 §5); false if OpenSSL refused. */
static napi_value tls12Prf(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  bool sha384 = false;
  void *data[4] = { NULL, NULL, NULL, NULL };
  size_t length[4] = { 0, 0, 0, 0 };
  Prfs *prfs = NULL;
  bool usable = napi_get_cb_info(env, info, &argc, argv, NULL, NULL) == napi_ok && argc >= 5
      && napi_get_value_bool(env, argv[0], &sha384) == napi_ok;
  for (int i = 0; usable && i < 4; i++) usable = napi_get_buffer_info(env, argv[i + 1], &data[i], &length[i]) == napi_ok;
  if (!usable || length[3] == 0) return throwUsage(env, "tls12Prf(sha384, secret, label, seed, out): buffers, out not empty");
  if (napi_get_instance_data(env, (void **)&prfs) != napi_ok || !prfs) return boolean(env, false);
  EVP_KDF_CTX *ctx = EVP_KDF_CTX_dup(sha384 ? prfs->sha384 : prfs->sha256);
  OSSL_PARAM params[] = {
    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, data[0], length[0]),
    /* Seeds given one after another are one seed, in order. */
    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, data[1], length[1]),
    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, data[2], length[2]),
    OSSL_PARAM_construct_end(),
  };
  bool ok = ctx && EVP_KDF_derive(ctx, data[3], length[3], params) == 1;
  EVP_KDF_CTX_free(ctx);
  return boolean(env, ok);
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  EVP_KDF *kdf = EVP_KDF_fetch(NULL, "TLS1-PRF", NULL);
  Prfs *prfs = malloc(sizeof *prfs);
  if (prfs) {
    prfs->sha256 = prfTemplate(kdf, "SHA256");
    prfs->sha384 = prfTemplate(kdf, "SHA384");
  }
  EVP_KDF_free(kdf); /* the contexts hold their own references */
  if (!prfs || !prfs->sha256 || !prfs->sha384 || napi_set_instance_data(env, prfs, freePrfs, NULL) != napi_ok) {
    if (prfs) freePrfs(env, prfs, NULL);
    napi_throw_error(env, NULL, "OpenSSL has no TLS1-PRF with SHA-256 and SHA-384");
    return NULL;
  }
  napi_property_descriptor props[] = {
    { "hmacSha256Key", NULL, hmacSha256Key, NULL, NULL, NULL, napi_default, NULL },
    { "hmacSha256", NULL, hmacSha256, NULL, NULL, NULL, napi_default, NULL },
    { "tls12Prf", NULL, tls12Prf, NULL, NULL, NULL, napi_default, NULL },
    { "x25519Share", NULL, x25519Share, NULL, NULL, NULL, napi_default, NULL },
    { "x25519", NULL, x25519, NULL, NULL, NULL, napi_default, NULL },
    { "ecdsaSigner", NULL, ecdsaSigner, NULL, NULL, NULL, napi_default, NULL },
    { "ecdsaSign", NULL, ecdsaSign, NULL, NULL, NULL, napi_default, NULL },
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}
