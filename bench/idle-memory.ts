// Idle-allocation memory: Turnpike vs coturn in ONE run (issue 15: "RSS per idle allocation
// with 5,000 allocations"). Run: npm run bench:memory  (builds Turnpike's dist first)
//
// For each server, BENCH_RUNS times (default 3), a fresh server process with the same flags
// (long-term user, realm, UDP only, a relay range below the OS's ephemeral ports): its RSS
// idle, then BENCH_ALLOCATIONS (default 5,000) allocations are made from one socket each
// (bench/idle-allocations.ts: 401 challenge, Allocate with LIFETIME 3600, one ChannelBind)
// and held idle, and its RSS again. Printed: (RSS held - RSS idle) / allocations made, as
// bytes per idle allocation, each run and the range, and the Turnpike/coturn ratios.
// Servers (BENCH_SERVERS, comma list): turnpike (--relay-threads 1); turnpike+heap (the same with --prometheus,
// to read V8's heap used from nodejs_heap_size_used_bytes); coturn-m1 (coturn 4.6.1 with
// --relay-threads 1); coturn (its default relay threads: one per CPU).
// BENCH_HEAP_SNAPSHOT_DIR: Turnpike writes a heap snapshot there while it holds the
// allocations, in the last run (node --heapsnapshot-signal), to see what they are made of.
import fs from 'node:fs';
import path from 'node:path';
import { startCoturn } from '../test/support/coturn-tools.js';
import { freePortRange, freeTcpPort, freeUdpPort, freeUdpTcpPort } from '../test/support/ports.js';
import { PEER_HOST } from '../test/support/turn-client.js';
import { startTurnpike } from '../test/support/turnpike-process.js';
import { holdIdleAllocations, type IdleAllocations } from './idle-allocations.js';
import { ensureOpenFiles, openFileCount, residentMemory, threadCount, type ResidentMemory } from './process-memory.js';
import { envInt } from './env.js';
import { runMain } from './run-main.js';

const HOST = '127.0.0.1';
const USER = { username: 'bench', password: 'benchpass' };
const REALM = 'bench.example';
const ALLOCATIONS = envInt('BENCH_ALLOCATIONS', 5000);
const RUNS = envInt('BENCH_RUNS', 3);
const IN_FLIGHT = envInt('BENCH_IN_FLIGHT', 100);
const SERVERS = (process.env.BENCH_SERVERS ?? 'turnpike,turnpike+heap,coturn-m1,coturn').split(',').map((s) => s.trim());
const SNAPSHOT_DIR = process.env.BENCH_HEAP_SNAPSHOT_DIR;
/** Room for random relay ports to be found quickly however full the range gets. */
const RELAY_PORTS = Math.max(1000, Math.ceil(ALLOCATIONS * 2.2));
/**
 * Relay ranges start lower than other tests' (20000) and end below the ephemeral ports that
 * the client sockets are given, so that thousands of consecutive ports are found free.
 */
const RELAY_SPAN = { from: 10000, below: Number(fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) };
const LIFETIME = 3600;
/**
 * A bound on a stuck run: about 20 allocations a second is far slower than either server. At
 * most 4 minutes, so that no permission (300 s) has expired when the held RSS is read.
 */
const ALLOCATE_TIMEOUT_MS = Math.min(30_000 + ALLOCATIONS * 50, 240_000);
/** Time for a server to finish starting up, and for the last answers to settle, before RSS is read. */
const SETTLE_MS = 2000;
const SAMPLES = 3;

interface MemoryServer {
  readonly pid: number;
  /** V8's heap used, where the server can tell. */
  heapUsedBytes?(): Promise<number>;
  /** Asks for a heap snapshot and resolves with its file once written, where the server can. */
  heapSnapshot?(): Promise<string>;
  stop(): Promise<unknown>;
}

type Start = (flags: string[], port: number, snapshot: boolean) => Promise<MemoryServer>;

/** Flags both servers get (coturn's names; Turnpike accepts the same). */
async function serverFlags(port: number): Promise<string[]> {
  const minPort = await freePortRange(HOST, RELAY_PORTS, 50, RELAY_SPAN);
  return [
    '--listening-ip', HOST, '--listening-port', String(port), '--relay-ip', HOST,
    '--min-port', String(minPort), '--max-port', String(minPort + RELAY_PORTS - 1),
    '--lt-cred-mech', '--user', `${USER.username}:${USER.password}`, '--realm', REALM,
    '--allow-loopback-peers', '--no-tcp', '--no-tls', '--no-dtls', '--no-cli',
  ];
}

