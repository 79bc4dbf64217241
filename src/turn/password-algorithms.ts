/**
 * RFC 8489's password algorithms (§9.2.4, §14.11-12, §18.5): what a 401 offers, which one
 * a request chose, and the bid-down checks that keep an attacker on the path from making a
 * client fall back to MD5 unnoticed.
 */
import {
  AttributeType,
  hasAttribute,
  readPasswordAlgorithms,
  readBytes,
  type IntegrityAlgorithm,
  type PasswordAlgorithm,
  type StunMessage,
} from '../stun/index.js';
import { SecurityFeature } from './nonce.js';

/** IANA's STUN Password Algorithms registry. */
const AlgorithmNumber = { MD5: 0x0001, SHA256: 0x0002 } as const;

/**
 * The order PASSWORD-ALGORITHMS lists them in, which decides what RFC 8489 clients use (the
 * first they support, §9.2.5): SHA-256 first when every user has a SHA-256 key, MD5 first
 * when some have an MD5 key only (`0x…`, a database `hmackey`), so that such clients still
 * get in as those users. The nonce carries the order, so a reload that changes it
 * does not fail the nonces already out.
 */
export const Offer = { Sha256First: 0, Md5First: 1 } as const;
export type Offer = (typeof Offer)[keyof typeof Offer];

/** PASSWORD-ALGORITHMS as a challenge carries it (no parameters for either algorithm). */
const OFFERED: Record<Offer, Buffer> = {
  [Offer.Sha256First]: Buffer.from([0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00]),
  [Offer.Md5First]: Buffer.from([0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00]),
};

export const offeredAlgorithms = (offer: Offer): Buffer => OFFERED[offer];

/** How the request's key is derived. */
export interface ChosenAlgorithm {
  readonly algorithm: PasswordAlgorithm;
}

const MD5: ChosenAlgorithm = { algorithm: 'md5' };
const SHA256: ChosenAlgorithm = { algorithm: 'sha256' };

/**
 * The request's password algorithm, or a reason to answer 400 (RFC 8489 §9.2.4): when its
 * nonce says PASSWORD-ALGORITHMS was offered (`features`, in `offer`'s order), a request
 * carrying neither attribute is MD5 (an RFC 5389 client), and otherwise it must carry both,
 * the list exactly as offered and the choice one of it.
 */
export function chosenPasswordAlgorithm(message: StunMessage, features: number, offer: number): ChosenAlgorithm | string {
  const offered = readBytes(message, AttributeType.PasswordAlgorithms);
  const chosen = readPasswordAlgorithms(message, AttributeType.PasswordAlgorithm);
  if ((features & SecurityFeature.PasswordAlgorithms) === 0) return MD5;
  if (offered === undefined && chosen === undefined) return MD5;
  if (offered === undefined || chosen === undefined) return 'PASSWORD-ALGORITHMS and PASSWORD-ALGORITHM go together';
  const sent = OFFERED[offer as Offer];
  if (sent === undefined || !offered.equals(sent)) return 'PASSWORD-ALGORITHMS is not the list this server sent';
  const [only] = chosen;
  if (chosen.length !== 1 || only!.parameters.length !== 0) return 'PASSWORD-ALGORITHM is malformed';
  if (only!.algorithm === AlgorithmNumber.SHA256) return SHA256;
  if (only!.algorithm === AlgorithmNumber.MD5) return MD5;
  return 'PASSWORD-ALGORITHM is not one of PASSWORD-ALGORITHMS';
}

/**
 * Which HMAC signs the answers to `message`: SHA-256 when it came with MESSAGE-INTEGRITY-SHA256
 * or named its password algorithm (RFC 8489 §9.2.4: only an implicit-MD5 request is answered
 * with MESSAGE-INTEGRITY), SHA-1 otherwise, as for every RFC 5389 client.
 */
export function answerIntegrity(message: StunMessage): IntegrityAlgorithm {
  return message.messageIntegritySha256 !== undefined || hasAttribute(message, AttributeType.PasswordAlgorithm) ? 'sha256' : 'sha1';
}
