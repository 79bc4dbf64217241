// Round trips, strictness and the rules of RFC 8489 §14 that a server relies on.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AttributeType,
  MessageBuilder,
  Method,
  StunClass,
  StunDecodeError,
  computeIntegrity,
  decodeMessage,
  readAllXorAddresses,
  readErrorCode,
  readString,
  readUint32,
  readUnknownAttributes,
  readXorAddress,
  verifyIntegrity,
  type TransportAddress,
} from '../../../src/stun/index.js';
import { bytesToIpv6, canonicalIp, ipv6ToBytes } from '../../../src/stun/ip.js';

const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((b) => b.join('.'));
const ipv6 = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => bytesToIpv6(b));
const transportAddress: fc.Arbitrary<TransportAddress> = fc.oneof(
  fc.record({ family: fc.constant(4 as const), address: ipv4, port: fc.nat(65535) }),
  fc.record({ family: fc.constant(6 as const), address: ipv6, port: fc.nat(65535) }),
);

describe('round trips', () => {
  it('any set of attributes survives encode and decode, with integrity and fingerprint', () => {
    fc.assert(
      fc.property(
        fc.record({
          method: fc.constantFrom(...Object.values(Method)),
          cls: fc.constantFrom(StunClass.Request, StunClass.Indication, StunClass.SuccessResponse, StunClass.ErrorResponse),
          username: fc.string({ maxLength: 100 }),
          lifetime: fc.nat(),
          peers: fc.array(transportAddress, { minLength: 1, maxLength: 4 }),
          error: fc.record({ code: fc.integer({ min: 300, max: 699 }), reason: fc.string({ maxLength: 40 }) }),
          key: fc.uint8Array({ minLength: 1, maxLength: 32 }),
          fingerprint: fc.boolean(),
        }),
        (m) => {
          const builder = new MessageBuilder(m.method, m.cls)
            .addString(AttributeType.Username, m.username)
            .addUint32(AttributeType.Lifetime, m.lifetime)
            .addErrorCode(m.error.code, m.error.reason);
          for (const peer of m.peers) builder.addXorAddress(AttributeType.XorPeerAddress, peer);
          const decoded = decodeMessage(builder.build({ integrityKey: m.key, fingerprint: m.fingerprint }));
          expect(decoded.method).toBe(m.method);
          expect(decoded.cls).toBe(m.cls);
          expect(readString(decoded, AttributeType.Username, 513)).toBe(m.username);
          expect(readUint32(decoded, AttributeType.Lifetime)).toBe(m.lifetime);
          expect(readErrorCode(decoded, AttributeType.ErrorCode)).toEqual(m.error);
          expect(readXorAddress(decoded, AttributeType.XorPeerAddress)).toEqual(m.peers[0]);
          expect(readAllXorAddresses(decoded, AttributeType.XorPeerAddress)).toEqual(m.peers);
          expect(verifyIntegrity(decoded, m.key)).toBe('ok');
        },
      ),
      { numRuns: 300 },
    );
  });

  it('MESSAGE-INTEGRITY-SHA256 verifies, and is checked in preference to SHA1', () => {
    const key = Buffer.from('key');
    const message = new MessageBuilder(Method.Allocate, StunClass.Request)
      .addString(AttributeType.Username, 'u')
      .build({ integrityKey: Buffer.from('other'), integritySha256Key: key, fingerprint: true });
    const decoded = decodeMessage(message);
    expect(decoded.messageIntegritySha256?.length).toBe(32);
    expect(verifyIntegrity(decoded, key)).toBe('ok');
  });

  it('MESSAGE-INTEGRITY-SHA256 made with another key, or altered in one bit, is a mismatch, even beside a right SHA1', () => {
    const key = Buffer.from('key');
    const request = (sha256Key: Buffer) =>
      new MessageBuilder(Method.Allocate, StunClass.Request).addString(AttributeType.Username, 'u').build({ integrityKey: key, integritySha256Key: sha256Key });
    expect(verifyIntegrity(decodeMessage(request(Buffer.from('other'))), key)).toBe('mismatch');
    const altered = request(key);
    altered[altered.length - 1]! ^= 1;
    expect(verifyIntegrity(decodeMessage(altered), key)).toBe('mismatch');
  });

  it('MESSAGE-INTEGRITY-SHA256 truncated to 16 bytes (RFC 8489 §14.6) verifies, and altered is a mismatch', () => {
    const key = Buffer.from('key');
    const body = new MessageBuilder(Method.Allocate, StunClass.Request).addString(AttributeType.Username, 'u').build();
    const message = Buffer.concat([body, Buffer.alloc(4 + 16)]);
    message.writeUInt16BE(message.length - 20, 2);
    message.writeUInt16BE(AttributeType.MessageIntegritySha256, body.length);
    message.writeUInt16BE(16, body.length + 2);
    computeIntegrity('sha256', key, message, body.length, 16).copy(message, body.length + 4, 0, 16);
    expect(verifyIntegrity(decodeMessage(message), key)).toBe('ok');
    message[message.length - 1]! ^= 1;
    expect(verifyIntegrity(decodeMessage(message), key)).toBe('mismatch');
  });

  it('a deferred attribute is made only by build, and encodedLength says the built length beforehand', () => {
    let made = 0;
    const builder = new MessageBuilder(Method.Allocate, StunClass.ErrorResponse)
      .addErrorCode(401)
      .addDeferred(AttributeType.Nonce, 5, () => (made++, Buffer.from('abcde')))
      .addString(AttributeType.Realm, 'r');
    const options = { integrityKey: Buffer.from('k'), fingerprint: true };
    const expected = builder.encodedLength(options);
    expect(made).toBe(0);
    const message = builder.build(options);
    expect(made).toBe(1);
    expect(message.length).toBe(expected);
    const decoded = decodeMessage(message);
    expect(readString(decoded, AttributeType.Nonce, 763)).toBe('abcde');
    expect(readString(decoded, AttributeType.Realm, 763)).toBe('r');
    expect(verifyIntegrity(decoded, Buffer.from('k'))).toBe('ok');
  });

  it('a deferred attribute made at another length than announced is refused, not sent malformed', () => {
    const builder = new MessageBuilder(Method.Allocate, StunClass.ErrorResponse).addDeferred(AttributeType.Nonce, 4, () => Buffer.from('abcde'));
    expect(() => builder.build()).toThrow(RangeError);
  });

  it('grows past its first buffer and keeps every attribute (a CreatePermission for 300 peers)', () => {
    const peers = Array.from({ length: 300 }, (_, i): TransportAddress => ({ family: 4, address: `8.8.${i >> 8}.${i & 255}`, port: 1000 + i }));
    const builder = new MessageBuilder(Method.CreatePermission, StunClass.Request);
    for (const peer of peers) builder.addXorAddress(AttributeType.XorPeerAddress, peer).addUint32(AttributeType.Lifetime, 600);
    expect(readAllXorAddresses(decodeMessage(builder.build()), AttributeType.XorPeerAddress)).toEqual(peers);
  });

  it('pads every attribute with zeros, whatever the memory it is built in held before', () => {
    // The builder encodes into memory of Node's buffer pool: what follows this slice is filled
    // with ones first, so padding copied from it rather than zeroed would show.
    const probe = Buffer.allocUnsafe(1);
    if (probe.buffer.byteLength - probe.byteOffset < 1024) Buffer.allocUnsafe(probe.buffer.byteLength - probe.byteOffset - 1);
    const next = Buffer.allocUnsafe(1);
    new Uint8Array(next.buffer, next.byteOffset, next.buffer.byteLength - next.byteOffset).fill(0xff);
    const message = new MessageBuilder(Method.Allocate, StunClass.ErrorResponse)
      .addErrorCode(401, 'odd')
      .addString(AttributeType.Realm, 'x')
      .addEvenPort(true)
      .addDeferred(AttributeType.Nonce, 2, () => Buffer.from('ab'))
      .build();
    // After the header: ERROR-CODE (4 + 3 bytes), REALM (1), EVEN-PORT (1), NONCE (2): each padded to 4.
    const paddings = [[20 + 4 + 7, 1], [20 + 12 + 4 + 1, 3], [20 + 20 + 4 + 1, 3], [20 + 28 + 4 + 2, 2]] as const;
    for (const [at, bytes] of paddings) expect([...message.subarray(at, at + bytes)]).toEqual(new Array(bytes).fill(0));
    expect(readErrorCode(decodeMessage(message), AttributeType.ErrorCode)).toEqual({ code: 401, reason: 'odd' });
  });

  it('IPv6 text round-trips through bytes in the form sockets report', () => {
    fc.assert(
      fc.property(ipv6, (text) => {
        expect(bytesToIpv6(ipv6ToBytes(text))).toBe(text);
      }),
    );
    expect(canonicalIp('::FFFF:127.0.0.1')).toBe('::ffff:127.0.0.1');
    expect(canonicalIp('2001:0db8:0:0:0:0:0:1')).toBe('2001:db8::1');
    expect(canonicalIp('0:0:0:0:0:0:0:1')).toBe('::1');
    expect(canonicalIp('::')).toBe('::');
    expect(canonicalIp('1:0:0:2:0:0:0:3')).toBe('1:0:0:2::3');
  });
});

