// coturn's examples/scripts/mobile pairs (Debian's coturn 4.6.1) against Turnpike: the server
// with mobile_relay.sh's flags (--mobility), each client script's turnutils_uclient -M, which
// allocates, reconnects from a new source port (closing the old connection first or after,
// at random), and moves its allocation there with a Refresh carrying its MOBILITY-TICKET.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCertificate } from '../support/certs.js';
import { runUclient, startPeer, type PeerHandle, type UclientOptions, type UclientResult } from '../support/coturn-tools.js';
import { startExampleRelay, type ExampleRelay } from '../support/example-relay.js';
import { stopAllProcesses } from '../support/processes.js';

const certificate = makeCertificate('localhost');

afterAll(async () => {
  await stopAllProcesses();
  certificate.remove();
});

type MobileServer = ExampleRelay;

/** mobile_relay.sh, less syslog and the CLI; `threads` in place of its -m 10. */
const startMobileRelay = (threads: number): Promise<MobileServer> =>
  startExampleRelay([
    '-a', '--allow-loopback-peers', '--max-bps=3000000', '-f', '-m', String(threads), '--user=ninefingers:0xbc807ee29df3c9ffa736523fb2c4e8ee',
    '--user=gorst:hero', '-r', 'north.gov', `--cert=${certificate.cert}`, `--pkey=${certificate.key}`, '-v', '--mobility', '--cipher-list=ALL',
  ], 400);

const NINEFINGERS = { user: 'ninefingers', password: 'youhavetoberealistic' };
const GORST = { user: 'gorst', password: 'hero' };

const summary = (r: UclientResult): string =>
  r.output.split('\n').filter((line) => /error|tot_recv_msgs=\d+$|lost packets|completed|send:/.test(line)).slice(-6).join('\n');

/** Every allocation made since `from` in the server's log moved, at least once; how many there were. */
function expectEveryAllocationMoved(server: MobileServer, from: number): number {
  const log = server.process.proc.output.slice(from);
  const ids = (what: 'created' | 'moved') => new Set([...log.matchAll(new RegExp(`allocation (\\d+) ${what}`, 'g'))].map((m) => m[1]!));
  const created = ids('created');
  expect(created.size).toBeGreaterThan(0);
  const moved = ids('moved');
  const unmoved = [...created].filter((id) => !moved.has(id));
  // On failure: what the server logged of each allocation that did not move.
  const story = log.split('\n').filter((line) => unmoved.some((id) => line.includes(`allocation ${id} `))).join('\n');
  expect(unmoved, story).toEqual([]);
  return created.size;
}

function expectEveryMessageBack(r: UclientResult, messages: number): void {
  expect(r.exitCode, summary(r)).toBe(0);
  expect(r.sent).toBe(messages);
  expect(r.received).toBe(messages);
  expect(r.lostPackets).toBe(0);
}

/** Both ends of a mobile/ pair: the server and an echo peer, started before the describe's tests. */
function serverAndPeer(threads: number): { server: () => MobileServer; peer: () => PeerHandle } {
  let server: MobileServer;
  let peer: PeerHandle;
  beforeAll(async () => {
    server = await startMobileRelay(threads);
    // The scripts' peer is 127.0.0.1, the server's own address, which Turnpike refuses as a peer.
    peer = await startPeer();
  }, 60_000);
  return { server: () => server, peer: () => peer };
}

type Ends = ReturnType<typeof serverAndPeer>;

/** One uclient -M run of `clients` × `messages` from ::1 to the peer: every message back, every allocation moved. */
async function expectMovedAndRelayed(ends: Ends, o: { user: string; password: string; clients: number; messages: number; flags: string[]; timeoutMs: number }): Promise<void> {
  const [server, peer] = [ends.server(), ends.peer()];
  const from = server.process.proc.output.length;
  const r = await runUclient({
    host: '::1', port: server.port, user: o.user, password: o.password, clients: o.clients, messages: o.messages, length: 170,
    peerAddr: peer.host, peerPort: peer.port, extraArgs: [...o.flags, '-X', '-g', '-M'], timeoutMs: o.timeoutMs,
  });
  expectEveryMessageBack(r, o.clients * o.messages);
  expectEveryAllocationMoved(server, from);
}