function turnpike(prometheus: boolean): Start {
  return async (flags, port, snapshot) => {
    const metricsPort = prometheus ? await freeTcpPort(HOST) : 0;
    const extra = prometheus ? ['--prometheus', '--prometheus-port', String(metricsPort)] : [];
    const env = snapshot && SNAPSHOT_DIR
      ? { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${SNAPSHOT_DIR}`.trim() }
      : {};
    // One event loop, as the figures in docs/performance.md were measured (workers: docs/relay-workers.md).
    const h = await startTurnpike(['-n', ...flags, ...extra, '--relay-threads', '1'], HOST, port, env);
    const heapUsedBytes = async (): Promise<number> => {
      const text = await (await fetch(`http://${HOST}:${metricsPort}/metrics`)).text();
      const line = text.split('\n').find((l) => l.startsWith('nodejs_heap_size_used_bytes '));
      if (!line) throw new Error('no nodejs_heap_size_used_bytes in /metrics');
      return Number(line.split(' ')[1]);
    };
    return {
      pid: h.pid,
      heapUsedBytes: prometheus ? heapUsedBytes : undefined,
      heapSnapshot: snapshot && SNAPSHOT_DIR ? () => writeHeapSnapshot(h.pid, SNAPSHOT_DIR) : undefined,
      stop: () => h.stop(),
    };
  };
}

function coturn(relayThreads?: number): Start {
  return async (flags) => {
    const h = await startCoturn(relayThreads ? [...flags, '--relay-threads', String(relayThreads)] : flags);
    return { pid: h.pid, stop: () => h.stop() };
  };
}

const STARTS: Record<string, Start> = {
  turnpike: turnpike(false),
  'turnpike+heap': turnpike(true),
  'coturn-m1': coturn(1),
  coturn: coturn(),
};

