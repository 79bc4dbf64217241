// Main's metrics with relay workers: the sum of what each worker's reporter sends, with what a
// dead worker counted kept and its gauges dropped.
import { describe, expect, it } from 'vitest';
import { EngineCounters } from '../../../src/turn/counters.js';
import { MetricsReporter } from '../../../src/workers/metrics-report.js';
import { SummedMetrics } from '../../../src/workers/summed-metrics.js';

/** A worker's engine state as its reporter reads it: counters, no live allocation, 2 ports of 10 in use. */
function worker() {
  const engine = { counters: new EngineCounters(), allocations: new Set<never>() };
  const traffic = () => engine;
  return { engine, reporter: new MetricsReporter({ traffic }, () => ({ inUse: 2, total: 10 }), false) };
}

describe('SummedMetrics', () => {
  it('adds what each worker grew by, once, and keeps a dead worker\u2019s counts but not its gauges', async () => {
    const workers = [worker(), worker()];
    const sums = new SummedMetrics(async () => {});
    workers[0]!.engine.counters.relayedToPeerPackets += 5;
    workers[0]!.engine.counters.countError(437);
    workers[1]!.engine.counters.relayedToPeerPackets += 7;
    workers.forEach((w, i) => sums.add(i, w.reporter.report()));
    // A report with nothing new adds nothing.
    workers.forEach((w, i) => sums.add(i, w.reporter.report()));
    workers[1]!.engine.counters.relayedToPeerPackets += 1;
    sums.add(1, workers[1]!.reporter.report());

    expect(sums.counters.relayedToPeerPackets).toBe(13);
    expect(sums.counters.errorResponses.get(437)).toBe(1);
    expect(sums.portUsage()).toEqual({ inUse: 4, total: 20 });

    sums.workerGone(1);
    expect(sums.counters.relayedToPeerPackets).toBe(13);
    expect(sums.portUsage()).toEqual({ inUse: 2, total: 10 });
    expect((await sums.takeSnapshot()).allocations.size).toBe(0);
  });
});
