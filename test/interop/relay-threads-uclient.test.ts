// `turnpike serve` with relay-threads 2, as users run it: coturn's own client over UDP, TCP,
// TLS and DTLS relays with nothing lost, each run's allocations land on both workers (their
// log lines name the worker holding each), a reload adds a user every worker takes, a
// proc-user drop keeps both workers relaying, and SIGTERM ends the process cleanly.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCertificate, type TestCertificate } from '../support/certs.js';
import type { Cleanups } from '../support/cleanups.js';
import { runUclient, startPeer, type PeerHandle, type UclientOptions } from '../support/coturn-tools.js';
import { freePortRange, freeUdpTcpPort } from '../support/ports.js';
import { stopAllProcesses } from '../support/processes.js';
import { reloadFromFile, startTurnpike, startTurnpikeFromFile, type TurnpikeFromFile, type TurnpikeHandle } from '../support/turnpike-process.js';

const HOST = '127.0.0.1';
const REALM = 'workers.example';
// 16 clients, each from its own port: all on one worker of two would happen once in 2^15 runs.
const LOAD = { clients: 16, messages: 50, length: 120, noRtcp: true, timeoutMs: 60_000 };
// 4.6.1's client picks DTLS 1.0 at random unless told a DTLS 1.2 suite; the certificate is EC.
const DTLS12 = ['-F', 'ECDHE-ECDSA-AES128-GCM-SHA256'];

/** The workers whose log lines say they created an allocation, from offset `from` of the output. */
function workersThatAllocated(server: TurnpikeHandle, from: number): number[] {
  const found = new Set<number>();
  for (const m of server.proc.output.slice(from).matchAll(/relay worker (\d+): allocation \d+ created/g)) found.add(Number(m[1]));
  return [...found].sort();
}

/** Runs uclient against `server` to the echo peer and checks nothing was lost and both workers served. */
async function relaysOnBothWorkers(server: TurnpikeHandle, peer: PeerHandle, options: Omit<UclientOptions, 'host' | 'timeoutMs'>): Promise<void> {
  const from = server.proc.output.length;
  const r = await runUclient({ host: HOST, ...LOAD, ...options, peerAddr: peer.host, peerPort: peer.port });
  expect(r.exitCode, r.output).toBe(0);
  expect(r.sent).toBe(LOAD.clients * LOAD.messages);
  expect(r.received).toBe(r.sent);
  expect(r.lostPackets).toBe(0);
  expect(workersThatAllocated(server, from), server.proc.output.slice(from)).toEqual([0, 1]);
}

/** Cleanups run when the caller says (startTurnpikeFromFile's take the whole file here, not one test). */
function laterCleanups(): Cleanups & { run(): Promise<void> } {
  const pending: (() => unknown)[] = [];
  return {
    push: (cleanup) => void pending.push(cleanup),
    run: async () => {
      for (const cleanup of pending.reverse()) await cleanup();
    },
  };
}

async function confLines(certificate: TestCertificate, extra: string[] = []): Promise<{ lines: string[]; port: number; tlsPort: number }> {
  const port = await freeUdpTcpPort(HOST);
  const tlsPort = await freeUdpTcpPort(HOST);
  const minPort = await freePortRange(HOST, 200);
  const lines = [
    `listening-ip=${HOST}`, `listening-port=${port}`, `tls-listening-port=${tlsPort}`, `relay-ip=${HOST}`,
    `min-port=${minPort}`, `max-port=${minPort + 199}`, 'lt-cred-mech', 'user=alice:secret', `realm=${REALM}`,
    'allow-loopback-peers', `cert=${certificate.cert}`, `pkey=${certificate.key}`, 'relay-threads=2', ...extra,
  ];
  return { lines, port, tlsPort };
}

