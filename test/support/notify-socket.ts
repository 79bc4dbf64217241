// systemd's notify socket as a test sees it: fake-notify-socket.py bound in a temporary
// directory, and every datagram it received with the sender the kernel vouched for.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Arrival } from './arrival.js';
import { startProcess } from './processes.js';
import { ROOT } from './turnpike-process.js';

const SCRIPT = path.join(ROOT, 'test/support/fake-notify-socket.py');

export interface Notification {
  /** From SCM_CREDENTIALS: what systemd checks against the unit's main PID. */
  readonly pid: number;
  readonly uid: number;
  readonly gid: number;
  /** The datagram, e.g. "READY=1\nSTATUS=…". */
  readonly message: string;
}

export interface FakeNotifySocket {
  /** For NOTIFY_SOCKET. */
  readonly path: string;
  readonly received: readonly Notification[];
  /** The first notification that `matches`, waiting for it up to timeoutMs. */
  next(matches: (n: Notification) => boolean, timeoutMs: number, what: string): Promise<Notification>;
  /** Resolves once every datagram sent before the call has been received (a marker behind them). */
  drain(): Promise<void>;
  close(): Promise<void>;
}

export async function startFakeNotifySocket(): Promise<FakeNotifySocket> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'turnpike-notify-'));
  // The server may drop to an unprivileged user: it must still reach the socket.
  fs.chmodSync(dir, 0o755);
  const socketPath = path.join(dir, 'notify');
  const received: Notification[] = [];
  const arrival = new Arrival();
  const proc = startProcess('python3', [SCRIPT, socketPath, '120'], {
    onLine: (line, stream) => {
      if (stream !== 'stdout' || !line.startsWith('{')) return;
      received.push(JSON.parse(line) as Notification);
      arrival.notify();
    },
  });
  await proc.waitForOutput(/^listening$/m, 10_000);

  const next = async (matches: (n: Notification) => boolean, timeoutMs: number, what: string): Promise<Notification> => {
    await arrival.until(() => received.some(matches), timeoutMs, `no ${what} on the notify socket; got ${JSON.stringify(received)}`);
    return received.find(matches)!;
  };
  return {
    path: socketPath,
    received,
    next,
    async drain() {
      // A unix datagram socket delivers in order: once the marker is in, all before it are.
      const marker = `X_TEST_MARKER=${randomBytes(6).toString('hex')}`;
      await promisify(execFile)('systemd-notify', ['--no-block', marker], { env: { ...process.env, NOTIFY_SOCKET: socketPath } });
      await next((n) => n.message === marker, 10_000, marker);
    },
    async close() {
      await proc.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
