/**
 * The Prometheus metrics: a prom-client registry whose collectors read the engine's plain
 * counters and live allocations at scrape time (nothing per packet), served over HTTP. With
 * relay workers the same collectors read the workers' sums (workers/summed-metrics.ts).
 */
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { MetricsOptions } from '../config/server-options.js';
import type { Logger } from '../log/logger-interface.js';
import { registerCoturnMetrics } from './coturn-metrics.js';
import { startMetricsEndpoint, type MetricsEndpoint } from './http-endpoint.js';
import type { ScrapeSource, ScrapeState } from './scrape-state.js';
import { EMPTY_SNAPSHOT, type Snapshot } from './snapshot.js';
import { registerTurnpikeMetrics } from './turnpike-metrics.js';

export type { MetricsEndpoint } from './http-endpoint.js';
export type { ScrapeSource } from './scrape-state.js';
export { EngineScrapeSource } from './engine-source.js';

export interface Metrics {
  readonly registry: Registry;
  /** Undefined when only the registry was asked for (no HTTP endpoint). */
  readonly endpoint: MetricsEndpoint | undefined;
  /** The exposition text, as a scrape gets it. */
  render(): Promise<string>;
  close(): Promise<void>;
}

/** The registry and its collectors, without HTTP. */
export function createMetrics(source: ScrapeSource, usernameLabels: boolean): Omit<Metrics, 'endpoint'> {
  const registry = new Registry();
  let current: Snapshot = EMPTY_SNAPSHOT;
  const state: ScrapeState = {
    counters: source.counters,
    snapshot: () => current,
    portUsage: () => source.portUsage(),
  };
  // process_* (as coturn's libprom exports them too) and nodejs_*. Event-loop delay comes from
  // perf_hooks' histogram (nodejs_eventloop_lag_{min,max,mean,stddev,p50,p90,p99}_seconds,
  // over the last scrape interval). prom-client fills those gauges, and resets the histogram,
  // in the collector of nodejs_eventloop_lag_seconds: without that one they all stay 0.
  collectDefaultMetrics({ register: registry });
  registerCoturnMetrics(registry, state, usernameLabels);
  registerTurnpikeMetrics(registry, state);
  return {
    registry,
    render: async () => {
      current = await source.takeSnapshot();
      return registry.metrics();
    },
    close: async () => {
      registry.clear();
    },
  };
}

export async function startMetrics(source: ScrapeSource, options: MetricsOptions, logger: Logger): Promise<Metrics> {
  const metrics = createMetrics(source, options.usernameLabels);
  let endpoint: MetricsEndpoint;
  try {
    endpoint = await startMetricsEndpoint(
      options,
      { contentType: metrics.registry.contentType, render: metrics.render },
      (error) => logger.warn(`metrics endpoint: ${error instanceof Error ? error.message : String(error)}`),
    );
  } catch (error) {
    await metrics.close();
    throw new Error(`prometheus: cannot listen on ${options.address} port ${options.port}: ${(error as Error).message}`);
  }
  logger.info(`prometheus metrics at ${endpoint.url}`);
  return {
    ...metrics,
    endpoint,
    close: async () => {
      await endpoint.close();
      await metrics.close();
    },
  };
}
