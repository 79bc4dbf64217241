import { describe, expect, it } from 'vitest';
import { AdvanceLedger } from '../../../src/turn/advance-ledger.js';

const MINUTE = 60_000;
const ADVANCE = 256;

describe('AdvanceLedger over shared memory', () => {
  it('lends a source one advance a minute across every ledger over the same memory, as relay workers share it', () => {
    const memory = new SharedArrayBuffer(AdvanceLedger.bytesFor(64));
    const [first, second] = [new AdvanceLedger(64, MINUTE, ADVANCE, 7, memory), new AdvanceLedger(64, MINUTE, ADVANCE, 7, memory)];
    expect(first!.borrow('192.0.2.1', 64, 0)).toBe(true);
    // Another worker lends the rest of the same advance, and no more.
    expect(second!.borrow('192.0.2.1', ADVANCE - 64, 1000)).toBe(true);
    expect(second!.borrow('192.0.2.1', 1, 1000)).toBe(false);
    // What one worker's client paid back, the other may lend again.
    first!.repay('192.0.2.1', 28, 2000);
    expect(second!.borrow('192.0.2.1', 29, 2000)).toBe(false);
    expect(second!.borrow('192.0.2.1', 28, 2000)).toBe(true);
    expect(second!.borrow('192.0.2.2', ADVANCE, 1000)).toBe(true);
    // A minute on, a new advance, whatever was never paid back.
    expect(first!.borrow('192.0.2.1', ADVANCE, MINUTE)).toBe(true);
    expect(second!.borrow('192.0.2.1', 1, MINUTE + 1)).toBe(false);
  });

  it('decides on when a worker was terminated holding a bucket’s lock, instead of spinning for ever', () => {
    const memory = new SharedArrayBuffer(AdvanceLedger.bytesFor(64));
    // Every lock word (the table's last 64 / 4 words) held, and nobody left to free it.
    new Int32Array(memory).fill(1, -64 / 4);
    const ledger = new AdvanceLedger(64, MINUTE, ADVANCE, 7, memory);
    expect(ledger.borrow('192.0.2.1', ADVANCE, 0)).toBe(true);
    expect(ledger.borrow('192.0.2.1', 1, 1)).toBe(false);
  });

  it('refuses memory too small for its slots', () => {
    expect(() => new AdvanceLedger(64, MINUTE, ADVANCE, 7, new SharedArrayBuffer(AdvanceLedger.bytesFor(64) - 1))).toThrow(RangeError);
  });
});
