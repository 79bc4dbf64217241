// What the relay bench prints once every row has run: the table and its legend, the retried
// and failed rows, each Turnpike's packets by worker, receive-queue drops, CPU waits, /proc's
// counters, and the ratios that compare like with like (bench/relay-bench.ts runs the rows).
import type { UclientResult } from '../test/support/coturn-tools.js';
import type { CpuModeShares } from './cpu-mode-samples.js';
import type { ProcCounters } from './proc-counters.js';
import { describeDrops, type DropFigures } from './udp-drops.js';
import { describeShares, type WorkerShares } from './worker-shares.js';

export type ServerKind = 'turnpike' | 'turnpike+prometheus' | 'turnpike+dgram' | 'turnpike+node-crypto' | 'turnpike+net-accept' | 'turnpike+node-write' | 'turnpike+node-tcp' | 'turnpike+node-tls' | 'turnpike+js-relay' | 'baseline' | 'coturn';
export interface ServerSpec { readonly kind: ServerKind; readonly threads: number }
export type Transport = 'udp' | 'tcp' | 'tcp-nocert' | 'tls' | 'dtls';
export const overStreams = (transport: Transport) => transport === 'tcp' || transport === 'tcp-nocert' || transport === 'tls';

export interface Row {
  server: string;
  spec: ServerSpec;
  transport: Transport;
  error?: string;
  r?: UclientResult;
  windowMs?: number;
  cpuSeconds?: number;
  scrapes?: number;
  scrapeCpuMs?: number;
  /** Turnpike only: relayed packets by worker, from the stopped server's log. */
  shares?: WorkerShares;
  /** The server outlived the 3 s after SIGTERM and was SIGKILLed: its log may lack ended lines. */
  killedAtStop?: boolean;
  /** Why each earlier attempt at this row failed (uclient's channel-number collision), in order. */
  retriedAfter?: string[];
  /** The server's main process while uclient ran: user/system CPU, TCP read/write calls. */
  counters?: ProcCounters;
  /** Datagrams dropped at full receive queues while uclient ran, by owner of the socket. */
  drops?: Map<string, DropFigures>;
  /** Seconds the server's and the echo peer's threads waited for a CPU while uclient ran. */
  waits?: { server: number; peer: number };
  /** With BENCH_CPU_SPLIT=perf: the server's CPU while uclient ran, sampled into user and kernel. */
  sampledModes?: CpuModeShares;
}

/** What the report needs of the run's configuration. */
export interface ReportContext {
  /** Nominal msgs/s each way once all clients run. */
  readonly offered: (transport: Transport) => number;
  readonly transports: readonly Transport[];
  readonly servers: readonly ServerSpec[];
  /** BENCH_RELAY_THREADS: the --prometheus comparison is made at this count. */
  readonly relayThreads: number;
}

export function printReport(rows: Row[], context: ReportContext): void {
  console.log('');
  printTable(rows, context);
  console.log(`
offered/s    nominal client->server msgs/s once every client is sending (clients*1000/interval);
             uclient staggers client starts by 1-6 s, so the average offered rate is lower.
sent/s, delivered/s  uclient's tot_send_msgs / tot_recv_msgs divided by the traffic window
             measured on our clock (last progress line with 0 sent -> first line with the final
             received count); the window is up to ~1 s loose at each end, so these understate.
peak recv/s  highest received rate between two consecutive uclient progress lines (~1 s apart).
loss %, avg RTT  uclient's own figures (its RTT has whole-millisecond resolution).
CPU µs/pkt   server user+system CPU (all threads and child processes, /proc) spent while uclient
             ran - including allocations and channel binds - divided by relayed packets =
             sent + received (client->peer and peer->client each count as one).
by worker    Turnpike's relayed packets per relay worker, from the allocation-ended log lines.
user + system  /proc's split of that CPU: the share of the kernel's ticks that landed in user code
             over the process's whole life, not this window; it overstates user time here
             (docs/performance.md). BENCH_CPU_SPLIT=perf adds a split sampled by perf.`);
  for (const row of rows) {
    row.retriedAfter?.forEach((why, i) => console.log(`\n${row.server}: attempt ${i + 1} failed and was retried: ${why}`));
  }
  for (const row of rows) if (row.error) console.log(`\n${row.server} FAILED: ${row.error}`);
  console.log('');
  printWorkerShares(rows);
  for (const row of rows.filter((r) => r.killedAtStop)) {
    console.log(`${row.server}: still running 3 s after SIGTERM, SIGKILLed${row.shares ? ': its log, and the shares above, may lack ended lines' : ''}`);
  }
  for (const row of rows.filter((r) => r.drops)) console.log(`${row.server}: receive-queue drops: ${describeDrops(row.drops!)}`);
  for (const row of rows.filter((r) => r.waits)) {
    console.log(`${row.server}: waited for a CPU while runnable: server threads ${row.waits!.server.toFixed(2)} s, echo peer ${row.waits!.peer.toFixed(2)} s`);
  }
  printProcCounters(rows);
  printComparisons(rows, context);
}

