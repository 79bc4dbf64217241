// ServerHello randoms are cut from a shared fill: each must be fresh, and stay as handed out
// while later handshakes take theirs (a refill must not rewrite an earlier one).
import { describe, expect, it } from 'vitest';
import { serverRandom } from '../../../src/net/dtls/server-random.js';

describe('server randoms', () => {
  it('are 32 bytes, never the same twice, and never rewritten by the refills after them', () => {
    const first = serverRandom();
    const kept = Buffer.from(first);
    const seen = new Set<string>([kept.toString('hex')]);
    for (let i = 0; i < 1000; i++) {
      const random = serverRandom();
      expect(random).toHaveLength(32);
      seen.add(random.toString('hex'));
    }
    expect(seen.size).toBe(1001);
    expect(first).toEqual(kept);
  });
});
