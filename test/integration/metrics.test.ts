// The Prometheus endpoint of an in-process server, scraped over real HTTP while a real TURN
// client relays over real UDP sockets on loopback.
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { MetricsOptions, ServerOptions } from '../../src/config/server-options.js';
import { loadConfig } from '../../src/config/index.js';
import { createTurnServer, type TurnServer } from '../../src/server.js';
import { StunClass } from '../../src/stun/index.js';
import { ALICE, REALM, testServerOptions } from '../support/server-options.js';
import { UdpTestClient, openPeer } from '../support/turn-client.js';
import { labelNamesOf, parseExposition, valueOf } from '../unit/metrics/exposition.js';
import { cleanupAfterEach } from '../support/cleanups.js';
import { startInProcessServer } from '../support/in-process-server.js';

const cleanups = cleanupAfterEach();

const METRICS: MetricsOptions = { address: '127.0.0.1', port: 0, path: '/metrics', usernameLabels: false };

const startServer = (metrics: Partial<MetricsOptions> = {}, overrides: Partial<ServerOptions> = {}): Promise<TurnServer> =>
  startInProcessServer(cleanups, { metrics: { ...METRICS, ...metrics }, ...overrides });

async function scrape(server: TurnServer): Promise<string> {
  const response = await fetch(server.metrics!.endpoint!.url);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return response.text();
}

/** A client with a relay, a channel to a peer, and `count` round trips of `size` bytes. */
async function relayRoundTrips(server: TurnServer, count: number, size: number): Promise<UdpTestClient> {
  const client = await UdpTestClient.open(server.udpAddresses[0]!, ALICE);
  cleanups.push(() => client.close());
  const peer = await openPeer();
  cleanups.push(() => new Promise<void>((r) => peer.socket.close(() => r())));
  const relay = await client.allocateRelay();
  expect((await client.channelBind(0x4001, peer.address)).cls).toBe(StunClass.SuccessResponse);
  for (let i = 0; i < count; i++) {
    client.sendChannelData(0x4001, Buffer.alloc(size, i));
    await peer.next();
    peer.socket.send(Buffer.alloc(size * 2, i), relay.port, relay.address);
    await client.nextDatagram();
  }
  return client;
}

const TRAFFIC_SUFFIXES = ['rcvp', 'rcvb', 'sentp', 'sentb', 'peer_rcvp', 'peer_rcvb', 'peer_sentp', 'peer_sentb'];

