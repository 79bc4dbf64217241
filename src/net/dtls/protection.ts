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
/** Where a record's plaintext (sealed: ciphertext) starts, from its first byte. */
export const RECORD_PLAINTEXT = RECORD_HEADER + EXPLICIT_NONCE;
const PLAINTEXT = RECORD_PLAINTEXT;

export class RecordProtection {
  private readonly writeNonce = Buffer.alloc(12);
  private readonly readNonce = Buffer.alloc(12);
  private readonly aad = Buffer.alloc(13);
  private readonly sealer: GcmSealer;
  private readonly opener: GcmOpener;

  /** The server's side: it writes with the server keys and reads with the client's (`keys`, kept for native routes). */
  constructor(
    suite: CipherSuite,
    readonly keys: KeyBlock,
    gcm: Gcm = recordGcm(),
  ) {
    keys.serverIv.copy(this.writeNonce, 0);
    keys.clientIv.copy(this.readNonce, 0);
    this.sealer = gcm.sealer(suite.cipher, keys.serverKey, keys.serverIv);
    this.opener = gcm.opener(suite.cipher, keys.clientKey, keys.clientIv);
  }

  /** One record holding `parts` concatenated, encrypted. */
  seal(type: number, epoch: number, sequence: number, parts: readonly Buffer[]): Buffer {
    let length = 0;
    for (const part of parts) length += part.length;
    const out = Buffer.allocUnsafe(SEAL_OVERHEAD + length);
    // The parts go in as one plaintext, encrypted where they lie.
    let at = PLAINTEXT;
    for (const part of parts) at += part.copy(out, at);
    this.sealIn(out, 0, type, epoch, sequence, length);
    return out;
  }

  /**
   * One application data record holding ChannelData on `channel` with `length` bytes of `data`
   * from `offset` (a part of a native receive area, say): no header Buffer, copy or array per record.
   */
  sealChannelData(epoch: number, sequence: number, channel: number, data: Buffer, offset: number, length: number): Buffer {
    const out = Buffer.allocUnsafe(SEAL_OVERHEAD + CHANNEL_DATA_HEADER + length);
    this.sealChannelDataAt(out, 0, epoch, sequence, channel, data, offset, length);
    return out;
  }

  /**
   * The same record written at out[at] (the native send area, say), which has room for
   * SEAL_OVERHEAD + 4 + length bytes there; returns the record's length. Natively one call.
   */
  sealChannelDataAt(out: Buffer, at: number, epoch: number, sequence: number, channel: number, data: Buffer, offset: number, length: number): number {
    if (this.sealer.sealChannelData) return this.sealer.sealChannelData(out, at, epoch, sequence, channel, data, offset, length);
    data.copy(out, at + PLAINTEXT + CHANNEL_DATA_HEADER, offset, offset + length);
    out.writeUInt16BE(channel, at + PLAINTEXT);
    out.writeUInt16BE(length, at + PLAINTEXT + 2);
    this.sealIn(out, at, ContentType.ApplicationData, epoch, sequence, CHANNEL_DATA_HEADER + length);
    return SEAL_OVERHEAD + CHANNEL_DATA_HEADER + length;
  }

  /** Seals the `length` bytes of plaintext at out[at + PLAINTEXT], in place, and frames the record at out[at]. */
  private sealIn(out: Buffer, at: number, type: number, epoch: number, sequence: number, length: number): void {
    writeRecordHeader(out, at, type, epoch, sequence, EXPLICIT_NONCE + length + TAG);
    // The explicit nonce is epoch||sequence, the same 8 bytes as in the header.
    copySmall(out, at + 3, out, at + RECORD_HEADER, 8);
    copySmall(out, at + 3, this.writeNonce, 4, 8);
    writeAdditionalData(this.aad, out, at, type, length);
    this.sealer.seal(this.writeNonce, this.aad, out, at + PLAINTEXT, length);
  }

  /** The plaintext of a record, or undefined when it does not authenticate. */
  open(record: DtlsRecord): Buffer | undefined {
    return this.openFragment(record.header, 0, record.fragment, 0, record.fragment.length);
  }

  /**
   * Decrypts the record at buffer[offset, +length), a whole datagram, where it lies: its
   * plaintext's length (the plaintext is at offset + RECORD_PLAINTEXT), or -1 when it does not
   * authenticate (its bytes are garbled then) or its header frames other bytes. Natively one call.
   */
  openAt(buffer: Buffer, offset: number, length: number): number {
    if (this.opener.openRecord) return this.opener.openRecord(buffer, offset, length);
    if (length < RECORD_HEADER || buffer.readUInt16BE(offset + 11) !== length - RECORD_HEADER) return -1;
    const plain = this.openFragment(buffer, offset, buffer, offset + RECORD_HEADER, length - RECORD_HEADER);
    if (!plain) return -1;
    plain.copy(buffer, offset + PLAINTEXT);
    return plain.length;
  }

  /** The plaintext of the record whose header is at header[headerAt] and fragment at fragment[fragmentAt, +fragmentLength). */
  private openFragment(header: Buffer, headerAt: number, fragment: Buffer, fragmentAt: number, fragmentLength: number): Buffer | undefined {
    const length = fragmentLength - EXPLICIT_NONCE - TAG;
    if (length < 0) return undefined;
    copySmall(fragment, fragmentAt, this.readNonce, 4, EXPLICIT_NONCE);
    writeAdditionalData(this.aad, header, headerAt, header[headerAt]!, length);
    return this.opener.open(this.readNonce, this.aad, fragment, fragmentAt + EXPLICIT_NONCE, length);
  }
}

/** The additional data (RFC 5246 §6.2.3.3): epoch||sequence, type, version and plaintext length. */
function writeAdditionalData(aad: Buffer, header: Buffer, at: number, type: number, length: number): void {
  copySmall(header, at + 3, aad, 0, 8);
  aad[8] = type;
  aad[9] = header[at + 1]!;
  aad[10] = header[at + 2]!;
  aad[11] = length >>> 8;
  aad[12] = length & 0xff;
}

/** A few bytes, copied in JS: Buffer.copy is a call into C++, dearer than the copy at this size. */
function copySmall(from: Buffer, fromAt: number, to: Buffer, toAt: number, count: number): void {
  for (let i = 0; i < count; i++) to[toAt + i] = from[fromAt + i]!;
}
