// coturn's own clients against Turnpike: the proof that a TURN client nobody here wrote
// accepts Turnpike as a TURN server (Debian coturn 4.6.1's turnutils_*).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runStunclient, runUclient, startPeer, type PeerHandle } from '../support/coturn-tools.js';
import { captureOnLoopback } from '../support/packet-capture.js';
import { freePortRange, freeUdpPort } from '../support/ports.js';
import { stopAllProcesses } from '../support/processes.js';
import { startTurnpike, type TurnpikeHandle } from '../support/turnpike-process.js';

const REALM = 'interop.example';
// MD5("keyuser:interop.example:keypass"), as `turnadmin -k` prints it.
const KEY_USER = { name: 'keyuser', key: '0xf7836d4d02c675963217591f1141dff1' };

async function serverArgs(host: string, extra: string[] = []): Promise<{ args: string[]; port: number }> {
  const port = await freeUdpPort(host);
  const minPort = await freePortRange(host, 200);
  return {
    port,
    args: [
      '-n', '--listening-ip', host, '--listening-port', String(port), '--relay-ip', host,
      '--min-port', String(minPort), '--max-port', String(minPort + 199),
      '--lt-cred-mech', '--user', 'alice:secret', '--user', `${KEY_USER.name}:${KEY_USER.key}`, '--realm', REALM,
      '--allow-loopback-peers', '--no-tcp', '--no-tls', '--no-dtls', ...extra,
    ],
  };
}

/**
 * Turnpike on `host` with the test users, and a turnutils_peer echo on the same address: coturn's
 * usual one-host self-check (`turnutils_peer -L 127.0.0.1`, uclient `-e 127.0.0.1`), which
 * `allow-loopback-peers` must let through on any port but the server's own.
 */
async function startServerAndPeer(host: string): Promise<{ server: TurnpikeHandle; peer: PeerHandle }> {
  const { args, port } = await serverArgs(host);
  const server = await startTurnpike(args, host, port);
  return { server, peer: await startPeer({ host }) };
}

describe('turnutils_* against Turnpike over UDP (IPv4)', () => {
  const HOST = '127.0.0.1';
  let server: TurnpikeHandle;
  let peer: PeerHandle;

  beforeAll(async () => {
    ({ server, peer } = await startServerAndPeer(HOST));
  });
  afterAll(() => stopAllProcesses());

  const load = { clients: 10, messages: 200, length: 120, timeoutMs: 45_000 };

  it('turnutils_stunclient gets its mapped address', async () => {
    const r = await runStunclient(HOST, server.port);
    expect(r.exitCode, r.output).toBe(0);
    expect(r.address).toBe(HOST);
  });

  it.each([
    ['ChannelData (-c)', { noRtcp: true }],
    ['Send indications (-c -s)', { noRtcp: true, sendIndications: true }],
    ['RTP/RTCP pairs with EVEN-PORT and RESERVATION-TOKEN (no -c)', {}],
  ])('relays %s to an echo peer with 0 lost', async (_name, mode) => {
    const r = await runUclient({ host: HOST, port: server.port, user: 'alice', password: 'secret', ...load, ...mode, peerAddr: peer.host, peerPort: peer.port });
    expect(r.exitCode, r.output).toBe(0);
    expect(r.sent).toBeGreaterThanOrEqual(load.clients * load.messages);
    expect(r.received).toBe(r.sent);
    expect(r.lostPackets).toBe(0);
  });

  it('accepts DONT-FRAGMENT (-g), and what it relays to the peer carries DF', async () => {
    const capture = await captureOnLoopback(`udp and dst host ${peer.host} and dst port ${peer.port}`);
    const r = await runUclient({ host: HOST, port: server.port, user: 'alice', password: 'secret', clients: 2, messages: 20, length: 120, noRtcp: true, peerAddr: peer.host, peerPort: peer.port, extraArgs: ['-g'], timeoutMs: 30_000 });
    const packets = await capture.stop(40);
    expect(r.exitCode, r.output).toBe(0);
    expect(r.lostPackets).toBe(0);
    expect(packets.length).toBeGreaterThanOrEqual(40);
    expect(packets.filter((line) => !line.includes('flags [DF]'))).toEqual([]);
  });

  it('relays for a user given as a 0x key', async () => {
    const r = await runUclient({ host: HOST, port: server.port, user: KEY_USER.name, password: 'keypass', ...load, noRtcp: true, peerAddr: peer.host, peerPort: peer.port });
    expect(r.exitCode, r.output).toBe(0);
    expect(r.received).toBe(load.clients * load.messages);
    expect(r.lostPackets).toBe(0);
  });

  it('fails to allocate with a wrong password', async () => {
    const r = await runUclient({ host: HOST, port: server.port, user: 'alice', password: 'wrong', clients: 1, messages: 1, noRtcp: true, peerAddr: peer.host, peerPort: peer.port, timeoutMs: 15_000 });
    expect(r.allocationFailed, r.output).toBe(true);
    expect(r.exitCode).toBe(255);
  });
});

