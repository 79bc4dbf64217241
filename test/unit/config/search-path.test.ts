// Finding turnserver.conf: -c, -n, and coturn's search path (overridden to temp folders here,
// since this machine's coturn package installs /etc/turnserver.conf).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_SEARCH_PATH, loadConfig } from '../../../src/config/index.js';
import { loadError, removeTempDirs, tempDir, writeConf } from './helpers.js';

afterAll(removeTempDirs);

const conf = (realm: string) => `lt-cred-mech\nrealm=${realm}\n`;

describe('the search path', () => {
  it('is coturn 4.6.1’s list, in its order', () => {
    expect(DEFAULT_SEARCH_PATH).toEqual([
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
  });

  it('takes turnserver.conf from the first folder that has one', () => {
    const [a, b, c] = [tempDir(), tempDir(), tempDir()];
    writeConf(conf('b.org'), 'turnserver.conf', b);
    writeConf(conf('c.org'), 'turnserver.conf', c);
    const result = loadConfig([], { cwd: a, searchPath: [a, b, c] });
    expect(result.configFile).toBe(path.join(b, 'turnserver.conf'));
    expect(result.options.realm).toBe('b.org');
  });

  it('resolves relative folders against cwd, as coturn does against its working directory', () => {
    const cwd = tempDir();
    fs.mkdirSync(path.join(cwd, 'etc'));
    writeConf(conf('etc.org'), 'turnserver.conf', path.join(cwd, 'etc'));
    const result = loadConfig([], { cwd, searchPath: ['./', './etc/'] });
    expect(result.configFile).toBe(path.join(cwd, 'etc', 'turnserver.conf'));
  });

  it('skips a folder named turnserver.conf', () => {
    const [a, b] = [tempDir(), tempDir()];
    fs.mkdirSync(path.join(a, 'turnserver.conf'));
    writeConf(conf('b.org'), 'turnserver.conf', b);
    expect(loadConfig([], { cwd: a, searchPath: [a, b] }).options.realm).toBe('b.org');
  });

  it('goes on with defaults and a warning when there is no file', () => {
    const dir = tempDir();
    const result = loadConfig(['--no-auth'], { cwd: dir, searchPath: [dir] });
    expect(result.configFile).toBeUndefined();
    expect(result.warnings).toEqual([`no turnserver.conf found in ${dir}; using the defaults and the command line`]);
  });
});

describe('-n and -c', () => {
  it('-n reads no file, even one on the search path', () => {
    const dir = tempDir();
    writeConf('listening-port=1\n', 'turnserver.conf', dir);
    const result = loadConfig(['-n', '--no-auth'], { cwd: dir, searchPath: [dir] });
    expect(result).toMatchObject({ configFile: undefined, warnings: [], options: { listeningPort: 3478 } });
  });

  it('-n wins over -c, with a warning', () => {
    const file = writeConf('listening-port=1\n');
    const result = loadConfig(['-c', file, '-n', '--no-auth'], { cwd: tempDir(), searchPath: [] });
    expect(result.configFile).toBeUndefined();
    expect(result.warnings).toEqual([`command line: -n is given, so -c ${file} is not read`]);
  });

  it('-c with an absolute path skips the search path', () => {
    const [a, b] = [tempDir(), tempDir()];
    writeConf(conf('a.org'), 'turnserver.conf', a);
    const file = writeConf(conf('b.org'), 'other.conf', b);
    expect(loadConfig(['-c', file], { cwd: a, searchPath: [a] }).options.realm).toBe('b.org');
  });

  it('-c with a relative path looks in cwd first, then the search path', () => {
    const [cwd, other] = [tempDir(), tempDir()];
    writeConf(conf('other.org'), 'mine.conf', other);
    expect(loadConfig(['-c', 'mine.conf'], { cwd, searchPath: [other] }).configFile).toBe(
      path.join(other, 'mine.conf'),
    );
    writeConf(conf('cwd.org'), 'mine.conf', cwd);
    expect(loadConfig(['-c', 'mine.conf'], { cwd, searchPath: [other] }).options.realm).toBe('cwd.org');
  });

  it('-c naming a missing file or a folder is an error, not a silent default', () => {
    const dir = tempDir();
    expect(loadError(() => loadConfig(['-c', 'missing.conf'], { cwd: dir, searchPath: [] })).message).toBe(
      `command line: -c: cannot read config file ${path.join(dir, 'missing.conf')} (ENOENT)`,
    );
    expect(loadError(() => loadConfig(['-c', dir], { cwd: dir, searchPath: [] })).message).toBe(
      `command line: -c: cannot read config file ${dir} (EISDIR)`,
    );
  });
});
