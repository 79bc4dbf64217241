/**
 * SASLprep (RFC 4013) of a password, as RFC 8489 §9.2.2 asks for the long-term key.
 * For ASCII passwords without control characters it is the identity, so keys match coturn's.
 */

// RFC 3454 table B.1: characters commonly mapped to nothing.
const MAPPED_TO_NOTHING = /[\u00AD\u034F\u1806\u180B-\u180D\u200B-\u200D\u2060\uFE00-\uFE0F\uFEFF]/g;
// RFC 3454 table C.1.2: non-ASCII space characters, mapped to SPACE.
const NON_ASCII_SPACE = /[\u00A0\u1680\u2000-\u200B\u202F\u205F\u3000]/g;
// Prohibited output (tables C.2 to C.9): controls, private use, non-characters, surrogates,
// change-display and tagging characters.
const PROHIBITED =
  /[\u0000-\u001F\u007F-\u009F\u06DD\u070F\u180E\u200C\u200D\u2028\u2029\u2060-\u2063\u206A-\u206F\uFEFF\uFFF9-\uFFFD\uE000-\uF8FF\u0340\u0341\u200E\u200F\u202A-\u202E]|[\uD800-\uDFFF]/u;

export class SaslprepError extends Error {
  override readonly name = 'SaslprepError';
}

export function saslprep(input: string): string {
  const mapped = input.replace(MAPPED_TO_NOTHING, '').replace(NON_ASCII_SPACE, ' ');
  const normalized = mapped.normalize('NFKC');
  if (PROHIBITED.test(normalized)) throw new SaslprepError('password contains a prohibited character');
  return normalized;
}