describe('turnutils_uclient against Turnpike over IPv6 (::1)', () => {
  const HOST = '::1';
  let server: TurnpikeHandle;
  let peer: PeerHandle;

  beforeAll(async () => {
    ({ server, peer } = await startServerAndPeer(HOST));
  });
  afterAll(() => stopAllProcesses());

  it('allocates an IPv6 relay (-x) and relays to an IPv6 peer with 0 lost', async () => {
    const r = await runUclient({
      host: HOST, port: server.port, user: 'alice', password: 'secret', clients: 5, messages: 100, length: 120,
      noRtcp: true, ipv6Relay: true, peerAddr: peer.host, peerPort: peer.port, extraArgs: ['-v'], timeoutMs: 45_000,
    });
    expect(r.exitCode, r.output).toBe(0);
    // uclient accepts an IPv4 relay for -x too, so check the relay it was given.
    expect(r.output).toMatch(/Received relay addr: ::1:\d+/);
    expect(r.received).toBe(500);
    expect(r.lostPackets).toBe(0);
  });
});

describe('turnserver.conf (-c) against the equivalent flags', () => {
  const HOST = '127.0.0.1';
  let dir: string;
  afterAll(async () => {
    await stopAllProcesses();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('relays uclient traffic with the same result either way', async () => {
    // The password has a # and a ; in it: coturn keeps them as part of the value.
    const password = 'pa#ss;word';
    const { args, port } = await serverArgs(HOST, ['--user', `carol:${password}`]);
    const fromFlags = await startTurnpike(args, HOST, port);
    const fromFile = await (async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'turnpike-conf-'));
      const filePort = await freeUdpPort(HOST);
      const minPort = await freePortRange(HOST, 100);
      const conf = path.join(dir, 'turnserver.conf');
      fs.writeFileSync(
        conf,
        [
          '# written by the interop test, in coturn format',
          `listening-ip=${HOST}`,
          `listening-port ${filePort}`,
          `relay-ip=${HOST}`,
          `min-port=${minPort}`,
          `max-port=${minPort + 99}`,
          'lt-cred-mech',
          `user=carol:${password}`,
          `realm="${REALM}"`,
          'allow-loopback-peers',
          'no-tcp',
          'no-tls',
          'no-dtls',
          '',
        ].join('\n'),
      );
      return startTurnpike(['-c', conf], HOST, filePort);
    })();
    const peer = await startPeer();
    const load = { user: 'carol', password, clients: 10, messages: 200, length: 120, noRtcp: true, peerAddr: peer.host, peerPort: peer.port, timeoutMs: 45_000 };
    const viaFlags = await runUclient({ host: HOST, port: fromFlags.port, ...load });
    const viaFile = await runUclient({ host: HOST, port: fromFile.port, ...load });
    for (const r of [viaFlags, viaFile]) {
      expect(r.exitCode, r.output).toBe(0);
      expect(r.lostPackets).toBe(0);
    }
    expect([viaFile.sent, viaFile.received]).toEqual([viaFlags.sent, viaFlags.received]);
    expect(viaFile.received).toBe(2000);
  });
});
