/**
 * Stateless HelloVerifyRequest cookies (RFC 6347 §4.2.1): an HMAC over the client's address
 * and the ClientHello fields it must repeat, keyed by a secret that rotates. Checking one
 * needs nothing stored per client, so a flood of ClientHellos costs no memory.
 */
import { createHmac, createSecretKey, randomBytes, timingSafeEqual } from 'node:crypto';
import { ipToBytes } from '../../stun/ip.js';
import type { ClientHello } from './handshake-codec.js';
import { nativeDtlsKeys, type Mac } from './native-keys.js';

const COOKIE_LENGTH = 20;
/** A cookie stays good for one to two of these. */
const ROTATE_MS = 60_000;

export class CookieJar {
  private epoch = NaN;
  // Set by rotate(), which every use calls first.
  private current!: Mac;
  private previous!: Mac;

  /**
   * The key of each period is derived from `masterSecret` and the period's number, so relay
   * workers given one master secret issue and accept the same cookies.
   */
  constructor(
    private readonly now: () => number = Date.now,
    private readonly masterSecret: Buffer = randomBytes(32),
    /** How a period's key MACs: native/dtls-keys.c's context where it loads. */
    private readonly macWith: (key: Buffer) => Mac = cookieMac(),
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

  private keyOf(epoch: number): Mac {
    const stamp = Buffer.allocUnsafe(8);
    stamp.writeDoubleBE(epoch, 0);
    return this.macWith(createHmac('sha256', this.masterSecret).update(stamp).digest());
  }

  /**
   * The client's address and port, then the fields RFC 6347 says a client repeats: version,
   * random, session id, suites, compression. All in a fixed binary layout with each
   * variable field length-prefixed, so no two (address, port, hello) inputs hash alike.
   */
  private mac(secret: Mac, address: string, port: number, hello: ClientHello): Buffer {
    const ip = ipToBytes(address);
    const fields = [hello.random, hello.sessionId, hello.cipherSuitesRaw, hello.compressionMethods];
    let length = 1 + ip.length + 4;
    for (const field of fields) length += 2 + field.length;
    // One buffer, one MAC call: each crossing into OpenSSL costs more than the hashing.
    const input = Buffer.allocUnsafe(length);
    input[0] = ip.length === 4 ? 4 : 6;
    input.set(ip, 1);
    let at = input.writeUInt16BE(port, 1 + ip.length);
    at = input.writeUInt16BE(hello.version, at);
    for (const field of fields) {
      at = input.writeUInt16BE(field.length, at);
      at += field.copy(input, at);
    }
    return secret(input).subarray(0, COOKIE_LENGTH);
  }
}

/** A key object, not raw bytes: Node would check and import raw bytes on every HMAC. */
export function nodeCryptoMac(key: Buffer): Mac {
  const secret = createSecretKey(key);
  return (data) => createHmac('sha256', secret).update(data).digest();
}

function cookieMac(): (key: Buffer) => Mac {
  const native = nativeDtlsKeys();
  return 'hmacSha256' in native ? native.hmacSha256 : nodeCryptoMac;
}
