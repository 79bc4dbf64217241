// Raw DTLS 1.2 ClientHello datagrams, to probe the server's stateless cookie exchange: the
// server's warm-up client builds them (src/net/dtls/warm-up-client.ts).
export { clientHelloDatagram, helloVerifyCookie, type HelloFields } from '../../../src/net/dtls/warm-up-client.js';
