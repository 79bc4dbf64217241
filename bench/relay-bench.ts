// Relay benchmark: Turnpike vs coturn in ONE run, same machine, same offered load.
// Run: npx tsx bench/relay-bench.ts  (build Turnpike first: dist/cli/turnpike.js)
//
// Each server relays turnutils_uclient's ChannelData (-c: one allocation per client) to a
// turnutils_peer echo and back. The figure to compare is server CPU per relayed packet: on
// this 2-core box the server, the peer and uclient share the cores, so throughput alone
// mostly measures the box. Env: BENCH_CLIENTS, BENCH_DTLS_CLIENTS, BENCH_MESSAGES, BENCH_LENGTH, BENCH_INTERVAL_MS,
// BENCH_SERVERS (comma list of turnpike, turnpike+prometheus, turnpike+dgram, turnpike+node-crypto, turnpike+net-accept, turnpike+node-write, turnpike+node-tcp, turnpike+node-tls, turnpike+js-relay, baseline, coturn; default "turnpike,coturn"),
// BENCH_BASELINE_CLI (another build's dist/cli/turnpike.js, run as server `baseline`: A/B in one run),
// BENCH_RELAY_THREADS (default 1), BENCH_TRANSPORTS (comma list of udp, tcp, tcp-nocert, tls, dtls;
// default udp, tcp, tls, dtls: `BENCH_TRANSPORTS=dtls` measures DTLS alone). tcp is plain TCP on a
// listening-port that has a certificate, so TLS may arrive there too (as deployed: the first byte
// decides); tcp-nocert is plain TCP on a port without one (--no-tls).
// turnpike+prometheus runs Turnpike with --prometheus and scrapes /metrics every second during
// the load, so that the cost of metrics shows as the difference in CPU per packet.
// turnpike+dgram runs Turnpike with TURNPIKE_UDP_IO=dgram: UDP without native batched I/O
// (docs/native-udp.md), so one run compares both against coturn. turnpike+node-crypto runs it
// with TURNPIKE_DTLS_AEAD=node:crypto: DTLS records without the native AES-GCM (docs/native-crypto.md).
// turnpike+net-accept runs it with TURNPIKE_TCP_ACCEPT=net: TCP clients accepted by net.Server,
// reading through the Readable stream, without native/tcp-accept.c (docs/native-tcp-accept.md).
// turnpike+node-write runs it with TURNPIKE_TCP_WRITE=node: relayed data to TCP clients through
// socket.write instead of the addon's one sendmsg per frame (src/net/native-frame-writer.ts); only
// where plain TCP is a net.Socket (with turnpike+node-tcp's TURNPIKE_TCP=node, or without the stream addon).
// turnpike+node-tcp runs it with TURNPIKE_TCP=node: plain TCP connections read by net.Socket with
// onread instead of run by native/stream-conn.c (docs/native-tcp-accept.md, "Plain TCP run in C").
// turnpike+node-tls runs it with TURNPIKE_TLS=node: TLS connections run by Node's tls.TLSSocket
// instead of native/tls-stream.c (docs/native-tls.md).
// turnpike+js-relay runs it with TURNPIKE_UDP_RELAY=js: every UDP channel packet relayed by JS,
// none by the addon's channel routes (docs/native-udp.md, "Channels relayed in C").
// Like with like: both servers get `--relay-threads BENCH_RELAY_THREADS` (coturn's default is
// one relay thread per CPU). A server name may name its own number instead, `turnpike@1`,
// so that one run measures Turnpike on 2 threads against 1 and against coturn on 2
// (BENCH_RELAY_THREADS=2 BENCH_SERVERS=turnpike,turnpike@1,coturn).
// Server CPU is the whole process (/proc/PID/stat: every thread, relay workers included).
// Each Turnpike worker's share of the relayed packets is read from its log (`/metrics` has no
// worker label): every allocation logs `relay worker K: allocation N ended (...) from client X
// pkts/..., to client Y pkts/...` when uclient refreshes it to 0 or, for the rest, when the
// server stops; the bench adds these up by K once the server has exited (bench/worker-shares.ts).
// A server still running 3 s after SIGTERM is SIGKILLed (test/support/processes.ts), and the bench
// says so after the table: a Turnpike's shares then lack the lines it had yet to write.
// A row whose uclient failed on its own channel-number collision (uclientChannelCollision: once in
// 16,384 clients, 1.2 % of 200-client runs) is run again, at most COLLISION_RETRIES times, each
// retry printed with the failed attempt's error at the time and again after the table.
// Datagrams the kernel dropped at a full receive queue are read from /proc/net/udp while uclient
// runs and printed by owner (server, peer, client: bench/udp-drops.ts), so a loss can be placed,
// with how long the server's and the echo peer's threads waited for a CPU (bench/run-queue.ts).
// BENCH_CONTENTION=N runs N busy loops beside each server while it is measured: the CPU
// contention of a shared machine, the same for every server of the run (default 0).
// BENCH_CPU_SPLIT=perf also splits each server's CPU into user and kernel by sampling it with
// `perf record -e cpu-clock` (bench/cpu-mode-samples.ts): /proc's own split overstates user
// time over a window like this one, the total is exact either way.
// BENCH_PERF_KEEP=PREFIX (with BENCH_CPU_SPLIT=perf) samples call graphs too and keeps each
// server's samples as PREFIX.PID.data for `perf report -i` / `perf script -i`.
// BENCH_WARMUP_MESSAGES=N: before the measured window, each server (coturn too) first relays an
// unmeasured uclient run of N messages per client (same clients, transport and peer; uclient
// ends its allocations before the measured run starts), to tell Node's JIT compiling the data
// path apart from the steady state. Default 0 (cold start): at N=500 Turnpike's figure over UDP
// did not change beyond the run-to-run spread (docs/performance.md).
import {
  runUclient, startCoturn, startPeer, treeCpuTimeSeconds, uclientChannelCollision, type UclientResult,
} from '../test/support/coturn-tools.js';
import { freePortRange, freeTcpPort, freeUdpTcpPort } from '../test/support/ports.js';
import { startTurnpike } from '../test/support/turnpike-process.js';
import { makeCertificate, type TestCertificate } from '../test/support/certs.js';
import { envInt } from './env.js';
import { runMain } from './run-main.js';
import { workerSharesFromLog } from './worker-shares.js';
import { countersSince, readProcCounters } from './proc-counters.js';
import { runQueueWait } from './run-queue.js';
import { startDropSampler, type UdpSocketRow } from './udp-drops.js';
import { startProcess, type ProcessHandle } from '../test/support/processes.js';
import { startCpuModeSampler } from './cpu-mode-samples.js';
import { overStreams, printReport, type Row, type ServerKind, type ServerSpec, type Transport } from './relay-report.js';

