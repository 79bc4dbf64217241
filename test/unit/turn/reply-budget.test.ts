import { describe, expect, it } from 'vitest';
import { ReplyBudget } from '../../../src/turn/reply-budget.js';

describe('ReplyBudget', () => {
  it('lets a source be sent what it sent, and no more', () => {
    const budget = new ReplyBudget();
    budget.earn('192.0.2.1', 28);
    expect(budget.spend('192.0.2.1', 64)).toBe(false);
    budget.earn('192.0.2.1', 28);
    budget.earn('192.0.2.1', 28);
    expect(budget.spend('192.0.2.1', 64)).toBe(true);
    expect(budget.spend('192.0.2.1', 21)).toBe(false);
    expect(budget.spend('192.0.2.1', 20)).toBe(true);
  });

  it('keeps each source’s credit apart', () => {
    const budget = new ReplyBudget();
    budget.earn('192.0.2.1', 100);
    expect(budget.spend('192.0.2.2', 1)).toBe(false);
    expect(budget.spend('192.0.2.1', 100)).toBe(true);
  });

  it('caps what a source can bank', () => {
    const budget = new ReplyBudget(16, 100);
    for (let i = 0; i < 10; i++) budget.earn('192.0.2.1', 100);
    expect(budget.spend('192.0.2.1', 100)).toBe(true);
    expect(budget.spend('192.0.2.1', 1)).toBe(false);
  });

  it('stays one fixed table under a flood: a newcomer takes the least recently used slot, with nothing in it', () => {
    // Four slots: one bucket, so every address competes for it.
    const budget = new ReplyBudget(4);
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
});

describe('ReplyBudget.charge', () => {
  it('takes what credit there is and never refuses: Bindings leave nothing to pay a challenge with', () => {
    const budget = new ReplyBudget();
    budget.earn('192.0.2.1', 20); // a Binding request…
    budget.charge('192.0.2.1', 32); // …and its answer
    budget.earn('192.0.2.1', 28);
    expect(budget.spend('192.0.2.1', 29)).toBe(false);
    expect(budget.spend('192.0.2.1', 28)).toBe(true);
  });
});
