// What a test opened (servers, sockets, folders), closed after it in reverse order.
import { afterEach } from 'vitest';

export interface Cleanups {
  push(cleanup: () => Promise<unknown> | void): void;
}

/** Call at the top of a test file: registers the afterEach that runs what tests push. */
export function cleanupAfterEach(): Cleanups {
  const pending: (() => Promise<unknown> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of pending.splice(0).reverse()) await cleanup();
  });
  return { push: (cleanup) => void pending.push(cleanup) };
}
