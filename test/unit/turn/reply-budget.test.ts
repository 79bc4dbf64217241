import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AdvanceLedger } from '../../../src/turn/advance-ledger.js';
import { REPLY_BUDGET_DEFAULTS, ReplyBudget, type ReplyBudgetOptions } from '../../../src/turn/reply-budget.js';

const MINUTE = 60_000;

/** A budget on a clock the test moves: `budget.now` is the time it reads. */
function budgetAt(options: Partial<ReplyBudgetOptions> = {}): { budget: ReplyBudget; clock: { now: number } } {
  const clock = { now: 1_000_000 };
  return { budget: new ReplyBudget({ advanceBytes: 64, advanceEveryMs: MINUTE, ...options, clock: () => clock.now }), clock };
}

describe('ReplyBudget', () => {
  it('lets a source run up to advanceBytes ahead of what it sent, then answers it only out of what it sends', () => {
    const { budget } = budgetAt({ advanceBytes: 128 });
    budget.earn('192.0.2.1', 28);
    expect(budget.spend('192.0.2.1', 64)).toBe(true); // a 28-byte Allocate's 401 at once: owes 36
    budget.earn('192.0.2.1', 28);
    expect(budget.spend('192.0.2.1', 64)).toBe(true); // another client's there too: owes 72
    budget.earn('192.0.2.1', 28);
    expect(budget.spend('192.0.2.1', 64)).toBe(true); // owes 108
    budget.earn('192.0.2.1', 28); // owes 80
    expect(budget.spend('192.0.2.1', 64)).toBe(false);
    expect(budget.spend('192.0.2.1', 48)).toBe(true); // owes 128, the whole advance
    expect(budget.spend('192.0.2.1', 1)).toBe(false);
    budget.earn('192.0.2.1', 28);
    expect(budget.spend('192.0.2.1', 29)).toBe(false);
    expect(budget.spend('192.0.2.1', 28)).toBe(true);
  });

  it('lets a source that has paid back owe again: clients whose Allocates each pay for part of a 401', () => {
    const { budget } = budgetAt();
    budget.earn('192.0.2.1', 56); // a 56-byte Allocate…
    expect(budget.spend('192.0.2.1', 72)).toBe(true); // …and its 72-byte 401: owes 16
    budget.earn('192.0.2.1', 56); // another client's: 40 in hand
    expect(budget.spend('192.0.2.1', 72)).toBe(true); // owes 32
  });

  it('keeps each source’s credit apart', () => {
    const { budget } = budgetAt();
    budget.earn('192.0.2.1', 1000);
    budget.earn('192.0.2.2', 28);
    expect(budget.spend('192.0.2.2', 92)).toBe(true); // its whole advance
    expect(budget.spend('192.0.2.2', 1)).toBe(false); // not 192.0.2.1's credit
    expect(budget.spend('192.0.2.1', 1000)).toBe(true);
  });

  it('caps what a source can bank', () => {
    const { budget } = budgetAt({ capBytes: 100, advanceBytes: 0 });
    for (let i = 0; i < 10; i++) budget.earn('192.0.2.1', 100);
    expect(budget.spend('192.0.2.1', 100)).toBe(true);
    expect(budget.spend('192.0.2.1', 1)).toBe(false);
  });

  it('stays one fixed table under a flood: a newcomer takes the least recently used slot, with nothing in it', () => {
    // Four slots: one bucket, so every address competes for it. No advances here.
    const { budget } = budgetAt({ slots: 4, advanceBytes: 0 });
    budget.earn('192.0.2.1', 28);
    budget.earn('198.51.100.1', 28);
    budget.earn('198.51.100.2', 28);
    budget.earn('192.0.2.1', 28); // the client retransmits: it is the most recently used again
    budget.earn('198.51.100.3', 28);
    budget.earn('198.51.100.4', 28); // the bucket is full: 198.51.100.1 (least recent) goes
    expect(budget.spend('192.0.2.1', 56)).toBe(true);
    // An evicted source starts from nothing; a newcomer never inherits another's credit.
    expect(budget.spend('198.51.100.1', 1)).toBe(false);
    expect(budget.spend('198.51.100.4', 29)).toBe(false);
    expect(budget.spend('198.51.100.4', 28)).toBe(true);
  });

  it('gives no second advance to a source whose debt a flood evicted, until a minute has passed', () => {
    const { budget, clock } = budgetAt({ slots: 4 });
    budget.earn('192.0.2.1', 28);
    expect(budget.spend('192.0.2.1', 64)).toBe(true); // owes 36
    // Four newcomers fill its bucket: its slot, and its debt, are gone.
    for (const flood of ['198.51.100.1', '198.51.100.2', '198.51.100.3', '198.51.100.4']) budget.earn(flood, 28);
    budget.earn('192.0.2.1', 28);
    expect(budget.spend('192.0.2.1', 64)).toBe(false);
    clock.now += MINUTE - 1;
    expect(budget.spend('192.0.2.1', 64)).toBe(false);
    clock.now += 1;
    expect(budget.spend('192.0.2.1', 64)).toBe(true);
  });

  it('counts an IPv6 /64 as one source, whatever addresses in it a spoofer uses', () => {
    const { budget } = budgetAt();
    budget.earn('2001:db8:1:2::1', 28);
    expect(budget.spend('2001:db8:1:2::1', 64)).toBe(true); // owes 36
    budget.earn('2001:db8:1:2:ffff::9', 28); // owes 8
    expect(budget.spend('2001:db8:1:2:ffff::9', 57)).toBe(false);
    expect(budget.spend('2001:db8:1:2:ffff::9', 56)).toBe(true);
    budget.earn('2001:db8:1:3::1', 28); // the next /64 is another network
    expect(budget.spend('2001:db8:1:3::1', 64)).toBe(true);
  });

  it('counts an IPv4-mapped IPv6 source as its IPv4 address', () => {
    const { budget } = budgetAt();
    budget.earn('::ffff:192.0.2.1', 28);
    expect(budget.spend('::ffff:192.0.2.1', 64)).toBe(true); // owes 36
    // Another IPv4 client of a dual-stack socket is not in the first one's /64.
    budget.earn('::ffff:192.0.2.2', 28);
    expect(budget.spend('::ffff:192.0.2.2', 64)).toBe(true);
    budget.earn('192.0.2.1', 28); // owes 8
    expect(budget.spend('192.0.2.1', 57)).toBe(false);
    expect(budget.spend('192.0.2.1', 56)).toBe(true);
  });

  it('gives no advance when every place in the ledger of advances is taken by one from the last minute', () => {
    // A ledger of four: one bucket, filled by four spoofed sources.
    const { budget, clock } = budgetAt({ advanceSlots: 4 });
    for (let i = 1; i <= 4; i++) {
      budget.earn(`198.51.100.${i}`, 28);
      expect(budget.spend(`198.51.100.${i}`, 64)).toBe(true);
    }
    budget.earn('192.0.2.1', 28);
    expect(budget.spend('192.0.2.1', 64)).toBe(false);
    // Once a minute has passed their places are free again.
    clock.now += MINUTE;
    expect(budget.spend('192.0.2.1', 64)).toBe(true);
  });

  it('sends no source, over any run, more than it sent plus one advance a minute, however the table is flooded', () => {
    const addresses = ['192.0.2.1', '192.0.2.2', '198.51.100.1', '198.51.100.2', '198.51.100.3', '203.0.113.9'];
    const op = fc.record({
      address: fc.constantFrom(...addresses),
      // As an attack goes: small requests, answers larger than they are.
      earn: fc.integer({ min: 0, max: 40 }),
      spend: fc.integer({ min: 0, max: 100 }),
      // Up to 0.3 s between requests: a run spans a minute and a half at most.
      wait: fc.integer({ min: 0, max: 300 }),
    });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        // A tiny table and ledger, so that evictions happen all the time.
        const { budget, clock } = budgetAt({ slots: 4, advanceSlots: 4, advanceBytes: 64 });
        const start = clock.now;
        const sent = new Map<string, number>();
        const back = new Map<string, number>();
        for (const { address, earn, spend, wait } of ops) {
          clock.now += wait;
          budget.earn(address, earn);
          sent.set(address, (sent.get(address) ?? 0) + earn);
          if (budget.spend(address, spend)) back.set(address, (back.get(address) ?? 0) + spend);
        }
        const advances = Math.floor((clock.now - start) / MINUTE) + 1;
        for (const address of addresses) expect(back.get(address) ?? 0).toBeLessThanOrEqual((sent.get(address) ?? 0) + 64 * advances);
      }),
      { numRuns: 300 },
    );
  });
});

