// A small mutation fuzzer: valid messages from each family Turnpike reads, mutated the ways
// parsers break (bit flips, truncation, length fields, duplicated and spliced attributes), plus
// random bytes. Deterministic for a seed, so that a failure can be replayed.
import {
  AttributeType,
  HEADER_LENGTH,
  MessageBuilder,
  Method,
  StunClass,
  computeIntegrity,
  decodeMessage,
  type StunMessage,
} from '../../src/stun/index.js';
import { ALICE, ALICE_KEY, REALM } from './server-options.js';

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

/** A NONCE no server issued: signed seeds carrying it stop at authentication (438). */
const MADE_UP_NONCE = 'AAAAAAAAAAAAAAAAAAAAAA';
const peer = { family: 4 as const, address: '127.0.0.1', port: 9 };
const peer6 = { family: 6 as const, address: '::ffff:127.0.0.1', port: 9 };

/**
 * Valid messages of every method the server handles, unsigned and signed by alice: with a
 * `nonce` the server issued (to the address they will come from), the signed ones get past
 * authentication to the handlers.
 */
export function seeds(nonce = MADE_UP_NONCE): Buffer[] {
  const signed = (b: MessageBuilder) =>
    b.addString(AttributeType.Username, ALICE.username).addString(AttributeType.Realm, REALM).addString(AttributeType.Nonce, nonce).build({ integrityKey: ALICE_KEY, fingerprint: true });
  const channelData = Buffer.concat([Buffer.from([0x40, 0x00, 0x00, 0x05]), Buffer.from('hello')]);
  return [
    new MessageBuilder(Method.Binding, StunClass.Request).build({ fingerprint: true }),
    new MessageBuilder(Method.Allocate, StunClass.Request).addFirstByte(AttributeType.RequestedTransport, 17).build(),
    signed(new MessageBuilder(Method.Allocate, StunClass.Request).addFirstByte(AttributeType.RequestedTransport, 17).addEvenPort(true).addFirstByte(AttributeType.RequestedAddressFamily, 1)),
    signed(new MessageBuilder(Method.Refresh, StunClass.Request).addUint32(AttributeType.Lifetime, 600)),
    // One CreatePermission the IPv4 relay grants, one it refuses (443: an IPv6 peer).
    signed(new MessageBuilder(Method.CreatePermission, StunClass.Request).addXorAddress(AttributeType.XorPeerAddress, peer).addXorAddress(AttributeType.XorPeerAddress, { ...peer, address: '127.0.0.2' })),
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

/**
 * One mutated input for the engine. A third are as the codec gets them; the others are signed
 * again by alice, so that what was mutated reaches the handlers instead of stopping at a 401:
 * a third mutated anywhere, a third with bits flipped only inside one attribute's value, so
 * that they still decode and a handler reads the odd value.
 */
export function mutateForEngine(random: Random, seedsList: readonly Buffer[]): Buffer {
  switch (random.below(3)) {
    case 0:
      return mutate(random, seedsList);
    case 1:
      return signAgain(random, mutate(random, seedsList));
    default:
      return signAgain(random, flipInValue(random, seedsList));
  }
}

/** The credentials: bits flipped in them only earn a 401 or a 438, which the other mutants get plenty of. */
const CREDENTIALS: ReadonlySet<number> = new Set([AttributeType.Username, AttributeType.Realm, AttributeType.Nonce]);

/** A seed with 1-4 bits flipped inside the value of one of its attributes (not its credentials). */
function flipInValue(random: Random, seedsList: readonly Buffer[]): Buffer {
  const base = Buffer.from(seedsList[random.below(seedsList.length)]!);
  let message: StunMessage;
  try {
    message = decodeMessage(base);
  } catch {
    return base;
  }
  const values = [...message.attributes.values()].filter((a) => a.length > 0 && !CREDENTIALS.has(a.type));
  if (values.length === 0) return base;
  const value = values[random.below(values.length)]!;
  for (let i = random.below(4) + 1; i > 0; i--) base[value.offset + random.below(value.length)]! ^= 1 << random.below(8);
  return base;
}

/**
 * The request cut after its MESSAGE-INTEGRITY (so without a FINGERPRINT, which any mutation
 * breaks), with a new transaction ID (else the allocation's retransmission cache would answer
 * it) and alice's HMAC made anew. Input that does not decode, or has no MESSAGE-INTEGRITY, is
 * returned as it is.
 */
function signAgain(random: Random, input: Buffer): Buffer {
  let message: StunMessage;
  try {
    message = decodeMessage(withoutFingerprint(input));
  } catch {
    return input;
  }
  const integrity = message.messageIntegrity;
  if (integrity?.length !== 20) return input;
  const signed = Buffer.from(message.buffer.subarray(0, integrity.offset + integrity.length));
  signed.writeUInt16BE(signed.length - HEADER_LENGTH, 2);
  random.bytes(12).copy(signed, 8);
  computeIntegrity('sha1', ALICE_KEY, signed, integrity.offset - 4, integrity.length).copy(signed, integrity.offset);
  return signed;
}

/** The bytes before a trailing FINGERPRINT attribute, the header length made to match. */
function withoutFingerprint(input: Buffer): Buffer {
  const at = input.length - 8;
  if (at < HEADER_LENGTH || input.readUInt16BE(at) !== AttributeType.Fingerprint) return input;
  const cut = Buffer.from(input.subarray(0, at));
  cut.writeUInt16BE(at - HEADER_LENGTH, 2);
  return cut;
}

function fixLength(random: Random, data: Buffer): Buffer {
  if (data.length >= 4 && data[0]! < 0x40 && random.below(2) === 0) data.writeUInt16BE((data.length - 20) & 0xffff, 2);
  return data;
}
