// What the fuzzer feeds, and the invariant for each: nothing but the documented error type
// escapes the codec and the framer, and nothing at all escapes the engine.
import { AttributeType, Method, StunClass, StunDecodeError, decodeMessage, verifyIntegrity } from '../../src/stun/index.js';
import {
  readAddress,
  readAllXorAddresses,
  readChannelNumber,
  readErrorCode,
  readEvenPort,
  readFirstByte,
  readPasswordAlgorithms,
  readString,
  readUint32,
  readUnknownAttributes,
  readXorAddress,
} from '../../src/stun/attributes.js';
import { FramingError, StreamFramer } from '../../src/stun/stream-framer.js';
import { engineHarness, type EngineHarness } from './engine-harness.js';
import { seeds } from './fuzz.js';

const expectOnly = (kind: new (...args: never[]) => Error, run: () => void): void => {
  try {
    run();
  } catch (error) {
    if (!(error instanceof kind)) throw error;
  }
};

/** Decodes, then reads every attribute every way the server might. */
export function fuzzCodec(input: Buffer): void {
  expectOnly(StunDecodeError, () => {
    const m = decodeMessage(input);
    for (const type of m.attributes.keys()) {
      for (const read of [readAddress, readXorAddress, readUint32, readFirstByte, readChannelNumber, readEvenPort, readErrorCode, readUnknownAttributes, readPasswordAlgorithms, readAllXorAddresses]) {
        expectOnly(StunDecodeError, () => read(m, type));
      }
      expectOnly(StunDecodeError, () => readString(m, type, 763));
    }
    verifyIntegrity(m, Buffer.from('key'));
    readAllXorAddresses(m, AttributeType.XorPeerAddress);
  });
}

/** Feeds the bytes to a stream framer in pieces, as TCP might deliver them. */
export function fuzzFramer(input: Buffer, cut: number): void {
  const framer = new StreamFramer();
  expectOnly(FramingError, () => {
    framer.push(input.subarray(0, cut), () => {});
    framer.push(input.subarray(cut), () => {});
  });
}

/**
 * The engine answers or drops; it never throws, and no handler fails: a handler that throws
 * is answered with a 500 and logged as an error, so either counts as a failure here.
 */
export async function fuzzEngine(t: EngineHarness, input: Buffer): Promise<void> {
  const errorsBefore = t.errors.length;
  const serverErrorsBefore = t.engine.counters.errorResponses.get(500) ?? 0;
  t.engine.handlePacket(t.session, input);
  await t.settled();
  const serverErrors = (t.engine.counters.errorResponses.get(500) ?? 0) - serverErrorsBefore;
  if (serverErrors > 0 || t.errors.length > errorsBefore) {
    throw new Error(`the engine failed on this input: ${serverErrors} answer(s) 500, logged: ${t.errors.slice(errorsBefore).join('\n')}`);
  }
}

/**
 * An engine to fuzz: alice holds an allocation and the signed seeds carry the nonce it issued
 * her, so that mutants reach every handler. The nonce secret is fixed, so that an input saved
 * to the corpus still authenticates when it is replayed. Peers are loopback only: a mutated
 * XOR-PEER-ADDRESS must not make the relay send datagrams off this host.
 */
export async function engineToFuzz(): Promise<{ t: EngineHarness; seeds: Buffer[] }> {
  const t = await engineHarness({
    nonceSecret: Buffer.alloc(32, 'fuzz'),
    options: { allowedPeerIps: ['127.0.0.0/8', '::1'], deniedPeerIps: ['0.0.0.0/0', '::/0'] },
  });
  const allocated = await t.request(Method.Allocate, (b) => b.addFirstByte(AttributeType.RequestedTransport, 17));
  if (allocated.cls !== StunClass.SuccessResponse) throw new Error('alice could not allocate before fuzzing');
  return { t, seeds: seeds(t.nonce()) };
}
