/** Deep freezing for the options object: plain objects, arrays and Maps. */

// Maps whose constructor has finished; Map's constructor calls set(), which must work until then.
const sealed = new WeakSet<object>();

/** A Map whose contents cannot change once built; Object.freeze alone does not stop set(). */
class FrozenMap<K, V> extends Map<K, V> {
  constructor(entries: Iterable<readonly [K, V]>) {
    super(entries);
    sealed.add(this);
    Object.freeze(this);
  }
  override set(key: K, value: V): this {
    if (sealed.has(this)) throw new TypeError('Cannot change a frozen Map');
    return super.set(key, value);
  }
  override delete(): boolean {
    throw new TypeError('Cannot change a frozen Map');
  }
  override clear(): void {
    throw new TypeError('Cannot change a frozen Map');
  }
}

export function frozenMap<K, V>(entries: Iterable<readonly [K, V]>): ReadonlyMap<K, V> {
  return new FrozenMap(entries);
}

/**
 * Freezes objects and arrays all the way down. Buffers are left alone: a typed array with
 * elements cannot be frozen (V8 throws), so `StaticUser.key` stays writable by design.
 */
export function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Buffer.isBuffer(value) || Object.isFrozen(value)) return value;
  for (const child of Object.values(value as object)) deepFreeze(child);
  return Object.freeze(value);
}
