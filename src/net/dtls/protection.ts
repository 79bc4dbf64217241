/**
 * AES-GCM record protection for epoch 1 (RFC 5288, RFC 6347 §4.1.2.1). The explicit nonce is
 * the record's own epoch and sequence number, so it never repeats under one key.
 */
import { createCipheriv, createDecipheriv, createSecretKey, type KeyObject } from 'node:crypto';
import { RECORD_HEADER, writeRecordHeader, type DtlsRecord } from './record.js';
import type { CipherSuite, KeyBlock } from './suites.js';

const EXPLICIT_NONCE = 8;
const TAG = 16;
/** Encryption adds this much to a record's plaintext. */
export const SEAL_OVERHEAD = RECORD_HEADER + EXPLICIT_NONCE + TAG;

export class RecordProtection {
  private readonly writeNonce = Buffer.alloc(12);
  private readonly readNonce = Buffer.alloc(12);
  private readonly aad = Buffer.alloc(13);
  /**
   * Node needs a new cipher for every nonce; handed a KeyObject it skips checking and
   * importing a raw key each time, which cost more than the AES-GCM itself.
   */
  private readonly writeKey: KeyObject;
  private readonly readKey: KeyObject;

  /** The server's side: it writes with the server keys and reads with the client's. */
  constructor(
    private readonly suite: CipherSuite,
    keys: KeyBlock,
  ) {
    keys.serverIv.copy(this.writeNonce, 0);
    keys.clientIv.copy(this.readNonce, 0);
    this.writeKey = createSecretKey(keys.serverKey);
    this.readKey = createSecretKey(keys.clientKey);
  }

  /** One record holding `parts` concatenated, encrypted. */
  seal(type: number, epoch: number, sequence: number, parts: readonly Buffer[]): Buffer {
    let length = 0;
    for (const part of parts) length += part.length;
    const out = Buffer.allocUnsafe(SEAL_OVERHEAD + length);
    writeRecordHeader(out, 0, type, epoch, sequence, EXPLICIT_NONCE + length + TAG);
    // The explicit nonce is epoch||sequence, the same 8 bytes as in the header.
    out.copy(out, RECORD_HEADER, 3, 11);
    out.copy(this.writeNonce, 4, 3, 11);
    out.copy(this.aad, 0, 3, 11);
    this.aad[8] = type;
    out.copy(this.aad, 9, 1, 3);
    this.aad.writeUInt16BE(length, 11);
    const cipher = createCipheriv(this.suite.cipher, this.writeKey, this.writeNonce);
    cipher.setAAD(this.aad);
    // The parts go in as one plaintext: one update (a native call and a Buffer) per record,
    // not per part. GCM's final() yields no bytes, only the tag.
    const start = RECORD_HEADER + EXPLICIT_NONCE;
    let at = start;
    for (const part of parts) at += part.copy(out, at);
    cipher.update(out.subarray(start, at)).copy(out, start);
    cipher.final();
    cipher.getAuthTag().copy(out, at);
    return out;
  }

  /** The plaintext of a record, or undefined when it does not authenticate. */
  open(record: DtlsRecord): Buffer | undefined {
    const fragment = record.fragment;
    const length = fragment.length - EXPLICIT_NONCE - TAG;
    if (length < 0) return undefined;
    fragment.copy(this.readNonce, 4, 0, EXPLICIT_NONCE);
    record.header.copy(this.aad, 0, 3, 11);
    this.aad[8] = record.type;
    record.header.copy(this.aad, 9, 1, 3);
    this.aad.writeUInt16BE(length, 11);
    try {
      const decipher = createDecipheriv(this.suite.cipher, this.readKey, this.readNonce);
      decipher.setAAD(this.aad);
      decipher.setAuthTag(fragment.subarray(EXPLICIT_NONCE + length));
      const plain = decipher.update(fragment.subarray(EXPLICIT_NONCE, EXPLICIT_NONCE + length));
      decipher.final();
      return plain;
    } catch {
      return undefined;
    }
  }
}
