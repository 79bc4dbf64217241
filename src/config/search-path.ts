/** Where coturn looks for turnserver.conf (apputils.c, config_file_search_dirs in 4.6.1). */
import fs from 'node:fs';
import path from 'node:path';

export const DEFAULT_CONFIG_NAME = 'turnserver.conf';

/**
 * coturn 4.6.1's list, in its order. Relative folders are relative to the working directory.
 * coturn also tries the relative ones under the folder of its executable and under its install
 * prefix's etc/ (/usr/etc/ for Debian); Turnpike's executable is node, so it does not.
 */
export const DEFAULT_SEARCH_PATH: readonly string[] = Object.freeze([
  './',
  './turnserver/',
  './coturn/',
  './etc/',
  './etc/turnserver/',
  './etc/coturn/',
  '../etc/',
  '../etc/turnserver/',
  '../etc/coturn/',
  '/etc/',
  '/etc/turnserver/',
  '/etc/coturn/',
  '/usr/local/etc/',
  '/usr/local/etc/turnserver/',
  '/usr/local/etc/coturn/',
]);

/**
 * The first readable regular file `name` found: an absolute name as it is, a relative one in
 * each folder of the search path in turn (so `-c turnserver.conf` searches, like coturn).
 */
export function findConfigFile(name: string, cwd: string, searchPath: readonly string[]): string | undefined {
  const candidates = path.isAbsolute(name) ? [name] : searchPath.map((dir) => path.resolve(cwd, dir, name));
  return candidates.find(isReadableFile);
}

function isReadableFile(file: string): boolean {
  try {
    if (!fs.statSync(file).isFile()) return false;
    fs.accessSync(file, fs.constants.R_OK);
    return true;
  } catch {
    return false;
  }
}
