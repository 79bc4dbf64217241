/** Encodes STUN messages: attributes in order, then MESSAGE-INTEGRITY(-SHA256) and FINGERPRINT. */
import { randomBytes } from 'node:crypto';
import { AttributeType, ERROR_REASONS, HEADER_LENGTH, MAGIC_COOKIE, StunClass } from './constants.js';
import { crc32 } from './crc32.js';
import { computeIntegrity } from './integrity.js';
import { ipv4ToBytes, ipv6ToBytes, type TransportAddress } from './ip.js';
import { FINGERPRINT_XOR, messageType } from './message.js';

export interface SealOptions {
  /** Adds MESSAGE-INTEGRITY with this key. */
  readonly integrityKey?: Uint8Array;
  /** Adds MESSAGE-INTEGRITY-SHA256 with this key. */
  readonly integritySha256Key?: Uint8Array;
  readonly fingerprint?: boolean;
}

export const newTransactionId = (): Buffer => randomBytes(12);

/** Room for a typical answer's attributes (a 401, an Allocate success) before the body grows. */
const INITIAL_BODY = 160;

export class MessageBuilder {
  /**
   * The attributes as encoded so far, padding zeroed, in one buffer that doubles when full: one
   * allocation per message, where a Buffer per attribute (two with its value) was most of what
   * a 401 allocated, and a fresh client's first requests run before V8 optimises any of it away.
   */
  private body: Buffer = Buffer.allocUnsafe(INITIAL_BODY);
  /** Attribute values made only by build(): where each goes in the body, and its length. */
  private readonly deferred: { readonly at: number; readonly length: number; readonly make: () => Uint8Array }[] = [];
  private length = 0;
  /** The ERROR-CODE added, if any: what an error response says, for whoever counts them. */
  errorCode: number | undefined;

  constructor(
    readonly method: number,
    readonly cls: StunClass,
    readonly transactionId: Uint8Array = newTransactionId(),
    /** RFC 3489 requests carry 16 bytes of id in place of cookie + id; echo them as they came. */
    readonly cookie: Uint8Array | undefined = undefined,
  ) {}

  add(type: number, value: Uint8Array): this {
    const at = this.attribute(type, value.length);
    this.body.set(value, at);
    return this;
  }

  /**
   * An attribute whose value is made only if the message is built: its length is known now, so
   * encodedLength() can say what the message will cost before the work of making it is done.
   */
  addDeferred(type: number, length: number, make: () => Uint8Array): this {
    this.deferred.push({ at: this.attribute(type, length), length, make });
    return this;
  }

  /**
   * Appends the header of an attribute of `length` bytes and its zeroed padding; returns where
   * its value goes. It may replace `body`: read `this.body` only after calling it.
   */
  private attribute(type: number, length: number): number {
    const padded = (length + 3) & ~3;
    const start = this.length;
    const end = start + 4 + padded;
    if (end > this.body.length) {
      const grown = Buffer.allocUnsafe(Math.max(end, 2 * this.body.length));
      this.body.copy(grown, 0, 0, start);
      this.body = grown;
    }
    const body = this.body;
    body.writeUInt16BE(type, start);
    body.writeUInt16BE(length, start + 2);
    // At most three bytes: Buffer#fill allocated more than the loop costs.
    for (let i = start + 4 + length; i < end; i++) body[i] = 0;
    this.length = end;
    return start + 4;
  }

  addString(type: number, text: string): this {
    return this.add(type, Buffer.from(text, 'utf8'));
  }

  addUint32(type: number, value: number): this {
    const at = this.attribute(type, 4);
    this.body.writeUInt32BE(value >>> 0, at);
    return this;
  }

  /** REQUESTED-TRANSPORT, REQUESTED-ADDRESS-FAMILY and similar: a byte then three reserved. */
  addFirstByte(type: number, value: number): this {
    const at = this.attribute(type, 4);
    this.body.writeUInt32BE(((value & 0xff) << 24) >>> 0, at);
    return this;
  }

  addChannelNumber(channel: number): this {
    const at = this.attribute(AttributeType.ChannelNumber, 4);
    this.body.writeUInt32BE(((channel & 0xffff) << 16) >>> 0, at);
    return this;
  }

  addEvenPort(reserveNext: boolean): this {
    const at = this.attribute(AttributeType.EvenPort, 1);
    this.body[at] = reserveNext ? 0x80 : 0;
    return this;
  }

  addAddress(type: number, address: TransportAddress): this {
    const at = this.attribute(type, addressLength(address));
    encodeAddress(address, undefined, this.body, at);
    return this;
  }