const HOST = '127.0.0.1';
const STREAM_CLIENTS = envInt('BENCH_CLIENTS', 100);
/**
 * Fewer over DTLS: each of uclient's DTLS clients costs it a handshake and encryption both
 * ways, and at 100 the box saturated here (Turnpike lost a third, coturn's run timed out).
 */
const DTLS_CLIENTS = envInt('BENCH_DTLS_CLIENTS', 20);
const clientsOver = (transport: Transport) => (transport === 'dtls' ? DTLS_CLIENTS : STREAM_CLIENTS);
const MESSAGES = envInt('BENCH_MESSAGES', 500);
/** Messages per client of the unmeasured warm-up run before the measured one; 0: none. */
const WARMUP_MESSAGES = envInt('BENCH_WARMUP_MESSAGES', 0, 0);
const LENGTH = envInt('BENCH_LENGTH', 100);
const INTERVAL = envInt('BENCH_INTERVAL_MS', 10);
/** `--relay-threads` for both servers, unless a BENCH_SERVERS entry names its own (`turnpike@1`). */
const RELAY_THREADS = envInt('BENCH_RELAY_THREADS', 1);
/** Busy loops run beside each server while it is measured. */
const CONTENTION = envInt('BENCH_CONTENTION', 0, 0);
const SAMPLE_CPU_MODE = process.env.BENCH_CPU_SPLIT === 'perf';
/** Turnpike with one native part forced off, and the environment that does it. */
const VARIANT_ENV: Partial<Record<ServerKind, NodeJS.ProcessEnv>> = {
  'turnpike+dgram': { TURNPIKE_UDP_IO: 'dgram' },
  'turnpike+node-crypto': { TURNPIKE_DTLS_AEAD: 'node:crypto' },
  'turnpike+net-accept': { TURNPIKE_TCP_ACCEPT: 'net' },
  'turnpike+node-write': { TURNPIKE_TCP_WRITE: 'node' },
  'turnpike+node-tcp': { TURNPIKE_TCP: 'node' },
  'turnpike+node-tls': { TURNPIKE_TLS: 'node' },
  'turnpike+js-relay': { TURNPIKE_UDP_RELAY: 'js' },
};
const BASELINE_CLI = process.env.BENCH_BASELINE_CLI;
const SERVERS: ServerSpec[] = (process.env.BENCH_SERVERS ?? 'turnpike,coturn').split(',').map((entry) => {
  const [kind, threads] = entry.trim().split('@');
  if (!['turnpike', 'turnpike+prometheus', 'turnpike+dgram', 'turnpike+node-crypto', 'turnpike+net-accept', 'turnpike+node-write', 'turnpike+node-tcp', 'turnpike+node-tls', 'turnpike+js-relay', 'baseline', 'coturn'].includes(kind!)) throw new Error(`unknown server ${kind}`);
  if (kind === 'baseline' && !BASELINE_CLI) throw new Error('server baseline needs BENCH_BASELINE_CLI');
  const n = threads === undefined ? RELAY_THREADS : Number(threads);
  if (!Number.isInteger(n) || n < 1) throw new Error(`bad relay-threads in BENCH_SERVERS entry ${entry}`);
  return { kind: kind as ServerKind, threads: n };
});
/** Client transports to measure: udp, tcp and tcp-nocert (uclient -t), tls (uclient -t -S), dtls (uclient -S). */
const TRANSPORTS = (process.env.BENCH_TRANSPORTS ?? 'udp,tcp,tls,dtls').split(',').map((s) => s.trim()) as Transport[];
/** uclient 4.6.1 tries DTLS 1.0 at random unless told a DTLS 1.2 suite; the bench certificate is EC. */
const DTLS12_SUITE = ['-F', 'ECDHE-ECDSA-AES128-GCM-SHA256'];
/** Nominal msgs/s each way once all clients run. */
const offered = (transport: Transport) => (clientsOver(transport) * 1000) / INTERVAL;

