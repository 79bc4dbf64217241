/**
 * AES-GCM record protection for epoch 1 (RFC 5288, RFC 6347 §4.1.2.1). The explicit nonce is
 * the record's own epoch and sequence number, so it never repeats under one key.
 */
import { GCM_TAG as TAG, recordGcm, type Gcm, type GcmOpener, type GcmSealer } from './gcm.js';
import { CHANNEL_DATA_HEADER } from '../../stun/channel-data.js';
import { ContentType, RECORD_HEADER, writeRecordHeader, type DtlsRecord } from './record.js';
import type { CipherSuite, KeyBlock } from './suites.js';

const EXPLICIT_NONCE = 8;
/** Encryption adds this much to a record's plaintext. */
export const SEAL_OVERHEAD = RECORD_HEADER + EXPLICIT_NONCE + TAG;
/** Where a sealed record's plaintext (then ciphertext) starts. */
const PLAINTEXT = RECORD_HEADER + EXPLICIT_NONCE;

export class RecordProtection {
  private readonly writeNonce = Buffer.alloc(12);
  private readonly readNonce = Buffer.alloc(12);
  private readonly aad = Buffer.alloc(13);
  private readonly sealer: GcmSealer;
  private readonly opener: GcmOpener;

  /** The server's side: it writes with the server keys and reads with the client's. */
  constructor(suite: CipherSuite, keys: KeyBlock, gcm: Gcm = recordGcm()) {
    keys.serverIv.copy(this.writeNonce, 0);
    keys.clientIv.copy(this.readNonce, 0);
    this.sealer = gcm.sealer(suite.cipher, keys.serverKey);
    this.opener = gcm.opener(suite.cipher, keys.clientKey);
  }

  /** One record holding `parts` concatenated, encrypted. */
  seal(type: number, epoch: number, sequence: number, parts: readonly Buffer[]): Buffer {
    let length = 0;
    for (const part of parts) length += part.length;
    const out = Buffer.allocUnsafe(SEAL_OVERHEAD + length);
    // The parts go in as one plaintext, encrypted where they lie.
    let at = PLAINTEXT;
    for (const part of parts) at += part.copy(out, at);
    return this.sealIn(out, type, epoch, sequence, length);
  }

  /**
   * One application data record holding ChannelData on `channel` with `length` bytes of `data`
   * from `offset` (a part of a native receive area, say): no header Buffer, copy or array per record.
   */
  sealChannelData(epoch: number, sequence: number, channel: number, data: Buffer, offset: number, length: number): Buffer {
    const out = Buffer.allocUnsafe(SEAL_OVERHEAD + CHANNEL_DATA_HEADER + length);
    out.writeUInt16BE(channel, PLAINTEXT);
    out.writeUInt16BE(length, PLAINTEXT + 2);
    data.copy(out, PLAINTEXT + CHANNEL_DATA_HEADER, offset, offset + length);
    return this.sealIn(out, ContentType.ApplicationData, epoch, sequence, CHANNEL_DATA_HEADER + length);
  }

  /** Seals the `length` bytes of plaintext at PLAINTEXT in `out`, in place, and frames the record. */
  private sealIn(out: Buffer, type: number, epoch: number, sequence: number, length: number): Buffer {
    writeRecordHeader(out, 0, type, epoch, sequence, EXPLICIT_NONCE + length + TAG);
    // The explicit nonce is epoch||sequence, the same 8 bytes as in the header.
    copySmall(out, 3, out, RECORD_HEADER, 8);
    copySmall(out, 3, this.writeNonce, 4, 8);
    writeAdditionalData(this.aad, out, type, length);
    this.sealer.seal(this.writeNonce, this.aad, out, PLAINTEXT, length);
    return out;
  }

  /** The plaintext of a record, or undefined when it does not authenticate. */
  open(record: DtlsRecord): Buffer | undefined {
    const fragment = record.fragment;
    const length = fragment.length - EXPLICIT_NONCE - TAG;
    if (length < 0) return undefined;
    copySmall(fragment, 0, this.readNonce, 4, EXPLICIT_NONCE);
    writeAdditionalData(this.aad, record.header, record.type, length);
    return this.opener.open(this.readNonce, this.aad, fragment, EXPLICIT_NONCE, length);
  }
}

/** The additional data (RFC 5246 §6.2.3.3): epoch||sequence, type, version and plaintext length. */
function writeAdditionalData(aad: Buffer, header: Buffer, type: number, length: number): void {
  copySmall(header, 3, aad, 0, 8);
  aad[8] = type;
  aad[9] = header[1]!;
  aad[10] = header[2]!;
  aad[11] = length >>> 8;
  aad[12] = length & 0xff;
}

/** A few bytes, copied in JS: Buffer.copy is a call into C++, dearer than the copy at this size. */
function copySmall(from: Buffer, fromAt: number, to: Buffer, toAt: number, count: number): void {
  for (let i = 0; i < count; i++) to[toAt + i] = from[fromAt + i]!;
}