/** Highest received rate between two consecutive progress lines (about 1 s apart). */
function peakReceivedPerSecond(r: UclientResult): number | undefined {
  let peak: number | undefined;
  for (let i = 1; i < r.progress.length; i++) {
    const [a, b] = [r.progress[i - 1]!, r.progress[i]!];
    const dt = (b.atMs - a.atMs) / 1000;
    if (dt >= 0.5) peak = Math.max(peak ?? 0, (b.received - a.received) / dt);
  }
  return peak;
}

/** µs of server CPU per relayed packet; a round trip is 2 relayed packets (sent + received). */
const cpuPerPacketUs = (row: Row) =>
  row.r && row.cpuSeconds !== undefined && row.r.sent! + row.r.received! > 0
    ? (row.cpuSeconds * 1e6) / (row.r.sent! + row.r.received!) : undefined;

function fmt(n: number | null | undefined, digits = 0): string {
  return n === null || n === undefined || Number.isNaN(n) ? 'n/a' : n.toFixed(digits);
}

function printTable(rows: Row[], { offered }: ReportContext): void {
  const head = ['server', 'offered/s', 'window s', 'sent/s', 'delivered/s', 'peak recv/s', 'sent', 'recv', 'loss %',
    'avg RTT ms', 'CPU s', 'CPU µs/pkt'];
  const body = rows.map((row) => {
    if (!row.r || row.cpuSeconds === undefined) return [row.server, fmt(offered(row.transport)), 'FAILED', ...head.slice(3).map(() => '')];
    const w = row.windowMs ? row.windowMs / 1000 : undefined;
    return [row.server, fmt(offered(row.transport)), fmt(w, 1), fmt(w && row.r.sent! / w), fmt(w && row.r.received! / w),
      fmt(peakReceivedPerSecond(row.r)),
      String(row.r.sent), String(row.r.received), fmt(row.r.lossPercent, 3), fmt(row.r.avgRttMs, 2),
      fmt(row.cpuSeconds, 2), fmt(cpuPerPacketUs(row), 2)];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  for (const line of [head, ...body]) console.log(line.map((c, i) => c.padStart(widths[i]!)).join('  '));
}

/**
 * Where each row's CPU per packet goes: user and system apart, and the read-class and
 * write-class calls (TCP and TLS only: UDP's recvmsg/sendmsg are not counted by /proc/PID/io)
 * per message the client sent and per message it received, and the threads' context switches.
 */
function printProcCounters(rows: Row[]): void {
  for (const row of rows.filter((r) => r.counters && r.r?.sent && r.r.received)) {
    const c = row.counters!;
    const packets = row.r!.sent! + row.r!.received!;
    const streams = overStreams(row.transport)
      ? `, reads per sent msg ${(c.readCalls / row.r!.sent!).toFixed(2)}, writes per received msg ${(c.writeCalls / row.r!.received!).toFixed(2)}` : '';
    const sampled = row.sampledModes && row.cpuSeconds !== undefined
      ? `; sampled by perf (${row.sampledModes.samples} samples): user ${fmt((row.cpuSeconds * row.sampledModes.user * 1e6) / packets, 2)}`
        + ` + kernel ${fmt((row.cpuSeconds * row.sampledModes.kernel * 1e6) / packets, 2)} µs/pkt` : '';
    const switches = `; context switches per 100 pkts: voluntary (sleeps) ${fmt((c.voluntarySwitches * 100) / packets, 2)}`
      + `, involuntary ${fmt((c.involuntarySwitches * 100) / packets, 2)}`;
    console.log(`${row.server}: user ${fmt((c.user * 1e6) / packets, 2)} + system ${fmt((c.system * 1e6) / packets, 2)} µs/pkt (main process, /proc's tick split)${sampled}${streams}${switches}`);
  }
}

/** Each Turnpike row's packets by worker, and how much of uclient's sent + received the log accounts for. */
function printWorkerShares(rows: Row[]): void {
  for (const row of rows.filter((r) => r.shares && r.r)) {
    const s = row.shares!;
    const counted = row.r!.sent! + row.r!.received!;
    console.log(`${row.server}: relayed packets: ${describeShares(s)}; `
      + `${s.totalPackets} in the log = ${((s.totalPackets / counted) * 100).toFixed(1)} % of uclient's sent + received`);
  }
}

/** Like with like: Turnpike/coturn at equal relay-threads, Turnpike N threads/1 thread, metrics on/off. */
function printComparisons(rows: Row[], { transports, servers, relayThreads }: ReportContext): void {
  const find = (kind: ServerKind, threads: number, transport: Transport) =>
    rows.find((r) => r.spec.kind === kind && r.spec.threads === threads && r.transport === transport);
  const ratio = (x?: Row, y?: Row) => {
    const [a, b] = [x && cpuPerPacketUs(x), y && cpuPerPacketUs(y)];
    return a && b ? (a / b).toFixed(2) : 'n/a';
  };
  const threadCounts = [...new Set(servers.map((s) => s.threads))].sort((a, b) => a - b);
  for (const transport of transports) {
    for (const n of threadCounts) {
      for (const variant of ['turnpike+dgram', 'turnpike+node-crypto', 'turnpike+net-accept', 'turnpike+node-write', 'turnpike+node-tcp', 'turnpike+node-tls', 'turnpike+js-relay'] as const) {
        if (!find(variant, n, transport) || !find('coturn', n, transport)) continue;
        console.log(`CPU per relayed packet over ${transport}, relay-threads ${n}, Turnpike with ${variant.slice('turnpike+'.length)}/coturn: `
          + `${ratio(find(variant, n, transport), find('coturn', n, transport))}`);
      }
      if (!find('turnpike', n, transport) || !find('coturn', n, transport)) continue;
      console.log(`CPU per relayed packet over ${transport}, relay-threads ${n}, Turnpike/coturn: `
        + `${ratio(find('turnpike', n, transport), find('coturn', n, transport))}`);
      if (find('baseline', n, transport)) {
        console.log(`CPU per relayed packet over ${transport}, relay-threads ${n}, baseline/coturn: `
          + `${ratio(find('baseline', n, transport), find('coturn', n, transport))}, Turnpike/baseline: `
          + `${ratio(find('turnpike', n, transport), find('baseline', n, transport))}`);
      }
    }
    for (const n of threadCounts.filter((t) => t > 1)) {
      if (!find('turnpike', n, transport) || !find('turnpike', 1, transport)) continue;
      console.log(`CPU per relayed packet over ${transport}, Turnpike relay-threads ${n}/1: `
        + `${ratio(find('turnpike', n, transport), find('turnpike', 1, transport))}`);
    }
  }
  const tp = find('turnpike', relayThreads, transports[0]!);
  const a = tp && cpuPerPacketUs(tp);
  const withMetrics = find('turnpike+prometheus', relayThreads, transports[0]!);
  const m = withMetrics && cpuPerPacketUs(withMetrics);
  if (m && a) {
    console.log(`CPU per relayed packet with --prometheus (${withMetrics.scrapes} scrapes, 1/s) vs without: `
      + `${m.toFixed(2)} / ${a.toFixed(2)} µs (${(((m - a) / a) * 100).toFixed(1)} %, within run-to-run noise)`);
  }
  for (const row of rows.filter((r) => r.scrapeCpuMs !== undefined && r.cpuSeconds)) {
    const share = (row.scrapes! * row.scrapeCpuMs!) / (row.cpuSeconds! * 1000);
    console.log(`${row.server}: server CPU per scrape ${row.scrapeCpuMs!.toFixed(2)} ms (200 scrapes after the load); `
      + `${row.scrapes} scrapes = ${(share * 100).toFixed(2)} % of the CPU spent during the run`);
  }
}
