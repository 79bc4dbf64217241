// coturn's own example scripts (Debian's coturn 4.6.1, examples/scripts/longtermsecure and
// loadbalance) run against Turnpike: the server started with secure_relay.sh's,
// secure_relay_cert.sh's or master_relay.sh's flags, the clients with each script's flags, on
// free ports and with certificates made for the run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Method, StunClass } from '../../src/stun/index.js';
import { issueCertificate, makeCertificate } from '../support/certs.js';
import { runUclient, startPeer, type PeerHandle, type UclientResult } from '../support/coturn-tools.js';
import { freePortRange, freeUdpTcpPort } from '../support/ports.js';
import { stopAllProcesses } from '../support/processes.js';
import { startExampleRelay, type ExampleRelay } from '../support/example-relay.js';
import { startTurnpike } from '../support/turnpike-process.js';
import { OpensslDtlsClient } from '../unit/dtls/openssl-dtls-client.js';

/** examples/ca: a CA, the server's certificate it issued (the cert scripts' client uses it too). */
const ca = makeCertificate('example-ca');
const serverCertificate = issueCertificate(ca, 'localhost');
/** Issued by a CA the server does not know. */
const stranger = issueCertificate(makeCertificate('stranger-ca'), 'stranger');

afterAll(async () => {
  await stopAllProcesses();
  for (const c of [ca, serverCertificate, stranger]) c.remove();
});

type ScriptServer = ExampleRelay;

/** secure_relay.sh (or, with `certScript`, secure_relay_cert.sh), less what only concerns coturn's process (syslog, CLI, its database). */
async function startScriptServer(certScript: boolean): Promise<ScriptServer> {
  const flavour = certScript
    ? ['--user=bolt:kwyjibo', '-r', 'bolt.co', `--CA-file=${ca.cert}`, '--cipher-list=ALL:!eNULL:!aNULL:!NULL']
    : ['--user=gorst:hero', '-r', 'north.gov', '--cipher-list=ALL'];
  return startExampleRelay([
    '-a', '--allow-loopback-peers', '--max-bps=3000000', '-f', '-m', '10', '--user=ninefingers:youhavetoberealistic',
    ...flavour, `--cert=${serverCertificate.cert}`, `--pkey=${serverCertificate.key}`, '-v',
  ], 200);
}

/** The lines of uclient's output worth seeing when a count is off. */
const summary = (r: UclientResult): string =>
  r.output.split('\n').filter((line) => /connections are completed|tot_recv_msgs=\d+$|lost packets|alert/.test(line)).slice(-6).join('\n');

/** uclient's count of RFC 6062 data connections bound before it starts sending. */
const boundDataConnections = (r: UclientResult): number | undefined => {
  const m = /(\d+) connections are completed/.exec(r.output);
  return m ? Number(m[1]) : undefined;
};
// uclient waits some 40 s for data connections that never bind; allow that, so a failure
// reports its counts rather than a timeout.
const c2c = { user: 'gorst', password: 'hero', clients: 10, messages: 1000, length: 170, timeoutMs: 110_000 };

/** 10 RFC 6062 clients (-T -y), each bound to the 9 others: 90 data connections, every message back. */
function expectEveryC2cMessageBack(r: UclientResult): void {
  expect(boundDataConnections(r), summary(r)).toBe(90);
  expect(r.exitCode).toBe(0);
  expect(r.sent).toBe(10_000);
  expect(r.received).toBe(10_000);
  expect(r.lostPackets).toBe(0);
}

describe('secure_relay.sh: RFC 6062 client to client (-T -y), 10 clients each bound to the 9 others', () => {
  let server: ScriptServer;
  beforeAll(async () => {
    server = await startScriptServer(false);
  });

  it.each([
    ['secure_tls_client_c2c_tcp_relay.sh (TLS)', ['-T', '-S', '-k', serverCertificate.key, '-y', '-g'], '::1', () => server.tlsPort],
    ['secure_tcp_client_c2c_tcp_relay.sh (TCP)', ['-T', '-y', '-g'], '127.0.0.1', () => server.port],
  ])('%s binds all 90 data connections and gets every message back', async (_script, flags, host, port) => {
    expectEveryC2cMessageBack(await runUclient({ host, port: port(), ...c2c, extraArgs: flags }));
  }, 120_000);
});

