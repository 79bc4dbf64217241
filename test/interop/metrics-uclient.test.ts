// Turnpike's Prometheus endpoint scraped over HTTP while coturn's turnutils_uclient relays
// through it: the counters move during the run, and the allocation gauge falls back to 0.
import { afterAll, describe, expect, it } from 'vitest';
import { runUclient, startPeer } from '../support/coturn-tools.js';
import { freePortRange, freeTcpPort, freeUdpPort } from '../support/ports.js';
import { stopAllProcesses } from '../support/processes.js';
import { startTurnpike } from '../support/turnpike-process.js';
import { labelNamesOf, valueOf } from '../unit/metrics/exposition.js';

const HOST = '127.0.0.1';
const REALM = 'metrics.example';
const realm = { realm: REALM };

afterAll(() => stopAllProcesses());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Scrapes every 200 ms until `done` holds for a scrape; bounded by `tries`. */
async function scrapeUntil(url: string, done: (text: string) => boolean, what: string, tries = 200): Promise<string> {
  let last = '';
  for (let i = 0; i < tries; i++) {
    const response = await fetch(url);
    expect(response.status).toBe(200);
    last = await response.text();
    if (done(last)) return last;
    await sleep(200);
  }
  throw new Error(`no scrape showed ${what} after ${tries} tries; last:\n${last}`);
}

describe('metrics during a turnutils_uclient relay', () => {
  it('show the traffic counters growing and the allocation gauge > 0 during, 0 after', async () => {
    const port = await freeUdpPort(HOST);
    const metricsPort = await freeTcpPort(HOST);
    const minPort = await freePortRange(HOST, 100);
    // uclient leaves one unused allocation per client until it expires: a short maximum
    // lifetime (longer than the run) lets the gauge reach 0 soon after the run.
    await startTurnpike(
      [
        '-n', '--listening-ip', HOST, '--listening-port', String(port), '--relay-ip', HOST,
        '--min-port', String(minPort), '--max-port', String(minPort + 99),
        '--lt-cred-mech', '--user', 'alice:secret', '--realm', REALM, '--allow-loopback-peers',
        '--no-tcp', '--no-tls', '--no-dtls', '--max-allocate-lifetime', '25',
        '--prometheus', '--prometheus-port', String(metricsPort),
      ],
      HOST,
      port,
    );
    const peer = await startPeer();
    const url = `http://${HOST}:${metricsPort}/metrics`;
    const load = { clients: 4, messages: 250, length: 100, intervalMs: 20 };
    const run = runUclient({ host: HOST, port, user: 'alice', password: 'secret', noRtcp: true, ...load, peerAddr: peer.host, peerPort: peer.port, timeoutMs: 60_000 });

    const rcvp = (t: string) => valueOf(t, 'turn_traffic_rcvp', realm) ?? 0;
    const sentp = (t: string) => valueOf(t, 'turn_traffic_sentp', realm) ?? 0;
    const allocations = (t: string) => valueOf(t, 'turn_total_allocations', { type: 'UDP' }) ?? 0;
    const first = await scrapeUntil(url, (t) => rcvp(t) > 0 && sentp(t) > 0, 'relayed traffic');
    expect(allocations(first)).toBeGreaterThan(0);
    const second = await scrapeUntil(url, (t) => rcvp(t) > rcvp(first) && sentp(t) > sentp(first), 'more traffic');
    for (const name of ['turn_traffic_rcvb', 'turn_traffic_sentb', 'turn_traffic_peer_rcvb', 'turn_traffic_peer_sentb']) {
      expect(valueOf(second, name, realm), name).toBeGreaterThan(valueOf(first, name, realm)!);
    }
    expect(valueOf(second, 'turn_total_traffic_rcvp')).toBeGreaterThan(valueOf(first, 'turn_total_traffic_rcvp')!);

    const r = await run;
    expect(r.exitCode, r.output).toBe(0);
    expect(r.lostPackets).toBe(0);
    const after = await scrapeUntil(url, (t) => allocations(t) === 0, 'no allocations left', 300);
    // Every message uclient sent and got back, in the counters of allocations that have ended.
    expect(rcvp(after)).toBe(r.sent);
    expect(valueOf(after, 'turn_traffic_rcvb', realm)).toBe(r.sent! * load.length);
    expect(sentp(after)).toBe(r.received);
    expect(valueOf(after, 'turn_traffic_peer_sentp', realm)).toBe(r.sent);
    expect(valueOf(after, 'turn_traffic_peer_rcvp', realm)).toBe(r.received);
    expect(valueOf(after, 'turnpike_allocations', { transport: 'udp', family: 'ipv4' })).toBe(0);
    expect(valueOf(after, 'turnpike_relay_ports', { state: 'in_use' })).toBe(0);

    // coturn's names with coturn's labels.
    for (const suffix of ['rcvp', 'rcvb', 'sentp', 'sentb', 'peer_rcvp', 'peer_rcvb', 'peer_sentp', 'peer_sentb']) {
      expect(labelNamesOf(after, `turn_traffic_${suffix}`)).toEqual([['realm']]);
      expect(labelNamesOf(after, `turn_total_traffic_${suffix}`)).toEqual([[]]);
    }
    expect(new Set(labelNamesOf(after, 'turn_total_allocations').map((l) => l.join()))).toEqual(new Set(['type']));
  });
});