/** SIGUSR2 to a process started with --heapsnapshot-signal; resolves once its file stops growing. */
async function writeHeapSnapshot(pid: number, dir: string): Promise<string> {
  const before = new Set(fs.readdirSync(dir));
  process.kill(pid, 'SIGUSR2');
  const deadline = Date.now() + 120_000;
  let file: string | undefined;
  let size = -1;
  while (Date.now() < deadline) {
    await sleep(1000);
    file ??= fs.readdirSync(dir).find((f) => !before.has(f) && f.endsWith('.heapsnapshot'));
    if (!file) continue;
    const now = fs.statSync(path.join(dir, file)).size;
    if (now > 0 && now === size) return path.join(dir, file);
    size = now;
  }
  throw new Error(`no heap snapshot from process ${pid} in ${dir}`);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The reading of median RSS of a few, half a second apart (a Node server's RSS moves with its GC). */
async function settledResidentMemory(pid: number): Promise<ResidentMemory> {
  const xs: ResidentMemory[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    if (i) await sleep(500);
    xs.push(residentMemory(pid));
  }
  return xs.sort((a, b) => a.total - b.total)[xs.length >> 1]!;
}

interface Measurement {
  readonly idle: ResidentMemory;
  readonly held: ResidentMemory;
  /** Open files of the server idle and holding the allocations: proof that it holds a socket each. */
  readonly filesIdle: number;
  readonly filesHeld: number;
  readonly threads: number;
  readonly made: number;
  readonly failures: number;
  readonly allocateMs: number;
  readonly heapIdle?: number;
  readonly heapHeld?: number;
  /** Bytes of RSS per allocation made. */
  readonly perAllocation: number;
}

async function measure(name: string, start: Start, snapshot: boolean): Promise<Measurement> {
  const port = await freeUdpTcpPort(HOST);
  const server = await start(await serverFlags(port), port, snapshot);
  let held: IdleAllocations | undefined;
  try {
    await sleep(SETTLE_MS);
    // The first scrape sets up what every scrape uses: done before the idle reading, so
    // that it is not counted against the allocations.
    const heapIdle = await server.heapUsedBytes?.();
    const idle = await settledResidentMemory(server.pid);
    const filesIdle = openFileCount(server.pid);
    const peer = { family: 4 as const, address: PEER_HOST, port: await freeUdpPort(PEER_HOST) };
    held = await holdIdleAllocations({
      server: { address: HOST, port }, credentials: USER, count: ALLOCATIONS, inFlight: IN_FLIGHT, peer, lifetime: LIFETIME, timeoutMs: ALLOCATE_TIMEOUT_MS,
    });
    await sleep(SETTLE_MS);
    const rssHeld = await settledResidentMemory(server.pid);
    const filesHeld = openFileCount(server.pid);
    const threads = threadCount(server.pid);
    const heapHeld = await server.heapUsedBytes?.();
    if (server.heapSnapshot) console.log(`  ${name}: heap snapshot at ${held.made} allocations: ${await server.heapSnapshot()}`);
    for (const sample of held.failureSamples) console.log(`  ${name}: failed: ${sample}`);
    return {
      idle, held: rssHeld, filesIdle, filesHeld, threads, made: held.made, failures: held.failures, allocateMs: held.ms, heapIdle, heapHeld,
      perAllocation: held.made ? (rssHeld.total - idle.total) / held.made : NaN,
    };
  } finally {
    await server.stop();
    await held?.close();
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MB`;
const range = (xs: number[], digits = 0): string =>
  `median ${median(xs).toFixed(digits)} [${Math.min(...xs).toFixed(digits)}-${Math.max(...xs).toFixed(digits)}]`;

function printMeasurement(name: string, m: Measurement): void {
  const heap = m.heapIdle !== undefined && m.heapHeld !== undefined
    ? `, V8 heap used ${mb(m.heapIdle)} -> ${mb(m.heapHeld)} (${((m.heapHeld - m.heapIdle) / m.made).toFixed(0)} B/allocation)`
    : '';
  const failed = m.failures ? ` — ${m.failures} FAILED` : '';
  console.log(`  ${name.padEnd(14)} RSS idle ${mb(m.idle.total)} (anon ${mb(m.idle.anon)}, file ${mb(m.idle.file)}), with ${m.made} allocations ${mb(m.held.total)} (made in ${(m.allocateMs / 1000).toFixed(1)} s${failed}; open files ${m.filesIdle} -> ${m.filesHeld}, ${m.threads} threads): `
    + `${m.perAllocation.toFixed(0)} B per idle allocation${heap}`);
}

async function main(): Promise<number> {
  for (const name of SERVERS) if (!STARTS[name]) throw new Error(`unknown server ${name} (known: ${Object.keys(STARTS).join(', ')})`);
  if (SNAPSHOT_DIR) fs.mkdirSync(SNAPSHOT_DIR, { recursive: true });
  // Client sockets here, relay sockets in the server: one each per allocation, plus room.
  ensureOpenFiles(ALLOCATIONS + 1000);
  console.log(`idle-allocation memory over UDP, Turnpike and coturn 4.6.1: ${ALLOCATIONS} allocations (LIFETIME ${LIFETIME} s, one channel each), `
    + `${IN_FLIGHT} in flight, relay range of ${RELAY_PORTS} ports, ${RUNS} runs`);
  const snapshotServer = SNAPSHOT_DIR ? SERVERS.find((s) => s.startsWith('turnpike')) : undefined;
  const results = new Map<string, Measurement[]>(SERVERS.map((s) => [s, []]));
  let failures = 0;
  for (let run = 1; run <= RUNS; run++) {
    console.log(`run ${run}/${RUNS}`);
    for (const name of SERVERS) {
      const m = await measure(name, STARTS[name]!, run === RUNS && name === snapshotServer);
      failures += m.failures;
      results.get(name)!.push(m);
      printMeasurement(name, m);
    }
  }
  console.log(`\nbytes of RSS per idle allocation, over ${RUNS} runs:`);
  for (const [name, ms] of results) console.log(`  ${name.padEnd(14)} ${range(ms.map((m) => m.perAllocation))}`);
  const turnpikeRuns = results.get('turnpike') ?? results.get('turnpike+heap');
  for (const reference of ['coturn-m1', 'coturn']) {
    const ref = results.get(reference);
    if (!turnpikeRuns || !ref) continue;
    const ratios = turnpikeRuns.map((m, i) => m.perAllocation / ref[i]!.perAllocation);
    console.log(`  ratio turnpike/${reference.padEnd(9)} ${range(ratios, 2)} (run by run)`);
  }
  if (failures) console.log(`\n${failures} allocations FAILED: the figures above count only those made`);
  return failures ? 1 : 0;
}

runMain(main);
