/**
 * What the user databases on another server (Redis, PostgreSQL) share: lookups that are
 * asynchronous and bounded in time, answers kept for when the server does not answer, and
 * one log line when it stops answering and one when it is back.
 */
import type { LogFields } from '../log/logger-interface.js';
import type { LongTermKeys } from './credentials.js';
import type { OAuthKeyRow } from './oauth-token.js';

export interface RealmOptions {
  maxBps?: number;
  userQuota?: number;
  totalQuota?: number;
}

/** A user database the engine asks over the network; it never throws, it falls back. */
export interface RemoteUserDb {
  /** Connects (waiting a bounded time) and reads `realm`'s options. */
  start(realm: string): Promise<void>;
  /** The user's long-term keys (an MD5-only row has no SHA-256 key). */
  keysOf(username: string, realm: string): Promise<LongTermKeys | undefined>;
  secretsFor(realm: string): Promise<readonly string[]>;
  /** As last read: the engine asks synchronously. */
  realmOptions(realm: string): RealmOptions;
  /** coturn's oauth_key row `kid`; undefined when there is none or the database does not answer. */
  oauthKeyFor(kid: string): Promise<OAuthKeyRow | undefined>;
  close(): Promise<void>;
}

export interface RemoteUserDbLog {
  warn(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
}

/** A request waits no longer than this for the database (as the SQLite busy timeout). */
export const LOOKUP_TIMEOUT_MS = 250;
/** Realm options are read in the background (the engine asks for them synchronously) at most this often. */
export const REALM_OPTIONS_REFRESH_MS = 1000;
/** The longest wait for the first connection at start. */
export const START_WAIT_MS = 3000;
export const HEX_KEY = /^[0-9a-fA-F]{32}$/;

/**
 * Whether the database answers, said once when that changes. The lines carry the fields
 * `database` and `reachable`: relay workers each notice an outage, and main says it once for
 * the server (workers/outage-lines.ts).
 */
export class Reachability {
  private unreachable = false;
  /** Outages noticed so far: an answer to a question asked before the latest one began says nothing of now. */
  private outages = 0;
  closed = false;

  constructor(
    private readonly log: RemoteUserDbLog,
    /** e.g. "Redis user database redis://127.0.0.1:6379/0" */
    private readonly what: string,
    /** What the server does meanwhile, for the one line that tells of an outage. */
    private readonly meanwhile = 'answering from the last known users, secrets and realm options until it is back',
  ) {}

  get isDown(): boolean {
    return this.unreachable;
  }

  down(reason: string): void {
    if (this.closed || this.unreachable) return;
    this.unreachable = true;
    this.outages++;
    this.log.warn(`${this.what} is unreachable (${reason}); ${this.meanwhile}`, { database: this.what, reachable: false });
  }

  up(): void {
    if (!this.unreachable) return;
    this.unreachable = false;
    this.log.info(`${this.what} is reachable again`, { database: this.what, reachable: true });
  }

  /** A round trip, bounded in time; an error or a time-out is reported once per outage, never thrown. */
  async ask<T>(query: () => Promise<T>, timeoutMs: number): Promise<{ ok: true; value: T } | { ok: false }> {
    if (this.closed) return { ok: false };
    const askedDuring = this.outages;
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      });
      const pending = query();
      pending.catch(() => {}); // a late rejection after the time-out
      const value = await Promise.race([pending, timeout]);
      // A query sent before the database went away may still be answered after the outage was
      // noticed (PostgreSQL's shutdown ends idle connections first): that is no sign it is back.
      if (askedDuring === this.outages) this.up();
      return { ok: true, value };
    } catch (error) {
      this.down(error instanceof Error ? error.message : String(error));
      return { ok: false };
    } finally {
      clearTimeout(timer);
    }
  }
}

/** The realm options cache both remote databases keep, refreshed in the background. */
export class RealmOptionsCache {
  private readonly entries = new Map<string, { options: RealmOptions; readAt: number; reading: boolean }>();

  /** `read` gives the options, or undefined when the database did not answer (the last ones are kept). */
  constructor(private readonly read: (realm: string) => Promise<RealmOptions | undefined>) {}

  get(realm: string): RealmOptions {
    const cached = this.entries.get(realm);
    if (!cached || (!cached.reading && Date.now() - cached.readAt >= REALM_OPTIONS_REFRESH_MS)) void this.refresh(realm);
    return cached?.options ?? {};
  }

  async refresh(realm: string): Promise<void> {
    const entry = this.entries.get(realm) ?? { options: {}, readAt: 0, reading: false };
    entry.reading = true;
    this.entries.set(realm, entry);
    const options = await this.read(realm);
    entry.reading = false;
    entry.readAt = Date.now();
    if (options) entry.options = options;
  }
}

/** Realm options from (option, value) pairs, as coturn reads them (atol: a count or a rate; else no setting). */
export function realmOptionsOf(pairs: Iterable<readonly [string, string | null | undefined]>): RealmOptions {
  const options: RealmOptions = {};
  for (const [opt, value] of pairs) {
    if (value == null) continue;
    const n = Number.parseInt(value, 10);
    if (!Number.isInteger(n) || n < 0) continue;
    if (opt === 'max-bps') options.maxBps = n;
    else if (opt === 'user-quota') options.userQuota = n;
    else if (opt === 'total-quota') options.totalQuota = n;
  }
  return options;
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
