// The turnserver.conf that WebRTC tutorials hand out sets long-term credentials but no realm.
// Turnpike then serves under a default realm (the host's name): uclient, which cannot answer
// a challenge with an empty REALM, relays through a real process started from such a file.
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StunClass } from '../../src/stun/index.js';
import { cleanupAfterEach } from '../support/cleanups.js';
import { runUclient, startPeer, type PeerHandle } from '../support/coturn-tools.js';
import { freePortRange, freeUdpPort } from '../support/ports.js';
import { stopAllProcesses } from '../support/processes.js';
import { UdpTestClient } from '../support/turn-client.js';
import { reloadFromFile, startTurnpikeFromFile, type TurnpikeFromFile } from '../support/turnpike-process.js';

const HOST = '127.0.0.1';
const SECRET = 'tutorial-secret';
const cleanups = cleanupAfterEach();
let peer: PeerHandle;

beforeAll(async () => {
  peer = await startPeer();
});
afterAll(() => stopAllProcesses());

/** Turnpike started with `-c` on a file that has `lines` and the test's addresses, and no realm. */
async function serveFromFileWithoutRealm(lines: string[]): Promise<TurnpikeFromFile> {
  const port = await freeUdpPort(HOST);
  const minPort = await freePortRange(HOST, 40);
  const all = [
    `listening-ip=${HOST}`, `listening-port=${port}`, `relay-ip=${HOST}`, `min-port=${minPort}`, `max-port=${minPort + 39}`,
    'allow-loopback-peers', 'no-tcp', 'no-tls', 'no-dtls', ...lines,
  ];
  return startTurnpikeFromFile(cleanups, all, HOST, port);
}

const load = { clients: 3, messages: 50, length: 100, noRtcp: true, timeoutMs: 30_000 };

describe('long-term credentials with no realm in turnserver.conf', () => {
  it('relays uclient -W (TURN REST API) traffic with 0 lost', async () => {
    const { server } = await serveFromFileWithoutRealm(['lt-cred-mech', 'use-auth-secret', `static-auth-secret=${SECRET}`]);
    const r = await runUclient({ host: HOST, port: server.port, secret: SECRET, user: 'tutorial-user', ...load, peerAddr: peer.host, peerPort: peer.port });
    expect(r.exitCode, r.output).toBe(0);
    expect(r.received).toBe(150);
    expect(r.lostPackets).toBe(0);
  });

  it('relays uclient traffic for a user=name:password account with 0 lost', async () => {
    const { server } = await serveFromFileWithoutRealm(['lt-cred-mech', 'user=carol:carol-Pa55']);
    const r = await runUclient({ host: HOST, port: server.port, user: 'carol', password: 'carol-Pa55', ...load, peerAddr: peer.host, peerPort: peer.port });
    expect(r.exitCode, r.output).toBe(0);
    expect(r.received).toBe(150);
    expect(r.lostPackets).toBe(0);
  });

  it('names the host as the realm, and keeps it over a SIGHUP that still sets none', async () => {
    const served = await serveFromFileWithoutRealm(['lt-cred-mech', 'user=carol:carol-Pa55']);
    const { server } = served;
    await server.proc.waitForOutput(new RegExp(`realm "${os.hostname()}"`), 5000);
    const carol = await UdpTestClient.open({ address: HOST, port: server.port }, { username: 'carol', password: 'carol-Pa55' });
    cleanups.push(() => carol.close());
    expect((await carol.allocate()).cls).toBe(StunClass.SuccessResponse);
    expect(carol.realm).toBe(os.hostname());

    await reloadFromFile(served, [...served.lines, 'user=dave:dave-Pa55'], /configuration reloaded: user$/m);
    // Signed with the realm and nonce learned before the reload: a changed realm would be a 401.
    expect((await carol.refresh(600)).cls).toBe(StunClass.SuccessResponse);
  });
});
