// A Redis subscriber to coturn's redis-statsdb channels, as an application watching a fleet has one.
import { Redis } from 'ioredis';
import type { Cleanups } from './cleanups.js';

export interface Published {
  readonly channel: string;
  readonly message: string;
}

export interface Subscriber {
  readonly messages: Published[];
  /** Resolves when a message on a channel matching `channel` has `message`; rejects after `timeoutMs`. */
  waitFor(channel: RegExp, message: RegExp, timeoutMs?: number): Promise<Published>;
}

/** psubscribe `turn/realm/*\/user/*\/allocation/*` (every allocation event); closed after the test. */
export async function subscribeToAllocations(cleanups: Cleanups, port: number): Promise<Subscriber> {
  const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => {});
  await client.connect();
  cleanups.push(async () => void client.disconnect());
  const messages: Published[] = [];
  const waiters = new Set<() => void>();
  client.on('pmessage', (_pattern: string, channel: string, message: string) => {
    messages.push({ channel, message });
    for (const w of waiters) w();
  });
  await client.psubscribe('turn/realm/*/user/*/allocation/*');
  return {
    messages,
    waitFor: (channel, message, timeoutMs = 20_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const found = messages.find((m) => channel.test(m.channel) && message.test(m.message));
          if (!found) return false;
          waiters.delete(look);
          clearTimeout(timer);
          resolve(found);
          return true;
        };
        const look = () => void check();
        const timer = setTimeout(() => {
          waiters.delete(look);
          reject(new Error(`no ${message} on ${channel} within ${timeoutMs} ms; got:\n${messages.map((m) => `${m.channel} ${m.message}`).join('\n')}`));
        }, timeoutMs);
        waiters.add(look);
        check();
      }),
  };
}

/** The sums of the "total_traffic/peer" messages of `user`'s allocations (published after "deleted"). */
export function peerTotals(messages: readonly Published[], user: string): Record<string, number> {
  const sums: Record<string, number> = { rcvp: 0, rcvb: 0, sentp: 0, sentb: 0 };
  for (const m of messages) {
    if (!m.channel.endsWith('/total_traffic/peer') || !m.channel.includes(`/user/${user}/`)) continue;
    for (const [, name, value] of m.message.matchAll(/(\w+)=(\d+)/g)) sums[name!]! += Number(value);
  }
  return sums;
}

/** Waits (bounded, 10 s) until `relayed` packets of `user` are in the totals of its deleted allocations; the totals then. */
export async function settledPeerTotals(sub: Subscriber, user: string, relayed: number): Promise<Record<string, number>> {
  for (let i = 0; i < 100 && peerTotals(sub.messages, user).sentp < relayed; i++) await new Promise((r) => setTimeout(r, 100));
  return peerTotals(sub.messages, user);
}
