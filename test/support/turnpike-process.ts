// Turnpike as users run it: the built CLI (`dist/cli/turnpike.js`) in its own process.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Cleanups } from './cleanups.js';
import { freePortRange, freeUdpTcpPort } from './ports.js';
import { startProcess, waitForUdpStun, waitUntilReady, type ProcessHandle } from './processes.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const TURNPIKE_CLI = path.join(ROOT, 'dist/cli/turnpike.js');
/**
 * Node flags for the server process, space-separated: e.g. `--cpu-prof --cpu-prof-dir=DIR` to
 * profile it under a bench's load (Node refuses --cpu-prof in NODE_OPTIONS).
 */
const NODE_FLAGS = (process.env.TURNPIKE_NODE_FLAGS ?? '').split(' ').filter(Boolean);

export interface TurnpikeHandle {
  pid: number;
  host: string;
  port: number;
  proc: ProcessHandle;
  stop(): Promise<unknown>;
}

/**
 * Starts `turnpike serve ARGS` (with `env` added to ours) and waits until it answers STUN on
 * host:port. `cli`: another build's CLI, for a benchmark that compares builds.
 */
export async function startTurnpike(args: string[], host: string, port: number, env: NodeJS.ProcessEnv = {}, cli = TURNPIKE_CLI): Promise<TurnpikeHandle> {
  if (!fs.existsSync(cli)) throw new Error(`${cli} not found (build Turnpike: npm run build)`);
  const proc = startProcess(process.execPath, [...NODE_FLAGS, cli, 'serve', ...args], { cwd: ROOT, env: { ...process.env, ...env } });
  // A bound, not a speed check: a server now starts a relay worker per CPU and warms each up, and
  // a CI box running the suite's databases beside it took over 10 s once (fleet.test, with PostgreSQL).
  // Its own answer: another process's on that port once made a bench take a server that had failed to start for ready.
  await waitUntilReady(proc, waitForUdpStun(host, port, 30_000, proc.pid), 'turnpike');
  return { pid: proc.pid, host, port, proc, stop: () => proc.stop() };
}

export interface TurnpikeFromFile {
  readonly server: TurnpikeHandle;
  /** The turnserver.conf it was started with (`-c`). */
  readonly conf: string;
  /** The file's lines as started; tests write variants of them and reload. */
  readonly lines: readonly string[];
}

/**
 * Turnpike started with `-c` on a turnserver.conf of `lines`, in a new temp folder; the folder
 * is removed and the process stopped by `cleanups`. `lines` must make it listen on host:port.
 */
export async function startTurnpikeFromFile(cleanups: Cleanups, lines: readonly string[], host: string, port: number): Promise<TurnpikeFromFile> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'turnpike-conf-'));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  const conf = path.join(dir, 'turnserver.conf');
  fs.writeFileSync(conf, `${lines.join('\n')}\n`);
  const server = await startTurnpike(['-c', conf], host, port);
  cleanups.push(() => server.stop());
  return { server, conf, lines };
}

/** Writes `lines` as the server's file, sends SIGHUP and waits until its log says `expected`. */
export async function reloadFromFile({ server, conf }: TurnpikeFromFile, lines: readonly string[], expected: RegExp): Promise<RegExpMatchArray> {
  const from = server.proc.output.length; // a second reload must not match the first's line
  fs.writeFileSync(conf, `${lines.join('\n')}\n`);
  process.kill(server.pid, 'SIGHUP');
  return server.proc.waitForOutput(expected, 5000, from);
}

export interface SecureTurnpike {
  readonly server: TurnpikeHandle;
  /** tls-listening-port (TLS over TCP, DTLS over UDP); `server.port` is listening-port. */
  readonly tlsPort: number;
}

/**
 * Turnpike on 127.0.0.1 with a certificate, user alice:secret and loopback peers allowed,
 * on free ports for both listening-port and tls-listening-port; `env` is added to ours.
 */
export async function startSecureTurnpike(certificate: { cert: string; key: string }, realm: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<SecureTurnpike> {
  const host = '127.0.0.1';
  const port = await freeUdpTcpPort(host);
  const tlsPort = await freeUdpTcpPort(host);
  const minPort = await freePortRange(host, 100);
  const server = await startTurnpike([
    '-n', '--listening-ip', host, '--listening-port', String(port), '--tls-listening-port', String(tlsPort),
    '--relay-ip', host, '--min-port', String(minPort), '--max-port', String(minPort + 99),
    '--lt-cred-mech', '--user', 'alice:secret', '--realm', realm, '--allow-loopback-peers',
    '--cert', certificate.cert, '--pkey', certificate.key, ...extra,
  ], host, port, env);
  return { server, tlsPort };
}
