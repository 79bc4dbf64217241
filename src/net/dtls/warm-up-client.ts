/**
 * The client's side of a DTLS 1.2 handshake, as much as the server's warm-up needs
 * (lifecycle/warm-up.ts): ClientHello, the cookie exchange, ClientKeyExchange, Finished and
 * close_notify, with X25519 and extended master secret as browsers and OpenSSL offer. It does
 * not check the server's certificate or signature: it only ever talks to its own server.
 */
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { generateKeyShare, NamedGroup } from './ecdhe.js';
import { Extension, HandshakeType, handshakeMessage, parseHandshakeFragments } from './handshake-codec.js';
import { RecordProtection } from './protection.js';
import { AlertDescription, AlertLevel, ContentType, DTLS_1_0, DTLS_1_2, alertBody, parseRecords, plainRecord } from './record.js';
import { CIPHER_SUITES, keyBlock, prf, type CipherSuite } from './suites.js';

export interface HelloFields {
  readonly random?: Buffer;
  readonly cookie?: Buffer;
  readonly version?: number;
  readonly recordSequence?: number;
  readonly messageSeq?: number;
  /** Suites offered; default ECDHE-ECDSA-AES128-GCM-SHA256 and its RSA twin. */
  readonly suites?: readonly number[];
  /** Signature schemes offered; default ECDSA P-256 and RSA-PSS. */
  readonly schemes?: readonly number[];
}

const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
const ext = (type: number, data: Buffer) => Buffer.concat([u16(type), u16(data.length), data]);

/** The signature schemes any certificate the server serves may need: ECDSA P-256, P-384, RSA-PSS, RSA PKCS#1. */
const ALL_SCHEMES = [0x0403, 0x0503, 0x0804, 0x0401];

/** A ClientHello in one record (the first in DTLS 1.0's record version, as OpenSSL sends it). */
export function clientHelloDatagram(fields: HelloFields = {}): Buffer {
  const cookie = fields.cookie ?? Buffer.alloc(0);
  const suites = fields.suites ?? [0xc02b, 0xc02f];
  const schemes = fields.schemes ?? [0x0403, 0x0804];
  const extensions = Buffer.concat([
    ext(Extension.SupportedGroups, Buffer.concat([u16(4), u16(NamedGroup.X25519), u16(NamedGroup.Secp256r1)])),
    ext(Extension.EcPointFormats, Buffer.from([1, 0])), // uncompressed
    ext(Extension.SignatureAlgorithms, Buffer.concat([u16(schemes.length * 2), ...schemes.map(u16)])),
    ext(Extension.ExtendedMasterSecret, Buffer.alloc(0)),
  ]);
  const body = Buffer.concat([
    u16(fields.version ?? DTLS_1_2),
    fields.random ?? randomBytes(32),
    Buffer.from([0, cookie.length]), // no session id; the cookie
    cookie,
    u16(suites.length * 2),
    ...suites.map(u16),
    Buffer.from([1, 0]), // null compression
    u16(extensions.length),
    extensions,
  ]);
  const record = plainRecord(ContentType.Handshake, 0, fields.recordSequence ?? 0, handshakeMessage(HandshakeType.ClientHello, fields.messageSeq ?? 0, body));
  record.writeUInt16BE(DTLS_1_0, 1);
  return record;
}

/** The cookie of a HelloVerifyRequest datagram, or undefined when it is not one. */
export function helloVerifyCookie(datagram: Buffer): Buffer | undefined {
  if (datagram.length < 13 + 12 + 3 || datagram[0] !== ContentType.Handshake || datagram[13] !== HandshakeType.HelloVerifyRequest) return undefined;
  const length = datagram[13 + 12 + 2]!;
  return datagram.subarray(13 + 12 + 3, 13 + 12 + 3 + length);
}

export interface ClientFinalMessages {
  /** ClientKeyExchange (message 2) and Finished (message 3), whole, with their headers. */
  readonly exchange: Buffer;
  readonly finished: Buffer;
  /** The client's view: it writes with the client keys, which the server class calls "read". */
  readonly protection: RecordProtection;
}

/**
 * `transcript` holds the handshake up to ServerHelloDone; `messages` the server's, by type.
 * Extended master secret, as the ClientHello above asks.
 */
