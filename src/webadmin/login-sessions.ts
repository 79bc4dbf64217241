/**
 * Who is logged in to the web admin page: a random session id in an HttpOnly, SameSite=Strict
 * cookie (Secure over HTTPS), and per session a CSRF token the page sends back in a header
 * with every change. Sessions end after a while unused, and there are never more than a few.
 */
import { randomBytes } from 'node:crypto';

/** Who logged in; realm '' may see and manage every realm, as coturn's admin users of no realm. */
export interface Principal {
  readonly name: string;
  readonly realm: string;
}

export interface LoginSession {
  readonly id: string;
  readonly csrf: string;
  readonly principal: Principal;
  lastUsed: number;
}

export const COOKIE_NAME = 'turnpike-admin';
const IDLE_MS = 30 * 60_000;
/** Logins past this push out the least recently used one (a page left open somewhere). */
const MAX_SESSIONS = 64;

const randomId = (): string => randomBytes(24).toString('base64url');

export class LoginSessions {
  private readonly sessions = new Map<string, LoginSession>();

  constructor(private readonly now: () => number = Date.now) {}

  open(principal: Principal): LoginSession {
    this.forgetIdle();
    if (this.sessions.size >= MAX_SESSIONS) {
      const oldest = [...this.sessions.values()].sort((a, b) => a.lastUsed - b.lastUsed)[0];
      if (oldest) this.sessions.delete(oldest.id);
    }
    const session: LoginSession = { id: randomId(), csrf: randomId(), principal, lastUsed: this.now() };
    this.sessions.set(session.id, session);
    return session;
  }

  /** The session the request's cookie names, if it is still open. */
  find(cookieHeader: string | undefined): LoginSession | undefined {
    const id = readCookie(cookieHeader, COOKIE_NAME);
    const session = id === undefined ? undefined : this.sessions.get(id);
    if (!session) return undefined;
    if (this.now() - session.lastUsed > IDLE_MS) {
      this.sessions.delete(session.id);
      return undefined;
    }
    session.lastUsed = this.now();
    return session;
  }

  close(id: string): void {
    this.sessions.delete(id);
  }

  private forgetIdle(): void {
    const now = this.now();
    for (const [id, session] of this.sessions) if (now - session.lastUsed > IDLE_MS) this.sessions.delete(id);
  }
}

/** Set-Cookie for a session id; an empty id with Max-Age=0 removes the cookie. */
export function sessionCookie(id: string, secure: boolean): string {
  return [`${COOKIE_NAME}=${id}`, 'Path=/', 'HttpOnly', 'SameSite=Strict', ...(secure ? ['Secure'] : []), ...(id === '' ? ['Max-Age=0'] : [])].join('; ');
}

function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