// uclient connects ~0.1 s per client, starts each client 1-6 s later, sends for n*z ms, and
// waits 10 s after any loss. Allow all of that with margin, and no more.
const uclientTimeoutMs = (clients: number, messages: number) => clients * 150 + 6_000 + messages * INTERVAL * 1.5 + 25_000;

interface Server {
  pid: number;
  stop(): Promise<unknown>;
  diag(): string;
  metricsUrl?: string;
  log?(): string;
  /** True when stopping it took SIGKILL. */
  killed?(): boolean;
}

/** Scrapes once a second until stopped, as Prometheus would; counts the answers. */
function startScraper(url: string): { stop(): Promise<{ scrapes: number; failures: number }> } {
  let scrapes = 0;
  let failures = 0;
  const inFlight = new Set<Promise<void>>();
  const timer = setInterval(() => {
    const p = fetch(url)
      .then(async (r) => {
        await r.text();
        if (r.ok) scrapes++;
        else failures++;
      })
      .catch(() => void failures++)
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  }, 1000);
  return {
    stop: async () => {
      clearInterval(timer);
      await Promise.all(inFlight);
      return { scrapes, failures };
    },
  };
}

/** Flags both servers get (coturn's names; Turnpike accepts the same). */
function commonFlags(port: number, minPort: number, maxPort: number, transport: Transport, tls: TlsSetup): string[] {
  const secure = ['--tls-listening-port', String(tls.port), '--cert', tls.certificate.cert, '--pkey', tls.certificate.key];
  const listeners =
    transport === 'udp' ? ['--no-tcp', '--no-tls', '--no-dtls'] :
    transport === 'tcp' ? ['--no-dtls', ...secure] : // as deployed: TLS may arrive on listening-port too
    transport === 'tcp-nocert' ? ['--no-tls', '--no-dtls'] :
    transport === 'tls' ? ['--no-tcp', '--no-dtls', ...secure] :
    ['--no-tcp', '--no-tls', ...secure];
  return [
    '--listening-ip', HOST, '--listening-port', String(port), '--relay-ip', HOST,
    '--min-port', String(minPort), '--max-port', String(maxPort),
    '--lt-cred-mech', '--user', 'bench:benchpass', '--realm', 'bench.example',
    '--allow-loopback-peers', ...listeners, '--no-cli',
  ];
}

