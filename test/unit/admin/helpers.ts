// turnadmin run in-process against real SQLite files in a temp folder, its output captured.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { runAdmin, type AdminIo } from '../../../src/admin/index.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'turnpike-admin-'));
let counter = 0;

/** A fresh empty folder under this run's temp root. */
export function tempDir(): string {
  const dir = path.join(root, String(++counter));
  fs.mkdirSync(dir);
  return dir;
}

/** A path for a database file that does not exist yet (turnadmin creates it). */
export function newDbPath(): string {
  return path.join(tempDir(), 'turndb');
}

/** Removes everything tempDir() made; call from afterAll. */
export function removeTempDirs(): void {
  fs.rmSync(root, { recursive: true, force: true });
}

export interface AdminRun {
  code: number;
  /** stdout lines. */
  out: string[];
  /** stderr, as one text. */
  err: string;
}

/** `turnpike admin ARGV` (the turnadmin commands, or `credentials …`). */
export async function admin(...argv: string[]): Promise<AdminRun> {
  const out: string[] = [];
  const err: string[] = [];
  const io: AdminIo = { out: (line) => out.push(...line.split('\n')), err: (line) => err.push(line) };
  const code = await runAdmin(argv, io);
  return { code, out, err: err.join('\n') };
}

/** Runs a command that must succeed and print nothing on stderr; returns its stdout lines. */
export async function ok(...argv: string[]): Promise<string[]> {
  const r = await admin(...argv);
  if (r.code !== 0 || r.err !== '') throw new Error(`turnadmin ${argv.join(' ')} → ${r.code}: ${r.err}`);
  return r.out;
}

/** Rows of a table, read with a separate connection, as a test would look at the file. */
export function rows(db: string, sql: string): unknown[] {
  const conn = new DatabaseSync(db, { readOnly: true });
  try {
    return conn.prepare(sql).all();
  } finally {
    conn.close();
  }
}
