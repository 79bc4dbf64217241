/**
 * The DTLS 1.2 record layer's framing (RFC 6347 §4.1): a 13-byte header, then the fragment.
 * Several records may share one datagram.
 */

export const ContentType = { ChangeCipherSpec: 20, Alert: 21, Handshake: 22, ApplicationData: 23 } as const;

/** DTLS versions count down: 1.0 is 0xfeff, 1.2 is 0xfefd. */
export const DTLS_1_0 = 0xfeff;
export const DTLS_1_2 = 0xfefd;
export const RECORD_HEADER = 13;
/** Record sequence numbers are 48 bits; a sender must never wrap them (RFC 6347 §4.1). */
export const MAX_RECORD_SEQUENCE = 2 ** 48 - 1;

export interface DtlsRecord {
  readonly type: number;
  readonly version: number;
  readonly epoch: number;
  /** 48 bits: a JS number holds it exactly. */
  readonly sequence: number;
  /** The 13 header bytes, as received (the AEAD's additional data is built from them). */
  readonly header: Buffer;
  readonly fragment: Buffer;
}

/** RFC 7983's demultiplexing: a datagram whose first byte is 20-63 is DTLS. */
export const looksLikeDtlsAt = (data: Uint8Array, offset: number, length: number): boolean =>
  length > 0 && data[offset]! >= 20 && data[offset]! <= 63;

/** The header fields of the record at data[at] (at least RECORD_HEADER bytes there), as numbers. */
export const recordEpochAt = (data: Uint8Array, at: number): number => (data[at + 3]! << 8) | data[at + 4]!;
export const recordSequenceAt = (data: Uint8Array, at: number): number =>
  ((data[at + 5]! << 8) | data[at + 6]!) * 2 ** 32 + ((data[at + 7]! << 24) >>> 0) + ((data[at + 8]! << 16) | (data[at + 9]! << 8) | data[at + 10]!);
const fragmentLengthAt = (data: Uint8Array, at: number): number => (data[at + 11]! << 8) | data[at + 12]!;

/** True when data[offset, +length) is exactly one application data record (one per datagram is the rule). */
export const isSingleApplicationRecordAt = (data: Uint8Array, offset: number, length: number): boolean =>
  length >= RECORD_HEADER && data[offset] === ContentType.ApplicationData && data[offset + 1] === 0xfe && fragmentLengthAt(data, offset) === length - RECORD_HEADER;

/** The records of a datagram, or undefined when any header is cut short or not DTLS. */
export function parseRecords(datagram: Buffer): DtlsRecord[] | undefined {
  const records: DtlsRecord[] = [];
  let at = 0;
  while (at < datagram.length) {
    if (datagram.length - at < RECORD_HEADER) return undefined;
    const type = datagram[at]!;
    const version = datagram.readUInt16BE(at + 1);
    const length = fragmentLengthAt(datagram, at);
    if (type < 20 || type > 63 || datagram[at + 1] !== 0xfe || at + RECORD_HEADER + length > datagram.length) return undefined;
    records.push({
      type,
      version,
      epoch: recordEpochAt(datagram, at),
      sequence: recordSequenceAt(datagram, at),
      header: datagram.subarray(at, at + RECORD_HEADER),
      fragment: datagram.subarray(at + RECORD_HEADER, at + RECORD_HEADER + length),
    });
    at += RECORD_HEADER + length;
  }
  return records;
}

export function writeRecordHeader(out: Buffer, at: number, type: number, epoch: number, sequence: number, length: number): void {
  out[at] = type;
  out.writeUInt16BE(DTLS_1_2, at + 1);
  out.writeUInt16BE(epoch, at + 3);
  out.writeUIntBE(sequence, at + 5, 6);
  out.writeUInt16BE(length, at + 11);
}

/** A plaintext record (epoch 0: the handshake before ChangeCipherSpec, and alerts then). */
export function plainRecord(type: number, epoch: number, sequence: number, fragment: Buffer): Buffer {
  const out = Buffer.allocUnsafe(RECORD_HEADER + fragment.length);
  writeRecordHeader(out, 0, type, epoch, sequence, fragment.length);
  fragment.copy(out, RECORD_HEADER);
  return out;
}

export const AlertLevel = { Warning: 1, Fatal: 2 } as const;
export const AlertDescription = {
  CloseNotify: 0,
  UnexpectedMessage: 10,
  BadRecordMac: 20,
  HandshakeFailure: 40,
  BadCertificate: 42,
  UnsupportedCertificate: 43,
  CertificateExpired: 45,
  IllegalParameter: 47,
  UnknownCa: 48,
  DecodeError: 50,
  DecryptError: 51,
  ProtocolVersion: 70,
  InternalError: 80,
} as const;

export const alertBody = (level: number, description: number): Buffer => Buffer.from([level, description]);

/** A fatal alert to send, and why. */
export class DtlsAlert extends Error {
  constructor(
    readonly description: number,
    message: string,
  ) {
    super(message);
  }
}
