// The "unreachable" / "reachable again" lines of a remote user database (auth/remote-userdb.ts):
// said once each way per outage, and not taken back by an answer to a question asked before the
// outage began (PostgreSQL's shutdown ends idle connections while a query is still answered).
import { describe, expect, it } from 'vitest';
import { Reachability } from '../../../src/auth/remote-userdb.js';

function recorded(): { lines: string[]; reachability: Reachability } {
  const lines: string[] = [];
  const log = { warn: (m: string) => void lines.push(`warn ${m}`), info: (m: string) => void lines.push(`info ${m}`) };
  return { lines, reachability: new Reachability(log, 'PostgreSQL user database db') };
}

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('Reachability', () => {
  it('stays down when a query asked before the outage is answered after it was noticed', async () => {
    const { lines, reachability } = recorded();
    const inFlight = deferred<string>();
    const asked = reachability.ask(() => inFlight.promise, 1000);
    reachability.down('terminating connection due to administrator command');
    inFlight.resolve('row');
    expect(await asked).toEqual({ ok: true, value: 'row' });
    expect(reachability.isDown).toBe(true);
    expect(lines).toEqual(['warn PostgreSQL user database db is unreachable (terminating connection due to administrator command); answering from the last known users, secrets and realm options until it is back']);
  });

  it('says it is back when a question asked during the outage is answered, once', async () => {
    const { lines, reachability } = recorded();
    reachability.down('connection refused');
    expect(await reachability.ask(() => Promise.reject(new Error('connection refused')), 1000)).toEqual({ ok: false });
    expect(await reachability.ask(async () => 1, 1000)).toEqual({ ok: true, value: 1 });
    expect(await reachability.ask(async () => 2, 1000)).toEqual({ ok: true, value: 2 });
    expect(reachability.isDown).toBe(false);
    expect(lines.map((l) => l.split(' (')[0])).toEqual(['warn PostgreSQL user database db is unreachable', 'info PostgreSQL user database db is reachable again']);
  });
});
