/**
 * IP address text <-> bytes, without the network. Formatting follows libuv's inet_ntop (what
 * Node puts in `rinfo.address`), so an address decoded from an attribute and one reported by a
 * socket are the same string and can be compared or used as map keys directly.
 */
import { isIPv4, isIPv6 } from 'node:net';

export type IpFamily = 4 | 6;

export interface TransportAddress {
  readonly family: IpFamily;
  readonly address: string;
  readonly port: number;
}

export function ipFamily(address: string): IpFamily | undefined {
  if (isIPv4(address)) return 4;
  if (isIPv6(address)) return 6;
  return undefined;
}

export function ipv4ToBytes(address: string, out: Uint8Array = new Uint8Array(4), offset = 0): Uint8Array {
  const parts = address.split('.');
  if (parts.length !== 4) throw new RangeError(`not an IPv4 address: ${address}`);
  for (let i = 0; i < 4; i++) {
    const n = Number(parts[i]);
    if (!/^\d{1,3}$/.test(parts[i]!) || n > 255) throw new RangeError(`not an IPv4 address: ${address}`);
    out[offset + i] = n;
  }
  return out;
}

export function ipv6ToBytes(address: string, out: Uint8Array = new Uint8Array(16), offset = 0): Uint8Array {
  if (!isIPv6(address)) throw new RangeError(`not an IPv6 address: ${address}`);
  let text = address;
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  if (text.includes('.')) {
    // Rewrite a dotted IPv4 tail as two hex words, so one parser handles every form.
    const colon = text.lastIndexOf(':');
    const v4 = ipv4ToBytes(text.slice(colon + 1));
    const hi = ((v4[0]! << 8) | v4[1]!).toString(16);
    const lo = ((v4[2]! << 8) | v4[3]!).toString(16);
    text = `${text.slice(0, colon + 1)}${hi}:${lo}`;
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const parse = (s: string | undefined): number[] => (s ? s.split(':').filter((w) => w !== '').map((w) => parseInt(w, 16)) : []);
  const headWords = parse(head);
  const restWords = parse(rest);
  const words = [...headWords];
  if (rest !== undefined) for (let i = headWords.length + restWords.length; i < 8; i++) words.push(0);
  words.push(...restWords);
  if (words.length !== 8) throw new RangeError(`not an IPv6 address: ${address}`);
  for (let i = 0; i < 8; i++) {
    out[offset + 2 * i] = words[i]! >> 8;
    out[offset + 2 * i + 1] = words[i]! & 0xff;
  }
  return out;
}

export function ipToBytes(address: string): Uint8Array {
  return isIPv4(address) ? ipv4ToBytes(address) : ipv6ToBytes(address);
}

export function bytesToIpv4(bytes: Uint8Array, offset = 0): string {
  return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
}

/** RFC 5952 text as libuv's inet_ntop6 writes it (ISC algorithm, dotted tail for ::ffff:a.b.c.d). */
export function bytesToIpv6(bytes: Uint8Array, offset = 0): string {
  const words = new Array<number>(8);
  for (let i = 0; i < 8; i++) words[i] = (bytes[offset + 2 * i]! << 8) | bytes[offset + 2 * i + 1]!;
  let bestBase = -1;
  let bestLen = 0;
  let curBase = -1;
  let curLen = 0;
  for (let i = 0; i < 8; i++) {
    if (words[i] === 0) {
      if (curBase === -1) {
        curBase = i;
        curLen = 1;
      } else curLen++;
    } else if (curBase !== -1) {
      if (bestBase === -1 || curLen > bestLen) [bestBase, bestLen] = [curBase, curLen];
      curBase = -1;
    }
  }
  if (curBase !== -1 && (bestBase === -1 || curLen > bestLen)) [bestBase, bestLen] = [curBase, curLen];
  if (bestBase !== -1 && bestLen < 2) bestBase = -1;
  let text = '';
  for (let i = 0; i < 8; i++) {
    if (bestBase !== -1 && i >= bestBase && i < bestBase + bestLen) {
      if (i === bestBase) text += ':';
      continue;
    }
    if (i !== 0) text += ':';
    if (i === 6 && bestBase === 0 && (bestLen === 6 || (bestLen === 5 && words[5] === 0xffff))) {
      return text + bytesToIpv4(bytes, offset + 12);
    }
    text += words[i]!.toString(16);
  }
  if (bestBase !== -1 && bestBase + bestLen === 8) text += ':';
  return text;
}

/** Canonical text of any IP address, as a socket would report it. */
export function canonicalIp(address: string): string {
  return isIPv4(address) ? bytesToIpv4(ipv4ToBytes(address)) : bytesToIpv6(ipv6ToBytes(address));
}

export function formatTransportAddress(a: { address: string; port: number }): string {
  return a.address.includes(':') ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}
