// Drivers for Debian coturn 4.6.1's tools (see /work/shared/COTURN-TOOLS.md): the echo peer,
// the uclient load generator, the STUN client, turnadmin, and the reference turnserver itself.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { freePortRange, freeUdpTcpPort } from './ports.js';
import { PEER_HOST } from './turn-client.js';
import { startProcess, waitForUdpStun, waitUntilReady, type ProcessHandle } from './processes.js';

// ---------------------------------------------------------------------------- turnadmin

/**
 * coturn's turnadmin, its log file removed (it has no --log-file: it writes
 * turn_<pid>_<date>.log to /var/log, or a fallback, or the folder it runs in).
 */
export async function runCoturnTurnadmin(args: string[], cwd: string): Promise<ProcessHandle> {
  const proc = startProcess('turnadmin', args, { cwd });
  await proc.exited;
  for (const folder of ['/var/log', '/var/tmp', '/tmp', cwd]) {
    let names: string[] = [];
    try {
      names = fs.readdirSync(folder);
    } catch {
      continue;
    }
    for (const name of names) {
      if (name.startsWith(`turn_${proc.pid}_`) && name.endsWith('.log')) fs.rmSync(path.join(folder, name), { force: true });
    }
  }
  return proc;
}

// ---------------------------------------------------------------------------- echo peer

export interface PeerHandle {
  host: string;
  port: number;
  proc: ProcessHandle;
  stop(): Promise<unknown>;
}

/** turnutils_peer: a UDP echo peer. It binds port AND port+1, and prints nothing when ready,
 *  so readiness is "it echoed a datagram". */
export async function startPeer(opts: { host?: string; port?: number } = {}): Promise<PeerHandle> {
  const host = opts.host ?? PEER_HOST;
  const port = opts.port ?? (await freePortRange(host, 2));
  const proc = startProcess('turnutils_peer', ['-L', host, '-p', String(port)]);
  await waitUntilReady(proc, waitForUdpStun(host, port, 5000, proc.pid), 'turnutils_peer');
  return { host, port, proc, stop: () => proc.stop() };
}

// ---------------------------------------------------------------------------- uclient

export interface UclientOptions {
  host: string;
  port: number;
  user?: string;
  password?: string;
  /** TURN REST API secret (-W): uclient derives the timestamped name and password itself. */
  secret?: string;
  clients?: number; // -m
  messages?: number; // -n
  length?: number; // -l (min 16)
  intervalMs?: number; // -z
  noRtcp?: boolean; // -c: one allocation per client (no RTP/RTCP pairs)
  sendIndications?: boolean; // -s: Send indications instead of ChannelData
  ipv6Relay?: boolean; // -x
  ipv4Relay?: boolean; // -X
  tcp?: boolean; // -t
  secure?: boolean; // -S: TLS with -t, DTLS without
  peerAddr?: string; // -e
  peerPort?: number; // -r
  extraArgs?: string[];
  /** Hard limit; on expiry uclient is killed and runUclient rejects with its output. */
  timeoutMs: number;
}

/** A uclient progress line (printed about once a second), stamped with our own clock. */
export interface UclientProgress {
  atMs: number; // ms since uclient was spawned, when the line arrived
  sent: number;
  received: number;
}

export interface UclientResult {
  exitCode: number | null;
  /** From the final `start_mclient: tot_send_msgs=N, tot_recv_msgs=N`; null if not printed. */
  sent: number | null;
  received: number | null;
  /** From the final `start_mclient: tot_send_bytes ~ N, tot_recv_bytes ~ N` (message payloads); null if not printed. */
  sentBytes: number | null;
  receivedBytes: number | null;
  lostPackets: number | null;
  lossPercent: number | null;
  /** uclient measures RTT in whole milliseconds, so loopback usually reads 0. */
  avgRttMs: number | null;
  allocationFailed: boolean;
  output: string;
  progress: UclientProgress[];
  connectDoneAtMs: number | null; // arrival of `Total connect time is N`
  finishedAtMs: number | null; // arrival of the final tot_send_msgs line
  wallMs: number; // spawn to exit
}