export function clientFinalMessages(transcript: Hash, clientRandom: Buffer, messages: ReadonlyMap<number, Buffer>, suite: CipherSuite = CIPHER_SUITES[0]!): ClientFinalMessages {
  const serverRandom = messages.get(HandshakeType.ServerHello)!.subarray(2, 34);
  const kx = messages.get(HandshakeType.ServerKeyExchange)!;
  const share = generateKeyShare(kx.readUInt16BE(1));
  const premaster = share.computeSecret(kx.subarray(4, 4 + kx[3]!));
  const exchange = handshakeMessage(HandshakeType.ClientKeyExchange, 2, Buffer.concat([Buffer.from([share.publicKey.length]), share.publicKey]));
  transcript.update(exchange);
  const master = prf(suite.hash, premaster, 'extended master secret', transcript.copy().digest(), 48);
  const keys = keyBlock(suite, master, clientRandom, serverRandom);
  const protection = new RecordProtection(suite, { clientKey: keys.serverKey, serverKey: keys.clientKey, clientIv: keys.serverIv, serverIv: keys.clientIv });
  const finished = handshakeMessage(HandshakeType.Finished, 3, prf(suite.hash, master, 'client finished', transcript.digest(), 12));
  return { exchange, finished, protection };
}

/**
 * Sends one datagram to the server and resolves to the datagrams of its answer once `complete`
 * says they are all in (undefined: not in time).
 */
export type Exchange = (datagram: Buffer, complete: (answer: readonly Buffer[]) => boolean) => Promise<Buffer[] | undefined>;

const oneDatagram = () => true;
/** Flight 4 ends with ServerHelloDone, an empty message: its record's last 12 bytes. */
const endsWithHelloDone = (answer: readonly Buffer[]) => {
  const last = answer[answer.length - 1]!;
  return last.length >= 25 && last[last.length - 12] === HandshakeType.ServerHelloDone;
};

/**
 * One whole handshake through `exchange`, then close_notify; true when the server's Finished
 * came back, false when an answer is missing or not what this client asked for.
 */
export async function warmUpHandshake(exchange: Exchange, send: (datagram: Buffer) => void): Promise<boolean> {
  const random = randomBytes(32);
  const offer = { random, suites: CIPHER_SUITES.map((s) => s.id), schemes: ALL_SCHEMES };
  const verify = await exchange(clientHelloDatagram(offer), oneDatagram);
  const cookie = verify?.[0] && helloVerifyCookie(verify[0]);
  if (!cookie) return false;
  const hello = clientHelloDatagram({ ...offer, cookie, messageSeq: 1, recordSequence: 1 });
  const flight = await exchange(hello, endsWithHelloDone);
  if (!flight) return false;
  const transcript = createHash('sha256');
  const messages = new Map<number, Buffer>();
  const hashed = [hello, ...flight].every((datagram) => {
    for (const record of parseRecords(datagram) ?? []) {
      for (const f of parseHandshakeFragments(record.fragment) ?? []) {
        // The server's messages of a P-256 or RSA-2048 certificate fit its datagrams whole.
        if (f.offset !== 0 || f.body.length !== f.length) return false;
        messages.set(f.type, f.body);
        transcript.update(handshakeMessage(f.type, f.messageSeq, f.body));
      }
    }
    return true;
  });
  const serverHello = messages.get(HandshakeType.ServerHello);
  const suiteAt = serverHello && serverHello.length > 34 ? 35 + serverHello[34]! : Infinity; // after version, random, session id
  const suite = serverHello && serverHello.length >= suiteAt + 2 ? CIPHER_SUITES.find((s) => s.id === serverHello.readUInt16BE(suiteAt)) : undefined;
  // The transcript hash is the suite's: SHA-256 for the AES-128 suites this warms.
  if (!hashed || suite?.hash !== 'sha256' || !messages.has(HandshakeType.ServerKeyExchange) || !messages.has(HandshakeType.ServerHelloDone)) return false;
  const { exchange: keyExchange, finished, protection } = clientFinalMessages(transcript, random, messages, suite);
  const final = await exchange(Buffer.concat([
    plainRecord(ContentType.Handshake, 0, 2, keyExchange),
    plainRecord(ContentType.ChangeCipherSpec, 0, 3, Buffer.from([1])),
    protection.seal(ContentType.Handshake, 1, 0, [finished]),
  ]), oneDatagram);
  const done = final?.some((datagram) => parseRecords(datagram)?.some((r) => r.epoch === 1 && protection.open(r) !== undefined)) ?? false;
  send(protection.seal(ContentType.Alert, 1, 1, [alertBody(AlertLevel.Warning, AlertDescription.CloseNotify)]));
  return done;
}
