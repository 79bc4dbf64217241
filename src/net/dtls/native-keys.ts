/**
 * X25519 for the DTLS handshake from native/dtls-keys.c where it loads: raw 32-byte keys in and
 * out, with no KeyObject, export or SPKI import around the curve arithmetic (which cost more
 * than the arithmetic, docs/native-crypto.md). TURNPIKE_DTLS_KEYS=node:crypto forces ecdhe.ts's
 * node:crypto path; both give the same shares and secrets.
 */
import { loadAddon, type Unavailable } from '../native-addon.js';
import type { KeyShare } from './ecdhe.js';

const KEY = 32;

/** native/dtls-keys.c's exports; each throws a TypeError unless every buffer is 32 bytes. */
export interface DtlsKeysAddon {
  x25519Share(privateKey: Buffer, publicKey: Buffer): boolean;
  x25519(privateKey: Buffer, peerPublicKey: Buffer, secret: Buffer): boolean;
}

export type NativeX25519 = { readonly newPair: () => KeyShare } | Unavailable;

export function nativeKeyShares(addon: DtlsKeysAddon): () => KeyShare {
  return () => {
    const privateKey = Buffer.allocUnsafe(KEY);
    const publicKey = Buffer.allocUnsafe(KEY);
    if (!addon.x25519Share(privateKey, publicKey)) throw new Error('OpenSSL refused an X25519 key');
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

let state: NativeX25519 | undefined;

/** This thread's native X25519, or why there is none. */
export function nativeX25519(): NativeX25519 {
  return (state ??= load());
}

function load(): NativeX25519 {
  if (process.env.TURNPIKE_DTLS_KEYS === 'node:crypto') return { unavailable: 'TURNPIKE_DTLS_KEYS=node:crypto' };
  return loadAddon('dtls-keys', (addon: DtlsKeysAddon) => ({ newPair: nativeKeyShares(addon) }));
}
