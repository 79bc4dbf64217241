/* A DTLS client's records on routed channels, opened and sealed in C (docs/native-crypto.md,
 * "DTLS channels relayed in C"): the epoch-1 keys of one association, attached to its client's
 * own socket by JS once the handshake is done, and the state JS and C share for it. udp-io.c
 * calls these from its receive loop; anything they decline goes to JS as before. */
#ifndef TURNPIKE_DTLS_ROUTES_H
#define TURNPIKE_DTLS_ROUTES_H
#include <stdint.h>
#include <node_api.h>

/* The association's state that JS keeps too (a Float64Array of DTLS_SHARED doubles, session.ts):
   one counter of the server's epoch-1 sequence numbers and one replay window (RFC 6347
   §4.1.2.6), whichever side takes the record, and when C last took one (for the idle timeout). */
enum { DTLS_NEXT_WRITE, DTLS_LAST_RECEIVED, DTLS_HIGHEST, DTLS_SEEN, DTLS_WINDOW = 64, DTLS_SHARED = DTLS_SEEN + DTLS_WINDOW };

typedef struct DtlsKeys DtlsKeys;

/* dtlsAttach's arguments from argv[0]: clientKey, clientIv (4), serverKey, serverIv (4), shared
   (a Float64Array of DTLS_SHARED). NULL with *usage set when they are not that, or with
   *usage NULL when OpenSSL refused. */
DtlsKeys *dtlsKeysCreate(napi_env env, const napi_value *argv, const char **usage);
/* env NULL while the environment goes (its references go with it). */
void dtlsKeysFree(napi_env env, DtlsKeys *keys);

/* The plaintext of the datagram d[0, length) when it is exactly one epoch-1 application data
   record, not a replay, that authenticates: decrypted into out (room for length bytes), its
   length; else -1, and d is as it was. The window is not marked: dtlsAccept does it once the
   record is taken. */
int32_t dtlsOpen(const DtlsKeys *keys, unsigned char *d, uint32_t length, unsigned char *out, uint64_t *sequence);
/* Record `sequence` was taken (opened and relayed) at `now` (ms, as Date.now()). */
void dtlsAccept(DtlsKeys *keys, uint64_t sequence, double now);
/* ChannelData on `channel` holding the `length` bytes at d[0] sealed as one epoch-1 application
   data record written at d[0] (the data moved up behind its header) with the next server
   sequence number: the record's length; -1 when it does not fit `room` bytes or one record (d
   is as it was), -2 when OpenSSL failed (d is not). */
int32_t dtlsSealChannelData(DtlsKeys *keys, unsigned char *d, uint32_t room, uint32_t length, int32_t channel);

#endif
