/**
 * Stateless nonces (as pion/turn and coturn 4.17 do): the issue time (and a tag byte) plus an
 * HMAC of them and the client's IP, so a flood of unauthenticated requests costs the server no memory, and a
 * nonce taken from one client is worthless from another address.
 *
 * Each starts with RFC 8489's nonce cookie ("obMatJos2" and the base64 of the 24 STUN
 * Security Feature bits, §9.2.1, §18.1): the HMAC covers it, so the features a request's
 * nonce claims are the ones this server offered, which is what the bid-down checks rely on.
 * RFC 5389 clients treat the nonce as opaque and see no difference.
 */
import { createHmac, createSecretKey, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';

/** 72 bits: forging one means 2^71 online guesses, and it still does not authenticate. It fills the nonce's padding. */
const MAC_LENGTH = 9;
const STAMP_LENGTH = 4;
/** A byte the issuer is given and the nonce carries under its HMAC (the order of PASSWORD-ALGORITHMS). */
const TAG_LENGTH = 1;

const NONCE_COOKIE = 'obMatJos2';

/**
 * Nonces found ours, remembered with their issue second: a client signs each request of its
 * call with the same nonce, and checking it again (base64, an HMAC) was about a third of a
 * warm signed request's time in the engine. Only nonces that passed the HMAC get in, each with
 * the client IP it was issued to; when full, it starts over.
 */
const MAX_VERIFIED = 10_000;
/** The cookie and four base64 characters of feature bits. */
const COOKIE_LENGTH = NONCE_COOKIE.length + 4;

/** Every nonce's length, in characters and bytes (ASCII): the cookie, then the base64url of stamp, tag and MAC. */
export const NONCE_LENGTH = COOKIE_LENGTH + Math.ceil(((STAMP_LENGTH + TAG_LENGTH + MAC_LENGTH) * 4) / 3);

/** STUN Security Features, bit 0 the rightmost (RFC 8489 §18.1 with its erratum 6290). */
export const SecurityFeature = {
  PasswordAlgorithms: 1 << 0,
  UsernameAnonymity: 1 << 1,
} as const;

export type NonceCheck = 'valid' | 'stale' | 'invalid';

/** What a nonce says: its cookie's feature bits and its tag. Trust it once `check` said the nonce is ours. */
export interface NonceContents {
  readonly features: number;
  readonly tag: number;
}

export function nonceContents(nonce: string): NonceContents {
  const bits = Buffer.from(nonce.slice(NONCE_COOKIE.length, COOKIE_LENGTH), 'base64');
  const body = Buffer.from(nonce.slice(COOKIE_LENGTH), 'base64url');
  return {
    features: nonce.startsWith(NONCE_COOKIE) && bits.length === 3 ? bits.readUIntBE(0, 3) : 0,
    tag: body.length > STAMP_LENGTH ? body[STAMP_LENGTH]! : 0,
  };
}

function cookieOf(features: number): string {
  const bits = Buffer.allocUnsafe(3);
  bits.writeUIntBE(features & 0xffffff, 0, 3);
  return NONCE_COOKIE + bits.toString('base64');
}

export class NonceIssuer {
  /** A key object, made once: from raw bytes Node imports the key on every HMAC (3-5x its cost). */
  private readonly key: KeyObject;
  private readonly verified = new Map<string, { readonly clientAddress: string; readonly issuedAt: number }>();
  /** Each cookie made once: a server offers one or two sets of features. */
  private readonly cookies = new Map<number, string>();

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

  /** A nonce for `clientAddress` whose cookie carries `features` (SecurityFeature bits) and that carries `tag` (a byte). */
  issue(clientAddress: string, nowMs: number, features: number, tag = 0): string {
    let cookie = this.cookies.get(features);
    if (cookie === undefined) this.cookies.set(features, (cookie = cookieOf(features)));
    // Stamp, tag and MAC in one buffer: the MAC is written after the two it covers.
    const body = Buffer.allocUnsafe(STAMP_LENGTH + TAG_LENGTH + MAC_LENGTH);
    body.writeUInt32BE(Math.floor(nowMs / 1000) >>> 0, 0);
    body[STAMP_LENGTH] = tag;
    const stamped = body.subarray(0, STAMP_LENGTH + TAG_LENGTH);
    this.mac(cookie, stamped, clientAddress).copy(body, STAMP_LENGTH + TAG_LENGTH);
    return cookie + body.toString('base64url');
  }

  check(nonce: string, clientAddress: string, nowMs: number): NonceCheck {
    const known = this.verified.get(nonce);
    const issuedAt = known?.clientAddress === clientAddress ? known.issuedAt : this.verify(nonce, clientAddress);
    if (issuedAt === undefined) return 'invalid';
    if (this.lifetimeSeconds === 0) return 'valid';
    const age = Math.floor(nowMs / 1000) - issuedAt;
    return age >= 0 && age <= this.lifetimeSeconds ? 'valid' : 'stale';
  }

  /** The issue second (in seconds) of a nonce this issuer made for `clientAddress`, remembered; else undefined. */
  private verify(nonce: string, clientAddress: string): number | undefined {
    if (!nonce.startsWith(NONCE_COOKIE)) return undefined;
    const cookie = nonce.slice(0, COOKIE_LENGTH);
    const body = nonce.slice(COOKIE_LENGTH);
    const raw = Buffer.from(body, 'base64url');
    if (raw.length !== STAMP_LENGTH + TAG_LENGTH + MAC_LENGTH || raw.toString('base64url') !== body) return undefined;
    const stamped = raw.subarray(0, STAMP_LENGTH + TAG_LENGTH);
    if (!timingSafeEqual(raw.subarray(STAMP_LENGTH + TAG_LENGTH), this.mac(cookie, stamped, clientAddress))) return undefined;
    const issuedAt = stamped.readUInt32BE(0);
    if (this.verified.size >= MAX_VERIFIED) this.verified.clear();
    this.verified.set(nonce, { clientAddress, issuedAt });
    return issuedAt;
  }

  private mac(cookie: string, stamped: Buffer, clientAddress: string): Buffer {
    return createHmac('sha256', this.key).update(cookie).update(stamped).update(clientAddress).digest().subarray(0, MAC_LENGTH);
  }
}
