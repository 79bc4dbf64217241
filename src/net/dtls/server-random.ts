/**
 * ServerHello's 32 random bytes, cut from one CSPRNG fill per 128 handshakes: randomBytes(32)
 * for each cost as much as a tenth of the handshake's signing on a busy machine (Node's
 * argument checks and a call into OpenSSL's DRBG each time). A used fill is never written
 * again: each refill is a new buffer, so a handshake's random stays its own. The value is
 * public (it goes out in the clear); only its freshness matters.
 */
import { randomBytes } from 'node:crypto';

const RANDOM = 32;
const FILL = 128 * RANDOM;

let fill = Buffer.alloc(0);
let used = 0;

export function serverRandom(): Buffer {
  if (used + RANDOM > fill.length) {
    fill = randomBytes(FILL);
    used = 0;
  }
  used += RANDOM;
  return fill.subarray(used - RANDOM, used);
}
