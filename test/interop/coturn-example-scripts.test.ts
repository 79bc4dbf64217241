// coturn's own example scripts, run as Debian's coturn 4.6.1 installs them
// (/usr/share/doc/coturn/examples/scripts) against Turnpike: every server + client pair that
// passes against coturn's own turnserver passes against Turnpike (the table of both is in
// docs/coturn-compat.md; `npm run examples:table` makes it). The scripts left out, and why, are
// listed by name in test/support/example-pairs.ts.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findOption } from '../../src/config/option-table.js';
import { Method, StunClass } from '../../src/stun/index.js';
import { issueCertificate, makeCertificate } from '../support/certs.js';
import { runUclient, type UclientCounts } from '../support/coturn-tools.js';
import { CLIENT_TIMEOUT_MS, SERVER_SETUPS, pairName, startServerSetup, type RunningSetup } from '../support/example-pairs.js';
import { prepareExamplesDir, startExamplePeer, startExampleServer, type ExamplePeer, type ExampleServer } from '../support/example-scripts.js';
import { stopAllProcesses } from '../support/processes.js';
import { OpensslDtlsClient } from '../unit/dtls/openssl-dtls-client.js';

/** The pairs that pass against coturn 4.6.1 here (from `npm run examples:table`). */
const COTURN_PASSES: ReadonlySet<string> = new Set([
  'basic/relay.sh + basic/udp_client.sh',
  'basic/relay.sh + basic/tcp_client.sh',
  'basic/relay.sh + basic/udp_c2c_client.sh',
  'basic/relay.sh + basic/tcp_client_c2c_tcp_relay.sh',
]);

/** mobile/ needs RFC 8016 mobility: until Turnpike applies --mobility, uclient -M never moves. */
const mobilityApplied = findOption('mobility')?.status.kind === 'applied';

const examples = prepareExamplesDir('turnpike');
afterAll(async () => {
  await stopAllProcesses();
  examples.remove();
});

/** The lines of uclient's output worth seeing when a count is off. */
const summary = (r: UclientCounts): string =>
  r.output.split('\n').filter((line) => /connections are completed|tot_recv_msgs=\d+$|lost packets|alert|error/i.test(line)).slice(-8).join('\n');

for (const setup of SERVER_SETUPS) {
  const clients = setup.clients.filter((client) => COTURN_PASSES.has(pairName(setup, client)));
  const waiting = setup.needs === 'mobility' && !mobilityApplied;
  const title = `${setup.servers.join(' + ')}${waiting ? ' (skipped until Turnpike applies --mobility)' : ''}`;
  (clients.length === 0 || waiting ? describe.skip : describe)(title, () => {
    let running: RunningSetup;
    beforeAll(async () => {
      running = await startServerSetup(examples, setup);
    }, 60_000);
    afterAll(() => running?.stop());

    // One server's clients at once (each mostly waits out its message interval): the file's
    // time is about its slowest client per server, not their sum.
    it.concurrent.each(clients)('%s: every message back, none lost', async (client) => {
      const outcome = await running.run(client);
      expect(outcome.passed, `${outcome.detail}\n${summary(outcome.result)}`).toBe(true);
    }, CLIENT_TIMEOUT_MS + 10_000);
  });
}

describe('secure_relay_cert.sh (CA-file) refuses DTLS clients without a certificate its CA issued', () => {
  let server: ExampleServer;
  let peer: ExamplePeer;
  const file = (name: string) => path.join(examples.dir, name);
  const serverCertificate = { cert: file('turn_server_cert.pem'), key: file('turn_server_pkey.pem') };
  /** Issued by a CA the server does not know. */
  const stranger = issueCertificate(makeCertificate('stranger-ca'), 'stranger');
  beforeAll(async () => {
    server = await startExampleServer(examples, 'longtermsecure/secure_relay_cert.sh');
    peer = await startExamplePeer(examples);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([server?.stop(), peer?.stop()]);
    stranger.remove();
  });

  it.each([
    ['no certificate', ['-k', serverCertificate.key], 'alert handshake failure', undefined],
    ['a certificate another CA issued', ['-i', stranger.cert, '-k', stranger.key, '-E', file('cacert.pem')], 'alert unknown ca', stranger],
  ])('refuses a DTLS client with %s: an alert, no service, one log line per handshake', async (_what, identity, alert, certificate) => {
    // uclient tries 32 handshakes, then gives up without allocating.
    const r = await runUclient({
      host: '127.0.0.1', port: server.tlsPort, user: 'bolt', password: 'kwyjibo', clients: 1, messages: 10,
      peerAddr: '127.0.0.1', peerPort: peer.port, extraArgs: ['-S', ...identity, '-g', '-s', '-X'], timeoutMs: 90_000,
    });
    expect(r.exitCode).not.toBe(0);
    expect(r.sent).toBeNull();
    expect(r.output).toContain(alert);

    // One handshake, one line: logged before a trusted client's handshake that follows it.
    const log = server.proc;
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
