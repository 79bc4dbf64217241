import { describe, expect, it } from 'vitest';
import { HandshakeBudget } from '../../../src/net/dtls/handshake-budget.js';
import type { TransportAddress } from '../../../src/stun/ip.js';

const v4 = (address: string, port = 5000): TransportAddress => ({ family: 4, address, port });
const v6 = (address: string, port = 5000): TransportAddress => ({ family: 6, address, port });

describe('the unfinished-handshake budget', () => {
  it('gives one IPv4 address its share, whatever the port, and other addresses theirs', () => {
    const budget = new HandshakeBudget({ maxHandshakes: 10, maxHandshakesPerSource: 2 });
    expect([1, 2, 3].map((port) => budget.admit(v4('192.0.2.1', port)))).toEqual(['admitted', 'admitted', 'source-full']);
    expect(budget.admit(v4('192.0.2.2'))).toBe('admitted');
    budget.release(v4('192.0.2.1', 1));
    expect(budget.admit(v4('192.0.2.1', 4))).toBe('admitted');
    expect(budget.pending).toBe(3);
  });

  it('counts an IPv6 /64 as one source', () => {
    const budget = new HandshakeBudget({ maxHandshakes: 10, maxHandshakesPerSource: 2 });
    expect(budget.admit(v6('2001:db8:1:2::1'))).toBe('admitted');
    expect(budget.admit(v6('2001:db8:1:2:ffff:ffff:ffff:ffff'))).toBe('admitted');
    expect(budget.admit(v6('2001:db8:1:2::abcd'))).toBe('source-full');
    expect(budget.admit(v6('2001:db8:1:3::1'))).toBe('admitted');
  });

  it('refuses everyone once the server-wide cap is reached', () => {
    const budget = new HandshakeBudget({ maxHandshakes: 2, maxHandshakesPerSource: 2 });
    budget.admit(v4('192.0.2.1'));
    budget.admit(v4('192.0.2.2'));
    expect(budget.admit(v4('192.0.2.3'))).toBe('server-full');
    budget.release(v4('192.0.2.1'));
    expect(budget.admit(v4('192.0.2.3'))).toBe('admitted');
  });
});
