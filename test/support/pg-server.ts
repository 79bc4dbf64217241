// A throwaway PostgreSQL server (Debian's postgresql package) for the psql-userdb tests: its
// own data folder and socket folder under the temp dir, a free loopback port, no fsync, run as
// the `postgres` user when the tests run as root (postgres refuses root), stopped by its pid.
// Each test gets a fresh database with coturn's schema (/usr/share/coturn/schema.sql).
import { spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { spawnUntilReady, stopChild, systemUserWhenRoot } from './db-process.js';
import { freeTcpPort } from './ports.js';

export const COTURN_SCHEMA_FILE = '/usr/share/coturn/schema.sql';
const USER = 'turn';
const PASSWORD = 'turn';

export interface PgServer {
  readonly port: number;
  /** The postmaster's pid (its backends are in its process group). */
  readonly pid: number;
  readonly socketDir: string;
  /** A new database with coturn's schema, named `name` or a fresh name; returns its name. */
  newDatabase(name?: string): Promise<string>;
  /** coturn's documented form: "host=127.0.0.1 port=… dbname=… user=turn password=turn connect_timeout=30". */
  keyValue(database: string): string;
  uri(database: string): string;
  /** A client on `database`, closed by stop(). */
  client(database: string): Promise<pg.Client>;
  /** Stops the server (fast shutdown), keeping its data. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data. */
  restart(): Promise<void>;
  /** Stops it and removes its folders. */
  remove(): Promise<void>;
}

/** The server binaries: the newest /usr/lib/postgresql/<version>/bin. */
export function postgresBinDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = fs.existsSync(root) ? fs.readdirSync(root).filter((v) => fs.existsSync(path.join(root, v, 'bin', 'postgres'))) : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (newest === undefined) throw new Error('no PostgreSQL server in /usr/lib/postgresql (test/support/ensure-tools.sh installs it)');
  return path.join(root, newest, 'bin');
}


export async function startPgServer(): Promise<PgServer> {
  const bin = postgresBinDir();
  // The server refuses to run as root: then it runs as the user its package creates.
  const owner = systemUserWhenRoot('postgres');
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'turnpike-pg-'));
  const dataDir = path.join(root, 'data');
  const socketDir = path.join(root, 'socket');
  const pwFile = path.join(root, 'pw');
  fs.mkdirSync(socketDir);
  fs.writeFileSync(pwFile, `${PASSWORD}\n`);
  if (owner) for (const p of [root, socketDir, pwFile]) fs.chownSync(p, owner.uid, owner.gid);
  const init = spawnSync(
    path.join(bin, 'initdb'),
    ['-D', dataDir, '-U', USER, `--pwfile=${pwFile}`, '--auth-local=trust', '--auth-host=scram-sha-256', '--no-sync', '-E', 'UTF8', '--locale=C'],
    { encoding: 'utf8', timeout: 120_000, ...(owner ?? {}) },
  );
  if (init.status !== 0) throw new Error(`initdb failed (${init.status}):\n${init.stdout}\n${init.stderr}`);
  const port = await freeTcpPort();
  const clients: pg.Client[] = [];
  let proc: ChildProcess | undefined;
  let databases = 0;

  const launch = async () => {
    // detached: its own process group, so that its backends can be signalled with it.
    proc = await spawnUntilReady(
      path.join(bin, 'postgres'),
      ['-D', dataDir, '-p', String(port), '-h', '127.0.0.1', '-k', socketDir, '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'],
      /database system is ready to accept connections/,
      { detached: true, ...(owner ?? {}) },
    );
  };
  // Fast shutdown: clients are disconnected.
  const stop = () => stopChild(proc, 'SIGINT');

  const client = async (database: string) => {
    const c = new pg.Client({ host: socketDir, port, user: USER, database });
    c.on('error', () => {});
    await c.connect();
    clients.push(c);
    return c;
  };

  await launch();
  return {
    port,
    get pid() {
      return proc!.pid!;
    },
    socketDir,
    async newDatabase(name = `turndb_${process.pid}_${++databases}`) {
      const admin = await client('postgres');
      await admin.query(`CREATE DATABASE ${name}`);
      const db = await client(name);
      await db.query(fs.readFileSync(COTURN_SCHEMA_FILE, 'utf8'));
      return name;
    },
    keyValue: (database) => `host=127.0.0.1 port=${port} dbname=${database} user=${USER} password=${PASSWORD} connect_timeout=30`,
    uri: (database) => `postgresql://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`,
    client,
    stop,
    restart: launch,
    async remove() {
      await Promise.all(clients.splice(0).map((c) => c.end().catch(() => {})));
      await stop();
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}
