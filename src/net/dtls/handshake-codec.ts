/**
 * DTLS 1.2 handshake messages (RFC 6347 §4.2, RFC 5246 §7.4): the 12-byte header, the
 * ClientHello the server reads, and the messages it writes.
 */
import { DTLS_1_0, DTLS_1_2 } from './record.js';

export const HandshakeType = {
  ClientHello: 1,
  ServerHello: 2,
  HelloVerifyRequest: 3,
  Certificate: 11,
  ServerKeyExchange: 12,
  CertificateRequest: 13,
  ServerHelloDone: 14,
  CertificateVerify: 15,
  ClientKeyExchange: 16,
  Finished: 20,
} as const;

export const Extension = {
  SupportedGroups: 0x000a,
  EcPointFormats: 0x000b,
  SignatureAlgorithms: 0x000d,
  ExtendedMasterSecret: 0x0017,
  RenegotiationInfo: 0xff01,
} as const;

/** TLS_EMPTY_RENEGOTIATION_INFO_SCSV: a client's "I do secure renegotiation" as a suite. */
export const RENEGOTIATION_SCSV = 0x00ff;
export const HANDSHAKE_HEADER = 12;

export interface HandshakeFragment {
  readonly type: number;
  /** The whole message's body length. */
  readonly length: number;
  readonly messageSeq: number;
  readonly offset: number;
  readonly body: Buffer;
}

/** The handshake fragments in one record's plaintext; undefined when malformed. */
export function parseHandshakeFragments(data: Buffer): HandshakeFragment[] | undefined {
  const fragments: HandshakeFragment[] = [];
  let at = 0;
  while (at < data.length) {
    if (data.length - at < HANDSHAKE_HEADER) return undefined;
    const length = data.readUIntBE(at + 1, 3);
    const offset = data.readUIntBE(at + 6, 3);
    const fragmentLength = data.readUIntBE(at + 9, 3);
    const end = at + HANDSHAKE_HEADER + fragmentLength;
    if (end > data.length || offset + fragmentLength > length) return undefined;
    fragments.push({ type: data[at]!, length, messageSeq: data.readUInt16BE(at + 4), offset, body: data.subarray(at + HANDSHAKE_HEADER, end) });
    at = end;
  }
  return fragments;
}

export interface ClientHello {
  readonly version: number;
  readonly random: Buffer;
  readonly sessionId: Buffer;
  readonly cookie: Buffer;
  readonly cipherSuites: readonly number[];
  /** The raw cipher_suites vector, for the cookie's MAC. */
  readonly cipherSuitesRaw: Buffer;
  readonly compressionMethods: Buffer;
  readonly extensions: ReadonlyMap<number, Buffer>;
}

/** Reads a ClientHello body; undefined when it is malformed. */
export function parseClientHello(body: Buffer): ClientHello | undefined {
  try {
    let at = 0;
    const take = (n: number): Buffer => {
      if (at + n > body.length) throw new RangeError('short');
      const out = body.subarray(at, at + n);
      at += n;
      return out;
    };
    const version = take(2).readUInt16BE(0);
    const random = take(32);
    const sessionId = take(take(1)[0]!);
    const cookie = take(take(1)[0]!);
    const cipherSuitesRaw = take(take(2).readUInt16BE(0));
    const compressionMethods = take(take(1)[0]!);
    const extensions = new Map<number, Buffer>();
    if (at < body.length) {
      const end = at + 2 + take(2).readUInt16BE(0);
      if (end !== body.length) return undefined;
      while (at < end) {
        const type = take(2).readUInt16BE(0);
        extensions.set(type, take(take(2).readUInt16BE(0)));
      }
    }
    if (cipherSuitesRaw.length % 2 !== 0 || compressionMethods.length === 0) return undefined;
    const cipherSuites: number[] = [];
    for (let i = 0; i < cipherSuitesRaw.length; i += 2) cipherSuites.push(cipherSuitesRaw.readUInt16BE(i));
    return { version, random, sessionId, cookie, cipherSuites, cipherSuitesRaw, compressionMethods, extensions };
  } catch {
    return undefined;
  }
}

/** A 16-bit-per-entry list inside a 16-bit length (supported_groups, signature_algorithms). */
export function readU16List(data: Buffer | undefined): number[] {
  if (!data || data.length < 2 || data.readUInt16BE(0) !== data.length - 2 || data.length % 2 !== 0) return [];
  const out: number[] = [];
  for (let i = 2; i < data.length; i += 2) out.push(data.readUInt16BE(i));
  return out;
}

/** A whole message with its header, unfragmented: as sent when it fits, and as hashed. */
export function handshakeMessage(type: number, messageSeq: number, body: Buffer): Buffer {
  return handshakeFragment(type, messageSeq, body, 0, body.length);
}

export function handshakeFragment(type: number, messageSeq: number, body: Buffer, offset: number, length: number): Buffer {
  const out = Buffer.allocUnsafe(HANDSHAKE_HEADER + length);
  out[0] = type;
  out.writeUIntBE(body.length, 1, 3);
  out.writeUInt16BE(messageSeq, 4);
  out.writeUIntBE(offset, 6, 3);
  out.writeUIntBE(length, 9, 3);
  body.copy(out, HANDSHAKE_HEADER, offset, offset + length);
  return out;
}

