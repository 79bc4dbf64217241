import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseClientHello, parseHandshakeFragments } from '../../../src/net/dtls/handshake-codec.js';
import { RecordProtection } from '../../../src/net/dtls/protection.js';
import { ContentType, parseRecords, plainRecord } from '../../../src/net/dtls/record.js';
import { ReplayWindow } from '../../../src/net/dtls/replay-window.js';
import { CIPHER_SUITES, keyBlock, prf } from '../../../src/net/dtls/suites.js';
import { clientHelloDatagram } from './client-hello.js';

describe('records', () => {
  it('splits a datagram into its records', () => {
    const datagram = Buffer.concat([plainRecord(22, 0, 5, Buffer.from([1, 2, 3])), plainRecord(20, 0, 6, Buffer.from([1]))]);
    const records = parseRecords(datagram)!;
    expect(records.map((r) => [r.type, r.epoch, r.sequence, [...r.fragment]])).toEqual([[22, 0, 5, [1, 2, 3]], [20, 0, 6, [1]]]);
  });

  it.each([
    ['a header cut short', Buffer.from([22, 0xfe, 0xfd, 0, 0])],
    ['a length past the end', Buffer.concat([plainRecord(22, 0, 0, Buffer.alloc(4)).subarray(0, 15)])],
    ['a version that is not DTLS', Buffer.from('1603030000000000000000000000', 'hex').subarray(0, 13)],
  ])('refuses %s', (_what, datagram) => {
    expect(parseRecords(datagram)).toBeUndefined();
  });

  it('reads the ClientHello a client sends, and refuses it cut short', () => {
    const datagram = clientHelloDatagram({ cookie: Buffer.alloc(20, 7) });
    const [fragment] = parseHandshakeFragments(parseRecords(datagram)![0]!.fragment)!;
    const hello = parseClientHello(fragment!.body)!;
    expect(hello.cookie.equals(Buffer.alloc(20, 7))).toBe(true);
    expect(hello.cipherSuites).toEqual([0xc02b, 0xc02f]);
    expect(hello.extensions.has(0x0017)).toBe(true);
    for (let cut = 0; cut < fragment!.body.length; cut += 7) expect(parseClientHello(fragment!.body.subarray(0, cut))).toBeUndefined();
  });
});

describe('AES-GCM record protection', () => {
  for (const suite of CIPHER_SUITES.filter((s) => s.signature === 'ecdsa')) {
    it(`${suite.name}: what the server seals, the client's keys open, and tampering is caught`, () => {
      const keys = keyBlock(suite, randomBytes(48), randomBytes(32), randomBytes(32));
      const server = new RecordProtection(suite, keys);
      // The client's view: its write keys are the server's read keys.
      const client = new RecordProtection(suite, { clientKey: keys.serverKey, serverKey: keys.clientKey, clientIv: keys.serverIv, serverIv: keys.clientIv });
      const record = server.seal(ContentType.ApplicationData, 1, 42, [Buffer.from('head'), Buffer.from('payload')]);
      const [parsed] = parseRecords(record)!;
      expect(parsed!.sequence).toBe(42);
      expect(client.open(parsed!)?.toString()).toBe('headpayload');
      const tampered = Buffer.from(record);
      tampered[tampered.length - 1]! ^= 1;
      expect(client.open(parseRecords(tampered)![0]!)).toBeUndefined();
      const renumbered = Buffer.from(record);
      renumbered[10] = 43; // the sequence number is authenticated too
      expect(client.open(parseRecords(renumbered)![0]!)).toBeUndefined();
    });
  }

  it('derives keys with the TLS 1.2 PRF (the IETF SHA-256 test vector)', () => {
    const out = prf('sha256', Buffer.from('9bbe436ba940f017b17652849a71db35', 'hex'), 'test label', Buffer.from('a0ba9f936cda311827a6f796ffd5198c', 'hex'), 100);
    expect(out.subarray(0, 16).toString('hex')).toBe('e3f229ba727be17b8d122620557cd453');
    expect(out).toHaveLength(100);
  });
});

describe('the replay window', () => {
  it('accepts each number once, in any order within 64, and nothing older', () => {
    const window = new ReplayWindow();
    for (const n of [5, 3, 70, 7]) {
      expect(window.isReplay(n)).toBe(false);
      window.mark(n);
      expect(window.isReplay(n)).toBe(true);
    }
    expect(window.isReplay(6)).toBe(true); // 6 + 64 <= 70: too old
    expect(window.isReplay(8)).toBe(false);
    expect(window.isReplay(69)).toBe(false);
  });
});
