// What the fuzzer feeds, and the invariant for each: nothing but the documented error type
// escapes the codec and the framer, and nothing at all escapes the engine.
import { AttributeType, StunDecodeError, decodeMessage, verifyIntegrity } from '../../src/stun/index.js';
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
import type { TurnEngine } from '../../src/turn/engine.js';
import type { ClientSession } from '../../src/turn/session.js';

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

/** The engine answers or drops; it never throws. */
export function fuzzEngine(engine: TurnEngine, session: ClientSession, input: Buffer): void {
  engine.handlePacket(session, input);
}
