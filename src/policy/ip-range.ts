/** CIDR ranges over IPv4 and IPv6 addresses, as numbers (BigInt for IPv6: not on a hot path). */
import { ipv4ToBytes, ipv6ToBytes } from '../stun/ip.js';

export interface IpRange {
  readonly family: 4 | 6;
  readonly first: bigint;
  readonly last: bigint;
  readonly text: string;
}

export function ipToBigInt(address: string, family: 4 | 6): bigint {
  const bytes = family === 4 ? ipv4ToBytes(address) : ipv6ToBytes(address);
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  return n;
}

/** `a.b.c.d/len`, `x::/len`, a single address, or coturn's `first-last` range form. */
export function parseIpRange(text: string): IpRange {
  const trimmed = text.trim();
  const dash = trimmed.indexOf('-');
  if (dash > 0) {
    const firstText = trimmed.slice(0, dash);
    const lastText = trimmed.slice(dash + 1);
    const family = familyOf(firstText);
    if (familyOf(lastText) !== family) throw new RangeError(`range ends are of different families: ${text}`);
    const first = ipToBigInt(firstText, family);
    const last = ipToBigInt(lastText, family);
    if (last < first) throw new RangeError(`range ends in the wrong order: ${text}`);
    return { family, first, last, text: trimmed };
  }
  const slash = trimmed.indexOf('/');
  const addressText = slash >= 0 ? trimmed.slice(0, slash) : trimmed;
  const family = familyOf(addressText);
  const bits = family === 4 ? 32 : 128;
  const prefix = slash >= 0 ? Number(trimmed.slice(slash + 1)) : bits;
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > bits) throw new RangeError(`bad prefix length: ${text}`);
  const hostBits = BigInt(bits - prefix);
  const first = (ipToBigInt(addressText, family) >> hostBits) << hostBits;
  return { family, first, last: first + (1n << hostBits) - 1n, text: trimmed };
}

function familyOf(address: string): 4 | 6 {
  if (/^\d+\.\d+\.\d+\.\d+$/.test(address)) return 4;
  if (address.includes(':')) return 6;
  throw new RangeError(`not an IP address: ${address}`);
}

export const rangeContains = (range: IpRange, family: 4 | 6, value: bigint): boolean =>
  range.family === family && value >= range.first && value <= range.last;