/** RFC 6347 §4.2.1: server_version is DTLS 1.0 whatever is negotiated later. */
export function helloVerifyRequestBody(cookie: Buffer): Buffer {
  const out = Buffer.allocUnsafe(3 + cookie.length);
  out.writeUInt16BE(DTLS_1_0, 0);
  out[2] = cookie.length;
  cookie.copy(out, 3);
  return out;
}

const extension = (type: number, data: Buffer): Buffer => {
  const out = Buffer.allocUnsafe(4 + data.length);
  out.writeUInt16BE(type, 0);
  out.writeUInt16BE(data.length, 2);
  data.copy(out, 4);
  return out;
};

export function serverHelloBody(random: Buffer, suite: number, hello: ClientHello): Buffer {
  const extensions: Buffer[] = [];
  if (hello.extensions.has(Extension.RenegotiationInfo) || hello.cipherSuites.includes(RENEGOTIATION_SCSV)) {
    extensions.push(extension(Extension.RenegotiationInfo, Buffer.from([0])));
  }
  if (hello.extensions.has(Extension.ExtendedMasterSecret)) extensions.push(extension(Extension.ExtendedMasterSecret, Buffer.alloc(0)));
  // Uncompressed points only (RFC 8422 §5.2), said back only to a client that asked.
  if (hello.extensions.has(Extension.EcPointFormats)) extensions.push(extension(Extension.EcPointFormats, Buffer.from([1, 0])));
  const fixed = Buffer.allocUnsafe(2 + 32 + 1 + 2 + 1);
  fixed.writeUInt16BE(DTLS_1_2, 0);
  random.copy(fixed, 2);
  fixed[34] = 0; // no session id: sessions are not resumed
  fixed.writeUInt16BE(suite, 35);
  fixed[37] = 0; // null compression
  const all = Buffer.concat(extensions);
  const length = Buffer.allocUnsafe(2);
  length.writeUInt16BE(all.length, 0);
  return Buffer.concat([fixed, length, all]);
}

export function certificateBody(chain: readonly Buffer[]): Buffer {
  const parts: Buffer[] = [];
  for (const der of chain) {
    const length = Buffer.allocUnsafe(3);
    length.writeUIntBE(der.length, 0, 3);
    parts.push(length, der);
  }
  const all = Buffer.concat(parts);
  const length = Buffer.allocUnsafe(3);
  length.writeUIntBE(all.length, 0, 3);
  return Buffer.concat([length, all]);
}

/** The DER certificates of a Certificate message (RFC 5246 §7.4.2); undefined when malformed. */
export function parseCertificateList(body: Buffer): Buffer[] | undefined {
  if (body.length < 3 || body.readUIntBE(0, 3) !== body.length - 3) return undefined;
  const certificates: Buffer[] = [];
  for (let at = 3; at < body.length;) {
    if (body.length - at < 3) return undefined;
    const end = at + 3 + body.readUIntBE(at, 3);
    if (end > body.length) return undefined;
    certificates.push(body.subarray(at + 3, end));
    at = end;
  }
  return certificates;
}

/**
 * CertificateRequest (RFC 5246 §7.4.4): the certificate types and signature schemes accepted,
 * and no CA names (an empty list lets the client send the certificate it has).
 */
export function certificateRequestBody(types: readonly number[], schemes: readonly number[]): Buffer {
  const out = Buffer.alloc(1 + types.length + 2 + 2 * schemes.length + 2);
  out[0] = types.length;
  types.forEach((type, i) => (out[1 + i] = type));
  let at = 1 + types.length;
  out.writeUInt16BE(2 * schemes.length, at);
  for (const scheme of schemes) out.writeUInt16BE(scheme, (at += 2));
  return out; // the last two bytes, zero, are the empty certificate_authorities
}

/** A digitally-signed struct (CertificateVerify): scheme and signature; undefined when malformed. */
export function parseSignature(body: Buffer): { scheme: number; signature: Buffer } | undefined {
  if (body.length < 4 || body.readUInt16BE(2) !== body.length - 4) return undefined;
  return { scheme: body.readUInt16BE(0), signature: body.subarray(4) };
}

/** ServerECDHParams (RFC 8422 §5.4): named curve and the server's public point. */
export function ecdheParams(group: number, publicKey: Buffer): Buffer {
  const out = Buffer.allocUnsafe(4 + publicKey.length);
  out[0] = 3; // named_curve
  out.writeUInt16BE(group, 1);
  out[3] = publicKey.length;
  publicKey.copy(out, 4);
  return out;
}

export function serverKeyExchangeBody(params: Buffer, scheme: number, signature: Buffer): Buffer {
  const out = Buffer.allocUnsafe(params.length + 4 + signature.length);
  params.copy(out, 0);
  out.writeUInt16BE(scheme, params.length);
  out.writeUInt16BE(signature.length, params.length + 2);
  signature.copy(out, params.length + 4);
  return out;
}

/** The client's public point from a ClientKeyExchange body (ECDHE: one length byte). */
export function clientPublicKey(body: Buffer): Buffer | undefined {
  if (body.length < 2 || body[0] !== body.length - 1) return undefined;
  return body.subarray(1);
}
