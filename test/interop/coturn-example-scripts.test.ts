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
import { CLIENT_TIMEOUT_MS, SERVER_SETUPS, pairName, setupPool } from '../support/example-pairs.js';
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

const pairs = SERVER_SETUPS.flatMap((setup) => setup.clients.map((client) => ({ setup, client, name: pairName(setup, client) })))
  .filter((p) => COTURN_PASSES.has(p.name));
const runnable = pairs.filter((p) => p.setup.needs !== 'mobility' || mobilityApplied);
const waiting = pairs.filter((p) => !runnable.includes(p));

describe('coturn\'s example pairs that pass against coturn pass against Turnpike', () => {
  const run = setupPool(examples, runnable);
  // Several pairs at once (each client mostly waits out its message interval), each server's
  // processes only while its pairs run: the file takes a fraction of the pairs' summed time.
  it.concurrent.each(runnable.map((p) => [p.name, p] as const))('%s: every message back, none lost', async (_name, { setup, client }) => {
    const outcome = await run(setup, client);
    expect(outcome.passed, `${outcome.detail}\n${summary(outcome.result)}`).toBe(true);
  }, CLIENT_TIMEOUT_MS + 60_000);

  if (waiting.length > 0) it.skip.each(waiting.map((p) => [p.name]))('%s (skipped until Turnpike applies --mobility)', () => {});
});

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
