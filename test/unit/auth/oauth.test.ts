// RFC 7635 access tokens in coturn's form: what Turnpike makes, coturn's turnutils_oauth reads,
// and the key and token checks coturn's get_user_key makes.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { openAccessToken, type OAuthKeySource } from '../../../src/auth/oauth.js';
import { OAuthKeyError, decodeAccessToken, encodeAccessToken, oauthKeyOf, type OAuthKeyRow } from '../../../src/auth/oauth-token.js';
import { COTURN_TEST_KEYS, turnutilsOauthToken, type TestKid } from '../../support/oauth-client.js';

const SERVER_NAME = 'blackdow.carleon.gov';
const MAC_KEY = 'abcdefghijklmnopqrst';
const NOW_S = Math.floor(Date.now() / 1000);

function row(kid: TestKid, overrides: Partial<OAuthKeyRow> = {}): OAuthKeyRow {
  const key = COTURN_TEST_KEYS[kid];
  return { kid, ikmKey: key.ikm, timestamp: 0, lifetime: 0, asRsAlg: key.alg, realm: key.realm, ...overrides };
}

const source = (...rows: OAuthKeyRow[]): OAuthKeySource => ({ oauthKeyFor: (kid) => rows.find((r) => r.kid === kid) });

describe('access tokens', () => {
  it.each(['north', 'union'] as const)('reads what turnutils_oauth makes with key %s', (kid) => {
    const token = turnutilsOauthToken({ kid, serverName: SERVER_NAME, macKey: MAC_KEY, lifetimeSeconds: 3600, timestamp: NOW_S });
    const decoded = decodeAccessToken(token, oauthKeyOf(row(kid)), SERVER_NAME);
    expect(decoded?.macKey.toString()).toBe(MAC_KEY);
    expect(decoded?.timestampSeconds).toBe(NOW_S);
    expect(decoded?.lifetime).toBe(3600);
  });

  it('makes tokens turnutils_oauth validates', () => {
    const token = encodeAccessToken({ macKey: Buffer.from(MAC_KEY), timestampSeconds: NOW_S, lifetime: 600 }, oauthKeyOf(row('north')), SERVER_NAME, Buffer.alloc(12, 7));
    const out = execFileSync('turnutils_oauth', [
      '-d', '-v', '-i', SERVER_NAME, '-j', 'north', '-k', COTURN_TEST_KEYS.north.ikm, '-n', 'A256GCM', '-l', '1', '-m', '2000000000', '-t', token.toString('base64'),
    ], { encoding: 'utf8', timeout: 10_000 });
    expect(out).toContain('Valid token');
    expect(out).toContain(`mac key: ${MAC_KEY}`);
  });

  it('does not open with another key, another server name, or a changed byte', () => {
    const token = turnutilsOauthToken({ kid: 'north', serverName: SERVER_NAME, macKey: MAC_KEY, lifetimeSeconds: 3600 });
    expect(decodeAccessToken(token, oauthKeyOf(row('oldempire')), SERVER_NAME)).toBeUndefined();
    expect(decodeAccessToken(token, oauthKeyOf(row('north')), 'other.example')).toBeUndefined();
    for (const at of [0, 5, 20, token.length - 1]) {
      const changed = Buffer.from(token);
      changed[at]! ^= 0x40;
      expect(decodeAccessToken(changed, oauthKeyOf(row('north')), SERVER_NAME), `byte ${at}`).toBeUndefined();
    }
    expect(decodeAccessToken(token.subarray(0, 20), oauthKeyOf(row('north')), SERVER_NAME)).toBeUndefined();
  });

  it("reads the algorithm as coturn spells it, and refuses one it does not know", () => {
    expect(oauthKeyOf(row('union', { asRsAlg: ' a128gcm ' })).algorithm).toBe('A128GCM');
    expect(() => oauthKeyOf(row('north', { asRsAlg: '' }))).toThrow(OAuthKeyError);
    expect(() => oauthKeyOf(row('north', { asRsAlg: 'HS256' }))).toThrow(/wrong token encryption algorithm/);
  });
});

describe('opening a request\'s token (coturn\'s checks)', () => {
  const token = (lifetimeSeconds: number, timestamp = NOW_S, macKey = MAC_KEY) =>
    turnutilsOauthToken({ kid: 'north', serverName: SERVER_NAME, macKey, lifetimeSeconds, timestamp });

  it("gives the MAC key's first 16 bytes (coturn's signing key) and all of it, the key's realm, and the token's end", async () => {
    const opened = await openAccessToken(source(row('north')), 'north', token(100), SERVER_NAME, NOW_S * 1000);
    expect(opened).toMatchObject({ ok: true, realm: 'crinna.org', expiresAt: (NOW_S + 105) * 1000 });
    if (opened.ok) expect(opened.integrityKeys.map(String)).toEqual([MAC_KEY.slice(0, 16), MAC_KEY]);
  });

  it('a key with no realm leaves the server realm; a token with lifetime 0 does not end', async () => {
    const opened = await openAccessToken(source(row('oldempire')), 'oldempire',
      encodeAccessToken({ macKey: Buffer.from(MAC_KEY), timestampSeconds: 1, lifetime: 0 }, oauthKeyOf(row('oldempire')), SERVER_NAME, Buffer.alloc(12)),
      SERVER_NAME, NOW_S * 1000);
    expect(opened).toMatchObject({ ok: true, realm: undefined, expiresAt: undefined });
  });

  it.each([
    ['an unknown kid', source(), token(3600), /no oAuth key "north"/],
    ['an expired key', source(row('north', { timestamp: NOW_S - 100, lifetime: 50 })), token(3600), /key "north" has expired/],
    ['an expired token', source(row('north')), token(100, NOW_S - 106), /too old/],
    ['a MAC key that is not 20 bytes', source(row('north')), token(3600, NOW_S, 'sixteen-byte-key'), /16 bytes, not 20/],
    ['a key with an unknown algorithm', source(row('north', { asRsAlg: 'none' })), token(3600), /wrong token encryption algorithm/],
  ])('refuses %s', async (_name, keys, accessToken, reason) => {
    const opened = await openAccessToken(keys, 'north', accessToken, SERVER_NAME, NOW_S * 1000);
    expect(opened.ok).toBe(false);
    if (!opened.ok) expect(opened.reason).toMatch(reason);
  });

  it('forgives 5 seconds of clock difference, as coturn does', async () => {
    const opened = await openAccessToken(source(row('north', { timestamp: NOW_S - 100, lifetime: 96 })), 'north', token(100, NOW_S - 104), SERVER_NAME, NOW_S * 1000);
    expect(opened.ok).toBe(true);
  });
});
