/**
 * A decoded STUN message: the header plus views of its raw attributes. Typed values are read
 * on demand (see attributes.ts), so a message costs one pass over its TLVs and no copies.
 */
import { AttributeType, HEADER_LENGTH, MAGIC_COOKIE, StunClass, isComprehensionRequired, KNOWN_ATTRIBUTES } from './constants.js';
import { crc32 } from './crc32.js';
import { malformed } from './errors.js';

export const FINGERPRINT_XOR = 0x5354554e;

export interface RawAttribute {
  readonly type: number;
  /** Offset of the value in `StunMessage.buffer`. */
  readonly offset: number;
  readonly length: number;
}

export interface StunMessage {
  /** Exactly the message's bytes (a view into the datagram or stream it arrived in). */
  readonly buffer: Buffer;
  readonly method: number;
  readonly cls: StunClass;
  readonly transactionId: Buffer;
  /** False for RFC 3489 clients, which send no magic cookie. */
  readonly hasMagicCookie: boolean;
  /** Attributes up to MESSAGE-INTEGRITY; of duplicates only the first is kept. */
  readonly attributes: ReadonlyMap<number, RawAttribute>;
  readonly messageIntegrity?: RawAttribute;
  readonly messageIntegritySha256?: RawAttribute;
  readonly fingerprint?: RawAttribute;
  /** Comprehension-required attribute types this server does not know (answer 420). */
  readonly unknownRequired: readonly number[];
}

export const messageType = (method: number, cls: StunClass): number =>
  (method & 0x000f) | ((method & 0x0070) << 1) | ((method & 0x0f80) << 2) | ((cls & 1) << 4) | ((cls & 2) << 7);

const methodOf = (type: number): number => (type & 0x000f) | ((type & 0x00e0) >> 1) | ((type & 0x3e00) >> 2);
const classOf = (type: number): StunClass => (((type >> 4) & 1) | ((type >> 7) & 2)) as StunClass;

/** RFC 7983: a first byte of 0-3 is STUN; 64-79 is TURN ChannelData. */
export const looksLikeStun = (data: Uint8Array): boolean => data.length >= HEADER_LENGTH && data[0]! < 4;

/**
 * Reads one STUN message that fills `data` exactly (a UDP datagram, or a frame the stream
 * framer cut). Throws StunDecodeError('drop') when it is not a well-formed STUN message.
 */
export function decodeMessage(data: Buffer): StunMessage {
  if (data.length < HEADER_LENGTH) throw malformed('shorter than a STUN header');
  const type = data.readUInt16BE(0);
  if (type & 0xc000) throw malformed('first two bits are not zero');
  const length = data.readUInt16BE(2);
  if (length % 4 !== 0) throw malformed('length is not a multiple of 4');
  if (HEADER_LENGTH + length !== data.length) throw malformed('length does not match the datagram');
  const hasMagicCookie = data.readUInt32BE(4) === MAGIC_COOKIE;
  const method = methodOf(type);
  const cls = classOf(type);

  const attributes = new Map<number, RawAttribute>();
  const unknownRequired: number[] = [];
  let messageIntegrity: RawAttribute | undefined;
  let messageIntegritySha256: RawAttribute | undefined;
  let fingerprint: RawAttribute | undefined;
  let offset = HEADER_LENGTH;
  while (offset < data.length) {
    if (offset + 4 > data.length) throw malformed('truncated attribute header');
    const attrType = data.readUInt16BE(offset);
    const attrLength = data.readUInt16BE(offset + 2);
    const valueOffset = offset + 4;
    if (valueOffset + attrLength > data.length) throw malformed('attribute overruns the message');
    const attr: RawAttribute = { type: attrType, offset: valueOffset, length: attrLength };
    offset = valueOffset + ((attrLength + 3) & ~3);
    if (fingerprint) throw malformed('attribute after FINGERPRINT');
    if (attrType === AttributeType.Fingerprint) {
      if (attrLength !== 4 || offset !== data.length) throw malformed('FINGERPRINT is not last or not 4 bytes');
      fingerprint = attr;
      continue;
    }
    if (attrType === AttributeType.MessageIntegritySha256) {
      if (!messageIntegritySha256) messageIntegritySha256 = attr;
      continue;
    }
    // RFC 8489 §14.5: everything after MESSAGE-INTEGRITY but the two above is ignored.
    if (messageIntegrity || messageIntegritySha256) continue;
    if (attrType === AttributeType.MessageIntegrity) {
      messageIntegrity = attr;
      continue;
    }
    if (attributes.has(attrType)) continue; // the first of duplicates wins
    attributes.set(attrType, attr);
    if (isComprehensionRequired(attrType) && !KNOWN_ATTRIBUTES.has(attrType)) unknownRequired.push(attrType);
  }
  if (fingerprint && !fingerprintMatches(data, fingerprint)) throw malformed('FINGERPRINT does not match');
  return {
    buffer: data,
    method,
    cls,
    transactionId: data.subarray(8, 20),
    hasMagicCookie,
    attributes,
    messageIntegrity,
    messageIntegritySha256,
    fingerprint,
    unknownRequired,
  };
}

function fingerprintMatches(data: Buffer, fingerprint: RawAttribute): boolean {
  const expected = (crc32(data, 0, fingerprint.offset - 4) ^ FINGERPRINT_XOR) >>> 0;
  return data.readUInt32BE(fingerprint.offset) === expected;
}

export const attributeValue = (message: StunMessage, attr: RawAttribute): Buffer =>
  message.buffer.subarray(attr.offset, attr.offset + attr.length);
