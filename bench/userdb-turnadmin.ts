// Turnpike's SQLite user database while coturn's turnadmin writes to the same file.
// Run: npm run bench:userdb (USERDB_WRITES changes the number of writes, default 200).
//
// For coturn's default journal mode (rollback) and for WAL, coturn 4.6.1's turnadmin adds
// USERDB_WRITES users to a database it created, one process per user, while this process
// looks users up through Turnpike's UserDb (the server's statement and 250 ms busy timeout) as
// fast as it can, yielding to the event loop every 50 lookups, until turnadmin is done (at
// most 5 minutes and 10 million lookups). It prints how many of turnadmin's writes are in the
// file afterwards, how many lookups fell back to the last known answer, and lookup times.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { UserDb, openUserDb } from '../src/auth/userdb.js';
import { runCoturnTurnadmin } from '../test/support/coturn-tools.js';
import { runMain } from './run-main.js';

const WRITES = Number(process.env['USERDB_WRITES'] ?? 200);
const REALM = 'example.org';
const MAX_MS = 300_000;
const MAX_LOOKUPS = 10_000_000;

async function measure(journal: 'delete' | 'wal'): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'turnpike-userdb-bench-'));
  try {
    const file = path.join(dir, 'turndb');
    const add = (i: number) => runCoturnTurnadmin(['-a', '-b', file, '-u', `user${i}`, '-r', REALM, '-p', `pw${i}`], dir);
    await add(0);
    const db = openUserDb(file);
    db.exec(`PRAGMA journal_mode = ${journal}`);
    let fallbacks = 0;
    const userDb = new UserDb(db, () => fallbacks++);

    let writing = true;
    let failedWrites = 0;
    const writer = (async () => {
      for (let i = 1; i <= WRITES; i++) if ((await add(i)).exitInfo?.code !== 0) failedWrites++;
      writing = false;
    })();
    const times: number[] = [];
    const deadline = performance.now() + MAX_MS;
    while (writing && performance.now() < deadline && times.length < MAX_LOOKUPS) {
      for (let i = 0; i < 50; i++) {
        const started = performance.now();
        userDb.keysOf(`user${times.length % (WRITES + 1)}`, REALM);
        times.push(performance.now() - started);
      }
      await new Promise(setImmediate);
    }
    await writer;
    const stored = (db.prepare('SELECT count(*) AS n FROM turnusers_lt').get() as { n: number }).n - 1;
    userDb.close();
    times.sort((a, b) => a - b);
    const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!.toFixed(3);
    return (
      `${journal === 'wal' ? 'WAL' : 'rollback journal'}: turnadmin stored ${stored} of ${WRITES} users ` +
      `(${failedWrites} exited non-zero); ${times.length} lookups, ${fallbacks} answered from the last known answer; ` +
      `lookup median ${at(0.5)} ms, p99 ${at(0.99)} ms, max ${times.at(-1)!.toFixed(1)} ms`
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

runMain(async () => {
  console.log(`Node.js ${process.version}, SQLite ${process.versions['sqlite']}`);
  for (const journal of ['delete', 'wal'] as const) console.log(await measure(journal));
  return 0;
});
