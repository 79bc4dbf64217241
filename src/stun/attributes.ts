/** Typed readers of attribute values. Each throws StunDecodeError('bad-request') when malformed. */
import { AddressFamily, MAGIC_COOKIE } from './constants.js';
import { badAttribute } from './errors.js';
import { bytesToIpv4, bytesToIpv6, type TransportAddress } from './ip.js';
import type { RawAttribute, StunMessage } from './message.js';

const COOKIE_HIGH = MAGIC_COOKIE >>> 16;

export const hasAttribute = (message: StunMessage, type: number): boolean => message.attributes.has(type);

function valueOf(message: StunMessage, type: number): RawAttribute | undefined {
  return message.attributes.get(type);
}

/** MAPPED-ADDRESS, ALTERNATE-SERVER and other plain addresses. */
export function readAddress(message: StunMessage, type: number): TransportAddress | undefined {
  const attr = valueOf(message, type);
  return attr && decodeAddress(message.buffer, attr, undefined);
}

/** XOR-MAPPED-ADDRESS, XOR-PEER-ADDRESS, XOR-RELAYED-ADDRESS (RFC 8489 §14.2). */
export function readXorAddress(message: StunMessage, type: number): TransportAddress | undefined {
  const attr = valueOf(message, type);
  return attr && decodeAddress(message.buffer, attr, message.buffer.subarray(4, 20));
}

/** Every instance of an XOR address attribute (CreatePermission may carry several). */
export function readAllXorAddresses(message: StunMessage, type: number): TransportAddress[] {
  const found: TransportAddress[] = [];
  const buffer = message.buffer;
  const mask = buffer.subarray(4, 20);
  const end = message.messageIntegrity?.offset ?? message.messageIntegritySha256?.offset ?? buffer.length;
  for (let offset = 20; offset + 4 <= end; ) {
    const attrType = buffer.readUInt16BE(offset);
    const length = buffer.readUInt16BE(offset + 2);
    if (attrType === type) found.push(decodeAddress(buffer, { type, offset: offset + 4, length }, mask));
    offset += 4 + ((length + 3) & ~3);
  }
  return found;
}

function decodeAddress(buffer: Buffer, attr: RawAttribute, xorMask: Buffer | undefined): TransportAddress {
  const { offset, length } = attr;
  if (length < 4) throw badAttribute('address attribute too short');
  const family = buffer[offset + 1];
  const rawPort = buffer.readUInt16BE(offset + 2);
  const port = xorMask ? rawPort ^ COOKIE_HIGH : rawPort;
  if (family === AddressFamily.IPv4) {
    if (length !== 8) throw badAttribute('IPv4 address attribute is not 8 bytes');
    const bytes = Buffer.allocUnsafe(4);
    for (let i = 0; i < 4; i++) bytes[i] = buffer[offset + 4 + i]! ^ (xorMask ? xorMask[i]! : 0);
    return { family: 4, address: bytesToIpv4(bytes), port };
  }
  if (family === AddressFamily.IPv6) {
    if (length !== 20) throw badAttribute('IPv6 address attribute is not 20 bytes');
    const bytes = Buffer.allocUnsafe(16);
    for (let i = 0; i < 16; i++) bytes[i] = buffer[offset + 4 + i]! ^ (xorMask ? xorMask[i]! : 0);
    return { family: 6, address: bytesToIpv6(bytes), port };
  }
  throw badAttribute(`unknown address family ${family}`);
}

/** UTF-8 text attributes; `maxBytes` is the RFC's limit (USERNAME 513, REALM/NONCE/SOFTWARE 763). */
export function readString(message: StunMessage, type: number, maxBytes: number): string | undefined {
  const attr = valueOf(message, type);
  if (!attr) return undefined;
  if (attr.length > maxBytes) throw badAttribute(`attribute 0x${type.toString(16)} longer than ${maxBytes} bytes`);
  return message.buffer.toString('utf8', attr.offset, attr.offset + attr.length);
}