const PROGRESS_RE = /start_mclient: msz=\d+, tot_send_msgs=(\d+), tot_recv_msgs=(\d+)/;
const FINAL_RE = /start_mclient: tot_send_msgs=(\d+), tot_recv_msgs=(\d+)/;
const FINAL_BYTES_RE = /start_mclient: tot_send_bytes ~ (\d+), tot_recv_bytes ~ (\d+)/;
const LOST_RE = /Total lost packets (\d+) \(([\d.]+|-?nan|inf)%\)/;
const RTT_RE = /Average round trip delay ([\d.]+|-?nan) ms/;

export function uclientArgs(o: UclientOptions): string[] {
  const a: string[] = [];
  if (o.noRtcp) a.push('-c');
  if (o.sendIndications) a.push('-s');
  if (o.ipv6Relay) a.push('-x');
  if (o.ipv4Relay) a.push('-X');
  if (o.tcp) a.push('-t');
  if (o.secure) a.push('-S');
  if (o.user !== undefined) a.push('-u', o.user);
  if (o.password !== undefined) a.push('-w', o.password);
  if (o.secret !== undefined) a.push('-W', o.secret);
  if (o.clients !== undefined) a.push('-m', String(o.clients));
  if (o.messages !== undefined) a.push('-n', String(o.messages));
  if (o.length !== undefined) a.push('-l', String(o.length));
  if (o.intervalMs !== undefined) a.push('-z', String(o.intervalMs));
  if (o.peerAddr !== undefined) a.push('-e', o.peerAddr);
  if (o.peerPort !== undefined) a.push('-r', String(o.peerPort));
  a.push(...(o.extraArgs ?? []), '-p', String(o.port), o.host);
  return a;
}

const num = (s: string | undefined) => (s === undefined ? null : Number(s)); // "nan" -> NaN

export async function runUclient(o: UclientOptions): Promise<UclientResult> {
  const t0 = performance.now();
  const progress: UclientProgress[] = [];
  let connectDoneAtMs: number | null = null;
  let finishedAtMs: number | null = null;
  // stdbuf -oL: uclient's stdout is block-buffered in a pipe; line buffering lets us
  // timestamp each line as it is printed.
  const proc = startProcess('stdbuf', ['-oL', 'turnutils_uclient', ...uclientArgs(o)], {
    onLine(line) {
      const at = performance.now() - t0;
      const p = PROGRESS_RE.exec(line);
      if (p) progress.push({ atMs: at, sent: Number(p[1]), received: Number(p[2]) });
      else if (connectDoneAtMs === null && line.includes('Total connect time is')) connectDoneAtMs = at;
      else if (finishedAtMs === null && FINAL_RE.test(line)) finishedAtMs = at;
    },
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void proc.stop();
  }, o.timeoutMs);
  const info = await proc.exited;
  clearTimeout(timer);
  const wallMs = performance.now() - t0;
  const out = proc.output;
  if (timedOut) {
    throw new Error(`turnutils_uclient did not finish within ${o.timeoutMs} ms; output:\n${out}`);
  }
  return { ...parseUclientOutput(out, info.code), progress, connectDoneAtMs, finishedAtMs, wallMs };
}

/** What uclient's output says, whoever ran it. */
export type UclientCounts = Omit<UclientResult, 'progress' | 'connectDoneAtMs' | 'finishedAtMs' | 'wallMs'>;

/** The counts of uclient's final report in `out` (an output that lacks them reads as null). */
export function parseUclientOutput(out: string, exitCode: number | null): UclientCounts {
  const fin = matchLast(out, FINAL_RE);
  const bytes = matchLast(out, FINAL_BYTES_RE);
  const lost = matchLast(out, LOST_RE);
  const rtt = matchLast(out, RTT_RE);
  return {
    exitCode,
    sent: num(fin?.[1]),
    received: num(fin?.[2]),
    sentBytes: num(bytes?.[1]),
    receivedBytes: num(bytes?.[2]),
    lostPackets: num(lost?.[1]),
    lossPercent: num(lost?.[2]),
    avgRttMs: num(rtt?.[1]),
    allocationFailed: out.includes('Cannot complete Allocation'),
    output: out,
  };
}