describe('strict decoding', () => {
  const valid = new MessageBuilder(Method.Binding, StunClass.Request).addString(AttributeType.Software, 'x').build();

  it.each([
    ['a short datagram', valid.subarray(0, 19)],
    ['a length that is not a multiple of 4', Buffer.concat([valid.subarray(0, 2), Buffer.from([0, 3]), valid.subarray(4)])],
    ['a length beyond the datagram', Buffer.concat([valid.subarray(0, 2), Buffer.from([0, 64]), valid.subarray(4)])],
    ['an attribute overrunning the message', (() => {
      const b = Buffer.from(valid);
      b.writeUInt16BE(200, 22);
      return b;
    })()],
    ['the top bits set', (() => {
      const b = Buffer.from(valid);
      b[0] = 0xc0;
      return b;
    })()],
  ])('drops %s', (_what, data) => {
    const error = (() => {
      try {
        decodeMessage(data);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(StunDecodeError);
    expect((error as StunDecodeError).disposition).toBe('drop');
  });

  it('never throws anything but StunDecodeError on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          const m = decodeMessage(Buffer.from(bytes));
          readXorAddress(m, AttributeType.XorPeerAddress);
        } catch (e) {
          expect(e).toBeInstanceOf(StunDecodeError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('ignores attributes after MESSAGE-INTEGRITY, so a LIFETIME appended later has no effect', () => {
    const key = Buffer.from('k');
    const signed = new MessageBuilder(Method.Refresh, StunClass.Request).addUint32(AttributeType.Lifetime, 600).build({ integrityKey: key });
    const extra = Buffer.from([0x00, 0x0d, 0x00, 0x04, 0, 0, 0, 0]); // LIFETIME 0
    const tampered = Buffer.concat([signed, extra]);
    tampered.writeUInt16BE(tampered.length - 20, 2);
    const decoded = decodeMessage(tampered);
    expect(readUint32(decoded, AttributeType.Lifetime)).toBe(600);
    expect(verifyIntegrity(decoded, key)).toBe('ok');
  });

  it('keeps the first of duplicate attributes', () => {
    const m = decodeMessage(
      new MessageBuilder(Method.Refresh, StunClass.Request)
        .addUint32(AttributeType.Lifetime, 1)
        .addUint32(AttributeType.Lifetime, 2)
        .build(),
    );
    expect(readUint32(m, AttributeType.Lifetime)).toBe(1);
  });

  it('lists unknown comprehension-required attributes, not optional ones', () => {
    const m = decodeMessage(
      new MessageBuilder(Method.Allocate, StunClass.Request)
        .add(0x7777, Buffer.from([1]))
        .add(0xc001, Buffer.from([1]))
        .addUnknownAttributes([1, 2])
        .build(),
    );
    expect(m.unknownRequired).toEqual([0x7777]);
    expect(readUnknownAttributes(m, AttributeType.UnknownAttributes)).toEqual([1, 2]);
  });

  it('answers a malformed attribute value with a 400 disposition', () => {
    const m = decodeMessage(new MessageBuilder(Method.Send, StunClass.Indication).add(AttributeType.XorPeerAddress, Buffer.from([0, 1, 0, 0])).build());
    expect(() => readXorAddress(m, AttributeType.XorPeerAddress)).toThrow(expect.objectContaining({ disposition: 'bad-request' }));
  });
});