export function readBytes(message: StunMessage, type: number): Buffer | undefined {
  const attr = valueOf(message, type);
  return attr && message.buffer.subarray(attr.offset, attr.offset + attr.length);
}

export function readUint32(message: StunMessage, type: number): number | undefined {
  const attr = valueOf(message, type);
  if (!attr) return undefined;
  if (attr.length !== 4) throw badAttribute(`attribute 0x${type.toString(16)} is not 4 bytes`);
  return message.buffer.readUInt32BE(attr.offset);
}

/** Attributes whose meaning is the first byte of a 4-byte value (REQUESTED-TRANSPORT, -ADDRESS-FAMILY). */
export function readFirstByte(message: StunMessage, type: number, expectedLength = 4): number | undefined {
  const attr = valueOf(message, type);
  if (!attr) return undefined;
  if (attr.length !== expectedLength) throw badAttribute(`attribute 0x${type.toString(16)} has length ${attr.length}`);
  return message.buffer[attr.offset]!;
}

/** CHANNEL-NUMBER: a 16-bit number followed by 16 reserved bits. */
export function readChannelNumber(message: StunMessage, type: number): number | undefined {
  const attr = valueOf(message, type);
  if (!attr) return undefined;
  if (attr.length !== 4) throw badAttribute('CHANNEL-NUMBER is not 4 bytes');
  return message.buffer.readUInt16BE(attr.offset);
}

/** EVEN-PORT: one byte whose high bit asks to reserve the next port. */
export function readEvenPort(message: StunMessage, type: number): { reserveNext: boolean } | undefined {
  const attr = valueOf(message, type);
  if (!attr) return undefined;
  if (attr.length !== 1 && attr.length !== 4) throw badAttribute('EVEN-PORT has a wrong length');
  return { reserveNext: (message.buffer[attr.offset]! & 0x80) !== 0 };
}

export interface ErrorCodeValue {
  readonly code: number;
  readonly reason: string;
}

export function readErrorCode(message: StunMessage, type: number): ErrorCodeValue | undefined {
  const attr = valueOf(message, type);
  if (!attr) return undefined;
  if (attr.length < 4 || attr.length > 763 + 4) throw badAttribute('ERROR-CODE has a wrong length');
  const b = message.buffer;
  const code = (b[attr.offset + 2]! & 0x07) * 100 + b[attr.offset + 3]!;
  return { code, reason: b.toString('utf8', attr.offset + 4, attr.offset + attr.length) };
}

export function readUnknownAttributes(message: StunMessage, type: number): number[] | undefined {
  const attr = valueOf(message, type);
  if (!attr) return undefined;
  if (attr.length % 2 !== 0) throw badAttribute('UNKNOWN-ATTRIBUTES has an odd length');
  const types: number[] = [];
  for (let i = 0; i < attr.length; i += 2) types.push(message.buffer.readUInt16BE(attr.offset + i));
  return types;
}

export interface PasswordAlgorithmValue {
  readonly algorithm: number;
  readonly parameters: Buffer;
}

/** PASSWORD-ALGORITHMS (a list) or PASSWORD-ALGORITHM (one), RFC 8489 §14.11-12. */
export function readPasswordAlgorithms(message: StunMessage, type: number): PasswordAlgorithmValue[] | undefined {
  const attr = valueOf(message, type);
  if (!attr) return undefined;
  const b = message.buffer;
  const end = attr.offset + attr.length;
  const list: PasswordAlgorithmValue[] = [];
  for (let offset = attr.offset; offset < end; ) {
    if (offset + 4 > end) throw badAttribute('truncated password algorithm');
    const algorithm = b.readUInt16BE(offset);
    const length = b.readUInt16BE(offset + 2);
    if (offset + 4 + length > end) throw badAttribute('password algorithm parameters overrun');
    list.push({ algorithm, parameters: b.subarray(offset + 4, offset + 4 + length) });
    offset += 4 + ((length + 3) & ~3);
  }
  return list;
}
