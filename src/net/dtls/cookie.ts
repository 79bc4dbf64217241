/**
 * Stateless HelloVerifyRequest cookies (RFC 6347 §4.2.1): an HMAC over the client's address
 * and the ClientHello fields it must repeat, keyed by a secret that rotates. Checking one
 * needs nothing stored per client, so a flood of ClientHellos costs no memory.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ClientHello } from './handshake-codec.js';

const COOKIE_LENGTH = 20;
/** A cookie stays good for one to two of these. */
const ROTATE_MS = 60_000;

export class CookieJar {
  private current = randomBytes(32);
  private previous = randomBytes(32);
  private rotatedAt: number;

  constructor(private readonly now: () => number = Date.now) {
    this.rotatedAt = now();
  }

  cookieFor(address: string, port: number, hello: ClientHello): Buffer {
    this.rotate();
    return this.mac(this.current, address, port, hello);
  }

  isValid(address: string, port: number, hello: ClientHello): boolean {
    if (hello.cookie.length !== COOKIE_LENGTH) return false;
    this.rotate();
    return (
      timingSafeEqual(hello.cookie, this.mac(this.current, address, port, hello)) ||
      timingSafeEqual(hello.cookie, this.mac(this.previous, address, port, hello))
    );
  }

  private rotate(): void {
    const now = this.now();
    if (now - this.rotatedAt < ROTATE_MS) return;
    // After a long quiet spell both secrets are stale: replace both.
    this.previous = now - this.rotatedAt < 2 * ROTATE_MS ? this.current : randomBytes(32);
    this.current = randomBytes(32);
    this.rotatedAt = now;
  }

  /** The fields RFC 6347 says a client repeats: version, random, session id, suites, compression. */
  private mac(secret: Buffer, address: string, port: number, hello: ClientHello): Buffer {
    const header = Buffer.allocUnsafe(4);
    header.writeUInt16BE(port, 0);
    header.writeUInt16BE(hello.version, 2);
    return createHmac('sha256', secret)
      .update(address)
      .update(header)
      .update(hello.random)
      .update(hello.sessionId)
      .update(hello.cipherSuitesRaw)
      .update(hello.compressionMethods)
      .digest()
      .subarray(0, COOKIE_LENGTH);
  }
}