describe('loadbalance/tcp_c2c_tcp_relay.sh against one master_relay.sh server', () => {
  it('joins every data connection relay to relay from the relayed address, and gets every message back', async () => {
    const port = await freeUdpTcpPort('127.0.0.1');
    const minPort = await freePortRange('127.0.0.1', 200);
    // master_relay.sh less its alternate-server (which sends clients to the slave servers), syslog and CLI.
    const master = await startTurnpike([
      '-a', '-L', '127.0.0.1', '-E', '127.0.0.1', '--allow-loopback-peers', '--max-bps=3000000', '-f', '-m', '3',
      `--min-port=${minPort}`, `--max-port=${minPort + 199}`, '--user=ninefingers:0xbc807ee29df3c9ffa736523fb2c4e8ee',
      '--user=gorst:hero', '-r', 'north.gov', '-v', '--no-dtls', '--no-tls', '--listening-port', String(port),
    ], '127.0.0.1', port);
    expectEveryC2cMessageBack(await runUclient({ host: '127.0.0.1', port, ...c2c, extraArgs: ['-T', '-y', '-g'] }));
    // One Connect per pair of the 10 clients (two data connections each) reached the other
    // client's relay from the connecting relay's own address.
    expect(master.proc.output.match(/joined to TCP relay .* of this server, in-process/g)).toHaveLength(45);
  }, 120_000);
});

describe('secure_relay_cert.sh: CA-file, so clients present a certificate the CA issued', () => {
  let server: ScriptServer;
  let peer: PeerHandle;
  beforeAll(async () => {
    server = await startScriptServer(true);
    // The scripts' peer is on 127.0.0.1, the server's own address, which Turnpike refuses as a
    // peer except on relay ports (see README); the echo peer is on 127.0.0.2 instead.
    peer = await startPeer();
  });

  const certFlags = (c: { cert: string; key: string }) => ['-i', c.cert, '-k', c.key, '-E', ca.cert];
  const load = (flags: string[]) => ({
    host: '127.0.0.1', port: server.tlsPort, user: 'bolt', password: 'kwyjibo', clients: 10, messages: 1000, length: 170,
    peerAddr: peer.host, peerPort: peer.port, extraArgs: [...flags, '-g', '-s', '-X'], timeoutMs: 90_000,
  });

  it.each([
    ['secure_dtls_client_cert.sh (DTLS)', ['-S']],
    ['secure_tls_client_cert.sh (TLS)', ['-t', '-S']],
  ])('%s relays every message, with 0 lost', async (_script, transport) => {
    const r = await runUclient(load([...transport, ...certFlags(serverCertificate)]));
    expect(r.exitCode, summary(r)).toBe(0);
    expect(r.sent).toBe(10_000);
    expect(r.received).toBe(10_000);
    expect(r.lostPackets).toBe(0);
  }, 100_000);

  it.each([
    ['no certificate', ['-k', serverCertificate.key], 'alert handshake failure', undefined],
    ['a certificate another CA issued', certFlags(stranger), 'alert unknown ca', stranger],
  ])('refuses a DTLS client with %s: an alert, no service, one log line per handshake', async (_what, identity, alert, certificate) => {
    // uclient tries 32 handshakes, then gives up without allocating.
    const r = await runUclient(load(['-S', ...identity]));
    expect(r.exitCode).not.toBe(0);
    expect(r.sent).toBeNull();
    expect(r.output).toContain(alert);

    // One handshake, one line: logged before a trusted client's handshake that follows it.
    const log = server.process.proc;
    const before = log.output.length;
    const refused = OpensslDtlsClient.start('127.0.0.1', server.tlsPort, { certificate });
    expect(await refused.exited).not.toBe(0);
    const trusted = OpensslDtlsClient.start('127.0.0.1', server.tlsPort, { certificate: serverCertificate });
    expect((await trusted.request(Method.Binding)).cls).toBe(StunClass.SuccessResponse);
    await trusted.end();
    await log.waitForOutput(/closed: close_notify/, 5000, before);
    const lines = log.output.slice(before).split('\n');
    expect(lines.filter((line) => line.includes('client certificate refused'))).toHaveLength(1);
    expect(lines.filter((line) => /^\s+at /.test(line) || /ERROR/.test(line))).toEqual([]);
  }, 100_000);
});
