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

export class MessageBuilder {
  private readonly chunks: Buffer[] = [];
  /** Attribute values made only by build(), each with the chunk it goes into. */
  private readonly deferred: { readonly chunk: Buffer; readonly make: () => Uint8Array }[] = [];
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
    const padded = (value.length + 3) & ~3;
    const chunk = Buffer.alloc(4 + padded);
    chunk.writeUInt16BE(type, 0);
    chunk.writeUInt16BE(value.length, 2);
    chunk.set(value, 4);
    this.chunks.push(chunk);
    this.length += chunk.length;
    return this;
  }

  /**
   * An attribute whose value is made only if the message is built: its length is known now, so
   * encodedLength() can say what the message will cost before the work of making it is done.
   */
  addDeferred(type: number, length: number, make: () => Uint8Array): this {
    const chunk = Buffer.alloc(4 + ((length + 3) & ~3));
    chunk.writeUInt16BE(type, 0);
    chunk.writeUInt16BE(length, 2);
    this.deferred.push({ chunk, make });
    this.chunks.push(chunk);
    this.length += chunk.length;
    return this;
  }

  addString(type: number, text: string): this {
    return this.add(type, Buffer.from(text, 'utf8'));
  }

  addUint32(type: number, value: number): this {
    const b = Buffer.allocUnsafe(4);
    b.writeUInt32BE(value >>> 0, 0);
    return this.add(type, b);
  }

  /** REQUESTED-TRANSPORT, REQUESTED-ADDRESS-FAMILY and similar: a byte then three reserved. */
  addFirstByte(type: number, value: number): this {
    return this.add(type, Buffer.from([value, 0, 0, 0]));
  }

  addChannelNumber(channel: number): this {
    return this.add(AttributeType.ChannelNumber, Buffer.from([channel >> 8, channel & 0xff, 0, 0]));
  }

  addEvenPort(reserveNext: boolean): this {
    return this.add(AttributeType.EvenPort, Buffer.from([reserveNext ? 0x80 : 0]));
  }

  addAddress(type: number, address: TransportAddress): this {
    return this.add(type, encodeAddress(address, undefined));
  }

  addXorAddress(type: number, address: TransportAddress): this {
    const mask = Buffer.allocUnsafe(16);
    mask.writeUInt32BE(MAGIC_COOKIE, 0);
    mask.set(this.transactionId, 4);
    return this.add(type, encodeAddress(address, mask));
  }

  addErrorCode(code: number, reason: string = ERROR_REASONS[code] ?? ''): this {
    const text = Buffer.from(reason, 'utf8');
    const value = Buffer.alloc(4 + text.length);
    value[2] = Math.floor(code / 100);
    value[3] = code % 100;
    text.copy(value, 4);
    this.errorCode = code;
    return this.add(AttributeType.ErrorCode, value);
  }

  addUnknownAttributes(types: readonly number[]): this {
    const value = Buffer.allocUnsafe(types.length * 2);
    types.forEach((t, i) => value.writeUInt16BE(t, i * 2));
    return this.add(AttributeType.UnknownAttributes, value);
  }

  /** The bytes build(options) will return. */
  encodedLength(options: SealOptions = {}): number {
    const sealLength = (options.integrityKey ? 24 : 0) + (options.integritySha256Key ? 36 : 0) + (options.fingerprint ? 8 : 0);
    return HEADER_LENGTH + this.length + sealLength;
  }

  /** The finished message. Integrity and fingerprint go last, in the order RFC 8489 requires. */
  build(options: SealOptions = {}): Buffer {
    for (const { chunk, make } of this.deferred.splice(0)) {
      const value = make();
      if (value.length !== chunk.readUInt16BE(2)) throw new RangeError(`attribute 0x${chunk.readUInt16BE(0).toString(16)}: made ${value.length} bytes, ${chunk.readUInt16BE(2)} announced`);
      chunk.set(value, 4);
    }
    const message = Buffer.allocUnsafe(this.encodedLength(options));
    message.writeUInt16BE(messageType(this.method, this.cls), 0);
    if (this.cookie) message.set(this.cookie, 4);
    else message.writeUInt32BE(MAGIC_COOKIE, 4);
    message.set(this.transactionId, 8);
    let offset = HEADER_LENGTH;
    for (const chunk of this.chunks) offset += chunk.copy(message, offset);
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

function encodeAddress(address: TransportAddress, mask: Buffer | undefined): Buffer {
  const v6 = address.family === 6;
  const value = Buffer.alloc(v6 ? 20 : 8);
  value[1] = v6 ? 2 : 1;
  value.writeUInt16BE(address.port ^ (mask ? MAGIC_COOKIE >>> 16 : 0), 2);
  if (v6) ipv6ToBytes(address.address, value, 4);
  else ipv4ToBytes(address.address, value, 4);
  if (mask) for (let i = 4; i < value.length; i++) value[i]! ^= mask[i - 4]!;
  return value;
}
