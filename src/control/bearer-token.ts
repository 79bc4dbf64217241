/** The admin token check (HTTP admin interface and web admin login), compared in constant time. */
import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/**
 * True when `presented` is exactly `expected`. Both sides are hashed first, so the
 * comparison takes the same time whatever the presented token's length or content.
 */
export function tokenMatches(presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected)) && presented.length > 0;
}

/** True when the header is `Bearer <expected>`. */
export function bearerTokenMatches(authorization: string | undefined, expected: string): boolean {
  return tokenMatches(/^Bearer (.+)$/i.exec(authorization ?? '')?.[1] ?? '', expected);
}
