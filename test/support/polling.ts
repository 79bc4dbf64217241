// What the stream tests poll for: a condition within a bounded number of 20 ms rounds, and this
// process's open TCP sockets (a server in process must give back every descriptor it took).
import fs from 'node:fs';

/** `check` true within `rounds` × 20 ms (2 s by default); its last answer. */
export async function waitFor(check: () => boolean, rounds = 100): Promise<boolean> {
  for (let i = 0; i < rounds && !check(); i++) await new Promise((r) => setTimeout(r, 20));
  return check();
}

/** This process's TCP sockets: descriptors whose inode /proc/net/tcp or tcp6 lists. */
export function openTcpSockets(): number {
  const inodes = new Set(['tcp', 'tcp6'].flatMap((table) => fs.readFileSync(`/proc/net/${table}`, 'utf8').split('\n').slice(1).map((line) => line.trim().split(/\s+/)[9])));
  return fs.readdirSync('/proc/self/fd').filter((fd) => {
    try {
      const inode = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/self/fd/${fd}`))?.[1];
      return inode !== undefined && inodes.has(inode);
    } catch {
      return false; // closed meanwhile
    }
  }).length;
}
