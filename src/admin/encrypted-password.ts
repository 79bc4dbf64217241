/**
 * coturn's encrypted password (`turnadmin -P`, admin_user.password, cli-password): despite the
 * `$5$` prefix it is not SHA-256 crypt. coturn 4.6.1 writes
 *   `$5$` + hex(8 random salt bytes) + `$` + hex(SHA-256(salt bytes ‖ password bytes))
 * (its generate_enc_password()), and checks a password by recomputing with the stored salt.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const SALT_BYTES = 8;
const ENCRYPTED = /^\$5\$([0-9a-fA-F]{16})\$([0-9a-fA-F]{64})$/;

export function encryptPassword(password: string, salt: Buffer = randomBytes(SALT_BYTES)): string {
  if (salt.length !== SALT_BYTES) throw new RangeError(`the salt must be ${SALT_BYTES} bytes`);
  const digest = createHash('sha256').update(salt).update(password, 'utf8').digest('hex');
  return `$5$${salt.toString('hex')}$${digest}`;
}

export function isEncryptedPassword(text: string): boolean {
  return ENCRYPTED.test(text);
}

/** True when `password` is the one `encrypted` was made from. */
export function verifyEncryptedPassword(password: string, encrypted: string): boolean {
  const m = ENCRYPTED.exec(encrypted);
  if (!m) return false;
  const expected = Buffer.from(encryptPassword(password, Buffer.from(m[1] ?? '', 'hex')).toLowerCase(), 'latin1');
  const actual = Buffer.from(encrypted.toLowerCase(), 'latin1');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