describe('turnpike serve with relay-threads=2 in turnserver.conf', () => {
  const cleanups = laterCleanups();
  let certificate: TestCertificate;
  let started: TurnpikeFromFile;
  let server: TurnpikeHandle;
  let tlsPort: number;
  let peer: PeerHandle;

  beforeAll(async () => {
    certificate = makeCertificate();
    cleanups.push(() => certificate.remove());
    const conf = await confLines(certificate);
    tlsPort = conf.tlsPort;
    started = await startTurnpikeFromFile(cleanups, conf.lines, HOST, conf.port);
    server = started.server;
    // The first worker answers STUN before the second has joined its ports; clients come after.
    await server.proc.waitForOutput(/relaying with 2 worker threads/, 10_000);
    peer = await startPeer();
  });
  afterAll(async () => {
    await stopAllProcesses();
    await cleanups.run();
  });

  it('starts two relay workers', () => {
    expect(server.proc.output).toMatch(/relaying with 2 worker threads/);
  });

  it.each([
    ['UDP', {}, () => server.port],
    ['TCP (-t)', { tcp: true }, () => server.port],
    ['TLS (-t -S)', { tcp: true, secure: true }, () => tlsPort],
    ['DTLS (-S)', { secure: true, extraArgs: DTLS12 }, () => tlsPort],
  ])('relays uclient over %s with 0 lost, on both workers', async (_name, mode, port) => {
    await relaysOnBothWorkers(server, peer, { port: port(), user: 'alice', password: 'secret', ...mode });
  });

  it('takes a user added by SIGHUP on both workers, and keeps relay-threads until a restart', async () => {
    const from = server.proc.output.length;
    await reloadFromFile(started, [...started.lines.filter((l) => l !== 'relay-threads=2'), 'relay-threads=3', 'user=bob:bobpw'], /configuration reloaded: user/);
    await server.proc.waitForOutput(/changed but kept until a restart: relay-threads/, 5000, from);
    // Still two workers: the numbers 0 and 1 only.
    await relaysOnBothWorkers(server, peer, { port: server.port, user: 'bob', password: 'bobpw' });
  });


  it('ends with exit status 0 on SIGTERM, once every worker has stopped', async () => {
    const exit = await server.stop();
    expect(exit, server.proc.output).toEqual({ code: 0, signal: null });
    expect(server.proc.output).toMatch(/SIGTERM: stopping[\s\S]*\bstopped\b/);
  });
});

describe('relay-threads=2 with proc-user', () => {
  afterAll(() => stopAllProcesses());

  it('binds every worker as root, then relays on both as nobody', async () => {
    expect(process.getuid!(), 'proc-user needs a test run as root').toBe(0);
    const port = await freeUdpTcpPort(HOST);
    const minPort = await freePortRange(HOST, 200);
    const server = await startTurnpike([
      '-n', '--listening-ip', HOST, '--listening-port', String(port), '--relay-ip', HOST,
      '--min-port', String(minPort), '--max-port', String(minPort + 199), '--lt-cred-mech', '--user', 'alice:secret',
      '--realm', REALM, '--allow-loopback-peers', '--no-tls', '--no-dtls',
      '-m', '2', '--proc-user', 'nobody',
    ], HOST, port);
    await server.proc.waitForOutput(/running as uid 65534/, 5000);
    await server.proc.waitForOutput(/WARN: relay-threads with proc-user: UDP clients are not pinned/, 5000);
    const peer = await startPeer();
    await relaysOnBothWorkers(server, peer, { port, user: 'alice', password: 'secret' });
    await relaysOnBothWorkers(server, peer, { port, user: 'alice', password: 'secret', tcp: true });
  });
});

describe('relay-threads=2 with TCP relaying (RFC 6062)', () => {
  afterAll(() => stopAllProcesses());

  it('relays uclient -T client to client through TCP allocations with 0 lost', async () => {
    const certificate = makeCertificate();
    try {
      // debug: the log line of each ConnectionBind whose data connection reached the other worker.
      const { lines, port } = await confLines(certificate, ['Verbose']);
      const cleanups = laterCleanups();
      const { server } = await startTurnpikeFromFile(cleanups, lines, HOST, port);
      await server.proc.waitForOutput(/relaying with 2 worker threads/, 10_000);
      const from = server.proc.output.length;
      // -T implies -t -y -c: the clients Connect to each other's TCP relay addresses.
      const r = await runUclient({ host: HOST, port, user: 'alice', password: 'secret', clients: 8, messages: 50, length: 100, extraArgs: ['-T'], timeoutMs: 60_000 });
      expect(r.exitCode, r.output).toBe(0);
      expect(r.sent).toBe(400);
      expect(r.received).toBe(400);
      expect(r.lostPackets).toBe(0);
      expect(workersThatAllocated(server, from)).toEqual([0, 1]);
      expect(server.proc.output.slice(from)).toMatch(/ConnectionBind for CONNECTION-ID \d+ of relay worker \d: asking it to bind/);
      await cleanups.run();
    } finally {
      certificate.remove();
    }
  });
});