interface TlsSetup {
  readonly certificate: TestCertificate;
  readonly port: number;
}

/** Server CPU per scrape, HTTP included: `count` scrapes back to back once the load is over. */
async function scrapeCpuMs(pid: number, url: string, count = 200): Promise<number> {
  const cpu0 = treeCpuTimeSeconds(pid);
  for (let i = 0; i < count; i++) await (await fetch(url)).text();
  return ((treeCpuTimeSeconds(pid) - cpu0) * 1000) / count;
}

async function startTurnpikeServer(flags: string[], port: number, kind: ServerKind, threads: number): Promise<Server> {
  const metricsPort = kind === 'turnpike+prometheus' ? await freeTcpPort(HOST) : undefined;
  const metricsFlags = metricsPort ? ['--prometheus', '--prometheus-port', String(metricsPort)] : [];
  const env = VARIANT_ENV[kind] ?? {};
  const h = await startTurnpike(['-n', ...flags, ...metricsFlags], HOST, port, env, kind === 'baseline' ? BASELINE_CLI : undefined);
  // The first worker answers STUN before the others listen; load started then went 93-97 %
  // to one worker for the whole run (48 / 352 allocations by hand), so wait for all of them.
  if (threads > 1) await h.proc.waitForOutput(/relaying with \d+ worker threads/, 10_000);
  const metricsUrl = metricsPort ? `http://${HOST}:${metricsPort}/metrics` : undefined;
  return { pid: h.pid, stop: () => h.stop(), diag: () => h.proc.output.slice(-2000), metricsUrl, log: () => h.proc.output, killed: () => h.proc.killedByStop };
}

async function startReference(flags: string[], transport: Transport): Promise<Server> {
  const h = await startCoturn(flags, { tls: transport === 'tls' || transport === 'tcp', dtls: transport === 'dtls' });
  return { pid: h.pid, stop: () => h.stop(), diag: () => h.readLog().slice(-2000), killed: () => h.proc.killedByStop };
}

/**
 * The traffic window, on our clock (line arrival, uclient line-buffered): from the last
 * progress line still showing 0 sent to the first line showing the final received count.
 * All delivered traffic lies inside it, so received/window never overstates the rate
 * (the bounds are up to ~1 s loose, since uclient prints progress about once a second).
 */
function trafficWindowMs(r: UclientResult): number | undefined {
  const idle = r.progress.filter((p) => p.sent === 0).at(-1)?.atMs ?? r.connectDoneAtMs;
  const done = r.progress.find((p) => r.received !== null && p.received >= r.received)?.atMs
    ?? r.finishedAtMs;
  return idle !== null && idle !== undefined && done !== null && done !== undefined && done > idle
    ? done - idle : undefined;
}

