// The client's side of an ECDHE-ECDSA-AES128-GCM-SHA256 handshake with extended master secret,
// once the server's flight is in: the server's warm-up client computes it (src/net/dtls/warm-up-client.ts).
export { clientFinalMessages, type ClientFinalMessages } from '../../../src/net/dtls/warm-up-client.js';
