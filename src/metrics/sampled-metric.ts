/**
 * A metric whose samples are read from plain fields when scraped. prom-client's Counter and
 * Gauge keep a hashed series table that a scrape-time reader would have to reset and refill
 * each time (half of a scrape's CPU, measured); its Registry only needs name, help, type and
 * get(), so this hands it the samples directly.
 */
import type { Metric, Registry } from 'prom-client';

export interface Sample {
  readonly labels?: Readonly<Record<string, string | number>>;
  readonly value: number;
}

export type MetricType = 'counter' | 'gauge';

class SampledMetric {
  readonly aggregator = 'sum';

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: MetricType,
    private readonly read: () => Sample[],
  ) {}

  get(): Promise<{ name: string; help: string; type: MetricType; values: Sample[]; aggregator: string }> {
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, values: this.read(), aggregator: this.aggregator });
  }

  /** Nothing to reset: the values live in the fields it reads. */
  reset(): void {}
}

export function registerSampled(registry: Registry, name: string, help: string, type: MetricType, read: () => Sample[]): void {
  // The Registry duck-types metrics (name, get, reset); its type lists only its own classes.
  registry.registerMetric(new SampledMetric(name, help, type, read) as unknown as Metric);
}
