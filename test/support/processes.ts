// Child processes for interop tests and the bench: output capture, readiness waits, and a
// registry so that afterAll/afterEach (or a crashing bench) stops every process it started.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import { udpPortHeldOnlyBy } from './proc-net-udp.js';

export interface StartOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Also append everything the process prints to this file. */
  logFile?: string;
  /** Called once per complete output line, as it arrives (stdout and stderr). */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ProcessHandle {
  readonly name: string;
  readonly pid: number;
  readonly child: ChildProcess;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout and stderr interleaved in arrival order. */
  readonly output: string;
  /** Resolves once the process has exited (and its pipes drained, briefly). */
  readonly exited: Promise<ExitInfo>;
  readonly exitInfo: ExitInfo | null;
  /** Resolves once the output from offset `from` on (default: all of it) matches `re`. */
  waitForOutput(re: RegExp, timeoutMs: number, from?: number): Promise<RegExpMatchArray>;
  /** SIGTERM, SIGKILL after 3 s; resolves when exited. Safe to call more than once. */
  stop(): Promise<ExitInfo>;
  /** True once stop() has had to send SIGKILL: what the process had yet to write is lost. */
  readonly killedByStop: boolean;
}

const live = new Set<ProcessHandle>();

/** Stop every process started through startProcess that is still running. */
export async function stopAllProcesses(): Promise<void> {
  await Promise.all([...live].map((h) => h.stop()));
}

// Last resort if the test runner or bench dies without cleanup: kill our own children by PID.
process.once('exit', () => {
  for (const h of live) if (h.exitInfo === null) h.child.kill('SIGKILL');
});

export function startProcess(cmd: string, args: string[], opts: StartOptions = {}): ProcessHandle {
  const child = spawn(cmd, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) {
    // spawn failures (ENOENT) are also emitted as 'error' later; swallow that, throw now.
    child.once('error', () => {});
    throw new Error(`cannot start ${cmd}: no pid (is it installed?)`);
  }
  const log = opts.logFile ? fs.createWriteStream(opts.logFile, { flags: 'a' }) : null;
  let stdout = '';
  let stderr = '';
  let output = '';
  const partial = { stdout: '', stderr: '' };
  const listeners = new Set<() => void>();

  const onData = (stream: 'stdout' | 'stderr') => (buf: Buffer) => {
    const text = buf.toString('utf8');
    if (stream === 'stdout') stdout += text;
    else stderr += text;
    output += text;
    log?.write(text);
    if (opts.onLine) {
      const lines = (partial[stream] + text).split('\n');
      partial[stream] = lines.pop() ?? '';
      for (const line of lines) opts.onLine(line, stream);
    }
    for (const l of listeners) l();
  };
  child.stdout!.on('data', onData('stdout'));
  child.stderr!.on('data', onData('stderr'));

  let exitInfo: ExitInfo | null = null;
  const exited = new Promise<ExitInfo>((resolve) => {
    const finish = (info: ExitInfo) => {
      if (exitInfo) return;
      exitInfo = info;
      live.delete(handle);
      log?.end();
      for (const l of listeners) l();
      resolve(info);
    };
    child.once('error', (err) => {
      output += `\n[spawn error: ${err.message}]\n`;
      finish({ code: -1, signal: null });
    });
    // 'close' comes after the pipes drain; if a grandchild keeps them open, settle on 'exit'.
    child.once('close', (code, signal) => finish({ code, signal }));
    child.once('exit', (code, signal) => {
      setTimeout(() => finish({ code, signal }), 500).unref();
    });
  });

  let stopping: Promise<ExitInfo> | null = null;
  let killedByStop = false;
  const handle: ProcessHandle = {
    name: `${cmd} ${args.join(' ')}`,
    pid: child.pid,
    child,
    get stdout() { return stdout; },
    get stderr() { return stderr; },
    get output() { return output; },
    get exitInfo() { return exitInfo; },
    get killedByStop() { return killedByStop; },
    exited,
    waitForOutput(re, timeoutMs, from = 0) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = output.slice(from).match(re);
          if (m) return done(() => resolve(m));
          if (exitInfo) {
            return done(() => reject(new Error(
              `${cmd} exited (${JSON.stringify(exitInfo)}) before printing ${re}:\n${output}`)));
          }
        };
        const timer = setTimeout(() => done(() => reject(new Error(
          `${cmd} did not print ${re} within ${timeoutMs} ms:\n${output}`))), timeoutMs);
        const done = (f: () => void) => {
          clearTimeout(timer);
          listeners.delete(check);
          f();
        };
        listeners.add(check);
        check();
      });
    },
    stop() {
      if (!stopping) {
        stopping = (async () => {
          if (exitInfo) return exitInfo;
          child.kill('SIGTERM');
          const killer = setTimeout(() => {
            killedByStop = true;
            child.kill('SIGKILL');
          }, 3000);
          const info = await exited;
          clearTimeout(killer);
          return info;
        })();
      }
      return stopping;
    },
  };
  live.add(handle);
  return handle;
}

