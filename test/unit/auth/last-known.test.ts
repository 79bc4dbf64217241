// The user databases' last-known answers (src/auth/last-known.ts): what a relay worker serves
// during an outage, and what it tells the other workers.
import { describe, expect, it } from 'vitest';
import { FALLBACK_ENTRIES, LastKnownAnswers, type LastKnownChange } from '../../../src/auth/last-known.js';

function sharing() {
  const shared: LastKnownChange[] = [];
  return { shared, answers: new LastKnownAnswers((change) => shared.push(change)) };
}

const keys = (byte: number) => ({ md5: Buffer.alloc(16, byte), sha256: Buffer.alloc(32, byte) });

describe('last-known user database answers', () => {
  it('serves what was learnt, forgets a user the database says is gone, and shares only what changes', () => {
    const { shared, answers } = sharing();
    answers.learnKeys('dora', 'example.org', keys(1));
    answers.learnKeys('dora', 'example.org', keys(1)); // looked up again, same key: nothing to tell
    answers.learnSecrets('example.org', ['s1']);
    answers.learnSecrets('example.org', ['s1']);
    expect(answers.keysOf('dora', 'example.org')).toEqual(keys(1));
    expect(answers.keysOf('dora', 'other.org')).toBeUndefined();
    expect(answers.secretsOf('example.org')).toEqual(['s1']);
    answers.learnKeys('dora', 'example.org', keys(2)); // the password changed
    answers.forgetKeys('dora', 'example.org');
    answers.forgetKeys('never-seen', 'example.org'); // an unknown name asked again: no news
    expect(answers.keysOf('dora', 'example.org')).toBeUndefined();
    expect(shared.map((c) => (c.kind === 'keys' ? c.keys?.md5[0] ?? 'forgot' : c.secrets))).toEqual([1, ['s1'], 2, 'forgot']);
  });

  it("takes another worker's change as structured clone gives it (Buffers as Uint8Arrays), without sharing it again", () => {
    const from = sharing();
    from.answers.learnKeys('dora', 'example.org', keys(7));
    const { shared, answers } = sharing();
    answers.receive(structuredClone(from.shared[0]!));
    const got = answers.keysOf('dora', 'example.org')!;
    expect(Buffer.isBuffer(got.md5) && Buffer.isBuffer(got.sha256)).toBe(true);
    expect(got).toEqual(keys(7));
    expect(shared).toEqual([]);
    // What a replacement worker starts with.
    expect(answers.changes()).toEqual(from.shared);
  });

  it(`keeps at most ${FALLBACK_ENTRIES} users, dropping the one used longest ago`, () => {
    const { answers } = sharing();
    for (let i = 0; i <= FALLBACK_ENTRIES; i++) answers.learnKeys(`user${i}`, 'example.org', keys(i % 256));
    expect(answers.keysOf('user0', 'example.org')).toBeUndefined();
    expect(answers.keysOf('user1', 'example.org')).toEqual(keys(1));
    expect(answers.keysOf(`user${FALLBACK_ENTRIES}`, 'example.org')).toBeDefined();
  });
});
