/**
 * What went wrong while reading a STUN message, and therefore what to do about it:
 * - `drop`: not a well-formed STUN message (or a bad FINGERPRINT): discard it silently;
 * - `bad-request`: well-formed but an attribute is wrong: answer a request with 400.
 */
export type DecodeDisposition = 'drop' | 'bad-request';

export class StunDecodeError extends Error {
  override readonly name = 'StunDecodeError';
  constructor(
    readonly disposition: DecodeDisposition,
    message: string,
  ) {
    super(message);
  }
}

export const malformed = (why: string): StunDecodeError => new StunDecodeError('drop', why);
export const badAttribute = (why: string): StunDecodeError => new StunDecodeError('bad-request', why);