describe('Prometheus metrics', () => {
  it("exposes coturn's metric names, types and labels", async () => {
    const server = await startServer();
    await relayRoundTrips(server, 1, 10);
    const text = await scrape(server);
    const { types } = parseExposition(text);
    for (const suffix of TRAFFIC_SUFFIXES) {
      expect(types.get(`turn_traffic_${suffix}`), suffix).toBe('counter');
      expect(types.get(`turn_total_traffic_${suffix}`), suffix).toBe('counter');
      expect(labelNamesOf(text, `turn_traffic_${suffix}`)).toEqual([['realm']]);
      expect(labelNamesOf(text, `turn_total_traffic_${suffix}`)).toEqual([[]]);
    }
    expect(types.get('turn_total_allocations')).toBe('gauge');
    expect(valueOf(text, 'turn_total_allocations', { type: 'UDP' })).toBe(1);
    for (const name of ['stun_binding_request', 'stun_binding_response', 'stun_binding_error']) expect(types.get(name)).toBe('counter');
    // prom-client's default metrics, under the names coturn's libprom uses for the process.
    expect(valueOf(text, 'process_cpu_seconds_total')).toBeGreaterThan(0);
    expect(types.get('nodejs_eventloop_lag_p99_seconds')).toBe('gauge');
    // Measured, not a placeholder: the event loop has turned since the server started.
    expect(valueOf(text, 'nodejs_eventloop_lag_max_seconds')).toBeGreaterThan(0);
  });

  it('counts live traffic each way, by realm, while the allocation runs', async () => {
    const server = await startServer();
    await relayRoundTrips(server, 3, 100);
    const text = await scrape(server);
    const realm = { realm: REALM };
    // Client -> peer: 3 x 100 bytes; peer -> client: 3 x 200 bytes.
    expect(valueOf(text, 'turn_traffic_rcvp', realm)).toBe(3);
    expect(valueOf(text, 'turn_traffic_rcvb', realm)).toBe(300);
    expect(valueOf(text, 'turn_traffic_peer_sentb', realm)).toBe(300);
    expect(valueOf(text, 'turn_traffic_sentp', realm)).toBe(3);
    expect(valueOf(text, 'turn_traffic_sentb', realm)).toBe(600);
    expect(valueOf(text, 'turn_traffic_peer_rcvb', realm)).toBe(600);
    expect(valueOf(text, 'turn_total_traffic_rcvb')).toBe(300);
    expect(valueOf(text, 'turn_total_traffic_sentb')).toBe(600);
    expect(valueOf(text, 'turnpike_allocations', { transport: 'udp', family: 'ipv4' })).toBe(1);
    expect(valueOf(text, 'turnpike_channels')).toBe(1);
    expect(valueOf(text, 'turnpike_permissions')).toBe(1);
    expect(valueOf(text, 'turnpike_relay_ports', { state: 'in_use' })).toBe(1);
    expect(valueOf(text, 'turnpike_relay_ports', { state: 'free' })).toBe(39);
  });

  it('keeps the counts of an allocation that ended between two scrapes', async () => {
    const server = await startServer();
    const before = await scrape(server);
    expect(valueOf(before, 'turn_traffic_rcvb', { realm: REALM })).toBeUndefined();
    const client = await relayRoundTrips(server, 2, 50);
    expect((await client.refresh(0)).cls).toBe(StunClass.SuccessResponse);
    const after = await scrape(server);
    expect(valueOf(after, 'turn_traffic_rcvb', { realm: REALM })).toBe(100);
    expect(valueOf(after, 'turn_traffic_sentb', { realm: REALM })).toBe(200);
    expect(valueOf(after, 'turn_total_allocations', { type: 'UDP' })).toBe(0);
    expect(valueOf(after, 'turnpike_allocations_total', { event: 'ended' })).toBe(1);
  });

  it('adds a user label with prometheus-username-labels', async () => {
    const server = await startServer({ usernameLabels: true });
    await relayRoundTrips(server, 1, 10);
    const text = await scrape(server);
    expect(labelNamesOf(text, 'turn_traffic_rcvb')).toEqual([['realm', 'user']]);
    expect(valueOf(text, 'turn_traffic_rcvb', { realm: REALM, user: ALICE.username })).toBe(10);
  });

  it('counts Binding requests and refused credentials', async () => {
    const server = await startServer();
    const client = await UdpTestClient.open(server.udpAddresses[0]!, { username: ALICE.username, password: 'wrong' });
    cleanups.push(() => client.close());
    await client.allocate();
    const binder = await UdpTestClient.open(server.udpAddresses[0]!);
    cleanups.push(() => binder.close());
    await binder.request(0x0001);
    const text = await scrape(server);
    expect(valueOf(text, 'stun_binding_request')).toBe(1);
    expect(valueOf(text, 'stun_binding_response')).toBe(1);
    expect(valueOf(text, 'turnpike_auth_results_total', { result: 'rejected' })).toBe(1);
    expect(valueOf(text, 'turnpike_error_responses_total', { code: '401' })).toBe(2);
  });

  it('answers / as a health check, 404 elsewhere, 405 for other methods, on its own path', async () => {
    const server = await startServer({ path: '/stats' });
    const base = `http://127.0.0.1:${server.metrics!.endpoint!.port}`;
    expect((await fetch(`${base}/stats`)).status).toBe(200);
    expect((await fetch(`${base}/metrics`)).status).toBe(404);
    expect(await (await fetch(`${base}/`)).text()).toBe('ok\n');
    expect((await fetch(`${base}/stats`, { method: 'POST' })).status).toBe(405);
  });

  it('is off unless asked for, and refuses to start on a busy port', async () => {
    const plain = await createTurnServer(await testServerOptions());
    cleanups.push(() => plain.close());
    expect(plain.metrics).toBeUndefined();
    const first = await startServer();
    const busy = { ...METRICS, port: first.metrics!.endpoint!.port };
    await expect(createTurnServer(await testServerOptions({ metrics: busy }))).rejects.toThrow(/prometheus: cannot listen/);
  });
});

describe('docker/grafana-dashboard.json', () => {
  it('queries only metrics that a scrape has', async () => {
    const dashboard = JSON.parse(fs.readFileSync(new URL('../../docker/grafana-dashboard.json', import.meta.url), 'utf8')) as {
      panels: { targets?: { expr: string }[] }[];
    };
    const exprs = dashboard.panels.flatMap((p) => p.targets ?? []).map((t) => t.expr);
    const queried = new Set(exprs.flatMap((e) => [...e.matchAll(/([a-z_][a-z0-9_]*)\{/g)].map((m) => m[1]!)));
    expect(queried.size).toBeGreaterThan(20);
    const server = await startServer();
    const { types } = parseExposition(await scrape(server));
    expect([...queried].filter((name) => !types.has(name))).toEqual([]);
  });
});

describe('the metrics options', () => {
  const load = (...args: string[]) => loadConfig(['-n', ...args]).options;

  it('are off by default and take coturn 4.6 defaults with --prometheus', () => {
    expect(load().metrics).toBeUndefined();
    expect(load('--prometheus').metrics).toEqual({ address: '127.0.0.1', port: 9641, path: '/metrics', usernameLabels: false });
  });

  it('take the port, address, path and username labels', () => {
    const options = load('--prometheus', '--prometheus-port', '9100', '--prometheus-address', '::1', '--prometheus-path', '/m', '--prometheus-username-labels');
    expect(options.metrics).toEqual({ address: '::1', port: 9100, path: '/m', usernameLabels: true });
  });

  it('refuse a path that is not a URL path', () => {
    expect(() => load('--prometheus', '--prometheus-path', 'metrics')).toThrow(/prometheus-path/);
  });
});
