// coturn's own example scripts, run as Debian's coturn 4.6.1 installs them
// (/usr/share/doc/coturn/examples/scripts) against Turnpike: every server + client pair that
// passes against coturn's own turnserver passes against Turnpike, but for the gaps named below (the table of both is in
// docs/coturn-compat.md; `npm run examples:table` makes it). The scripts left out, and why, are
// listed by name in test/support/example-pairs.ts.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Method, StunClass } from '../../src/stun/index.js';
import { issueCertificate, makeCertificate } from '../support/certs.js';
import { runUclient, type UclientCounts } from '../support/coturn-tools.js';
import { CLIENT_TIMEOUT_MS, SERVER_SETUPS, pairName, startServerSetup, type RunningSetup } from '../support/example-pairs.js';
import { prepareExamplesDir, startExamplePeer, startExampleServer, type ExamplePeer, type ExampleServer } from '../support/example-scripts.js';
import { stopAllProcesses } from '../support/processes.js';
import { OpensslDtlsClient } from '../unit/dtls/openssl-dtls-client.js';

/**
 * Pairs that fail against coturn 4.6.1 here too (`npm run examples:table`), so not expected of
 * Turnpike. (coturn also fails every mobile/ pair here; see below.)
 */
const COTURN_FAILS: ReadonlyMap<string, string> = new Map([]);

/** Pairs coturn passes that Turnpike does not yet, by name, with the reason. */
const TURNPIKE_GAPS: ReadonlyMap<string, string> = new Map([]);

/**
 * mobile/ pairs run in coturn-mobile-scripts.test.ts, which checks that every allocation moved
 * and works around uclient 4.6.1's double free on a TLS/DTLS reconnect (see there).
 */
const MOBILE_PAIRS = 'run by test/interop/coturn-mobile-scripts.test.ts (every allocation moved; uclient 4.6.1 reconnect bug handled there)';

/**
 * coturn's uclient gives each TLS connection a context drawn at random from "any version",
 * TLS 1.0, 1.1 and 1.2 (mainuclient.c, root_tls_ctx). Turnpike refuses TLS 1.0 and 1.1 (RFC
 * 8996; src/net/tls-context.ts), so a run whose draw falls on them ends in "alert protocol
 * version" before anything is sent. Such a run is drawn again, up to TLS_DRAWS times; any other
 * failure counts at once.
 */
const OLD_TLS_REFUSED = /alert protocol version/;
const TLS_DRAWS = 4;

const examples = prepareExamplesDir('turnpike');
afterAll(async () => {
  await stopAllProcesses();
  examples.remove();
});

/** The lines of uclient's output worth seeing when a count is off. */
const summary = (r: UclientCounts): string =>
  r.output.split('\n').filter((line) => /connections are completed|tot_recv_msgs=\d+$|lost packets|alert|error/i.test(line)).slice(-8).join('\n');

const pairs = SERVER_SETUPS.flatMap((setup) => setup.clients.map((client) => ({ setup, client, name: pairName(setup, client) })))
  .filter((p) => !COTURN_FAILS.has(p.name));
const runnable = pairs.filter((p) => !TURNPIKE_GAPS.has(p.name) && p.setup.needs !== 'mobility');
const skipped = pairs.filter((p) => !runnable.includes(p))
  .map((p) => [p.name, TURNPIKE_GAPS.get(p.name) ?? MOBILE_PAIRS] as const);

// One server setup at a time (several starting at once under load were slow to answer, and
// share var/db/turndb); its pairs at once, as each client mostly waits out its message
// interval: the file takes about its slowest client per setup, not the pairs' sum.
for (const setup of SERVER_SETUPS) {
  const mine = runnable.filter((p) => p.setup === setup);
  (mine.length > 0 ? describe : describe.skip)(setup.servers.join(' + '), () => {
    let running: RunningSetup;
    beforeAll(async () => {
      running = await startServerSetup(examples, setup);
    }, 120_000);
    afterAll(() => running?.stop());

    it.concurrent.each(mine.map((p) => [p.name, p.client] as const))('%s: every message back, none lost', async (_name, client) => {
      let outcome = await running.run(client);
      for (let draw = 1; !outcome.passed && OLD_TLS_REFUSED.test(outcome.result.output) && draw < TLS_DRAWS; draw++) outcome = await running.run(client);
      expect(outcome.passed, `${outcome.detail}\n${summary(outcome.result)}`).toBe(true);
    }, CLIENT_TIMEOUT_MS + 10_000);
  });
}

describe('pairs not run against Turnpike yet', () => {
  it.skip.each(skipped)('%s (skipped: %s)', () => {});
});

/** The output's length once a second has passed without more (uclient's last handshakes logged), at most 10 s. */
async function quietOutput(proc: { readonly output: string }): Promise<number> {
  for (let i = 0; i < 10; i++) {
    const length = proc.output.length;
    await new Promise((resolve) => setTimeout(resolve, 1000));
    if (proc.output.length === length) return length;
  }
  return proc.output.length;
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
    const before = await quietOutput(log);
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
