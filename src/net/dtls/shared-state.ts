/**
 * The state of an open association that JS and native/dtls-routes.c share, in one Float64Array
 * laid out as dtls-routes.h's DTLS_* (sequence numbers are below 2^48, exact as doubles): the
 * server's next epoch-1 sequence number, when C last took a record of the client (ms, as
 * Date.now()), and the replay window. Whichever side seals or opens a record, there is one
 * counter and one window: no sequence number is sent twice, no record accepted twice.
 */
import { REPLAY_WINDOW_LENGTH, ReplayWindow } from './replay-window.js';

const NEXT_WRITE = 0;
const LAST_RECEIVED = 1;
const WINDOW_AT = 2;
/** RFC 6347 §4.1: a record's sequence number is 48 bits and must not wrap. */
const SEQUENCE_LIMIT = 2 ** 48;

export class SharedRecordState {
  readonly array = new Float64Array(WINDOW_AT + REPLAY_WINDOW_LENGTH);
  readonly window = new ReplayWindow(this.array.subarray(WINDOW_AT));

  /** The server's next epoch-1 sequence number, taken; undefined once all 2^48 are used (C declines then too). */
  takeWriteSequence(): number | undefined {
    const sequence = this.array[NEXT_WRITE]!;
    if (sequence >= SEQUENCE_LIMIT) return undefined;
    this.array[NEXT_WRITE] = sequence + 1;
    return sequence;
  }

  set nextWriteSequence(sequence: number) {
    this.array[NEXT_WRITE] = sequence;
  }

  /** When native code last took a record of the client (0: never). */
  get lastReceivedInC(): number {
    return this.array[LAST_RECEIVED]!;
  }
}
