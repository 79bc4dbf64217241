/**
 * The PROXY protocol header (HAProxy's, versions 1 and 2) that a TCP load balancer puts in
 * front of a connection to say whose it is: `tcp-proxy-port`. Only a connection to that
 * port is read this way; anywhere else the header would let a client choose its address.
 */
import { isIP } from 'node:net';
import { bytesToIpv4, bytesToIpv6, canonicalIp, type TransportAddress } from '../stun/ip.js';

export type ProxyHeader =
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'invalid'; readonly reason: string }
  /** `client` is absent for v1 UNKNOWN and v2 LOCAL (a health check): use the socket's own peer. */
  | { readonly kind: 'complete'; readonly length: number; readonly client?: TransportAddress };

const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V1_PREFIX = Buffer.from('PROXY ');
/** The longest v1 line the specification allows, CRLF included. */
const V1_MAX = 107;
/** Addresses and TLVs past this are not from a load balancer we serve. */
const V2_MAX_BODY = 512;

/** Reads the header at the start of `data` (what has arrived so far). */
export function parseProxyHeader(data: Buffer): ProxyHeader {
  if (startsWith(data, V2_SIGNATURE)) return parseV2(data);
  if (startsWith(data, V1_PREFIX)) return parseV1(data);
  const beginning = (prefix: Buffer) => data.length < prefix.length && prefix.subarray(0, data.length).equals(data);
  return beginning(V2_SIGNATURE) || beginning(V1_PREFIX) ? { kind: 'incomplete' } : { kind: 'invalid', reason: 'no PROXY protocol header' };
}

function startsWith(data: Buffer, prefix: Buffer): boolean {
  return data.length >= prefix.length && data.subarray(0, prefix.length).equals(prefix);
}

function parseV1(data: Buffer): ProxyHeader {
  const end = data.indexOf('\r\n');
  if (end < 0) return data.length >= V1_MAX ? { kind: 'invalid', reason: 'PROXY v1 line too long' } : { kind: 'incomplete' };
  const length = end + 2;
  if (length > V1_MAX) return { kind: 'invalid', reason: 'PROXY v1 line too long' };
  const fields = data.toString('latin1', 0, end).split(' ');
  if (fields[1] === 'UNKNOWN') return { kind: 'complete', length };
  const [, protocol, source, , sourcePort] = fields;
  const family = protocol === 'TCP4' ? 4 : protocol === 'TCP6' ? 6 : undefined;
  const port = Number(sourcePort);
  if (fields.length !== 6 || family === undefined || isIP(source ?? '') !== family || !/^\d{1,5}$/.test(sourcePort ?? '') || port > 65535) {
    return { kind: 'invalid', reason: 'malformed PROXY v1 line' };
  }
  return { kind: 'complete', length, client: { family, address: canonicalIp(source!), port } };
}

function parseV2(data: Buffer): ProxyHeader {
  if (data.length < 16) return { kind: 'incomplete' };
  const versionCommand = data[12]!;
  const familyProtocol = data[13]!;
  const bodyLength = data.readUInt16BE(14);
  if (versionCommand >> 4 !== 2) return { kind: 'invalid', reason: 'PROXY v2 with another version' };
  if (bodyLength > V2_MAX_BODY) return { kind: 'invalid', reason: 'PROXY v2 header too long' };
  const length = 16 + bodyLength;
  if (data.length < length) return { kind: 'incomplete' };
  const command = versionCommand & 0x0f;
  if (command === 0) return { kind: 'complete', length }; // LOCAL: the balancer's own health check
  if (command !== 1) return { kind: 'invalid', reason: 'PROXY v2 with an unknown command' };
  const body = data.subarray(16, length);
  if (familyProtocol === 0x11 && body.length >= 12) {
    return { kind: 'complete', length, client: { family: 4, address: bytesToIpv4(body.subarray(0, 4)), port: body.readUInt16BE(8) } };
  }
  if (familyProtocol === 0x21 && body.length >= 36) {
    return { kind: 'complete', length, client: { family: 6, address: bytesToIpv6(body.subarray(0, 16)), port: body.readUInt16BE(32) } };
  }
  // UNSPEC, UNIX, or UDP over a TCP port: nothing we can use as a client address.
  return familyProtocol === 0x00 ? { kind: 'complete', length } : { kind: 'invalid', reason: 'PROXY v2 for neither TCP over IPv4 nor IPv6' };
}
