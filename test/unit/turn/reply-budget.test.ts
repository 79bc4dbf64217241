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

  it('stays one fixed table under a flood of spoofed sources: newcomers evict, never add', () => {
    const budget = new ReplyBudget(16);
    budget.earn('192.0.2.1', 1000);
    for (let i = 0; i < 5000; i++) budget.earn(`198.51.${i >> 8}.${i & 255}`, 28);
    // The victim's credit was either kept or dropped with its slot; never more than it earned.
    budget.spend('192.0.2.1', 1000);
    expect(budget.spend('192.0.2.1', 1)).toBe(false);
  });
});
