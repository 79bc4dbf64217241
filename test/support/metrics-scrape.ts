// A test server's /metrics: the endpoint on a port the OS picks, its text, and the traffic
// totals the relay tests check there.
import { expect } from 'vitest';
import type { MetricsOptions } from '../../src/config/server-options.js';
import type { TurnServer } from '../../src/server.js';
import { valueOf } from '../unit/metrics/exposition.js';

/** /metrics on loopback, on a free port, without username labels. */
export const METRICS: MetricsOptions = { address: '127.0.0.1', port: 0, path: '/metrics', usernameLabels: false };

/** The server's /metrics text (the server started with `metrics`). */
export async function scrapeMetrics(server: TurnServer): Promise<string> {
  return (await fetch(server.metrics!.endpoint!.url)).text();
}

/** The totals say `packets` packets of `size` bytes came from the clients, and as many went back to them. */
export function expectTrafficTotals(text: string, packets: number, size: number): void {
  expect(valueOf(text, 'turn_total_traffic_rcvp')).toBe(packets);
  expect(valueOf(text, 'turn_total_traffic_rcvb')).toBe(packets * size);
  expect(valueOf(text, 'turn_total_traffic_sentp')).toBe(packets);
  expect(valueOf(text, 'turn_total_traffic_sentb')).toBe(packets * size);
}
