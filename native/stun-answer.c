/* A plain Binding request's success answer (stun-answer.h), byte for byte what JS builds for it
 * (src/stun/builder.ts through src/turn/binding.ts): SOFTWARE, XOR-MAPPED-ADDRESS, FINGERPRINT. */
#include "stun-answer.h"
#include <string.h>

#define HEADER 20
#define MAGIC_COOKIE 0x2112a442u
#define BINDING_REQUEST 0x0001
#define BINDING_SUCCESS 0x0101
#define XOR_MAPPED_ADDRESS 0x0020
#define SOFTWARE 0x8022
#define FINGERPRINT 0x8028
#define FINGERPRINT_XOR 0x5354554eu

static uint32_t crcTable[256];

__attribute__((constructor)) static void makeCrcTable(void) {
  for (uint32_t n = 0; n < 256; n++) {
    uint32_t c = n;
    for (int k = 0; k < 8; k++) c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
    crcTable[n] = c;
  }
}

uint32_t stunCrc32(const unsigned char *data, size_t length) {
  uint32_t crc = 0xffffffffu;
  for (size_t i = 0; i < length; i++) crc = crcTable[(crc ^ data[i]) & 0xff] ^ (crc >> 8);
  return ~crc;
}

static unsigned read16(const unsigned char *p) { return (unsigned)p[0] << 8 | p[1]; }
static uint32_t read32(const unsigned char *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static void write16(unsigned char *p, unsigned v) { p[0] = (unsigned char)(v >> 8); p[1] = (unsigned char)v; }
static void write32(unsigned char *p, uint32_t v) { write16(p, v >> 16); write16(p + 2, v & 0xffff); }

/* 1 when the request is of the shape answered here; `fingerprinted`: it ended in a FINGERPRINT that matched. */
static int plainBinding(const unsigned char *d, unsigned length, int *fingerprinted) {
  if (length < HEADER || read16(d) != BINDING_REQUEST || read32(d + 4) != MAGIC_COOKIE) return 0;
  unsigned body = read16(d + 2);
  if (body % 4 != 0 || HEADER + body != length) return 0;
  *fingerprinted = 0;
  for (unsigned at = HEADER; at < length;) {
    if (at + 4 > length) return 0;
    unsigned type = read16(d + at), size = read16(d + at + 2), next = at + 4 + ((size + 3) & ~3u);
    if (at + 4 + size > length) return 0;
    if (type == FINGERPRINT) {
      /* Last, 4 bytes, and matching; any other is JS's to drop and count. */
      if (size != 4 || next != length || read32(d + at + 4) != (stunCrc32(d, at) ^ FINGERPRINT_XOR)) return 0;
      *fingerprinted = 1;
    } else if (type != SOFTWARE) {
      return 0;
    }
    at = next;
  }
  return 1;
}

unsigned stunAnswerBinding(unsigned char *d, unsigned length, unsigned capacity, const int32_t *from, const StunAnswerSettings *settings) {
  int fingerprinted;
  if (!plainBinding(d, length, &fingerprinted)) return 0;
  int v6 = from[1] == 6;
  if (!v6 && from[1] != 4) return 0;
  unsigned software = settings->softwareLength, softwarePadded = (software + 3) & ~3u;
  unsigned addressLength = v6 ? 20 : 8;
  int fingerprint = fingerprinted || settings->fingerprint;
  unsigned total = HEADER + (software ? 4 + softwarePadded : 0) + 4 + addressLength + (fingerprint ? 8 : 0);
  if (total > capacity) return 0;
  /* The cookie and transaction id (bytes 4-19) stay as the request has them. */
  write16(d, BINDING_SUCCESS);
  write16(d + 2, total - HEADER);
  unsigned at = HEADER;
  if (software) {
    write16(d + at, SOFTWARE);
    write16(d + at + 2, software);
    memcpy(d + at + 4, settings->software, software);
    memset(d + at + 4 + software, 0, softwarePadded - software);
    at += 4 + softwarePadded;
  }
  write16(d + at, XOR_MAPPED_ADDRESS);
  write16(d + at + 2, addressLength);
  d[at + 4] = 0;
  d[at + 5] = v6 ? 2 : 1;
  write16(d + at + 6, (unsigned)from[0] ^ (MAGIC_COOKIE >> 16));
  /* The address XOR'd with the cookie, then (IPv6) the transaction id: bytes 4.. of the header. */
  for (unsigned word = 0; word < addressLength / 4 - 1; word++) write32(d + at + 8 + 4 * word, (uint32_t)from[2 + word] ^ read32(d + 4 + 4 * word));
  at += 4 + addressLength;
  if (fingerprint) {
    write16(d + at, FINGERPRINT);
    write16(d + at + 2, 4);
    write32(d + at + 4, stunCrc32(d, at) ^ FINGERPRINT_XOR);
    at += 8;
  }
  return at;
}
