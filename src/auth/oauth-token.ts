/**
 * RFC 7635 access tokens in the form coturn makes and reads them (ns_turn_msg.c, turnutils_oauth):
 * AES-GCM, A256GCM or A128GCM, with the server name as the associated data, so a token made for
 * another server does not open here.
 *
 *   token = nonce length (2) | nonce (12) | ciphertext | GCM tag (16)
 *   plaintext = mac key length (2) | mac key | timestamp (8: seconds << 16 | 1/64000ths) | lifetime (4: seconds)
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';

export type OAuthAlgorithm = 'A256GCM' | 'A128GCM';

/** An `oauth_key` row made ready for use: the cipher key is cut from the input keying material. */
export interface OAuthKey {
  readonly kid: string;
  readonly algorithm: OAuthAlgorithm;
  readonly cipherKey: Buffer;
  /** Seconds since the epoch when the key's life started, and its length; lifetime 0: unlimited. */
  readonly timestamp: number;
  readonly lifetime: number;
  /** The realm the key's users belong to ('' for the server's realm). */
  readonly realm: string;
}

/** An `oauth_key` row as coturn stores it (SQLite table or Redis hash). */
export interface OAuthKeyRow {
  readonly kid: string;
  /** Base64 input keying material. */
  readonly ikmKey: string;
  readonly timestamp: number;
  readonly lifetime: number;
  readonly asRsAlg: string;
  readonly realm: string;
}

/** A key row from coturn's column names, whichever database (SQLite, PostgreSQL, a Redis hash) gave them. */
export function oauthKeyRowOf(kid: string, fields: Readonly<Record<string, unknown>>): OAuthKeyRow {
  const seconds = (value: unknown): number => {
    const n = Number.parseInt(String(value ?? ''), 10);
    return Number.isInteger(n) && n >= 0 ? n : 0;
  };
  const text = (value: unknown): string => (value == null ? '' : String(value));
  return {
    kid,
    ikmKey: text(fields.ikm_key),
    timestamp: seconds(fields.timestamp),
    lifetime: seconds(fields.lifetime),
    asRsAlg: text(fields.as_rs_alg),
    realm: text(fields.realm),
  };
}

/** What an access token carries. */
export interface AccessToken {
  readonly macKey: Buffer;
  /** Seconds since the epoch (the token's 64-bit timestamp without its 16 fraction bits). */
  readonly timestampSeconds: number;
  /** Seconds; 0: the token does not expire. */
  readonly lifetime: number;
}

/** coturn's GCM nonce; a token may carry another length, which decoding accepts. */
export const OAUTH_NONCE_SIZE = 12;
const TAG_SIZE = 16;

export class OAuthKeyError extends Error {
  override readonly name = 'OAuthKeyError';
}

/** The key of an `oauth_key` row; throws OAuthKeyError for an algorithm coturn does not know. */
export function oauthKeyOf(row: OAuthKeyRow): OAuthKey {
  const algorithm = normalizeAlgorithm(row.asRsAlg);
  if (algorithm !== 'A256GCM' && algorithm !== 'A128GCM') {
    throw new OAuthKeyError(`oAuth key "${row.kid}": wrong token encryption algorithm "${row.asRsAlg}" (A256GCM or A128GCM)`);
  }
  // coturn takes the first 16 or 32 bytes of the keying material, zero-padded when shorter.
  const cipherKey = Buffer.alloc(algorithm === 'A128GCM' ? 16 : 32);
  Buffer.from(row.ikmKey, 'base64').copy(cipherKey);
  return { kid: row.kid, algorithm, cipherKey, timestamp: row.timestamp, lifetime: row.lifetime, realm: row.realm };
}

/** coturn's spelling rules: the first word, upper case, '_' read as '-'. */
function normalizeAlgorithm(text: string): string {
  const word = text.trim().split(' ')[0] ?? '';
  return word.toUpperCase().replaceAll('_', '-');
}

/** The token's content, or undefined when it does not open with this key and server name. */
export function decodeAccessToken(token: Buffer, key: OAuthKey, serverName: string): AccessToken | undefined {
  if (token.length < 2) return undefined;
  const nonceLength = token.readUInt16BE(0);
  // The smallest plaintext: the key length, an empty key, the timestamp and the lifetime.
  if (nonceLength === 0 || token.length < 2 + nonceLength + 2 + 8 + 4 + TAG_SIZE) return undefined;
  const nonce = token.subarray(2, 2 + nonceLength);
  const ciphertext = token.subarray(2 + nonceLength, token.length - TAG_SIZE);
  const tag = token.subarray(token.length - TAG_SIZE);
  let plain: Buffer;
  try {
    const decipher = createDecipheriv(cipherName(key.algorithm), key.cipherKey, nonce, { authTagLength: TAG_SIZE });
    decipher.setAAD(Buffer.from(serverName, 'utf8'));
    decipher.setAuthTag(tag);
    plain = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch {
    return undefined; // a wrong key, server name or a changed byte: the tag does not match
  }
  const macKeyLength = plain.readUInt16BE(0);
  if (plain.length !== 2 + macKeyLength + 8 + 4) return undefined;
  const macKey = plain.subarray(2, 2 + macKeyLength);
  const timestamp = plain.readBigUInt64BE(2 + macKeyLength);
  const lifetime = plain.readUInt32BE(2 + macKeyLength + 8);
  return { macKey, timestampSeconds: Number(timestamp >> 16n), lifetime };
}

/** A token as coturn's clients make it (for tests and tools); `nonce` is OAUTH_NONCE_SIZE random bytes. */
export function encodeAccessToken(content: AccessToken, key: OAuthKey, serverName: string, nonce: Buffer): Buffer {
  const plain = Buffer.alloc(2 + content.macKey.length + 8 + 4);
  plain.writeUInt16BE(content.macKey.length, 0);
  content.macKey.copy(plain, 2);
  plain.writeBigUInt64BE(BigInt(content.timestampSeconds) << 16n, 2 + content.macKey.length);
  plain.writeUInt32BE(content.lifetime, 2 + content.macKey.length + 8);
  const cipher = createCipheriv(cipherName(key.algorithm), key.cipherKey, nonce, { authTagLength: TAG_SIZE });
  cipher.setAAD(Buffer.from(serverName, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plain), cipher.final()]);
  const nonceLength = Buffer.alloc(2);
  nonceLength.writeUInt16BE(nonce.length);
  return Buffer.concat([nonceLength, nonce, ciphertext, cipher.getAuthTag()]);
}

function cipherName(algorithm: OAuthAlgorithm): 'aes-256-gcm' | 'aes-128-gcm' {
  return algorithm === 'A256GCM' ? 'aes-256-gcm' : 'aes-128-gcm';
}