describe('ReplyBudget: relay workers sharing one ledger of advances', () => {
  /** Two workers' budgets: credit tables of their own, one ledger in shared memory. */
  function workersAt(options: Partial<ReplyBudgetOptions> = {}): { workers: ReplyBudget[]; clock: { now: number } } {
    const clock = { now: 1_000_000 };
    const merged = { advanceBytes: 256, advanceEveryMs: MINUTE, hashSeed: 11, ...options, clock: () => clock.now };
    const advanceMemory = new SharedArrayBuffer(AdvanceLedger.bytesFor(merged.advanceSlots ?? REPLY_BUDGET_DEFAULTS.advanceSlots));
    return { workers: [new ReplyBudget({ ...merged, advanceMemory }), new ReplyBudget({ ...merged, advanceMemory })], clock };
  }

  it('challenges the first Allocates of a call at once, whichever worker each socket reaches', () => {
    const { workers } = workersAt();
    // Both peers of a call, two sockets each, from one address: 28-byte Allocates, 92-byte 401s.
    for (const worker of [0, 1, 1, 0]) {
      workers[worker]!.earn('192.0.2.1', 28);
      expect(workers[worker]!.spend('192.0.2.1', 92)).toBe(true);
    }
    // 4 × 64 owed: the advance is spent, on both workers.
    for (const worker of workers) {
      worker.earn('192.0.2.1', 28);
      expect(worker.spend('192.0.2.1', 92)).toBe(false);
    }
  });

  it('sends no source more than it sent plus one advance a minute, summed over the workers', () => {
    const addresses = ['192.0.2.1', '192.0.2.2', '198.51.100.1', '198.51.100.2', '203.0.113.9'];
    const op = fc.record({
      worker: fc.constantFrom(0, 1),
      address: fc.constantFrom(...addresses),
      earn: fc.integer({ min: 0, max: 40 }),
      spend: fc.integer({ min: 0, max: 100 }),
      binding: fc.boolean(),
      wait: fc.integer({ min: 0, max: 300 }),
    });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const { workers, clock } = workersAt({ slots: 4, advanceSlots: 4, advanceBytes: 64 });
        const start = clock.now;
        const sent = new Map<string, number>();
        const back = new Map<string, number>();
        for (const { worker, address, earn, spend, binding, wait } of ops) {
          clock.now += wait;
          const budget = workers[worker]!;
          budget.earn(address, earn);
          if (binding) {
            // Always answered (with more than was asked: an address), out of what credit there is:
            // it neither pays for a challenge nor repays an advance, so it counts on neither side.
            budget.charge(address, earn, earn + spend);
            continue;
          }
          sent.set(address, (sent.get(address) ?? 0) + earn);
          if (budget.spend(address, spend)) back.set(address, (back.get(address) ?? 0) + spend);
        }
        const advances = Math.floor((clock.now - start) / MINUTE) + 1;
        for (const address of addresses) expect(back.get(address) ?? 0).toBeLessThanOrEqual((sent.get(address) ?? 0) + 64 * advances);
      }),
      { numRuns: 300 },
    );
  });
});

describe('ReplyBudget.charge', () => {
  it('takes what credit there is and never refuses: Bindings leave nothing to pay a challenge with', () => {
    const { budget } = budgetAt({ advanceBytes: 0 });
    budget.earn('192.0.2.1', 20); // a Binding request…
    budget.charge('192.0.2.1', 20, 32); // …and its answer
    budget.earn('192.0.2.1', 28);
    expect(budget.spend('192.0.2.1', 29)).toBe(false);
    expect(budget.spend('192.0.2.1', 28)).toBe(true);
  });

  it('leaves a debt as it was: a Binding neither repays an advance nor deepens it', () => {
    const { budget } = budgetAt();
    budget.earn('192.0.2.1', 28);
    expect(budget.spend('192.0.2.1', 64)).toBe(true); // owes 36
    budget.earn('192.0.2.1', 20); // a Binding request…
    budget.charge('192.0.2.1', 20, 32); // …and its answer: owes 36 still
    budget.earn('192.0.2.1', 8); // owes 28
    expect(budget.spend('192.0.2.1', 37)).toBe(false);
    expect(budget.spend('192.0.2.1', 36)).toBe(true);
  });
});
