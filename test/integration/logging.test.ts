// Turnpike's log as operators meet it, from a real Turnpike process: logrotate's rename and
// SIGHUP, and the line that closes each relay, checked against what the client counted.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { runUclient, startPeer } from '../support/coturn-tools.js';
import { freePortRange, freeUdpPort } from '../support/ports.js';
import { stopAllProcesses } from '../support/processes.js';
import { startTurnpike, type TurnpikeHandle } from '../support/turnpike-process.js';
import { readLog, waitForLine } from '../support/log-lines.js';

const HOST = '127.0.0.1';
const dirs: string[] = [];
afterEach(() => stopAllProcesses());
afterAll(() => dirs.splice(0).forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

async function startLogged(logArgs: string[]): Promise<{ server: TurnpikeHandle; log: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'turnpike-logging-'));
  dirs.push(dir);
  const log = path.join(dir, 'turn.log');
  const port = await freeUdpPort(HOST);
  const minPort = await freePortRange(HOST, 50);
  const server = await startTurnpike(
    [
      '-n', '--listening-ip', HOST, '--listening-port', String(port), '--relay-ip', HOST,
      '--min-port', String(minPort), '--max-port', String(minPort + 49),
      '--lt-cred-mech', '--user', 'alice:s3cret-Pa55', '--realm', 'log.example', '--allow-loopback-peers',
      '--no-tcp', '--no-tls', '--no-dtls', '--log-file', log, '--simple-log', '--no-stdout-log', ...logArgs,
    ],
    HOST,
    port,
  );
  return { server, log };
}


describe('the log file', () => {
  it('is reopened on SIGHUP after a rename (logrotate), with coturn-style timestamps', async () => {
    const { server, log } = await startLogged(['--new-log-timestamp']);
    await waitForLine(log, /listening on UDP/);
    fs.renameSync(log, `${log}.1`);
    process.kill(server.pid, 'SIGHUP');
    await waitForLine(log, /configuration reloaded/);
    await server.stop();
    const rotated = readLog(`${log}.1`);
    const current = readLog(log);
    expect(rotated).toMatch(/Turnpike \S+ starting/);
    expect(rotated).not.toContain('SIGHUP');
    expect(current).not.toContain('starting');
    expect(current).toMatch(/SIGTERM: stopping\n.*stopped\n$/);
    // new-log-timestamp: coturn's %FT%T%z, then the level.
    for (const line of current.trim().split('\n')) expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}: (INFO|WARN): /);
    expect(server.proc.exitInfo?.code).toBe(0);
  });

  it("logs a relay's end with the packets and bytes the client sent and received, as JSON lines", async () => {
    const { server, log } = await startLogged(['--log-format', 'json']);
    const peer = await startPeer();
    const length = 120;
    const r = await runUclient({
      host: HOST, port: server.port, user: 'alice', password: 's3cret-Pa55', noRtcp: true,
      clients: 1, messages: 40, length, peerAddr: peer.host, peerPort: peer.port, timeoutMs: 45_000,
    });
    expect(r.exitCode, r.output).toBe(0);
    expect(r.sent).toBe(40);
    const ended = /allocation \d+ ended \(refreshed with lifetime 0\): user "alice" .* from client (\d+) pkts\/(\d+) B, to client (\d+) pkts\/(\d+) B/;
    await waitForLine(log, /allocation \d+ ended \(refreshed with lifetime 0\)/);
    const lines = readLog(log).trim().split('\n').map((l) => JSON.parse(l) as { time: string; level: string; message: string });
    const end = lines.find((l) => ended.test(l.message))!;
    expect(end.level).toBe('info');
    expect(Number.isNaN(Date.parse(end.time))).toBe(false);
    const [, fromPackets, fromBytes, toPackets, toBytes] = ended.exec(end.message)!.map(Number);
    expect([fromPackets, fromBytes]).toEqual([r.sent, r.sent! * length]);
    expect([toPackets, toBytes]).toEqual([r.received, r.received! * length]);
    // Neither the password nor the long-term key derived from it is ever logged.
    expect(readLog(log)).not.toContain('s3cret-Pa55');
  });
});
