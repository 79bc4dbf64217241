import { describe, expect, it } from 'vitest';
import { AdvanceLedger } from '../../../src/turn/advance-ledger.js';

const MINUTE = 60_000;

describe('AdvanceLedger over shared memory', () => {
  it('grants a source one advance a minute across every ledger over the same memory, as relay workers share it', () => {
    const memory = new SharedArrayBuffer(AdvanceLedger.bytesFor(64));
    const [first, second] = [new AdvanceLedger(64, MINUTE, 7, memory), new AdvanceLedger(64, MINUTE, 7, memory)];
    expect(first!.grant('192.0.2.1', 0)).toBe(true);
    expect(second!.grant('192.0.2.1', 1000)).toBe(false);
    expect(second!.grant('192.0.2.2', 1000)).toBe(true);
    expect(first!.grant('192.0.2.1', MINUTE)).toBe(true);
    expect(second!.grant('192.0.2.1', MINUTE + 1)).toBe(false);
  });

  it('decides on when a worker was terminated holding a bucket’s lock, instead of spinning for ever', () => {
    const memory = new SharedArrayBuffer(AdvanceLedger.bytesFor(64));
    // Every lock word (the table's last 64 / 4 words) held, and nobody left to free it.
    new Int32Array(memory).fill(1, -64 / 4);
    const ledger = new AdvanceLedger(64, MINUTE, 7, memory);
    expect(ledger.grant('192.0.2.1', 0)).toBe(true);
    expect(ledger.grant('192.0.2.1', 1)).toBe(false);
  });

  it('refuses memory too small for its slots', () => {
    expect(() => new AdvanceLedger(64, MINUTE, 7, new SharedArrayBuffer(AdvanceLedger.bytesFor(64) - 1))).toThrow(RangeError);
  });
});
