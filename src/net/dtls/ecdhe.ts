/**
 * Ephemeral ECDH key shares (RFC 8422) with Node's native curves: X25519, P-256 and P-384.
 */
import { createECDH, createPublicKey, diffieHellman, generateKeyPairSync } from 'node:crypto';
import { nativeDtlsKeys } from './native-keys.js';

export const NamedGroup = { Secp256r1: 23, Secp384r1: 24, X25519: 29 } as const;

/** The server's order of preference. */
const GROUPS: readonly number[] = [NamedGroup.X25519, NamedGroup.Secp256r1, NamedGroup.Secp384r1];

/** A client that sends no supported_groups gets P-256, which RFC 8422 makes mandatory. */
export function chooseGroup(offered: readonly number[]): number | undefined {
  if (offered.length === 0) return NamedGroup.Secp256r1;
  return GROUPS.find((g) => offered.includes(g));
}

export interface KeyShare {
  readonly publicKey: Buffer;
  /** The premaster secret; throws when the peer's share is not a valid point. */
  computeSecret(peer: Buffer): Buffer;
}

/** An X25519 SubjectPublicKeyInfo (RFC 8410) up to the key's 32 bytes. */
const X25519_SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');

/**
 * The peer's X25519 share goes in as a PEM string: Node 24 tests an object argument (a JWK, or
 * DER in an options object) for being a key by throwing and catching four TypeErrors, stack
 * traces and all, which made the import cost twice as much as parsing PEM text.
 */
const x25519Pem = (raw: Buffer) =>
  `-----BEGIN PUBLIC KEY-----\n${Buffer.concat([X25519_SPKI_PREFIX, raw]).toString('base64')}\n-----END PUBLIC KEY-----\n`;

export function generateKeyShare(group: number): KeyShare {
  if (group === NamedGroup.X25519) {
    const native = nativeDtlsKeys();
    return 'newPair' in native ? native.newPair() : nodeCryptoX25519Share();
  }
  const ecdh = createECDH(group === NamedGroup.Secp384r1 ? 'secp384r1' : 'prime256v1');
  return {
    publicKey: ecdh.generateKeys(),
    computeSecret: (peer) => ecdh.computeSecret(peer),
  };
}

/** Where native/dtls-keys.c is not built, or TURNPIKE_DTLS_KEYS=node:crypto says so. */
export function nodeCryptoX25519Share(): KeyShare {
  const { publicKey, privateKey } = generateKeyPairSync('x25519');
  return {
    // JWK: Node 24 exports it several times faster than DER (as costly as making the key).
    publicKey: Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url'),
    computeSecret(peer) {
      if (peer.length !== 32) throw new Error('bad X25519 share');
      const secret = diffieHellman({ privateKey, publicKey: createPublicKey(x25519Pem(peer)) });
      // RFC 7748 §6.1: an all-zero result means a small-order point.
      if (secret.every((b) => b === 0)) throw new Error('X25519 small-order share');
      return secret;
    },
  };
}
