// Temp folders and one-line loaders for the config tests: every test reads a real file.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  ConfigError,
  checkConfig,
  loadConfig,
  type CheckedConfig,
  type LoadOptions,
  type LoadedConfig,
} from '../../../src/config/index.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'turnpike-config-'));
let counter = 0;

/** A fresh empty folder under this run's temp root. */
export function tempDir(): string {
  const dir = path.join(root, String(++counter));
  fs.mkdirSync(dir);
  return dir;
}

/** Removes everything tempDir() made; call from afterAll. */
export function removeTempDirs(): void {
  fs.rmSync(root, { recursive: true, force: true });
}

/** Writes `text` to `name` in a new temp folder and returns the file's path. */
export function writeConf(text: string, name = 'turnserver.conf', dir = tempDir()): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

/** loadConfig on `text` as a file, plus command-line `args`; no search outside the temp folder. */
export function load(text: string, args: readonly string[] = [], opts: Pick<LoadOptions, 'hostname'> = {}): LoadedConfig & { file: string } {
  const file = writeConf(text);
  const dir = path.dirname(file);
  return { ...loadConfig(['-c', file, ...args], { cwd: dir, searchPath: [dir], ...opts }), file };
}

/** checkConfig on `text` as a file: errors come back instead of being thrown. */
export function check(text: string, args: readonly string[] = []): CheckedConfig & { file: string } {
  const file = writeConf(text);
  const dir = path.dirname(file);
  return { ...checkConfig(['-c', file, ...args], { cwd: dir, searchPath: [dir] }), file };
}

/** loadConfig with the command line only (-n). */
export function loadArgs(args: readonly string[]): LoadedConfig {
  const dir = tempDir();
  return loadConfig(['-n', ...args], { cwd: dir, searchPath: [dir] });
}

/** The thrown ConfigError of a load, or a failure if it loaded. */
export function loadError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError, but the configuration loaded');
}
