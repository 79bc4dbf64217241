// `turnpike healthcheck` as Docker's HEALTHCHECK runs it: the built CLI against a real server,
// a port nobody listens on, and a server that ignores Binding requests.
import { afterEach, describe, expect, it } from 'vitest';
import { freeUdpPort } from '../support/ports.js';
import { startProcess, stopAllProcesses } from '../support/processes.js';
import { ROOT, TURNPIKE_CLI, startTurnpike } from '../support/turnpike-process.js';

const HOST = '127.0.0.1';
afterEach(() => stopAllProcesses());

async function healthcheck(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = startProcess(process.execPath, [TURNPIKE_CLI, 'healthcheck', ...args], { cwd: ROOT });
  const { code } = await proc.exited;
  return { code, stdout: proc.stdout, stderr: proc.stderr };
}

const serverArgs = (port: number) => ['-n', '--listening-ip', HOST, '--listening-port', String(port), '--no-tcp', '--no-tls', '--no-dtls'];

describe('turnpike healthcheck', () => {
  it('exits 0 when the server answers a Binding request with XOR-MAPPED-ADDRESS', async () => {
    const port = await freeUdpPort(HOST);
    await startTurnpike(serverArgs(port), HOST, port);
    const result = await healthcheck('--host', HOST, '--port', String(port));
    expect(result).toEqual({
      code: 0,
      stdout: expect.stringMatching(new RegExp(`^ok: ${HOST}:${port}/udp: Binding success, mapped address ${HOST}:\\d+\\n$`)),
      stderr: '',
    });
  });

  it('exits 1 with one line when nothing listens on the port', async () => {
    const port = await freeUdpPort(HOST);
    const result = await healthcheck('--port', String(port), '--timeout', '5000');
    expect(result).toEqual({ code: 1, stdout: '', stderr: `unhealthy: ${HOST}:${port}/udp: port unreachable (nothing listens there)\n` });
  });

  it('exits 1 when the server does not answer Binding (no-stun)', async () => {
    const port = await freeUdpPort(HOST);
    const silent = startProcess(process.execPath, [TURNPIKE_CLI, 'serve', ...serverArgs(port), '--no-stun'], { cwd: ROOT });
    await silent.waitForOutput(/listening on UDP/, 10_000);
    const result = await healthcheck('--port', String(port), '--timeout', '1200');
    expect(result).toEqual({ code: 1, stdout: '', stderr: `unhealthy: ${HOST}:${port}/udp: no answer within 1200 ms\n` });
  });

  it('exits 1 with the usage on an unknown flag', async () => {
    const result = await healthcheck('--hots', HOST);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^turnpike healthcheck: .*'--hots'.*; usage: turnpike healthcheck \[--host/);
  });
});
