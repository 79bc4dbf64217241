/**
 * Stateless HelloVerifyRequest cookies (RFC 6347 §4.2.1): an HMAC over the client's address
 * and the ClientHello fields it must repeat, keyed by a secret that rotates. Checking one
 * needs nothing stored per client, so a flood of ClientHellos costs no memory.
 */
import { createHmac, createSecretKey, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';
import { ipToBytes } from '../../stun/ip.js';
import type { ClientHello } from './handshake-codec.js';

const COOKIE_LENGTH = 20;
/** A cookie stays good for one to two of these. */
const ROTATE_MS = 60_000;

export class CookieJar {
  private epoch = NaN;
  // Set by rotate(), which every use calls first.
  private current!: KeyObject;
  private previous!: KeyObject;

  /**
   * The key of each period is derived from `masterSecret` and the period's number, so relay
   * workers given one master secret issue and accept the same cookies.
   */
  constructor(
    private readonly now: () => number = Date.now,
    private readonly masterSecret: Buffer = randomBytes(32),
  ) {}

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
    const epoch = Math.floor(this.now() / ROTATE_MS);
    if (epoch === this.epoch) return;
    this.previous = epoch === this.epoch + 1 ? this.current : this.keyOf(epoch - 1);
    this.current = this.keyOf(epoch);
    this.epoch = epoch;
  }

  /** A key object, not raw bytes: Node would check and import raw bytes on every HMAC. */
  private keyOf(epoch: number): KeyObject {
    const stamp = Buffer.allocUnsafe(8);
    stamp.writeDoubleBE(epoch, 0);
    return createSecretKey(createHmac('sha256', this.masterSecret).update(stamp).digest());
  }

  /**
   * The client's address and port, then the fields RFC 6347 says a client repeats: version,
   * random, session id, suites, compression. All in a fixed binary layout with each
   * variable field length-prefixed, so no two (address, port, hello) inputs hash alike.
   */
  private mac(secret: KeyObject, address: string, port: number, hello: ClientHello): Buffer {
    const ip = ipToBytes(address);
    const fixed = Buffer.allocUnsafe(1 + ip.length + 4);
    fixed[0] = ip.length === 4 ? 4 : 6;
    fixed.set(ip, 1);
    fixed.writeUInt16BE(port, 1 + ip.length);
    fixed.writeUInt16BE(hello.version, 3 + ip.length);
    const hmac = createHmac('sha256', secret).update(fixed);
    for (const field of [hello.random, hello.sessionId, hello.cipherSuitesRaw, hello.compressionMethods]) {
      hmac.update(lengthPrefix(field.length)).update(field);
    }
    return hmac.digest().subarray(0, COOKIE_LENGTH);
  }
}

function lengthPrefix(length: number): Buffer {
  const out = Buffer.allocUnsafe(2);
  out.writeUInt16BE(length, 0);
  return out;
}
