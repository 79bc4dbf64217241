/**
 * The user databases' last known answers: a user's keys and a realm's REST secrets as last
 * read, served while the database does not answer. Bounded (an LRU of FALLBACK_ENTRIES each).
 *
 * With several relay workers, each has its own user database but what one learns or forgets
 * is shared (`share`, through the main thread: workers/relay-workers.ts), so that during an
 * outage a user known to one worker is known to all, as with one thread.
 */
import type { LongTermKeys } from './credentials.js';

/** Last known answers kept (each kind) for when the database is unreachable. */
export const FALLBACK_ENTRIES = 10_000;

/**
 * What one worker tells the others. `keys` undefined: the database said there is no such user.
 * Structured clone turns the keys' Buffers into Uint8Arrays; receive() revives them.
 */
export type LastKnownChange =
  | { readonly kind: 'keys'; readonly cacheKey: string; readonly keys: LongTermKeys | undefined }
  | { readonly kind: 'secrets'; readonly realm: string; readonly secrets: readonly string[] };

export class LastKnownAnswers {
  private readonly keys = new Map<string, LongTermKeys>();
  private readonly secrets = new Map<string, readonly string[]>();

  /** `share` is told every change made here (not those received from elsewhere). */
  constructor(private readonly share: (change: LastKnownChange) => void = () => {}) {}

  keysOf(username: string, realm: string): LongTermKeys | undefined {
    return this.keys.get(cacheKeyOf(username, realm));
  }

  /** The database answered with the user's keys. */
  learnKeys(username: string, realm: string, keys: LongTermKeys): void {
    this.apply({ kind: 'keys', cacheKey: cacheKeyOf(username, realm), keys }, true);
  }

  /** The database answered that there is no such user: no longer served during an outage. */
  forgetKeys(username: string, realm: string): void {
    this.apply({ kind: 'keys', cacheKey: cacheKeyOf(username, realm), keys: undefined }, true);
  }

  secretsOf(realm: string): readonly string[] {
    return this.secrets.get(realm) ?? [];
  }

  learnSecrets(realm: string, secrets: readonly string[]): void {
    this.apply({ kind: 'secrets', realm, secrets }, true);
  }

  /** Everything known, oldest first, as changes: what a replacement worker starts with. */
  changes(): LastKnownChange[] {
    return [
      ...[...this.keys].map(([cacheKey, keys]) => ({ kind: 'keys' as const, cacheKey, keys })),
      ...[...this.secrets].map(([realm, secrets]) => ({ kind: 'secrets' as const, realm, secrets })),
    ];
  }

  /** Another worker's change (its Buffers arrive as Uint8Arrays); not shared again. */
  receive(change: LastKnownChange): void {
    if (change.kind === 'secrets') return this.apply(change, false);
    const { keys } = change;
    const revived = keys && { md5: Buffer.from(keys.md5), ...(keys.sha256 && { sha256: Buffer.from(keys.sha256) }) };
    this.apply({ ...change, keys: revived }, false);
  }

  /** Every authenticated request looks its user up: only what changes an answer is shared, so the workers are not flooded. */
  private apply(change: LastKnownChange, shared: boolean): void {
    let news: boolean;
    if (change.kind === 'secrets') news = !sameStrings(remember(this.secrets, change.realm, change.secrets), change.secrets);
    else if (change.keys) news = !sameKeys(remember(this.keys, change.cacheKey, change.keys), change.keys);
    else news = this.keys.delete(change.cacheKey);
    if (shared && news) this.share(change);
  }
}

function cacheKeyOf(username: string, realm: string): string {
  return `${realm}\u0000${username}`;
}

/** Map insertion order as a cheap LRU: the oldest entry goes when the map is full. Gives the value it replaces. */
function remember<V>(map: Map<string, V>, key: string, value: V): V | undefined {
  const before = map.get(key);
  map.delete(key);
  map.set(key, value);
  if (map.size > FALLBACK_ENTRIES) map.delete(map.keys().next().value!);
  return before;
}

function sameKeys(a: LongTermKeys | undefined, b: LongTermKeys): boolean {
  return a !== undefined && a.md5.equals(b.md5) && (a.sha256 === undefined ? b.sha256 === undefined : b.sha256 !== undefined && a.sha256.equals(b.sha256));
}

function sameStrings(a: readonly string[] | undefined, b: readonly string[]): boolean {
  return a !== undefined && a.length === b.length && a.every((s, i) => s === b[i]);
}
