import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CookieJar } from '../../../src/net/dtls/cookie.js';
import { parseClientHello, type ClientHello } from '../../../src/net/dtls/handshake-codec.js';
import { clientHelloDatagram } from './client-hello.js';

/** The ClientHello inside a datagram built by the test helper (record 13 + handshake 12 bytes in). */
const hello = (fields: Parameters<typeof clientHelloDatagram>[0] = {}): ClientHello => parseClientHello(clientHelloDatagram(fields).subarray(25))!;

describe('HelloVerifyRequest cookies', () => {
  it('accepts its own cookie from the same address, port and ClientHello', () => {
    const jar = new CookieJar();
    const random = randomBytes(32);
    const cookie = jar.cookieFor('127.0.0.1', 5000, hello({ random }));
    expect(cookie).toHaveLength(20);
    expect(jar.isValid('127.0.0.1', 5000, hello({ random, cookie }))).toBe(true);
  });

  it.each([
    ['another port', '127.0.0.1', 5001, {}],
    ['another address', '127.0.0.2', 5000, {}],
    ['another random', '127.0.0.1', 5000, { random: randomBytes(32) }],
    ['other cipher suites', '127.0.0.1', 5000, { suites: [0xc02b] }],
  ])('refuses it from %s', (_what, address, port, change) => {
    const jar = new CookieJar();
    const random = randomBytes(32);
    const cookie = jar.cookieFor('127.0.0.1', 5000, hello({ random }));
    expect(jar.isValid(address, port, hello({ random, cookie, ...change }))).toBe(false);
  });

  it('does not give one host a cookie that is valid for another (the MAC input is framed)', () => {
    // Hashed as the address text and then unframed fields, these two streams were the same
    // bytes: "127.0.0.1" 35 C8 FE FD R[0..31] 77 C02B 00. The attacker at 127.0.0.15 could
    // fetch a cookie that let it spoof a ClientHello from the victim's 5-tuple.
    const random = Buffer.from(Array.from({ length: 32 }, (_, i) => i + 1));
    const victim: ClientHello = {
      version: 0xfefd, random, sessionId: Buffer.from([0x77]), cookie: Buffer.alloc(0),
      cipherSuites: [0xc02b], cipherSuitesRaw: Buffer.from([0xc0, 0x2b]), compressionMethods: Buffer.from([0]), extensions: new Map(),
    };
    const attacker: ClientHello = {
      ...victim, version: 0xfd00 | random[0]!, random: Buffer.concat([random.subarray(1), Buffer.from([0x77])]), sessionId: Buffer.alloc(0),
    };
    const jar = new CookieJar();
    const cookie = jar.cookieFor('127.0.0.15', 0xc8fe, attacker);
    expect(jar.isValid('127.0.0.1', 0x35c8, { ...victim, cookie })).toBe(false);
    expect(jar.isValid('127.0.0.1', 0x35c8, { ...victim, cookie: jar.cookieFor('127.0.0.1', 0x35c8, victim) })).toBe(true);
  });

  it('refuses an empty, short or random cookie, and another server\'s', () => {
    const jar = new CookieJar();
    const random = randomBytes(32);
    const theirs = new CookieJar().cookieFor('127.0.0.1', 5000, hello({ random }));
    for (const cookie of [Buffer.alloc(0), Buffer.alloc(8), randomBytes(20), theirs]) {
      expect(jar.isValid('127.0.0.1', 5000, hello({ random, cookie }))).toBe(false);
    }
  });

  it('keeps a cookie good across one secret rotation, not two', () => {
    let now = 0;
    const jar = new CookieJar(() => now);
    const random = randomBytes(32);
    const cookie = jar.cookieFor('::1', 5000, hello({ random }));
    now = 60_000;
    expect(jar.isValid('::1', 5000, hello({ random, cookie }))).toBe(true);
    now = 120_000;
    expect(jar.isValid('::1', 5000, hello({ random, cookie }))).toBe(false);
  });

  it('forgets both secrets after a long quiet spell', () => {
    let now = 0;
    const jar = new CookieJar(() => now);
    const random = randomBytes(32);
    const cookie = jar.cookieFor('::1', 5000, hello({ random }));
    now = 10 * 60_000;
    expect(jar.isValid('::1', 5000, hello({ random, cookie }))).toBe(false);
  });

  it('accepts a cookie from another jar with the same master secret (another relay worker), across a rotation', () => {
    let now = 0;
    const secret = randomBytes(32);
    const issuer = new CookieJar(() => now, secret);
    const random = randomBytes(32);
    const cookie = issuer.cookieFor('::1', 5000, hello({ random }));
    now = 59_999;
    expect(new CookieJar(() => now, secret).isValid('::1', 5000, hello({ random, cookie }))).toBe(true);
    now = 60_000;
    expect(new CookieJar(() => now, secret).isValid('::1', 5000, hello({ random, cookie }))).toBe(true);
    expect(new CookieJar(() => now, randomBytes(32)).isValid('::1', 5000, hello({ random, cookie }))).toBe(false);
  });
});
