/**
 * The web admin's traffic history: every few seconds it reads what `turnpike admin stats` and
 * `sessions` read (the counters /metrics serves, across every relay worker) and keeps an hour
 * of points: relayed bits per second in total and by client transport, allocations by
 * transport, and each session's current bit rate. Nothing is counted twice: it only reads.
 */
import type { ServerControl, SessionReport } from '../control/server-control.js';

export const TRANSPORTS = ['udp', 'tcp', 'tls', 'dtls'] as const;
type Transport = (typeof TRANSPORTS)[number];
type ByTransport = Record<Transport, number>;

export interface TrafficPoint {
  /** ms since the epoch. */
  readonly at: number;
  /** Relayed bits per second, both ways, from the engine's relayed byte counters. */
  readonly bitsPerSecond: number;
  /** The same, by client transport, from the live sessions' byte counters. */
  readonly bitsPerSecondBy: ByTransport;
  readonly allocationsBy: ByTransport;
}

/** The refusals an operator watches for, by error code: the engine's errorResponses. */
export const REFUSALS: Readonly<Record<string, string>> = {
  '401': 'unauthorized (wrong or missing credentials)',
  '403': 'forbidden (peer policy)',
  '486': 'allocation quota reached',
  '508': 'no relay port free',
};

const HOUR_MS = 3_600_000;
const sessionBytes = (s: SessionReport): number => s.bytesFromClient + s.bytesToClient;
const zeros = (): ByTransport => ({ udp: 0, tcp: 0, tls: 0, dtls: 0 });

export class TrafficSampler {
  private readonly points: TrafficPoint[] = [];
  private previous: { at: number; relayedBytes: number; sessions: Map<number, number> } | undefined;
  private readonly rates = new Map<number, number>();
  private latestStats: Record<string, number> = {};
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly control: Pick<ServerControl, 'stats' | 'sessions'>,
    readonly intervalMs = 5000,
  ) {}

  start(): void {
    void this.sample();
    this.timer = setInterval(() => void this.sample(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  history(): readonly TrafficPoint[] {
    return this.points;
  }

  /** The session's bits per second over the last interval (0 before its second sample). */
  rateOf(id: number): number {
    return this.rates.get(id) ?? 0;
  }

  refusals(): Record<string, number> {
    return Object.fromEntries(Object.keys(REFUSALS).map((code) => [code, this.latestStats[`errorResponses.${code}`] ?? 0]));
  }

  async sample(): Promise<void> {
    let stats: Record<string, number>;
    let sessions: SessionReport[];
    try {
      [stats, sessions] = await Promise.all([this.control.stats(), this.control.sessions()]);
    } catch {
      return; // a worker restarting: the next sample reads again
    }
    const at = Date.now();
    const relayedBytes = (stats.relayedToPeerBytes ?? 0) + (stats.relayedToClientBytes ?? 0);
    const bytes = new Map(sessions.map((s) => [s.id, sessionBytes(s)]));
    const previous = this.previous;
    this.previous = { at, relayedBytes, sessions: bytes };
    this.latestStats = stats;
    if (!previous) return;
    const seconds = Math.max(0.001, (at - previous.at) / 1000);
    const bitsPerSecondBy = zeros();
    this.rates.clear();
    for (const s of sessions) {
      const before = previous.sessions.get(s.id);
      const rate = before === undefined ? 0 : (8 * Math.max(0, sessionBytes(s) - before)) / seconds;
      this.rates.set(s.id, rate);
      bitsPerSecondBy[s.transport] += rate;
    }
    const allocationsBy = zeros();
    for (const transport of TRANSPORTS) allocationsBy[transport] = stats[`allocations.${transport}`] ?? 0;
    this.points.push({ at, bitsPerSecond: (8 * Math.max(0, relayedBytes - previous.relayedBytes)) / seconds, bitsPerSecondBy, allocationsBy });
    while (this.points.length > 0 && (this.points[0]?.at ?? at) < at - HOUR_MS) this.points.shift();
  }
}

/** Users by bytes relayed in their live sessions, and their current bit rate. */
export function topUsers(sessions: readonly (SessionReport & { bitsPerSecond: number })[], count = 10): { user: string; realm: string; bytes: number; bitsPerSecond: number; sessions: number }[] {
  const byUser = new Map<string, { user: string; realm: string; bytes: number; bitsPerSecond: number; sessions: number }>();
  for (const s of sessions) {
    const key = `${s.realm}\u0000${s.user}`;
    const row = byUser.get(key) ?? { user: s.user, realm: s.realm, bytes: 0, bitsPerSecond: 0, sessions: 0 };
    row.bytes += sessionBytes(s);
    row.bitsPerSecond += s.bitsPerSecond;
    row.sessions += 1;
    byUser.set(key, row);
  }
  return [...byUser.values()].sort((a, b) => b.bytes - a.bytes).slice(0, count);
}
