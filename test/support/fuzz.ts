// A small mutation fuzzer: valid messages from each family Turnpike reads, mutated the ways
// parsers break (bit flips, truncation, length fields, duplicated and spliced attributes), plus
// random bytes. Deterministic for a seed, so that a failure can be replayed.
import { AttributeType, MessageBuilder, Method, StunClass, longTermKey } from '../../src/stun/index.js';

/** xorshift32: fast, seedable, good enough to explore inputs. */
export class Random {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0 || 0x9e3779b9;
  }
  next(): number {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state;
  }
  below(n: number): number {
    return this.next() % n;
  }
  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = this.next() & 0xff;
    return b;
  }
}

const key = longTermKey('alice', 'test.example', 'wonder;land#1');
const peer = { family: 4 as const, address: '127.0.0.1', port: 9 };
const peer6 = { family: 6 as const, address: '::ffff:127.0.0.1', port: 9 };

/** Valid messages of every method the server handles, signed and not. */
export function seeds(): Buffer[] {
  const signed = (b: MessageBuilder) =>
    b.addString(AttributeType.Username, 'alice').addString(AttributeType.Realm, 'test.example').addString(AttributeType.Nonce, 'AAAAAAAAAAAAAAAAAAAAAA').build({ integrityKey: key, fingerprint: true });
  const channelData = Buffer.concat([Buffer.from([0x40, 0x00, 0x00, 0x05]), Buffer.from('hello')]);
  return [
    new MessageBuilder(Method.Binding, StunClass.Request).build({ fingerprint: true }),
    new MessageBuilder(Method.Allocate, StunClass.Request).addFirstByte(AttributeType.RequestedTransport, 17).build(),
    signed(new MessageBuilder(Method.Allocate, StunClass.Request).addFirstByte(AttributeType.RequestedTransport, 17).addEvenPort(true).addFirstByte(AttributeType.RequestedAddressFamily, 1)),
    signed(new MessageBuilder(Method.Refresh, StunClass.Request).addUint32(AttributeType.Lifetime, 600)),
    signed(new MessageBuilder(Method.CreatePermission, StunClass.Request).addXorAddress(AttributeType.XorPeerAddress, peer).addXorAddress(AttributeType.XorPeerAddress, peer6)),
    signed(new MessageBuilder(Method.ChannelBind, StunClass.Request).addChannelNumber(0x4000).addXorAddress(AttributeType.XorPeerAddress, peer)),
    signed(new MessageBuilder(Method.Connect, StunClass.Request).addXorAddress(AttributeType.XorPeerAddress, peer)),
    signed(new MessageBuilder(Method.ConnectionBind, StunClass.Request).addUint32(AttributeType.ConnectionId, 7)),
    new MessageBuilder(Method.Send, StunClass.Indication).addXorAddress(AttributeType.XorPeerAddress, peer).add(AttributeType.Data, Buffer.from('data')).build(),
    channelData,
  ];
}

/** One mutated input. */
export function mutate(random: Random, seedsList: readonly Buffer[]): Buffer {
  const base = Buffer.from(seedsList[random.below(seedsList.length)]!);
  switch (random.below(8)) {
    case 0: // flip bits
      for (let i = random.below(4) + 1; i > 0; i--) base[random.below(base.length)]! ^= 1 << random.below(8);
      return base;
    case 1: // truncate
      return base.subarray(0, random.below(base.length + 1));
    case 2: // overwrite a 16-bit field (a length, a type) with an extreme value
      if (base.length >= 2) base.writeUInt16BE([0, 1, 3, 4, 0x7fff, 0xfffc, 0xffff][random.below(7)]!, random.below(base.length - 1));
      return base;
    case 3: // append random bytes (and fix the header length half the time)
      return fixLength(random, Buffer.concat([base, random.bytes(random.below(64))]));
    case 4: // duplicate a slice (attributes twice)
      return fixLength(random, Buffer.concat([base, base.subarray(20, 20 + random.below(Math.max(1, base.length - 19)))]));
    case 5: // splice two seeds
      return fixLength(random, Buffer.concat([base.subarray(0, random.below(base.length + 1)), seedsList[random.below(seedsList.length)]!.subarray(20)]));
    case 6: // random bytes with a STUN-looking header
      return Buffer.concat([base.subarray(0, 8), random.bytes(random.below(120))]);
    default: // random bytes
      return random.bytes(random.below(200));
  }
}

function fixLength(random: Random, data: Buffer): Buffer {
  if (data.length >= 4 && data[0]! < 0x40 && random.below(2) === 0) data.writeUInt16BE((data.length - 20) & 0xffff, 2);
  return data;
}
