/**
 * Ephemeral ECDH key shares (RFC 8422) with Node's native curves: X25519, P-256 and P-384.
 */
import { createECDH, createPublicKey, diffieHellman, generateKeyPairSync } from 'node:crypto';

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

/**
 * X25519 keys go in and out as JWK: Node 24 exports and imports that form several times
 * faster than DER (a DER export costs about as much as generating the key).
 */
const x25519Jwk = (raw: Buffer) => ({ kty: 'OKP', crv: 'X25519', x: raw.toString('base64url') });

export function generateKeyShare(group: number): KeyShare {
  if (group === NamedGroup.X25519) {
    const { publicKey, privateKey } = generateKeyPairSync('x25519');
    return {
      publicKey: Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url'),
      computeSecret(peer) {
        if (peer.length !== 32) throw new Error('bad X25519 share');
        const secret = diffieHellman({ privateKey, publicKey: createPublicKey({ key: x25519Jwk(peer), format: 'jwk' }) });
        // RFC 7748 §6.1: an all-zero result means a small-order point.
        if (secret.every((b) => b === 0)) throw new Error('X25519 small-order share');
        return secret;
      },
    };
  }
  const ecdh = createECDH(group === NamedGroup.Secp384r1 ? 'secp384r1' : 'prime256v1');
  return {
    publicKey: ecdh.generateKeys(),
    computeSecret: (peer) => ecdh.computeSecret(peer),
  };
}
