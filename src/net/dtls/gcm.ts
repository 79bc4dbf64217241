/**
 * AES-GCM for DTLS records, one object per key and direction. native/dtls-aead.c's addon where
 * it loads: one OpenSSL context per key, given only the next nonce per record. Else node:crypto,
 * which needs a new cipher object per nonce, at about 5 µs a record (docs/native-crypto.md).
 * Both give the same bytes; TURNPIKE_DTLS_AEAD=node:crypto forces node:crypto.
 */
import { createCipheriv, createDecipheriv, createSecretKey } from 'node:crypto';
import { loadAddon, type Unavailable } from '../native-addon.js';

export type GcmCipher = 'aes-128-gcm' | 'aes-256-gcm';
export const GCM_TAG = 16;

export interface GcmSealer {
  /** Encrypts buffer[offset, +length) in place and writes the tag right after it. */
  seal(nonce: Buffer, aad: Buffer, buffer: Buffer, offset: number, length: number): void;
  /**
   * Native only, one call per record: writes at out[at] an application data record holding
   * ChannelData on `channel` with data[from, +length), sealed; returns the record's length.
   */
  sealChannelData?(out: Buffer, at: number, epoch: number, sequence: number, channel: number, data: Buffer, from: number, length: number): number;
}

export interface GcmOpener {
  /** The plaintext of input[offset, +length), or undefined unless the tag after it authenticates. */
  open(nonce: Buffer, aad: Buffer, input: Buffer, offset: number, length: number): Buffer | undefined;
  /**
   * Native only, one call per record: decrypts the record at buffer[offset, +length) in place
   * and returns its plaintext's length (the plaintext follows the header and explicit nonce), or
   * -1 when it does not authenticate (its bytes garbled then) or its header frames other bytes.
   */
  openRecord?(buffer: Buffer, offset: number, length: number): number;
}

export interface Gcm {
  readonly name: string;
  /** `salt`: the implicit part of each nonce (the write IV, RFC 5288 §3), for whole records. */
  sealer(cipher: GcmCipher, key: Buffer, salt?: Buffer): GcmSealer;
  opener(cipher: GcmCipher, key: Buffer, salt?: Buffer): GcmOpener;
}

export const nodeCryptoGcm: Gcm = {
  name: 'node:crypto',
  sealer(cipher, key) {
    // A KeyObject: handed a raw key, Node checks and imports it on every cipher, which cost
    // more than the AES-GCM itself.
    const secret = createSecretKey(key);
    return {
      seal(nonce, aad, buffer, offset, length) {
        const c = createCipheriv(cipher, secret, nonce);
        c.setAAD(aad);
        c.update(buffer.subarray(offset, offset + length)).copy(buffer, offset);
        c.final(); // GCM's final() yields no bytes, only the tag
        c.getAuthTag().copy(buffer, offset + length);
      },
    };
  },
  opener(cipher, key) {
    const secret = createSecretKey(key);
    return {
      open(nonce, aad, input, offset, length) {
        try {
          const d = createDecipheriv(cipher, secret, nonce, { authTagLength: GCM_TAG });
          d.setAAD(aad);
          d.setAuthTag(input.subarray(offset + length, offset + length + GCM_TAG));
          const plain = d.update(input.subarray(offset, offset + length));
          d.final();
          return plain;
        } catch {
          return undefined;
        }
      },
    };
  },
};

/** native/dtls-aead.c's exports; each call checks its offsets and lengths and throws a TypeError. */
export interface DtlsAeadAddon {
  createContext(key: Buffer, encrypt: boolean, salt?: Buffer): object;
  seal(context: object, nonce: Buffer, aad: Buffer, buffer: Buffer, offset: number, length: number): void;
  open(context: object, nonce: Buffer, aad: Buffer, input: Buffer, offset: number, length: number, output: Buffer, outputOffset: number): boolean;
  /** Needs a context made with a salt. */
  openRecord(context: object, buffer: Buffer, offset: number, length: number): number;
  sealChannelData(context: object, out: Buffer, at: number, epoch: number, sequence: number, channel: number, data: Buffer, from: number, length: number): number;
}

/** The addon's contexts are the key: the cipher follows from its length (16 or 32 bytes). */
export function nativeGcm(addon: DtlsAeadAddon): Gcm {
  return {
    name: 'native',
    sealer(_cipher, key, salt) {
      const context = addon.createContext(key, true, salt);
      return {
        seal: (nonce, aad, buffer, offset, length) => addon.seal(context, nonce, aad, buffer, offset, length),
        sealChannelData: salt && ((out, at, epoch, sequence, channel, data, from, length) => addon.sealChannelData(context, out, at, epoch, sequence, channel, data, from, length)),
      };
    },
    opener(_cipher, key, salt) {
      const context = addon.createContext(key, false, salt);
      return {
        open(nonce, aad, input, offset, length) {
          if (offset < 0 || length < 0 || offset + length + GCM_TAG > input.length) return undefined;
          const plain = Buffer.allocUnsafe(length);
          return addon.open(context, nonce, aad, input, offset, length, plain, 0) ? plain : undefined;
        },
        openRecord: salt && ((buffer, offset, length) => addon.openRecord(context, buffer, offset, length)),
      };
    },
  };
}

export type RecordGcmState = { readonly gcm: Gcm } | Unavailable;

let state: RecordGcmState | undefined;

/** The native AES-GCM of this thread, or why there is none. */
export function nativeRecordGcm(): RecordGcmState {
  return (state ??= load());
}

/** What DTLS records are sealed and opened with on this thread. */
export function recordGcm(): Gcm {
  const current = nativeRecordGcm();
  return 'gcm' in current ? current.gcm : nodeCryptoGcm;
}

function load(): RecordGcmState {
  if (process.env.TURNPIKE_DTLS_AEAD === 'node:crypto') return { unavailable: 'TURNPIKE_DTLS_AEAD=node:crypto' };
  return loadAddon('dtls-aead', (addon: DtlsAeadAddon) => ({ gcm: nativeGcm(addon) }));
}
