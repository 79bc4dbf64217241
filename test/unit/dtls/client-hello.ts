// Raw DTLS 1.2 ClientHello datagrams, to probe the server's stateless cookie exchange.
import { randomBytes } from 'node:crypto';

export interface HelloFields {
  readonly random?: Buffer;
  readonly cookie?: Buffer;
  readonly version?: number;
  readonly recordSequence?: number;
  readonly messageSeq?: number;
  /** Suites offered; default ECDHE-ECDSA-AES128-GCM-SHA256 and its RSA twin. */
  readonly suites?: readonly number[];
}

const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
const ext = (type: number, data: Buffer) => Buffer.concat([u16(type), u16(data.length), data]);

export function clientHelloDatagram(fields: HelloFields = {}): Buffer {
  const cookie = fields.cookie ?? Buffer.alloc(0);
  const suites = fields.suites ?? [0xc02b, 0xc02f];
  const extensions = Buffer.concat([
    ext(0x000a, Buffer.concat([u16(4), u16(29), u16(23)])), // supported_groups: x25519, P-256
    ext(0x000b, Buffer.from([1, 0])), // ec_point_formats: uncompressed
    ext(0x000d, Buffer.concat([u16(4), u16(0x0403), u16(0x0804)])), // signature_algorithms
    ext(0x0017, Buffer.alloc(0)), // extended_master_secret
  ]);
  const body = Buffer.concat([
    u16(fields.version ?? 0xfefd),
    fields.random ?? randomBytes(32),
    Buffer.from([0]),
    Buffer.from([cookie.length]),
    cookie,
    u16(suites.length * 2),
    ...suites.map(u16),
    Buffer.from([1, 0]),
    u16(extensions.length),
    extensions,
  ]);
  const handshake = Buffer.alloc(12 + body.length);
  handshake[0] = 1;
  handshake.writeUIntBE(body.length, 1, 3);
  handshake.writeUInt16BE(fields.messageSeq ?? 0, 4);
  handshake.writeUIntBE(body.length, 9, 3);
  body.copy(handshake, 12);
  const record = Buffer.alloc(13 + handshake.length);
  record[0] = 22;
  record.writeUInt16BE(0xfeff, 1); // DTLS 1.0 on the first record, as OpenSSL sends it
  record.writeUIntBE(fields.recordSequence ?? 0, 5, 6);
  record.writeUInt16BE(handshake.length, 11);
  handshake.copy(record, 13);
  return record;
}

/** The cookie of a HelloVerifyRequest datagram, or undefined when it is not one. */
export function helloVerifyCookie(datagram: Buffer): Buffer | undefined {
  if (datagram.length < 13 + 12 + 3 || datagram[0] !== 22 || datagram[13] !== 3) return undefined;
  const length = datagram[13 + 12 + 2]!;
  return datagram.subarray(13 + 12 + 3, 13 + 12 + 3 + length);
}
