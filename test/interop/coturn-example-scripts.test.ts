// coturn's own example scripts (Debian's coturn 4.6.1, examples/scripts/longtermsecure) run
// against Turnpike: the server started with secure_relay.sh's flags, the clients with each
// script's flags, on free ports and with a certificate made for the run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCertificate } from '../support/certs.js';
import { runUclient, type UclientResult } from '../support/coturn-tools.js';
import { freePortRange, freeUdpTcpPortOnAll } from '../support/ports.js';
import { stopAllProcesses } from '../support/processes.js';
import { startTurnpike } from '../support/turnpike-process.js';

const HOSTS = ['127.0.0.1', '::1'];
const certificate = makeCertificate();
let port: number;
let tlsPort: number;

/** secure_relay.sh, less what only concerns coturn's process (syslog, CLI, its database). */
beforeAll(async () => {
  port = await freeUdpTcpPortOnAll(HOSTS);
  tlsPort = await freeUdpTcpPortOnAll(HOSTS);
  const minPort = await freePortRange('::1', 200);
  await startTurnpike([
    '-n', '-a', ...HOSTS.flatMap((h) => ['-L', h, '-E', h]), '--allow-loopback-peers', '--max-bps=3000000',
    '-f', '-m', '10', `--min-port=${minPort}`, `--max-port=${minPort + 199}`,
    '--user=ninefingers:youhavetoberealistic', '--user=gorst:hero', '-r', 'north.gov',
    `--cert=${certificate.cert}`, `--pkey=${certificate.key}`, '-v', '--cipher-list=ALL',
    '--listening-port', String(port), '--tls-listening-port', String(tlsPort),
  ], '::1', port);
});
afterAll(async () => {
  await stopAllProcesses();
  certificate.remove();
});

/** uclient's count of RFC 6062 data connections bound before it starts sending. */
const boundDataConnections = (r: UclientResult): number | undefined => {
  const m = /(\d+) connections are completed/.exec(r.output);
  return m ? Number(m[1]) : undefined;
};

describe('RFC 6062 client to client (-T -y): 10 clients, each bound to the 9 others', () => {
  // uclient waits some 40 s for data connections that never bind; allow that, so a failure
  // reports its counts rather than a timeout.
  const c2c = { user: 'gorst', password: 'hero', clients: 10, messages: 1000, length: 170, timeoutMs: 110_000 };

  it.each([
    ['secure_tls_client_c2c_tcp_relay.sh (TLS)', ['-T', '-S', '-k', certificate.key, '-y', '-g'], '::1', () => tlsPort],
    ['secure_tcp_client_c2c_tcp_relay.sh (TCP)', ['-T', '-y', '-g'], '127.0.0.1', () => port],
  ])('%s binds all 90 data connections and gets every message back', async (_script, flags, host, serverPort) => {
    const r = await runUclient({ host, port: serverPort(), ...c2c, extraArgs: flags });
    const summary = r.output.split('\n').filter((line) => /connections are completed|tot_recv_msgs=\d+$|lost packets/.test(line)).join('\n');
    expect(boundDataConnections(r), summary).toBe(90);
    expect(r.exitCode).toBe(0);
    expect(r.sent).toBe(10_000);
    expect(r.received).toBe(10_000);
    expect(r.lostPackets).toBe(0);
  }, 120_000);
});
