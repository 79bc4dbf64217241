// The two servers the call-setup benchmarks compare, started with the same flags: Turnpike
// (the built CLI) and coturn 4.6.1, both on UDP with one long-term user, neither exporting metrics.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startCoturn } from '../test/support/coturn-tools.js';
import { freePortRange, freeTcpPort, freeUdpTcpPort } from '../test/support/ports.js';
import { TURNPIKE_CLI, startTurnpike } from '../test/support/turnpike-process.js';

export const SETUP_HOST = '127.0.0.1';
/** Twelve characters, as in the tests: Turnpike's 401 is then 64 bytes. */
export const SETUP_REALM = 'call.example';
export const SETUP_USER = { username: 'bench', password: 'benchpass' };

export interface SetupServer {
  /** 'turnpike', 'coturn', or a name given to another build of Turnpike. */
  readonly name: string;
  readonly port: number;
  /** The server's process: bench/process-cpu.ts reads its on-CPU time. */
  readonly pid: number;
  /**
   * Requests answered or withheld so far, for spoofedAllocates (coturn: the answers it saw);
   * absent for a Turnpike without its metrics endpoint, which counts what it withheld.
   */
  handled?(answers: number): Promise<number>;
  /** Unsigned answers the reply budget has withheld so far (Turnpike only). */
  withheld?(): Promise<number>;
  /** A Turnpike without its metrics endpoint: the same build started anew with it, for `handled`. */
  withMetrics?(): Promise<SetupServer>;
  stop(): Promise<unknown>;
}

/** Other builds of Turnpike a bench measures beside this one: `NAME=CLI,…`, or one CLI named 'baseline'. */
export function otherBuilds(list: string | undefined): { name: string; cli: string }[] {
  return (list ?? '').split(',').filter(Boolean).map((item) => {
    const at = item.indexOf('=');
    return at < 0 ? { name: 'baseline', cli: item } : { name: item.slice(0, at), cli: item.slice(at + 1) };
  });
}

/** SETUP_RELAY_THREADS: relay threads for every server of the run (coturn and Turnpike alike); unset: each one's default. */
const RELAY_THREADS = process.env.SETUP_RELAY_THREADS;

/** Flags both servers get (coturn's names; Turnpike accepts the same). */
async function serverFlags(port: number, relayPorts: number): Promise<string[]> {
  const minPort = await freePortRange(SETUP_HOST, relayPorts);
  return [
    ...(RELAY_THREADS === undefined ? [] : ['--relay-threads', RELAY_THREADS]),
    '--listening-ip', SETUP_HOST, '--listening-port', String(port), '--relay-ip', SETUP_HOST,
    '--min-port', String(minPort), '--max-port', String(minPort + relayPorts - 1),
    '--lt-cred-mech', '--user', `${SETUP_USER.username}:${SETUP_USER.password}`, '--realm', SETUP_REALM,
    '--allow-loopback-peers', '--no-tcp', '--no-tls', '--no-dtls', '--no-cli',
  ];
}

/** Relay ports per server: coturn does not hand a freed one out again at once. */
const RELAY_PORTS = 100;

/**
 * SETUP_PROMETHEUS: `0` (default), Turnpike without its metrics endpoint, as coturn runs here
 * (this coturn build has no exporter); `1`, with it (`--prometheus`: prom-client's
 * event-loop-delay monitor then wakes its main thread every 10 ms, some 50-80 µs of CPU each on
 * this box); `both`, the two in one run, the second as 'turnpike-prom' (docs/performance.md).
 */
export const TURNPIKE_METRICS = process.env.SETUP_PROMETHEUS ?? '0';

/**
 * Turnpike with the common flags, then `extra`; `build`: another build's CLI, under another name;
 * `metrics`: with its metrics endpoint.
 */
export async function startTurnpikeServer(extra: readonly string[] = [], relayPorts = RELAY_PORTS, build?: { name: string; cli: string }, metrics = TURNPIKE_METRICS === '1'): Promise<SetupServer> {
  const port = await freeUdpTcpPort(SETUP_HOST);
  const metricsPort = await freeTcpPort(SETUP_HOST);
  // Its log to a file, as coturn's (startCoturn): on stdout, each line would wake this process,
  // which runs the tap and the clients that time the calls, for Turnpike's calls only.
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'turnpike-bench-'));
  const log = ['--log-file', path.join(logDir, 'turn.log'), '--simple-log', '--no-stdout-log'];
  const metricsFlags = metrics ? ['--prometheus', '--prometheus-port', String(metricsPort)] : [];
  const args = ['-n', ...(await serverFlags(port, relayPorts)), ...log, ...metricsFlags, ...extra];
  const h = await startTurnpike(args, SETUP_HOST, port, {}, build?.cli);
  const metricsUrl = `http://${SETUP_HOST}:${metricsPort}/metrics`;
  const scrape = async (): Promise<string> => (await fetch(metricsUrl)).text();
  const WITHHELD = 'turnpike_replies_withheld_total';
  const withheld = async (): Promise<number> => metric(await scrape(), WITHHELD);
  // A request is dealt with once it is answered (a 401 here) or withheld.
  const handled = async (): Promise<number> => {
    const text = await scrape();
    return metric(text, 'turnpike_error_responses_total{code="401"}') + metric(text, WITHHELD);
  };
  const stop = async (): Promise<unknown> => {
    await h.stop();
    fs.rmSync(logDir, { recursive: true, force: true });
    return undefined;
  };
  const name = build?.name ?? 'turnpike';
  if (metrics) return { name, port, pid: h.pid, handled, withheld, stop };
  return { name, port, pid: h.pid, stop, withMetrics: () => startTurnpikeServer(extra, relayPorts, build, true) };
}

/** This build's Turnpike as SETUP_PROMETHEUS says: without its metrics endpoint or with it, or both. */
export async function startTurnpikeServers(extra: readonly string[] = [], relayPorts = RELAY_PORTS): Promise<SetupServer[]> {
  if (TURNPIKE_METRICS !== 'both') return [await startTurnpikeServer(extra, relayPorts)];
  const withMetrics = { name: 'turnpike-prom', cli: TURNPIKE_CLI };
  return [await startTurnpikeServer(extra, relayPorts, undefined, false), await startTurnpikeServer(extra, relayPorts, withMetrics, true)];
}

export async function startReferenceServer(relayPorts = RELAY_PORTS): Promise<SetupServer> {
  const port = await freeUdpTcpPort(SETUP_HOST);
  const h = await startCoturn(await serverFlags(port, relayPorts));
  // coturn answers every request.
  return { name: 'coturn', port, pid: h.pid, handled: async (answers) => answers, stop: () => h.stop() };
}

function metric(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.slice(name.length + 1)) : 0;
}
