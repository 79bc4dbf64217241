// The client's side of an ECDHE-ECDSA-AES128-GCM-SHA256 handshake with extended master secret,
// once the server's flight is in: its key exchange, its record keys and its Finished.
import type { Hash } from 'node:crypto';
import { generateKeyShare } from '../../../src/net/dtls/ecdhe.js';
import { HandshakeType, handshakeMessage } from '../../../src/net/dtls/handshake-codec.js';
import { RecordProtection } from '../../../src/net/dtls/protection.js';
import { CIPHER_SUITES, keyBlock, prf } from '../../../src/net/dtls/suites.js';

export interface ClientFinalMessages {
  /** ClientKeyExchange (message 2) and Finished (message 3), whole, with their headers. */
  readonly exchange: Buffer;
  readonly finished: Buffer;
  /** The client's view: it writes with the client keys, which the server class calls "read". */
  readonly protection: RecordProtection;
}

/** `transcript` holds the handshake up to ServerHelloDone; `messages` the server's, by type. */
export function clientFinalMessages(transcript: Hash, clientRandom: Buffer, messages: ReadonlyMap<number, Buffer>): ClientFinalMessages {
  const serverRandom = messages.get(HandshakeType.ServerHello)!.subarray(2, 34);
  const kx = messages.get(HandshakeType.ServerKeyExchange)!;
  const share = generateKeyShare(kx.readUInt16BE(1));
  const premaster = share.computeSecret(kx.subarray(4, 4 + kx[3]!));
  const exchange = handshakeMessage(HandshakeType.ClientKeyExchange, 2, Buffer.concat([Buffer.from([share.publicKey.length]), share.publicKey]));
  transcript.update(exchange);
  const suite = CIPHER_SUITES[0]!;
  const master = prf('sha256', premaster, 'extended master secret', transcript.copy().digest(), 48);
  const keys = keyBlock(suite, master, clientRandom, serverRandom);
  const protection = new RecordProtection(suite, { clientKey: keys.serverKey, serverKey: keys.clientKey, clientIv: keys.serverIv, serverIv: keys.clientIv });
  const finished = handshakeMessage(HandshakeType.Finished, 3, prf('sha256', master, 'client finished', transcript.digest(), 12));
  return { exchange, finished, protection };
}
