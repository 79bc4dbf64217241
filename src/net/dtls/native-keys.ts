/**
 * X25519, the TLS 1.2 PRF and the cookies' HMAC for the DTLS handshake from native/dtls-keys.c
 * where it loads: raw 32-byte keys in and out, with no KeyObject, export or SPKI import around
 * the curve arithmetic, the PRF in one call instead of two HMAC objects per block, and one HMAC
 * context per cookie key (each of node:crypto's cost more than its arithmetic,
 * docs/native-crypto.md). TURNPIKE_DTLS_KEYS=node:crypto forces the node:crypto paths of
 * ecdhe.ts, suites.ts and cookie.ts; both give the same bytes.
 */
import { loadAddon, type Unavailable } from '../native-addon.js';
import type { KeyShare } from './ecdhe.js';

const KEY = 32;

/** native/dtls-keys.c's exports; each throws a TypeError for a buffer of the wrong length or a key or context it did not make. */
export interface DtlsKeysAddon {
  /** A new private key (the given one, for test vectors), kept in C; fills `publicKey`. */
  x25519Share(publicKey: Buffer, privateKey?: Buffer): object;
  x25519(privateKey: object, peerPublicKey: Buffer, secret: Buffer): boolean;
  /** Fills `out` with P_SHA256 (or P_SHA384) of `secret` over label + seed. */
  tls12Prf(sha384: boolean, secret: Buffer, label: Buffer, seed: Buffer, out: Buffer): boolean;
  hmacSha256Key(key: Buffer): object;
  /** Fills the 32-byte `out` with the HMAC of `data` under the context's key. */
  hmacSha256(context: object, data: Buffer, out: Buffer): boolean;
  /** A signing context for the EC private key in PKCS#8 DER; throws for any other key. */
  ecdsaSigner(pkcs8: Buffer): object;
  /** Writes the DER ECDSA signature over SHA-256 (SHA-384) of `data` at the start of `out`; its length, 0 if refused. */
  ecdsaSign(signer: object, sha384: boolean, data: Buffer, out: Buffer): number;
}

/** The TLS 1.2 PRF: P_hash(secret, label + seed), `length` bytes. */
export type Prf = (hash: 'sha256' | 'sha384', secret: Buffer, label: string, seed: Buffer, length: number) => Buffer;

/** HMAC-SHA256 under one key, made once for it. */
export type Mac = (data: Buffer) => Buffer;

/** ECDSA with one key: the DER signature over the SHA-256 (SHA-384) of `data`. */
export type EcdsaSign = (sha384: boolean, data: Buffer) => Buffer;

export type NativeDtlsKeys = {
  readonly newPair: () => KeyShare;
  readonly prf: Prf;
  readonly hmacSha256: (key: Buffer) => Mac;
  readonly ecdsa: (pkcs8: Buffer) => EcdsaSign;
} | Unavailable;

export function nativeKeyShares(addon: DtlsKeysAddon): () => KeyShare {
  return () => {
    const publicKey = Buffer.allocUnsafe(KEY);
    const privateKey = addon.x25519Share(publicKey);
    return {
      publicKey,
      computeSecret(peer) {
        if (peer.length !== KEY) throw new Error('bad X25519 share');
        const secret = Buffer.allocUnsafe(KEY);
        // OpenSSL refuses the all-zero result a small-order point gives (RFC 7748 §6.1).
        if (!addon.x25519(privateKey, peer, secret)) throw new Error('X25519 small-order share');
        return secret;
      },
    };
  };
}

export function nativePrf(addon: DtlsKeysAddon): Prf {
  return (hash, secret, label, seed, length) => {
    const out = Buffer.allocUnsafe(length);
    if (!addon.tls12Prf(hash === 'sha384', secret, Buffer.from(label, 'latin1'), seed, out)) throw new Error('OpenSSL refused the TLS 1.2 PRF');
    return out;
  };
}

export function nativeHmacSha256(addon: DtlsKeysAddon): (key: Buffer) => Mac {
  return (key) => {
    const context = addon.hmacSha256Key(key);
    return (data) => {
      const out = Buffer.allocUnsafe(32);
      if (!addon.hmacSha256(context, data, out)) throw new Error('OpenSSL refused an HMAC');
      return out;
    };
  };
}

/** A DER ECDSA signature on P-384 takes at most 104 bytes. */
const MAX_ECDSA_SIGNATURE = 112;

export function nativeEcdsa(addon: DtlsKeysAddon): (pkcs8: Buffer) => EcdsaSign {
  return (pkcs8) => {
    const signer = addon.ecdsaSigner(pkcs8);
    return (sha384, data) => {
      const out = Buffer.allocUnsafe(MAX_ECDSA_SIGNATURE);
      const length = addon.ecdsaSign(signer, sha384, data, out);
      if (length === 0) throw new Error('OpenSSL refused to sign');
      return out.subarray(0, length);
    };
  };
}

let state: NativeDtlsKeys | undefined;

/** This thread's native X25519 and PRF, or why there are none. */
export function nativeDtlsKeys(): NativeDtlsKeys {
  return (state ??= load());
}

function load(): NativeDtlsKeys {
  if (process.env.TURNPIKE_DTLS_KEYS === 'node:crypto') return { unavailable: 'TURNPIKE_DTLS_KEYS=node:crypto' };
  return loadAddon('dtls-keys', (addon: DtlsKeysAddon) => ({
    newPair: nativeKeyShares(addon),
    prf: nativePrf(addon),
    hmacSha256: nativeHmacSha256(addon),
    ecdsa: nativeEcdsa(addon),
  }));
}
