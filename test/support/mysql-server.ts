// A throwaway MariaDB server (Debian's mariadb-server package) for the mysql-userdb tests: its
// own data folder and socket under the temp dir, a free loopback port, no fsync, run as the
// `mysql` user when the tests run as root, stopped by its pid. Each test gets a fresh database
// with coturn's schema (/usr/share/coturn/schema.sql, the same file for MySQL).
import { spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { spawnUntilReady, stopChild, systemUserWhenRoot } from './db-process.js';
import { COTURN_SCHEMA_FILE } from './pg-server.js';
import { freeTcpPort } from './ports.js';

const USER = 'turn';
const PASSWORD = 'turn';
const INSTALL_DB = '/usr/bin/mariadb-install-db';
const SERVER = '/usr/sbin/mariadbd';

export interface MysqlServer {
  readonly port: number;
  /** mariadbd's pid. */
  readonly pid: number;
  /** A new database with coturn's schema, named `name` or a fresh name; returns its name. */
  newDatabase(name?: string): Promise<string>;
  /** coturn's documented form: "host=127.0.0.1 dbname=… user=turn password=turn port=… connect_timeout=10". */
  connectionString(database: string): string;
  /** A client (as root) on `database`, or on none; closed by remove(). */
  client(database?: string): Promise<mysql.Connection>;
  /** Stops the server, keeping its data. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data. */
  restart(): Promise<void>;
  /** Stops it and removes its folders. */
  remove(): Promise<void>;
}


export interface MysqlServerOptions {
  /** Offer TLS with this certificate and key (copied into the server's folder, which it can read). */
  readonly tls?: { readonly cert: string; readonly key: string };
}

export async function startMysqlServer({ tls }: MysqlServerOptions = {}): Promise<MysqlServer> {
  if (!fs.existsSync(SERVER)) throw new Error(`no ${SERVER} (test/support/ensure-tools.sh installs mariadb-server)`);
  // The server refuses to run as root: then it runs as the user its package creates.
  const owner = systemUserWhenRoot('mysql');
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'turnpike-mysql-'));
  const dataDir = path.join(root, 'data');
  const socket = path.join(root, 'mysqld.sock');
  if (owner) fs.chownSync(root, owner.uid, owner.gid);
  const userOption = owner ? ['--user=mysql'] : [];
  const tlsOptions = tls ? serverTlsFiles(root, tls, owner) : [];
  const init = spawnSync(
    INSTALL_DB,
    ['--no-defaults', `--datadir=${dataDir}`, '--auth-root-authentication-method=normal', '--skip-test-db', ...userOption],
    { encoding: 'utf8', timeout: 180_000 },
  );
  if (init.status !== 0) throw new Error(`mariadb-install-db failed (${init.status}):\n${init.stdout}\n${init.stderr}`);
  const port = await freeTcpPort();
  const clients: mysql.Connection[] = [];
  let proc: ChildProcess | undefined;
  let databases = 0;

  const launch = async () => {
    proc = await spawnUntilReady(
      SERVER,
      [
        '--no-defaults', `--datadir=${dataDir}`, `--socket=${socket}`, `--port=${port}`, '--bind-address=127.0.0.1',
        `--pid-file=${path.join(root, 'mysqld.pid')}`, '--skip-name-resolve', '--innodb-flush-log-at-trx-commit=0',
        '--innodb-doublewrite=0', '--innodb-buffer-pool-size=32M', '--skip-log-bin', ...userOption, ...tlsOptions,
      ],
      /ready for connections/,
    );
  };
  // A clean shutdown: clients are disconnected.
  const stop = () => stopChild(proc, 'SIGTERM');

  const rootClient = async (database?: string) => {
    const c = await mysql.createConnection({ socketPath: socket, user: 'root', database, multipleStatements: true });
    c.on('error', () => {});
    clients.push(c);
    return c;
  };

  await launch();
  const admin = await rootClient();
  await admin.query(`CREATE USER '${USER}'@'%' IDENTIFIED BY '${PASSWORD}'; GRANT ALL ON *.* TO '${USER}'@'%'`);
  return {
    port,
    get pid() {
      return proc!.pid!;
    },
    async newDatabase(name = `turndb_${process.pid}_${++databases}`) {
      const c = await rootClient();
      await c.query(`CREATE DATABASE ${name}; USE ${name}; ${fs.readFileSync(COTURN_SCHEMA_FILE, 'utf8')}`);
      return name;
    },
    connectionString: (database) => `host=127.0.0.1 dbname=${database} user=${USER} password=${PASSWORD} port=${port} connect_timeout=10`,
    client: rootClient,
    stop,
    restart: launch,
    async remove() {
      await Promise.all(clients.splice(0).map((c) => c.end().catch(() => {})));
      await stop();
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}

/** The certificate and key copied into `root` (owned by the server's user), as mariadbd's options. */
function serverTlsFiles(root: string, tls: NonNullable<MysqlServerOptions['tls']>, owner: { uid: number; gid: number } | undefined): string[] {
  const cert = path.join(root, 'server-cert.pem');
  const key = path.join(root, 'server-key.pem');
  fs.copyFileSync(tls.cert, cert);
  fs.copyFileSync(tls.key, key);
  if (owner) for (const f of [cert, key]) fs.chownSync(f, owner.uid, owner.gid);
  return [`--ssl-cert=${cert}`, `--ssl-key=${key}`];
}
