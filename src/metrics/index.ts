/**
 * The Prometheus metrics: a prom-client registry whose collectors read the engine's plain
 * counters and live allocations at scrape time (nothing per packet), served over HTTP.
 */
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { MetricsOptions } from '../config/server-options.js';
import type { Allocation } from '../turn/allocation.js';
import type { TurnEngine } from '../turn/engine.js';
import type { Logger } from '../log/logger-interface.js';
import { registerCoturnMetrics } from './coturn-metrics.js';
import { startMetricsEndpoint, type MetricsEndpoint } from './http-endpoint.js';
import type { PortUsage, ScrapeState } from './scrape-state.js';
import { EMPTY_SNAPSHOT, TrafficLedger, takeSnapshot, type Snapshot } from './snapshot.js';
import { registerTurnpikeMetrics } from './turnpike-metrics.js';

export type { MetricsEndpoint } from './http-endpoint.js';

export interface MetricsSources {
  readonly engine: TurnEngine;
  /** Relay ports in use and in the range, over all relay addresses. */
  portUsage(): PortUsage;
}

export interface Metrics {
  readonly registry: Registry;
  /** Undefined when only the registry was asked for (no HTTP endpoint). */
  readonly endpoint: MetricsEndpoint | undefined;
  /** The exposition text, as a scrape gets it. */
  render(): Promise<string>;
  /** An allocation ended: its final counts join the ended totals (the engine's onAllocationEnded). */
  allocationEnded(allocation: Allocation): void;
  close(): Promise<void>;
}

/** The registry and its collectors, without HTTP. */
export function createMetrics(sources: MetricsSources, usernameLabels: boolean): Omit<Metrics, 'endpoint'> {
  const registry = new Registry();
  const ledger = new TrafficLedger(usernameLabels);
  let current: Snapshot = EMPTY_SNAPSHOT;
  const state: ScrapeState = {
    counters: sources.engine.counters,
    snapshot: () => current,
    portUsage: () => sources.portUsage(),
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
    render: () => {
      current = takeSnapshot(sources.engine.allocations, ledger);
      return registry.metrics();
    },
    allocationEnded: (allocation) => ledger.allocationEnded(allocation),
    close: async () => {
      registry.clear();
    },
  };
}

export async function startMetrics(sources: MetricsSources, options: MetricsOptions, logger: Logger): Promise<Metrics> {
  const metrics = createMetrics(sources, options.usernameLabels);
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
