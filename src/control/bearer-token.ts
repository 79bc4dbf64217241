/** The HTTP admin interface's authentication: `Authorization: Bearer <token>`, compared in constant time. */
import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/**
 * True when the header carries exactly `expected`. Both sides are hashed first, so the
 * comparison takes the same time whatever the presented token's length or content.
 */
export function bearerTokenMatches(authorization: string | undefined, expected: string): boolean {
  const presented = /^Bearer (.+)$/i.exec(authorization ?? '')?.[1] ?? '';
  return timingSafeEqual(digest(presented), digest(expected)) && presented.length > 0;
}
