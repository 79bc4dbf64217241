/**
 * sd_notify(3) for Type=notify units: READY=1 once serving, STOPPING=1 on the way out.
 *
 * systemd takes the sender from the datagram's SCM_CREDENTIALS, which the kernel fills in
 * with the sending process's PID, and under NotifyAccess=main (the default, and what
 * Debian's coturn.service runs with) it accepts only the main PID. So this process must send
 * the datagram itself. Node has no unix datagram sockets; the `unix-dgram` addon (an optional
 * dependency, compiled at install) gives it one. Without it, a `systemd-notify` child sends
 * instead, under its own PID unless it runs as root, and that needs NotifyAccess=all.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import type { Logger } from '../log/logger-interface.js';

/** The part of unix-dgram used here (it ships no types). */
interface UnixDgramSocket {
  on(event: 'error', listener: (error: Error) => void): void;
  send(buf: Buffer, offset: number, length: number, path: string, callback: (error?: Error) => void): void;
  close(): void;
}
interface UnixDgram {
  createSocket(type: 'unix_dgram'): UnixDgramSocket;
}

/** A hung systemd-notify (it waits for PID 1 to confirm) must not hold up start or stop. */
const HELPER_TIMEOUT_MS = 5_000;

/** The addon, or null when it is not installed (its build needs a compiler, and is optional). */
function loadUnixDgram(): UnixDgram | null {
  try {
    return createRequire(import.meta.url)('unix-dgram') as UnixDgram;
  } catch {
    return null;
  }
}

/** One datagram from this process; the kernel attaches our PID for systemd to check. */
function sendInProcess(unixDgram: UnixDgram, path: string, message: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = unixDgram.createSocket('unix_dgram');
    socket.on('error', reject);
    const data = Buffer.from(message, 'utf8');
    socket.send(data, 0, data.length, path, (error) => {
      socket.close();
      if (error) reject(error);
      else resolve();
    });
  });
}

/** `systemd-notify VAR=VALUE…`: systemd sees the helper's PID, not ours (unless we are root). */
function sendThroughHelper(path: string, message: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, NOTIFY_SOCKET: path };
    const child = spawn('systemd-notify', message.split('\n'), { env, stdio: 'ignore', timeout: HELPER_TIMEOUT_MS });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`systemd-notify exited with ${signal ?? `code ${code}`}`));
    });
  });
}

export class SystemdNotifier {
  private warnedAboutHelper = false;
  /** Loaded on the first notification, so that a server outside systemd never loads it. */
  private unixDgram: UnixDgram | null | undefined;

  constructor(
    private readonly logger: Logger,
    /** $NOTIFY_SOCKET: set by systemd for Type=notify units; '@…' is an abstract socket. */
    private readonly socketPath: string | undefined = process.env['NOTIFY_SOCKET'],
    private readonly loadAddon: () => UnixDgram | null = loadUnixDgram,
  ) {}

  /** Every listener is bound (and privileges dropped): systemd may start what depends on us. */
  ready(status: string): Promise<void> {
    return this.notify(['READY=1', `STATUS=${status}`]);
  }

  /** Shutdown has begun, so systemd does not take the exit for a crash in the middle of it. */
  stopping(): Promise<void> {
    return this.notify(['STOPPING=1', 'STATUS=stopping']);
  }

  private async notify(lines: readonly string[]): Promise<void> {
    if (!this.socketPath) return;
    const message = lines.join('\n');
    if (this.unixDgram === undefined) this.unixDgram = this.loadAddon();
    try {
      // unix-dgram takes file system paths only; abstract sockets go through the helper.
      if (this.unixDgram && !this.socketPath.startsWith('@')) {
        await sendInProcess(this.unixDgram, this.socketPath, message);
      } else {
        this.warnOnceAboutHelper();
        await sendThroughHelper(this.socketPath, message);
      }
      this.logger.verbose(`systemd notified: ${lines.join(', ')}`);
    } catch (error) {
      this.logger.error(`cannot notify systemd (${lines[0]}) on ${this.socketPath}: ${(error as Error).message}`);
    }
  }

  private warnOnceAboutHelper(): void {
    if (this.warnedAboutHelper) return;
    this.warnedAboutHelper = true;
    const why = this.unixDgram ? 'the notify socket is abstract' : 'the unix-dgram addon is not installed';
    this.logger.warn(
      `systemd: ${why}, so systemd-notify sends readiness under its own PID; ` +
        'unless Turnpike runs as root, the unit needs NotifyAccess=all (under NotifyAccess=main, ' +
        "as in Debian's coturn.service, systemd ignores it and times the start out)",
    );
  }
}