async function benchOne(spec: ServerSpec, transport: Transport, certificate: TestCertificate): Promise<Row> {
  const servers: Server[] = [];
  const label = `${spec.kind} -m ${spec.threads} ${transport}`;
  const failed = (error: string, r?: UclientResult): Row => ({ server: label, spec, transport, r, error });
  try {
    const port = await freeUdpTcpPort(HOST);
    const clients = clientsOver(transport);
    // One allocation per client, plus uclient's probe allocations; Turnpike gives each relay
    // worker its own slice of the range and the kernel's hash need not split clients evenly,
    // so each slice gets room for all of them (coturn gets the same range).
    // The warm-up's allocations need ports of their own: coturn does not hand a freed one out again at once.
    const range = (clients * 3 + 100) * spec.threads * (WARMUP_MESSAGES > 0 ? 2 : 1);
    const minPort = await freePortRange(HOST, range);
    const tls: TlsSetup = { certificate, port: await freeUdpTcpPort(HOST) };
    const flags = [...commonFlags(port, minPort, minPort + range - 1, transport, tls), '--relay-threads', String(spec.threads)];
    const server = spec.kind !== 'coturn'
      ? await startTurnpikeServer(flags, port, spec.kind, spec.threads)
      : await startReference(flags, transport);
    servers.push(server);
    const peer = await startPeer();
    servers.push({ pid: peer.proc.pid, stop: peer.stop, diag: () => '' });

    const owner = (row: UdpSocketRow) =>
      row.localPort === port || (row.localPort >= minPort && row.localPort < minPort + range) ? 'server'
        : row.localPort === peer.port || row.localPort === peer.port + 1 ? 'peer'
          : row.remotePort === port ? 'client' : undefined;
    const uclientOptions = {
      host: HOST, port: transport === 'tls' || transport === 'dtls' ? tls.port : port, user: 'bench', password: 'benchpass', noRtcp: true,
      tcp: overStreams(transport), secure: transport === 'tls' || transport === 'dtls',
      extraArgs: transport === 'dtls' ? DTLS12_SUITE : undefined,
      clients, length: LENGTH, intervalMs: INTERVAL, peerAddr: peer.host, peerPort: peer.port,
    };
    if (WARMUP_MESSAGES > 0) {
      const warm = await runUclient({ ...uclientOptions, messages: WARMUP_MESSAGES, timeoutMs: uclientTimeoutMs(clients, WARMUP_MESSAGES) });
      if (warm.allocationFailed || warm.sent === null) return failed(`warm-up uclient failed (exit ${warm.exitCode}):\n${warm.output.slice(-1500)}`, warm);
    }
    // uclient has ended the warm-up's relaying allocations (a Refresh to 0), so the packets the
    // log counts from here are the measured run's (its probe allocations, 0 packets, end at the stop).
    const logStart = server.log?.().length ?? 0;
    const contention = busyLoops(CONTENTION);
    servers.push({ pid: 0, stop: () => Promise.all(contention.map((p) => p.stop())), diag: () => '' });
    const dropSampler = startDropSampler(owner);
    servers.push({ pid: 0, stop: async () => dropSampler.stop(), diag: () => '' });
    const [serverWait0, peerWait0] = [runQueueWait(server.pid).seconds, runQueueWait(peer.proc.pid).seconds];
    const cpu0 = treeCpuTimeSeconds(server.pid);
    const counters0 = readProcCounters(server.pid);
    const modeSampler = SAMPLE_CPU_MODE ? startCpuModeSampler(server.pid) : undefined;
    const scraper = server.metricsUrl ? startScraper(server.metricsUrl) : undefined;
    const r = await runUclient({ ...uclientOptions, messages: MESSAGES, timeoutMs: uclientTimeoutMs(clients, MESSAGES) });
    const scraped = await scraper?.stop();
    const cpuSeconds = treeCpuTimeSeconds(server.pid) - cpu0;
    const counters = countersSince(counters0, readProcCounters(server.pid));
    const sampledModes = await modeSampler?.stop();
    const drops = dropSampler.stop();
    const waits = { server: runQueueWait(server.pid).seconds - serverWait0, peer: runQueueWait(peer.proc.pid).seconds - peerWait0 };
    await Promise.all(contention.map((p) => p.stop()));
    if (scraped && (scraped.failures > 0 || scraped.scrapes === 0)) {
      return failed(`metrics scrapes: ${scraped.scrapes} answered, ${scraped.failures} failed`, r);
    }
    if (r.allocationFailed || r.sent === null || r.received === null) {
      return failed(`uclient failed (exit ${r.exitCode}):\n${r.output.slice(-1500)}\n--- server ---\n${server.diag()}`, r);
    }
    const scrapeCpu = server.metricsUrl ? await scrapeCpuMs(server.pid, server.metricsUrl) : undefined;
    // Every allocation logs its final counts by the time the server has exited.
    await server.stop();
    const shares = server.log ? workerSharesFromLog(server.log().slice(logStart)) : undefined;
    const killedAtStop = server.killed?.() ?? false;
    if (shares && shares.totalPackets === 0) return failed(`no \`allocation ... ended\` line with packet counts in the server log${killedAtStop ? ' (SIGKILLed 3 s after SIGTERM)' : ''}`, r);
    return {
      server: label, spec, transport, r, windowMs: trafficWindowMs(r), cpuSeconds, scrapes: scraped?.scrapes, scrapeCpuMs: scrapeCpu, shares, killedAtStop, counters, drops, waits, sampledModes,
    };
  } catch (err) {
    return failed(err instanceof Error ? err.message : String(err));
  } finally {
    for (const s of servers.reverse()) await s.stop();
  }
}