/**
 * Wait for `ready`, but fail at once (with the output) if the process exits first; on any
 * failure the process is stopped. `extra` adds context, such as a server's log file.
 */
export async function waitUntilReady(
  h: ProcessHandle, ready: Promise<void>, what: string, extra: () => string = () => '',
): Promise<void> {
  let exitedFirst = false;
  const exited = h.exited.then((info) => {
    exitedFirst = true;
    throw new Error(`${what} exited before it was ready (${JSON.stringify(info)}):\n${h.output}${extra()}`);
  });
  exited.catch(() => {}); // an exit after a normal stop() later is not an error
  try {
    await Promise.race([ready, exited]);
  } catch (err) {
    const crashed = exitedFirst; // read before stop(): that exit would set it too
    await h.stop();
    if (err instanceof Error && !crashed) {
      err.message += `\n--- ${what} output ---\n${h.output}${extra()}`;
    }
    throw err;
  }
}

/** A 20-byte STUN Binding request: type 0x0001, length 0, magic cookie, random transaction id. */
export function stunBindingRequest(): Buffer {
  const b = Buffer.alloc(20);
  b.writeUInt16BE(0x0001, 0);
  b.writeUInt16BE(0, 2);
  b.writeUInt32BE(0x2112a442, 4);
  randomBytes(12).copy(b, 8);
  return b;
}

/**
 * Resolves when anything answers a UDP datagram on host:port (a STUN server replies to the
 * Binding request; an echo peer echoes it). Sends every 100 ms; rejects after timeoutMs.
 * With `owner`, an answer counts only while process `owner` alone holds host:port: a port found
 * free may be taken by another process before the server binds it, and that one answers too
 * (the server then fails to bind and exits, which waitUntilReady reports).
 */
export function waitForUdpStun(host: string, port: number, timeoutMs: number, owner?: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
    let interval: NodeJS.Timeout | undefined;
    let settled = false;
    let answeredByAnother = false;
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearInterval(interval);
      clearTimeout(timer);
      sock.close();
      if (err) reject(err);
      else resolve();
    };
    const timer = setTimeout(
      () => finish(new Error(answeredByAnother
        ? `${host}:${port} answered within ${timeoutMs} ms, but from a socket process ${owner} does not hold alone (another process has the port)`
        : `no UDP answer from ${host}:${port} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    sock.on('message', (_answer, from) => {
      if (from.port !== port) return; // not from the port asked
      if (owner !== undefined && !udpPortHeldOnlyBy(owner, host, port)) answeredByAnother = true;
      else finish();
    });
    // ICMP port unreachable shows up as an error on some sends; just keep trying.
    sock.on('error', () => {});
    const send = () => sock.send(stunBindingRequest(), port, host, () => {});
    sock.bind(0, () => {
      if (settled) return;
      send();
      interval = setInterval(send, 100);
    });
  });
}