describe('mobile_udp_client.sh against mobile_relay.sh (with its -m 10: ten relay threads)', () => {
  const ends = serverAndPeer(10);

  it('moves every allocation to the new port, the Refresh handed to the thread that holds it, with 0 lost', async () => {
    await expectMovedAndRelayed(ends, { ...NINEFINGERS, clients: 10, messages: 1000, flags: [], timeoutMs: 100_000 });
  }, 120_000);
});

describe('mobile/ TCP, TLS and DTLS clients against mobile_relay.sh on one relay thread', () => {
  // A TCP, TLS or DTLS connection cannot move between relay threads (docs/relay-workers.md).
  const ends = serverAndPeer(1);

  it('mobile_tcp_client.sh moves every allocation to its new connection and relays all 30000 messages, 0 lost (coturn 4.6.1 fails it)', async () => {
    await expectMovedAndRelayed(ends, { ...GORST, clients: 10, messages: 3000, flags: ['-t'], timeoutMs: 150_000 });
  }, 160_000);

  it('mobile_tls_client_c2c_tcp_relay.sh\'s RFC 6062 clients (-T -y -M), over TCP: every TCP allocation moved, every message back', async () => {
    // Over TCP rather than TLS, which uclient's double SSL_free breaks (see below).
    const server = ends.server();
    const from = server.process.proc.output.length;
    const r = await runUclient({ host: '::1', port: server.port, ...GORST, clients: 10, messages: 1000, length: 170, extraArgs: ['-T', '-y', '-g', '-M'], timeoutMs: 110_000 });
    expect(r.output).toContain('90 connections are completed');
    expectEveryMessageBack(r, 10_000);
    expectEveryAllocationMoved(server, from);
  }, 120_000);

  /**
   * turnutils_uclient 4.6.1 -M over TLS or DTLS: when it closes the old connection first by
   * SSL_shutdown and SSL_free (one time in four, at random), it shuts down and frees that
   * pointer again after reconnecting, by then its new connection's: the new connection gets
   * close_notify and the client stops ("send: Success") or aborts on the double free, while
   * the server saw a clean move. That is why the scripts'
   * 10-client runs (mobile_dtls_client.sh, mobile_tls_client_c2c_tcp_relay.sh) fail against
   * coturn and Turnpike alike. Over TLS it also picks one of four contexts at random for each
   * connection (SSLv23, TLSv1, TLSv1.1, TLSv1.2) and often exits 1 once a server refuses TLS 1.0
   * or 1.1 ("alert protocol version"), as Turnpike does, and coturn under OpenSSL 3: 15 of 30
   * runs exited 0 here, 12 exited 1 that way, one crashed (SIGSEGV); CI once saw ten runs in a
   * row fail. With -m 1 (two allocations) a run escapes both about half the time: the first run
   * that exits 0 must relay every message (a broken server fails them all).
   */
  async function firstCleanRun(server: MobileServer, options: UclientOptions, attempts: number): Promise<{ r: UclientResult; from: number }> {
    let last: { r: UclientResult; from: number } | undefined;
    const deadline = Date.now() + 200_000;
    for (let i = 0; i < attempts && (i === 0 || Date.now() < deadline); i++) {
      const from = server.process.proc.output.length;
      last = { r: await runUclient(options), from };
      if (last.r.exitCode === 0) return last;
    }
    return last!;
  }

  it.each([
    ['TLS', ['-t', '-S']],
    ['DTLS (mobile_dtls_client.sh\'s flags)', ['-S', '-s']],
  ])('%s: uclient -M moves its allocations to new connections and relays every message, 0 lost', async (_what, transport) => {
    const [server, peer] = [ends.server(), ends.peer()];
    const { r, from } = await firstCleanRun(server, {
      host: '127.0.0.1', port: server.tlsPort, ...NINEFINGERS, clients: 1, messages: 300, length: 170,
      peerAddr: peer.host, peerPort: peer.port, extraArgs: [...transport, '-k', certificate.key, '-X', '-g', '-M'], timeoutMs: 30_000,
    }, 40);
    // uclient runs two clients at the least.
    expectEveryMessageBack(r, 600);
    expectEveryAllocationMoved(server, from);
  }, 260_000);
});