/** Reruns of a row that uclient's own channel-number collision failed; a further one fails the row. */
const COLLISION_RETRIES = 2;

/** benchOne, run again (on a new server) while uclient's own channel-number collision failed it. */
async function benchRetryingCollisions(spec: ServerSpec, transport: Transport, certificate: TestCertificate): Promise<Row> {
  const retriedAfter: string[] = [];
  for (;;) {
    const row = await benchOne(spec, transport, certificate);
    const collision = row.error && row.r ? uclientChannelCollision(row.r.output) : undefined;
    if (!collision || retriedAfter.length === COLLISION_RETRIES) return { ...row, retriedAfter };
    const why = `uclient exit ${row.r!.exitCode}, "${collision}": its own channel-number collision (COTURN-TOOLS.md)`;
    retriedAfter.push(why);
    console.log(`${row.server}: attempt ${retriedAfter.length} failed (${why}); retry ${retriedAfter.length} of ${COLLISION_RETRIES}`);
  }
}

/** `count` CPU-bound processes, as other jobs on a shared machine. */
function busyLoops(count: number): ProcessHandle[] {
  return Array.from({ length: count }, () => startProcess('sh', ['-c', 'while :; do :; done']));
}

async function main(): Promise<number> {
  console.log(`relay bench: ${STREAM_CLIENTS} clients (${DTLS_CLIENTS} over DTLS) x ${MESSAGES} msgs x ${LENGTH} B every ${INTERVAL} ms `
    + (WARMUP_MESSAGES > 0 ? `after an unmeasured warm-up of ${WARMUP_MESSAGES} msgs per client ` : '')
    + `(uclient -c, ChannelData; client transports ${TRANSPORTS.join(', ')}; ${HOST}; relay-threads ${RELAY_THREADS}; ${CONTENTION} busy loops beside)`);
  const rows: Row[] = [];
  const certificate = makeCertificate();
  try {
    for (const transport of TRANSPORTS) {
      if (!['udp', 'tcp', 'tcp-nocert', 'tls', 'dtls'].includes(transport)) throw new Error(`unknown transport ${transport}`);
      for (const spec of SERVERS) {
        console.log(`running ${spec.kind} -m ${spec.threads} over ${transport}...`);
        rows.push(await benchRetryingCollisions(spec, transport, certificate));
      }
    }
  } finally {
    certificate.remove();
  }
  printReport(rows, { offered, transports: TRANSPORTS, servers: SERVERS, relayThreads: RELAY_THREADS });
  return rows.some((r) => r.error) ? 1 : 0;
}

runMain(main);
