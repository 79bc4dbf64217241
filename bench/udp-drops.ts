// Where UDP datagrams were dropped while a bench ran: the kernel's per-socket `drops` (a full
// receive queue) and the deepest receive queue seen, from /proc/net/udp and udp6, sampled
// every few hundred ms and grouped by who owns the socket (server, peer, client), so that
// a loss uclient reports can be placed. A socket that closes between two samples keeps its
// last sampled figures, so these are lower bounds.
import fs from 'node:fs';

export interface UdpSocketRow {
  readonly inode: string;
  readonly localPort: number;
  /** 0 for an unconnected socket. */
  readonly remotePort: number;
  /** Bytes waiting in its receive queue. */
  readonly rxQueue: number;
  readonly drops: number;
}

/** Every UDP socket of this network namespace, as /proc/net/udp and udp6 list it. */
export function readUdpSockets(): UdpSocketRow[] {
  const rows: UdpSocketRow[] = [];
  for (const file of ['/proc/net/udp', '/proc/net/udp6']) {
    let text = '';
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 13) continue;
      const port = (address: string) => parseInt(address.split(':')[1]!, 16);
      rows.push({ inode: f[9]!, localPort: port(f[1]!), remotePort: port(f[2]!), rxQueue: parseInt(f[4]!.split(':')[1]!, 16), drops: Number(f[12]) });
    }
  }
  return rows;
}

export interface DropFigures {
  readonly sockets: number;
  readonly drops: number;
  readonly maxRxQueue: number;
}

/** Names the owner of a socket ('server', 'peer', …), or undefined for sockets not of this run. */
export type Classify = (row: UdpSocketRow) => string | undefined;

/**
 * Samples until stopped; drops are counted from each socket's first sample on (sockets that
 * already existed keep what they dropped before).
 */
export function startDropSampler(classify: Classify, intervalMs = 200): { stop(): Map<string, DropFigures> } {
  const seen = new Map<string, { owner: string; first: number; last: number; maxRx: number }>();
  const sample = (): void => {
    for (const row of readUdpSockets()) {
      const owner = classify(row);
      if (!owner) continue;
      const s = seen.get(row.inode);
      if (!s) seen.set(row.inode, { owner, first: row.drops, last: row.drops, maxRx: row.rxQueue });
      else {
        s.last = row.drops;
        s.maxRx = Math.max(s.maxRx, row.rxQueue);
      }
    }
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    stop: () => {
      clearInterval(timer);
      sample();
      const byOwner = new Map<string, DropFigures>();
      for (const s of seen.values()) {
        const f = byOwner.get(s.owner) ?? { sockets: 0, drops: 0, maxRxQueue: 0 };
        byOwner.set(s.owner, { sockets: f.sockets + 1, drops: f.drops + (s.last - s.first), maxRxQueue: Math.max(f.maxRxQueue, s.maxRx) });
      }
      return byOwner;
    },
  };
}

export function describeDrops(figures: Map<string, DropFigures>): string {
  return [...figures].map(([owner, f]) => `${owner} ${f.drops} dropped (${f.sockets} sockets, deepest queue ${f.maxRxQueue} B)`).join(', ');
}