/**
 * uclient 4.6.1's own failure, not the server's: each client binds a random channel in
 * 0x4000-0x7FFF to the peer's port + 1, then a new random one to the peer's port, and once in
 * 16,384 clients the new number is the first; the server must refuse it (400, RFC 8656 §12.2)
 * and uclient exits 255. Its error line then (Turnpike's reason or coturn's), else undefined.
 */
export function uclientChannelCollision(output: string): string | undefined {
  return /channel bind: error 400 \((?:Channel number is bound to another peer|You cannot use the same channel number with different peer)\)/.exec(output)?.[0];
}

/** uclient's count of RFC 6062 data connections bound before it starts sending (-T). */
export function boundDataConnections(r: { output: string }): number | undefined {
  const m = /(\d+) connections are completed/.exec(r.output);
  return m ? Number(m[1]) : undefined;
}

/** uclient prints several lines twice; the last occurrence is the final one. */
function matchLast(text: string, re: RegExp): RegExpExecArray | null {
  const g = new RegExp(re.source, 'g');
  let last: RegExpExecArray | null = null;
  for (let m = g.exec(text); m; m = g.exec(text)) last = m;
  return last;
}

// ---------------------------------------------------------------------------- stunclient

export interface StunclientResult {
  exitCode: number | null;
  address: string | null;
  port: number | null;
  output: string;
}

/** turnutils_stunclient prints `IPv4. UDP reflexive addr: 127.0.0.1:PORT` on success. */
export async function runStunclient(host: string, port: number, timeoutMs = 10_000): Promise<StunclientResult> {
  const proc = startProcess('turnutils_stunclient', ['-p', String(port), host]);
  const timer = setTimeout(() => void proc.stop(), timeoutMs);
  const info = await proc.exited;
  clearTimeout(timer);
  const m = matchLast(proc.output, /UDP reflexive addr: (\S+):(\d+)/);
  return { exitCode: info.code, address: m?.[1] ?? null, port: num(m?.[2]), output: proc.output };
}

// ---------------------------------------------------------------------------- natdiscovery

/**
 * What turnutils_natdiscovery concluded, one line each: the tests it ran (`-= … =-`), its
 * verdicts (`NAT with …`), hairpinning, errors and timeouts. Addresses and ports are left out,
 * so two servers on different ports compare equal when they behave alike.
 */
export function natBehaviourLines(output: string): string[] {
  return output.split('\n').map((l) => l.trim()).filter((l) => /^-= .* =-$|^NAT |hairpinning|The response is an error|timeout/i.test(l));
}

/** turnutils_natdiscovery with `flags` (-m, -f, -H, -P…) against host:port; its whole output. */
export async function runNatdiscovery(flags: string[], host: string, port: number, timeoutMs = 30_000): Promise<string> {
  const proc = startProcess('turnutils_natdiscovery', [...flags, '-p', String(port), host]);
  const timer = setTimeout(() => void proc.stop(), timeoutMs);
  await proc.exited;
  clearTimeout(timer);
  return proc.output;
}

// ---------------------------------------------------------------------------- turnserver

export interface CoturnOptions {
  tls?: boolean; // keep TLS listeners (default: --no-tls)
  dtls?: boolean; // keep DTLS listeners (default: --no-dtls)
  readyTimeoutMs?: number;
}

export interface CoturnHandle {
  pid: number;
  host: string;
  port: number;
  tmpDir: string;
  logPath: string;
  proc: ProcessHandle;
  readLog(): string;
  /** Stops the server and removes its temp dir (set KEEP_TEST_TMP=1 to keep it). */
  stop(): Promise<unknown>;
}

function flagValue(args: string[], names: string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    for (const n of names) {
      if (args[i] === n) return args[i + 1];
      if (args[i]!.startsWith(`${n}=`)) return args[i]!.slice(n.length + 1);
    }
  }
  return undefined;
}

/**
 * The reference turnserver, made safe for tests: no config file, no CLI, and pid file, user
 * DB and log in a temp dir (its defaults are /var/run, /var/lib/turn, /var/log). Logging goes
 * to a file because its stdout log is block-buffered when redirected.
 */
