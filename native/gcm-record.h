/* AES-GCM for whole DTLS 1.2 records (RFC 5288, RFC 6347), with OpenSSL's EVP API as the Node
 * binary exports it: shared by dtls-aead.c (records JS hands over) and dtls-routes.c (records
 * of routed channels, opened and sealed in C). One cipher context per key and direction, made
 * once per epoch; each record only re-initialises it with its nonce. The callers check every
 * offset and length against their buffers first. */
#ifndef TURNPIKE_GCM_RECORD_H
#define TURNPIKE_GCM_RECORD_H
#include <stdint.h>
#include <string.h>
#include <openssl/evp.h>

#define GCM_NONCE 12
#define GCM_TAG 16
#define GCM_SALT 4
/* A DTLS 1.2 record: the header (type, version, epoch, sequence, length), then for AES-GCM the
   explicit nonce (the record's epoch and sequence), the ciphertext and the tag. */
#define RECORD_HEADER 13
#define RECORD_EXPLICIT 8
#define RECORD_PLAINTEXT (RECORD_HEADER + RECORD_EXPLICIT)
#define RECORD_OVERHEAD (RECORD_PLAINTEXT + GCM_TAG)
#define RECORD_APPLICATION_DATA 23
#define CHANNEL_DATA_HEADER 4
/* The longest ChannelData payload one record holds: its fragment length is 16 bits. */
#define RECORD_MAX_CHANNEL_DATA (0xffff - RECORD_EXPLICIT - CHANNEL_DATA_HEADER - GCM_TAG)

/* AES-128-GCM for a 16-byte key, AES-256-GCM for 32; NULL for another length or when OpenSSL refuses. */
static inline EVP_CIPHER_CTX *gcmContext(const unsigned char *key, size_t keyLength, int encrypt) {
  const EVP_CIPHER *cipher = keyLength == 16 ? EVP_aes_128_gcm() : keyLength == 32 ? EVP_aes_256_gcm() : NULL;
  EVP_CIPHER_CTX *ctx = cipher ? EVP_CIPHER_CTX_new() : NULL;
  if (ctx && EVP_CipherInit_ex(ctx, cipher, NULL, NULL, NULL, encrypt) == 1 && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, GCM_NONCE, NULL) == 1
      && EVP_CipherInit_ex(ctx, NULL, NULL, key, NULL, encrypt) == 1)
    return ctx;
  EVP_CIPHER_CTX_free(ctx);
  return NULL;
}

/* Starts a record: the context's key, this nonce, this additional data. */
static inline int gcmBegin(EVP_CIPHER_CTX *ctx, const unsigned char *nonce, const unsigned char *aad, int aadLength) {
  int ignored = 0;
  return EVP_CipherInit_ex(ctx, NULL, NULL, NULL, nonce, -1) == 1 && (aadLength == 0 || EVP_CipherUpdate(ctx, NULL, &ignored, aad, aadLength) == 1);
}

/* The nonce (salt, then the explicit part) and additional data (RFC 5246 §6.2.3.3: epoch and
   sequence, type, version, plaintext length) of the record whose header is at `record`. */
static inline void recordNonceAndAad(const unsigned char salt[GCM_SALT], const unsigned char *record, const unsigned char *explicitNonce, size_t length,
                                     unsigned char nonce[GCM_NONCE], unsigned char aad[RECORD_HEADER]) {
  memcpy(nonce, salt, GCM_SALT);
  memcpy(nonce + GCM_SALT, explicitNonce, RECORD_EXPLICIT);
  memcpy(aad, record + 3, 8);
  aad[8] = record[0];
  aad[9] = record[1];
  aad[10] = record[2];
  aad[11] = (unsigned char)(length >> 8);
  aad[12] = (unsigned char)length;
}

/* The record at record[0, length) (its header's length must say exactly the rest), decrypted
   into out (room for length - RECORD_OVERHEAD bytes; out may be record + RECORD_PLAINTEXT, in
   place): the plaintext's length, or -1 when it does not authenticate or is not framed so. */
static inline int32_t openRecordInto(EVP_CIPHER_CTX *ctx, const unsigned char salt[GCM_SALT], unsigned char *record, int32_t length, unsigned char *out) {
  if (length < RECORD_OVERHEAD || ((record[11] << 8) | record[12]) != length - RECORD_HEADER) return -1;
  unsigned char nonce[GCM_NONCE], aad[RECORD_HEADER];
  unsigned char *text = record + RECORD_PLAINTEXT;
  int32_t textLength = length - RECORD_OVERHEAD;
  int written = 0, last = 0;
  recordNonceAndAad(salt, record, record + RECORD_HEADER, (size_t)textLength, nonce, aad);
  int ok = gcmBegin(ctx, nonce, aad, RECORD_HEADER)
      && (textLength == 0 || EVP_CipherUpdate(ctx, out, &written, text, textLength) == 1)
      && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, GCM_TAG, text + textLength) == 1
      && EVP_CipherFinal_ex(ctx, out + written, &last) == 1;
  return ok ? textLength : -1;
}

/* An application data record at record[0, ...) holding ChannelData on `channel` with
   payload[0, length) (which may lie where the record's plaintext goes: it is moved first), with
   this epoch and sequence number: its length (length + 41), or -1 when OpenSSL fails. The
   caller checked that there is room and that length <= RECORD_MAX_CHANNEL_DATA. */
static inline int32_t sealChannelDataInto(EVP_CIPHER_CTX *ctx, const unsigned char salt[GCM_SALT], unsigned char *record, int epoch, uint64_t sequence,
                                          int channel, const unsigned char *payload, int32_t length) {
  unsigned char nonce[GCM_NONCE], aad[RECORD_HEADER];
  unsigned char *text = record + RECORD_PLAINTEXT;
  int textLength = CHANNEL_DATA_HEADER + length, written = 0, last = 0;
  /* The payload first: were the two ranges to overlap, the header would not overwrite it unread. */
  memmove(text + CHANNEL_DATA_HEADER, payload, (size_t)length);
  text[0] = (unsigned char)(channel >> 8);
  text[1] = (unsigned char)channel;
  text[2] = (unsigned char)(length >> 8);
  text[3] = (unsigned char)length;
  int fragment = RECORD_EXPLICIT + textLength + GCM_TAG;
  record[0] = RECORD_APPLICATION_DATA;
  record[1] = 0xfe; /* DTLS 1.2 */
  record[2] = 0xfd;
  record[3] = (unsigned char)(epoch >> 8);
  record[4] = (unsigned char)epoch;
  for (int i = 0; i < 6; i++) record[5 + i] = (unsigned char)(sequence >> (8 * (5 - i)));
  record[11] = (unsigned char)(fragment >> 8);
  record[12] = (unsigned char)fragment;
  /* The explicit nonce is epoch||sequence, the same 8 bytes as in the header. */
  memcpy(record + RECORD_HEADER, record + 3, RECORD_EXPLICIT);
  recordNonceAndAad(salt, record, record + RECORD_HEADER, (size_t)textLength, nonce, aad);
  if (!gcmBegin(ctx, nonce, aad, RECORD_HEADER) || EVP_CipherUpdate(ctx, text, &written, text, textLength) != 1
      || EVP_CipherFinal_ex(ctx, text + written, &last) != 1 || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, GCM_TAG, text + textLength) != 1)
    return -1;
  return RECORD_HEADER + fragment;
}

#endif