  addXorAddress(type: number, address: TransportAddress): this {
    const at = this.attribute(type, addressLength(address));
    encodeAddress(address, this.transactionId, this.body, at);
    return this;
  }

  addErrorCode(code: number, reason: string = ERROR_REASONS[code] ?? ''): this {
    const at = this.attribute(AttributeType.ErrorCode, 4 + Buffer.byteLength(reason, 'utf8'));
    this.body.writeUInt32BE(Math.floor(code / 100) * 256 + (code % 100), at);
    this.body.write(reason, at + 4, 'utf8');
    this.errorCode = code;
    return this;
  }

  addUnknownAttributes(types: readonly number[]): this {
    const at = this.attribute(AttributeType.UnknownAttributes, types.length * 2);
    for (let i = 0; i < types.length; i++) this.body.writeUInt16BE(types[i]!, at + i * 2);
    return this;
  }

  /** The bytes build(options) will return. */
  encodedLength(options: SealOptions = {}): number {
    const sealLength = (options.integrityKey ? 24 : 0) + (options.integritySha256Key ? 36 : 0) + (options.fingerprint ? 8 : 0);
    return HEADER_LENGTH + this.length + sealLength;
  }

  /** The finished message. Integrity and fingerprint go last, in the order RFC 8489 requires. */
  build(options: SealOptions = {}): Buffer {
    const deferred = this.deferred;
    // Indexed loops: a for-of made an iterator and a result object a step in code not optimised yet.
    for (let i = 0; i < deferred.length; i++) {
      const { at, length, make } = deferred[i]!;
      const value = make();
      if (value.length !== length) throw new RangeError(`attribute 0x${this.body.readUInt16BE(at - 4).toString(16)}: made ${value.length} bytes, ${length} announced`);
      this.body.set(value, at);
    }
    deferred.length = 0;
    const message = Buffer.allocUnsafe(this.encodedLength(options));
    message.writeUInt16BE(messageType(this.method, this.cls), 0);
    if (this.cookie) message.set(this.cookie, 4);
    else message.writeUInt32BE(MAGIC_COOKIE, 4);
    message.set(this.transactionId, 8);
    let offset = HEADER_LENGTH + this.body.copy(message, HEADER_LENGTH, 0, this.length);
    offset = appendIntegrity(message, offset, 'sha1', options.integrityKey, AttributeType.MessageIntegrity);
    offset = appendIntegrity(message, offset, 'sha256', options.integritySha256Key, AttributeType.MessageIntegritySha256);
    if (options.fingerprint) {
      message.writeUInt16BE(offset + 8 - HEADER_LENGTH, 2);
      message.writeUInt16BE(AttributeType.Fingerprint, offset);
      message.writeUInt16BE(4, offset + 2);
      message.writeUInt32BE((crc32(message, 0, offset) ^ FINGERPRINT_XOR) >>> 0, offset + 4);
      offset += 8;
    }
    message.writeUInt16BE(offset - HEADER_LENGTH, 2);
    return message;
  }
}

function appendIntegrity(
  message: Buffer,
  offset: number,
  algorithm: 'sha1' | 'sha256',
  key: Uint8Array | undefined,
  type: number,
): number {
  if (!key) return offset;
  const digestLength = algorithm === 'sha1' ? 20 : 32;
  const digest = computeIntegrity(algorithm, key, message, offset, digestLength);
  message.writeUInt16BE(type, offset);
  message.writeUInt16BE(digestLength, offset + 2);
  digest.copy(message, offset + 4);
  return offset + 4 + digestLength;
}

const addressLength = (address: TransportAddress): number => (address.family === 6 ? 20 : 8);

/** The address's value at `at` in `out` (RFC 8489 §14.1), XOR'd with cookie and `transactionId` when given (§14.2). */
function encodeAddress(address: TransportAddress, transactionId: Uint8Array | undefined, out: Buffer, at: number): void {
  const v6 = address.family === 6;
  out[at] = 0;
  out[at + 1] = v6 ? 2 : 1;
  out.writeUInt16BE(address.port ^ (transactionId ? MAGIC_COOKIE >>> 16 : 0), at + 2);
  if (v6) ipv6ToBytes(address.address, out, at + 4);
  else ipv4ToBytes(address.address, out, at + 4);
  if (!transactionId) return;
  out.writeUInt32BE((out.readUInt32BE(at + 4) ^ MAGIC_COOKIE) >>> 0, at + 4);
  for (let i = 8; i < addressLength(address); i++) out[at + i]! ^= transactionId[i - 8]!;
}
