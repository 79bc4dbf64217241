// UDP sockets as the kernel lists them (/proc/net/udp, udp6): which are bound to an addr:port,
// which of those are connected, and to whom, and which process holds them. Linux only.
import fs from 'node:fs';
import net from 'node:net';
import type { TransportAddress } from '../../src/stun/ip.js';

const hex = (n: number, width: number) => n.toString(16).toUpperCase().padStart(width, '0');

/**
 * An addr:port as /proc/net/udp or udp6 writes it on little-endian hosts: 127.0.0.1:8080 is
 * "0100007F:1F90"; an IPv6 address is four 32-bit words, each with its bytes reversed.
 */
export function procAddress(address: string, port: number): string {
  if (!net.isIPv6(address)) return `${address.split('.').map(Number).reverse().map((b) => hex(b, 2)).join('')}:${hex(port, 4)}`;
  const bytes = ipv6Bytes(address);
  const words = [0, 4, 8, 12].map((at) => bytes.subarray(at, at + 4).reverse().toString('hex').toUpperCase());
  return `${words.join('')}:${hex(port, 4)}`;
}

function ipv6Bytes(address: string): Buffer {
  const [head, tail] = address.split('::') as [string, string | undefined];
  const groups = (text: string | undefined) => (text ? text.split(':') : []);
  const lastIsV4 = (address.split(':').at(-1) ?? '').includes('.');
  const v4 = lastIsV4 ? address.split(':').at(-1)!.split('.').map(Number) : [];
  const left = groups(head).filter((g) => !g.includes('.'));
  const right = groups(tail).filter((g) => !g.includes('.'));
  const missing = 8 - left.length - right.length - (lastIsV4 ? 2 : 0);
  const words = [...left, ...Array<string>(tail === undefined ? 0 : missing).fill('0'), ...right].map((g) => parseInt(g, 16));
  const bytes = Buffer.alloc(16);
  words.forEach((w, i) => bytes.writeUInt16BE(w, i * 2));
  v4.forEach((b, i) => (bytes[12 + i] = b));
  return bytes;
}

/** Inodes of the sockets process `pid` holds (all its threads share one table). */
function socketInodesOf(pid: number | 'self'): Set<string> {
  const inodes = new Set<string>();
  let fds: string[];
  try {
    fds = fs.readdirSync(`/proc/${pid}/fd`);
  } catch {
    return inodes; // gone
  }
  for (const fd of fds) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match) inodes.add(match[1]!);
    } catch {
      // closed meanwhile
    }
  }
  return inodes;
}

/** Every row of /proc/net/udp (or udp6) as its fields: [1] local, [2] remote, [9] inode. */
function udpRows(table: 'udp' | 'udp6'): string[][] {
  return fs.readFileSync(`/proc/net/${table}`, 'utf8').split('\n').slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields.length > 9);
}

/** The remote ends of this process's UDP sockets bound to `local` (IPv4): '00000000:0000' when unconnected. */
export function socketsOn(local: TransportAddress): string[] {
  const mine = procAddress(local.address, local.port);
  const own = socketInodesOf('self');
  return udpRows('udp').filter((fields) => fields[1] === mine && own.has(fields[9]!)).map((fields) => fields[2]!);
}

/**
 * Whether a datagram to host:port reaches process `pid` and no other: some socket bound there
 * (or to the wildcard address on that port) is pid's, and none is another's. A test's server
 * answers on a port that another process may have taken after it was found free; that
 * process answers too, and the server started there fails to bind (or, with SO_REUSEPORT,
 * shares the port).
 */
export function udpPortHeldOnlyBy(pid: number, host: string, port: number): boolean {
  const own = socketInodesOf(pid);
  const v6 = net.isIPv6(host);
  const reaching = new Set([procAddress(host, port), procAddress(v6 ? '::' : '0.0.0.0', port)]);
  const reaching6 = v6 ? reaching : new Set([procAddress('::', port), procAddress(`::ffff:${host}`, port)]);
  const inodes = [
    ...(v6 ? [] : udpRows('udp').filter((f) => reaching.has(f[1]!))),
    ...udpRows('udp6').filter((f) => reaching6.has(f[1]!)),
  ].map((f) => f[9]!);
  return inodes.length > 0 && inodes.every((inode) => own.has(inode));
}
