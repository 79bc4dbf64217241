// This process's UDP sockets as the kernel lists them (/proc/net/udp): which are bound to an
// addr:port, and which of those are connected, and to whom. Linux only.
import fs from 'node:fs';
import type { TransportAddress } from '../../src/stun/ip.js';

/** IPv4 "0100007F:1F90" (as /proc/net/udp writes 127.0.0.1:8080 on little-endian hosts). */
export function procAddress(address: string, port: number): string {
  const bytes = address.split('.').map(Number).reverse();
  const hex = (n: number, width: number) => n.toString(16).toUpperCase().padStart(width, '0');
  return `${bytes.map((b) => hex(b, 2)).join('')}:${hex(port, 4)}`;
}

/** Inodes of this process's sockets (so that other processes' sockets never count). */
function ownSocketInodes(): Set<string> {
  const inodes = new Set<string>();
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/self/fd/${fd}`));
      if (match) inodes.add(match[1]!);
    } catch {
      // closed meanwhile
    }
  }
  return inodes;
}

/** The remote ends of this process's UDP sockets bound to `local` (IPv4): '00000000:0000' when unconnected. */
export function socketsOn(local: TransportAddress): string[] {
  const mine = procAddress(local.address, local.port);
  const own = ownSocketInodes();
  return fs.readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields[1] === mine && own.has(fields[9]!))
    .map((fields) => fields[2]!);
}
