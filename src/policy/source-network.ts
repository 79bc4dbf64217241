/**
 * What counts as one source for the reply budget and the DTLS handshake caps: an IPv4 address, or an IPv6 /64 (one
 * subscriber's network, whose 2^64 addresses a spoofer could otherwise walk through, each
 * one a fresh source; its hosts share a budget as hosts behind one IPv4 NAT do).
 */
import { bytesToIpv4, ipv6ToBytes } from '../stun/ip.js';

export function sourceNetwork(address: string): string {
  if (!address.includes(':')) return address;
  const b = ipv6ToBytes(address);
  // ::ffff:a.b.c.d, a client of a dual-stack socket, is that IPv4 address.
  if (b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) return bytesToIpv4(b, 12);
  return `${Buffer.from(b.subarray(0, 8)).toString('hex')}/64`;
}
