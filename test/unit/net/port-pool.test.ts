import { describe, expect, it } from 'vitest';
import { PortPool } from '../../../src/net/port-pool.js';

/** Every port the pool hands out until it is empty. */
function drain(pool: PortPool, options: { even?: boolean; withNext?: boolean } = {}): number[] {
  const taken: number[] = [];
  for (let port = pool.take(options); port !== undefined; port = pool.take(options)) taken.push(port);
  return taken;
}

describe('PortPool slices (relay workers)', () => {
  it('splits the range by port pairs: the slices are disjoint and cover it', () => {
    const slices = [0, 1, 2].map((index) => drain(new PortPool(50001, 50100, Math.random, { index, count: 3 })));
    const all = slices.flat().sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 100 }, (_, i) => 50001 + i));
    for (const [index, ports] of slices.entries()) for (const port of ports) expect(Math.floor(port / 2) % 3).toBe(index);
  });

  it('counts only its own ports as its size', () => {
    expect(new PortPool(50000, 50099, Math.random, { index: 1, count: 2 }).size).toBe(50);
    expect(new PortPool(50000, 50099).size).toBe(100);
  });

  it('keeps an EVEN-PORT pair p, p+1 in one slice', () => {
    for (const index of [0, 1]) {
      const pool = new PortPool(50000, 50099, Math.random, { index, count: 2 });
      const evens = drain(pool, { even: true, withNext: true });
      expect(evens).toHaveLength(25);
      for (const port of evens) expect(port % 2).toBe(0);
    }
  });
});
