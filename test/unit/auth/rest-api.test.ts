// TURN REST API credentials as WebRTC application servers mint them.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { RestSecrets, restExpiry, restPassword } from '../../../src/auth/rest-api.js';
import { longTermKey } from '../../../src/stun/index.js';

describe('REST API credentials', () => {
  it('password is base64(HMAC-SHA1(secret, username))', () => {
    const expected = createHmac('sha1', 'north').update('1700000000:alice').digest('base64');
    expect(restPassword('north', '1700000000:alice')).toBe(expected);
  });

  it.each([
    ['1700000000:alice', 1700000000],
    ['alice:1700000000', 1700000000],
    ['1700000000', 1700000000],
    [':alice', undefined],
    ['alice', undefined],
    ['alice:bob', undefined],
  ])('reads the expiry of %s as coturn does', (username, expiry) => {
    expect(restExpiry(username, ':')).toBe(expiry);
  });

  it('honours another separator', () => {
    expect(restExpiry('1700000000-alice', '-')).toBe(1700000000);
    expect(restExpiry('1700000000:alice', '-')).toBeUndefined();
  });

  it('gives one key per secret (rotation), valid until the expiry passes', () => {
    const rest = new RestSecrets({ secretsFor: () => ['old', 'new'] }, ':');
    const name = '1700000100:alice';
    const lookup = rest.keysFor(name, 'r', 1700000000_000);
    expect(lookup.valid).toBe(true);
    expect(lookup.keys).toEqual(['old', 'new'].map((s) => longTermKey(name, 'r', restPassword(s, name))));
    const late = rest.keysFor(name, 'r', 1700000101_000);
    expect(late.valid).toBe(false);
    expect(late.keys).toHaveLength(2); // still computed: expiry costs the same work
  });
});
