// Proves the harness against the reference: coturn's own turnserver relays uclient's traffic
// to the echo peer, and our parsing of uclient and stunclient output sees it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCoturn, startPeer, runStunclient, runUclient, type CoturnHandle, type PeerHandle } from '../support/coturn-tools.js';
import { freePortRange, freeUdpTcpPort } from '../support/ports.js';
import { stopAllProcesses } from '../support/processes.js';

const HOST = '127.0.0.1';

describe('harness against coturn turnserver (reference)', () => {
  let server: CoturnHandle;
  let peer: PeerHandle;

  beforeAll(async () => {
    const port = await freeUdpTcpPort(HOST); // coturn listens on UDP and TCP
    const minPort = await freePortRange(HOST, 100);
    server = await startCoturn([
      '--listening-ip', HOST, '--listening-port', String(port),
      '--relay-ip', HOST, '--min-port', String(minPort), '--max-port', String(minPort + 99),
      '--lt-cred-mech', '--user', 'alice:secret', '--realm', 'example.org',
      '--allow-loopback-peers', '--no-cli',
    ]);
    peer = await startPeer({ host: HOST });
  });

  afterAll(async () => {
    await server?.stop(); // also removes its temp dir
    await stopAllProcesses();
  });

  it('relays ChannelData to the echo peer with no loss', async () => {
    const r = await runUclient({
      host: HOST, port: server.port, user: 'alice', password: 'secret',
      noRtcp: true, clients: 5, messages: 100, length: 120,
      peerAddr: peer.host, peerPort: peer.port, timeoutMs: 25_000,
    });
    expect(r.allocationFailed, r.output).toBe(false);
    expect(r.exitCode, r.output).toBe(0);
    expect(r.sent).toBe(500);
    expect(r.received).toBe(r.sent);
    expect(r.lostPackets).toBe(0);
    expect(r.lossPercent).toBe(0);
    expect(r.avgRttMs).not.toBeNull();
  });

  it('reports a failed allocation for a wrong password', async () => {
    const r = await runUclient({
      host: HOST, port: server.port, user: 'alice', password: 'wrong',
      noRtcp: true, clients: 1, messages: 1, peerAddr: peer.host, peerPort: peer.port,
      timeoutMs: 10_000,
    });
    expect(r.allocationFailed, r.output).toBe(true);
    expect(r.exitCode).toBe(255);
  });

  it('stunclient sees the reflexive address', async () => {
    const r = await runStunclient(HOST, server.port);
    expect(r.exitCode, r.output).toBe(0);
    expect(r.address).toBe(HOST);
    expect(r.port).toBeGreaterThan(0);
  });
});
