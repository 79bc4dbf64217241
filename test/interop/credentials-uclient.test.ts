// Credentials that coturn's tools produce, accepted by Turnpike: a user written into the
// SQLite database by coturn's turnadmin, and REST API credentials minted by uclient -W.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runUclient, startPeer, type PeerHandle } from '../support/coturn-tools.js';
import { freePortRange, freeUdpPort } from '../support/ports.js';
import { stopAllProcesses } from '../support/processes.js';
import { startTurnpike } from '../support/turnpike-process.js';

const HOST = '127.0.0.1';
const REALM = 'creds.example';
let dir: string;
let peer: PeerHandle;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'turnpike-creds-'));
  peer = await startPeer();
});
afterAll(async () => {
  await stopAllProcesses();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function startServer(extra: string[]) {
  const port = await freeUdpPort(HOST);
  const minPort = await freePortRange(HOST, 60);
  return startTurnpike(
    ['-n', '--listening-ip', HOST, '--listening-port', String(port), '--relay-ip', HOST, '--min-port', String(minPort),
      '--max-port', String(minPort + 59), '--realm', REALM, '--allow-loopback-peers', '--no-tcp', '--no-tls', '--no-dtls', ...extra],
    HOST,
    port,
  );
}

/** coturn's turnadmin, which logs to /var/log/turn_<pid>_<date>.log: that file is removed after. */
function coturnTurnadmin(args: string[]): string {
  const run = spawnSync('turnadmin', args, { cwd: dir, encoding: 'utf8' });
  const output = `${run.stdout}${run.stderr}`;
  if (run.status !== 0) throw new Error(`turnadmin ${args.join(' ')} failed: ${output}`);
  const log = /log file opened: (\S+)/.exec(output)?.[1];
  if (log?.startsWith('/var/log/turn_')) fs.rmSync(log, { force: true });
  return output;
}

const load = { clients: 3, messages: 50, length: 100, noRtcp: true, timeoutMs: 30_000 };

describe('credentials from coturn tools', () => {
  it("a user added by coturn's turnadmin -a allocates through Turnpike --userdb", async () => {
    const db = path.join(dir, 'turndb');
    coturnTurnadmin(['-a', '-b', db, '-u', 'frank', '-r', REALM, '-p', 'from-coturn']);
    const server = await startServer(['--lt-cred-mech', '--userdb', db]);
    const r = await runUclient({ host: HOST, port: server.port, user: 'frank', password: 'from-coturn', ...load, peerAddr: peer.host, peerPort: peer.port });
    expect(r.exitCode, r.output).toBe(0);
    expect(r.received).toBe(150);
    expect(r.lostPackets).toBe(0);
    await server.stop();
  });

  it('uclient -W relays with either of two rotated secrets, and fails with another', async () => {
    const server = await startServer(['--use-auth-secret', '--static-auth-secret', 'old-secret', '--static-auth-secret', 'new-secret']);
    for (const secret of ['old-secret', 'new-secret']) {
      const r = await runUclient({ host: HOST, port: server.port, secret, user: 'rest-user', ...load, peerAddr: peer.host, peerPort: peer.port });
      expect(r.exitCode, r.output).toBe(0);
      expect(r.received).toBe(150);
      expect(r.lostPackets).toBe(0);
    }
    const wrong = await runUclient({ host: HOST, port: server.port, secret: 'guessed', user: 'rest-user', ...load, clients: 1, peerAddr: peer.host, peerPort: peer.port });
    expect(wrong.allocationFailed, wrong.output).toBe(true);
    await server.stop();
  });
});
