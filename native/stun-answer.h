/* STUN in C, the one narrow piece of it the addon answers below JS (docs/native-udp.md, "Binding
 * answered in C"): a plain Binding request over UDP, and the success answer JS would send it
 * (src/turn/binding.ts). No other STUN is parsed in C; every other datagram goes to JS. */
#ifndef TURNPIKE_STUN_ANSWER_H
#define TURNPIKE_STUN_ANSWER_H
#include <stddef.h>
#include <stdint.h>

#define STUN_SOFTWARE_MAX 1024   /* a longer SOFTWARE is left to JS (RFC 8489 allows 763 bytes) */

/* What JS tells a listener about the answers it may make (src/turn/binding.ts, plainBindingAnswer). */
typedef struct {
  unsigned char software[STUN_SOFTWARE_MAX];   /* SOFTWARE's value, UTF-8; none when softwareLength is 0 */
  uint16_t softwareLength;
  int fingerprint;                             /* FINGERPRINT on every answer, not only when the request had one */
} StunAnswerSettings;

/* CRC-32 (ISO 3309, as FINGERPRINT uses) of `length` bytes. */
uint32_t stunCrc32(const unsigned char *data, size_t length);

/* When the `length` bytes at `d` are a Binding request of the shape answered here (magic cookie,
   a length that fills the datagram, attributes only SOFTWARE and a FINGERPRINT that matches), writes
   its success answer over it (room: `capacity` bytes) and returns the answer's length; else 0 and
   `d` is untouched. `from`: the source as writeAddress's words (port, family 4 or 6, four
   host-order address words). */
unsigned stunAnswerBinding(unsigned char *d, unsigned length, unsigned capacity, const int32_t *from, const StunAnswerSettings *settings);

#endif
