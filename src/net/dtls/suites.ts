/**
 * The cipher suites served, and the TLS 1.2 PRF (RFC 5246 §5) that derives their keys. Only
 * ECDHE with AES-GCM: forward secrecy and an AEAD, as browsers and coturn's client offer.
 */
import { createHmac, createSecretKey } from 'node:crypto';
import { nativeDtlsKeys } from './native-keys.js';

export type SignatureKind = 'ecdsa' | 'rsa';

export interface CipherSuite {
  readonly id: number;
  readonly name: string;
  readonly signature: SignatureKind;
  readonly cipher: 'aes-128-gcm' | 'aes-256-gcm';
  readonly keyLength: 16 | 32;
  /** The PRF's and the Finished hash. */
  readonly hash: 'sha256' | 'sha384';
}

/** In the server's order of preference. */
export const CIPHER_SUITES: readonly CipherSuite[] = [
  { id: 0xc02b, name: 'ECDHE-ECDSA-AES128-GCM-SHA256', signature: 'ecdsa', cipher: 'aes-128-gcm', keyLength: 16, hash: 'sha256' },
  { id: 0xc02c, name: 'ECDHE-ECDSA-AES256-GCM-SHA384', signature: 'ecdsa', cipher: 'aes-256-gcm', keyLength: 32, hash: 'sha384' },
  { id: 0xc02f, name: 'ECDHE-RSA-AES128-GCM-SHA256', signature: 'rsa', cipher: 'aes-128-gcm', keyLength: 16, hash: 'sha256' },
  { id: 0xc030, name: 'ECDHE-RSA-AES256-GCM-SHA384', signature: 'rsa', cipher: 'aes-256-gcm', keyLength: 32, hash: 'sha384' },
];

/** The first suite the server prefers that the client offers and the certificate can sign. */
export function chooseSuite(offered: readonly number[], signature: SignatureKind): CipherSuite | undefined {
  return CIPHER_SUITES.find((s) => s.signature === signature && offered.includes(s.id));
}

/** P_hash(secret, label + seed) cut to `length` bytes: native/dtls-keys.c's where it loads. */
export function prf(hash: CipherSuite['hash'], secret: Buffer, label: string, seed: Buffer, length: number): Buffer {
  const native = nativeDtlsKeys();
  return 'prf' in native ? native.prf(hash, secret, label, seed, length) : nodeCryptoPrf(hash, secret, label, seed, length);
}

/** The PRF from node:crypto's HMAC, where the addon is not built or TURNPIKE_DTLS_KEYS=node:crypto. */
export function nodeCryptoPrf(hash: CipherSuite['hash'], secret: Buffer, label: string, seed: Buffer, length: number): Buffer {
  const labelled = Buffer.concat([Buffer.from(label, 'latin1'), seed]);
  // Imported once: Node checks and imports a raw key on every createHmac, at several times
  // the cost of the HMAC itself, and P_hash makes two HMACs per block.
  const key = createSecretKey(secret);
  const out: Buffer[] = [];
  let total = 0;
  let a = labelled;
  while (total < length) {
    a = createHmac(hash, key).update(a).digest();
    const block = createHmac(hash, key).update(a).update(labelled).digest();
    out.push(block);
    total += block.length;
  }
  return Buffer.concat(out).subarray(0, length);
}

export interface KeyBlock {
  readonly clientKey: Buffer;
  readonly serverKey: Buffer;
  readonly clientIv: Buffer;
  readonly serverIv: Buffer;
}

/** RFC 5246 §6.3, for an AEAD suite: no MAC keys, a 4-byte implicit nonce each way. */
export function keyBlock(suite: CipherSuite, masterSecret: Buffer, clientRandom: Buffer, serverRandom: Buffer): KeyBlock {
  const n = suite.keyLength;
  const block = prf(suite.hash, masterSecret, 'key expansion', Buffer.concat([serverRandom, clientRandom]), 2 * n + 8);
  return {
    clientKey: block.subarray(0, n),
    serverKey: block.subarray(n, 2 * n),
    clientIv: block.subarray(2 * n, 2 * n + 4),
    serverIv: block.subarray(2 * n + 4, 2 * n + 8),
  };
}