export async function startCoturn(args: string[], opts: CoturnOptions = {}): Promise<CoturnHandle> {
  const host = flagValue(args, ['--listening-ip', '-L']) ?? '127.0.0.1';
  const portText = flagValue(args, ['--listening-port', '-p']);
  if (!portText) throw new Error('startCoturn: pass --listening-port (a free port), never the default');
  const port = Number(portText);
  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'coturn-'));
  const logPath = path.join(tmpDir, 'turn.log');
  const safe = ['-n', '--pidfile', path.join(tmpDir, 'turnserver.pid'),
    '--userdb', path.join(tmpDir, 'turndb'), '--log-file', logPath, '--simple-log', '--no-stdout-log'];
  if (!args.includes('--no-cli')) safe.push('--no-cli');
  if (!opts.tls && !args.includes('--no-tls')) safe.push('--no-tls');
  if (!opts.dtls && !args.includes('--no-dtls')) safe.push('--no-dtls');
  const proc = startProcess('turnserver', [...safe, ...args]);
  const readLog = () => (fs.existsSync(logPath) ? fs.readFileSync(logPath, 'utf8') : '');
  const cleanup = async () => {
    await proc.stop();
    if (!process.env.KEEP_TEST_TMP) fs.rmSync(tmpDir, { recursive: true, force: true });
  };
  try {
    await waitUntilReady(proc, waitForUdpStun(host, port, opts.readyTimeoutMs ?? 10_000, proc.pid), 'turnserver',
      () => `\n--- log ---\n${readLog()}`);
  } catch (err) {
    await cleanup();
    throw err;
  }
  return { pid: proc.pid, host, port, tmpDir, logPath, proc, readLog, stop: cleanup };
}

// ---------------------------------------------------------------------------- CPU time

let clkTck: number | undefined;
function clockTicks(): number {
  if (clkTck === undefined) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

/** Fields of /proc/PID/stat after the `(comm)` field, which may itself contain spaces. */
function statFields(pid: number): string[] {
  const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return s.slice(s.lastIndexOf(')') + 2).split(' '); // [0] is field 3 (state)
}

/** User and system CPU seconds of one process, all its threads included. */
export function cpuSplitSeconds(pid: number): { user: number; system: number } {
  const f = statFields(pid);
  return { user: Number(f[11]) / clockTicks(), system: Number(f[12]) / clockTicks() }; // utime, stime (fields 14, 15)
}

/** User + system CPU seconds of one process, all its threads included. */
export function cpuTimeSeconds(pid: number): number {
  const { user, system } = cpuSplitSeconds(pid);
  return user + system;
}

/**
 * CPU seconds of a process and all its live descendants, plus the CPU of children it has
 * already reaped (cutime, cstime) — so a server that forks workers is measured whole.
 */
export function treeCpuTimeSeconds(pid: number): number {
  const parentOf = new Map<number, number>();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      parentOf.set(Number(d), Number(statFields(Number(d))[1]));
    } catch {
      // the process went away while we looked
    }
  }
  const tree = new Set([pid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const [p, pp] of parentOf) if (!tree.has(p) && tree.has(pp)) { tree.add(p); grew = true; }
  }
  let ticks = 0;
  for (const p of tree) {
    try {
      const f = statFields(p);
      ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    } catch {
      // exited meanwhile; its time is now in its parent's cutime/cstime
    }
  }
  return ticks / clockTicks();
}

/**
 * coturn's turnserver on `host` for `realm` with long-term credentials from the user database
 * that `dbArgs` names (`--redis-userdb CONN`, `--psql-userdb CONN`): startCoturn passes its own
 * --userdb first, and coturn keeps the database given last.
 */
export async function startCoturnOnUserDb(host: string, realm: string, dbArgs: string[]): Promise<CoturnHandle> {
  const port = await freeUdpTcpPort(host);
  // Room for several uclient runs: coturn picks relay ports at random, and a shared machine's
  // other processes may take some of the range after it was found free.
  const minPort = await freePortRange(host, 100);
  return startCoturn([
    '--listening-ip', host, '--listening-port', String(port), '--relay-ip', host,
    '--min-port', String(minPort), '--max-port', String(minPort + 99),
    '--lt-cred-mech', '--realm', realm, ...dbArgs, '--allow-loopback-peers', '--no-cli',
  ]);
}
