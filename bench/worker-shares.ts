// Which relay worker relayed how many packets, read from outside: Turnpike's log.
//
// `/metrics` sums the workers (no worker label), so the bench reads the line each allocation
// logs when it ends: `relay worker K: allocation N ended (...) ... from client X pkts/... B,
// to client Y pkts/... B` (without the `relay worker K:` prefix with one thread). uclient ends
// its allocations with a Refresh of lifetime 0, and the rest end when the server stops, so
// once the server has exited every allocation has logged its final counts exactly once.

const ENDED_RE = /(?:relay worker (\d+): )?allocation \d+ ended \(.*?from client (\d+) pkts\/\d+ B, to client (\d+) pkts\//g;

export interface WorkerShares {
  /** Relayed packets (from client + to client) by worker index; index 0 with one thread. */
  readonly packetsByWorker: ReadonlyMap<number, number>;
  /** Allocations that logged their end, by worker index. */
  readonly allocationsByWorker: ReadonlyMap<number, number>;
  readonly totalPackets: number;
}

/** Adds up the `allocation ... ended` lines of a stopped server's log by worker. */
export function workerSharesFromLog(log: string): WorkerShares {
  const packetsByWorker = new Map<number, number>();
  const allocationsByWorker = new Map<number, number>();
  let totalPackets = 0;
  for (const m of log.matchAll(ENDED_RE)) {
    const worker = Number(m[1] ?? 0);
    const packets = Number(m[2]) + Number(m[3]);
    packetsByWorker.set(worker, (packetsByWorker.get(worker) ?? 0) + packets);
    allocationsByWorker.set(worker, (allocationsByWorker.get(worker) ?? 0) + 1);
    totalPackets += packets;
  }
  return { packetsByWorker, allocationsByWorker, totalPackets };
}

/** `worker 0 51.2 % (100 allocations), worker 1 48.8 % (...)`, workers in index order. */
export function describeShares(s: WorkerShares): string {
  return [...s.packetsByWorker.keys()].sort((a, b) => a - b)
    .map((w) => `worker ${w} ${((s.packetsByWorker.get(w)! / s.totalPackets) * 100).toFixed(1)} % `
      + `(${s.allocationsByWorker.get(w)} allocations)`)
    .join(', ');
}
