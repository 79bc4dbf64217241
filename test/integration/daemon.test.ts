// daemon (-o) as an init script uses it: the command returns once the server serves, and
// the server goes on in the background until stopped by the PID it wrote.
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePortRange, freeUdpPort } from '../support/ports.js';
import { startProcess, stopAllProcesses, waitForUdpStun } from '../support/processes.js';
import { ROOT, TURNPIKE_CLI } from '../support/turnpike-process.js';

const HOST = '127.0.0.1';
const daemons: number[] = [];
afterEach(async () => {
  // Stop the background servers this test started, by the PID they wrote.
  for (const pid of daemons.splice(0)) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // Already gone.
    }
  }
  await stopAllProcesses();
});

/** Running: a zombie waiting for an init that does not reap (some containers) has ended. */
function alive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

async function daemonArgs(port: number, pidFile: string): Promise<string[]> {
  const minPort = await freePortRange(HOST, 10);
  return [
    TURNPIKE_CLI, 'serve', '-n', '-o', '--listening-ip', HOST, '--listening-port', String(port), '--relay-ip', HOST,
    '--min-port', String(minPort), '--max-port', String(minPort + 9), '--no-tcp', '--no-tls', '--no-dtls', '--pidfile', pidFile,
  ];
}

describe('daemon (-o)', () => {
  it('returns 0 once the server serves; the server goes on in the background and stops on SIGTERM', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'turnpike-daemon-'));
    try {
      const port = await freeUdpPort(HOST);
      const pidFile = path.join(dir, 'turnpike.pid');
      const command = startProcess(process.execPath, await daemonArgs(port, pidFile), { cwd: ROOT });
      expect(await command.exited).toEqual({ code: 0, signal: null });
      const pid = Number(/pid (\d+)/.exec(command.output)?.[1]);
      daemons.push(pid);
      expect(fs.readFileSync(pidFile, 'utf8').trim()).toBe(String(pid));
      await waitForUdpStun(HOST, port, 2000);

      process.kill(pid, 'SIGTERM');
      for (let i = 0; i < 50 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
      expect(alive(pid)).toBe(false);
      expect(fs.existsSync(pidFile)).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('returns the server’s exit status when it cannot start (its port is taken)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'turnpike-daemon-'));
    const taken = dgram.createSocket('udp4');
    try {
      const port = await freeUdpPort(HOST);
      await new Promise<void>((r) => taken.bind(port, HOST, () => r()));
      const command = startProcess(process.execPath, await daemonArgs(port, path.join(dir, 'turnpike.pid')), { cwd: ROOT });
      expect((await command.exited).code).toBe(1);
      expect(command.output).toMatch(/stopped before serving \(exit 1\)/);
    } finally {
      taken.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
