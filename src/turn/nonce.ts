/**
 * Stateless nonces (as pion/turn and coturn 4.17 do): the issue time plus an HMAC of it and
 * the client's IP, so a flood of unauthenticated requests costs the server no memory, and a
 * nonce taken from one client is worthless from another address.
 */
import { createHmac, createSecretKey, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';

/** 64 bits: forging one means 2^63 online guesses, and it still does not authenticate. Short, so a 401 is small. */
const MAC_LENGTH = 8;

export type NonceCheck = 'valid' | 'stale' | 'invalid';

export class NonceIssuer {
  /** A key object, made once: from raw bytes Node imports the key on every HMAC (3-5x its cost). */
  private readonly key: KeyObject;

  constructor(
    /** Seconds a nonce stays valid (`stale-nonce`); 0 means for ever, as in coturn. */
    private readonly lifetimeSeconds: number,
    private readonly secret: Buffer = randomBytes(32),
  ) {
    this.key = createSecretKey(secret);
  }

  /** The same secret with another lifetime (a reload): nonces already issued stay valid. */
  withLifetime(lifetimeSeconds: number): NonceIssuer {
    return lifetimeSeconds === this.lifetimeSeconds ? this : new NonceIssuer(lifetimeSeconds, this.secret);
  }

  issue(clientAddress: string, nowMs: number): string {
    const stamp = Buffer.allocUnsafe(4);
    stamp.writeUInt32BE(Math.floor(nowMs / 1000) >>> 0, 0);
    return Buffer.concat([stamp, this.mac(stamp, clientAddress)]).toString('base64url');
  }

  check(nonce: string, clientAddress: string, nowMs: number): NonceCheck {
    const raw = Buffer.from(nonce, 'base64url');
    if (raw.length !== 4 + MAC_LENGTH || raw.toString('base64url') !== nonce) return 'invalid';
    const stamp = raw.subarray(0, 4);
    if (!timingSafeEqual(raw.subarray(4), this.mac(stamp, clientAddress))) return 'invalid';
    const age = Math.floor(nowMs / 1000) - stamp.readUInt32BE(0);
    if (this.lifetimeSeconds === 0) return 'valid';
    return age >= 0 && age <= this.lifetimeSeconds ? 'valid' : 'stale';
  }

  private mac(stamp: Buffer, clientAddress: string): Buffer {
    return createHmac('sha256', this.key).update(stamp).update(clientAddress).digest().subarray(0, MAC_LENGTH);
  }
}
