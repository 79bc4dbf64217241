// The configuration in force as the web admin's Server view shows it: where each value was
// set, the defaults that apply, and never a secret.
import { afterAll, describe, expect, it } from 'vitest';
import { checkConfig } from '../../../src/config/index.js';
import { removeTempDirs, writeConf } from './helpers.js';

afterAll(removeTempDirs);

describe('settings in force', () => {
  it('name the file and line, the command line or the default, and hide secrets', () => {
    const file = writeConf('realm=example.org\nuser=alice:alice-secret\nstatic-auth-secret=shh-secret\nadmin-token=0123456789abcdef0123\n');
    const { settings } = checkConfig(['-c', file, '--listening-port', '3479'], { searchPath: [] });
    const row = (option: string) => settings?.filter((s) => s.option === option);
    expect(row('realm')).toEqual([{ option: 'realm', value: 'example.org', from: `${file}:1` }]);
    expect(row('listening-port')).toEqual([{ option: 'listening-port', value: '3479', from: 'command line' }]);
    expect(row('max-allocate-lifetime')).toEqual([{ option: 'max-allocate-lifetime', value: '3600', from: 'default' }]);
    expect(row('user')).toEqual([{ option: 'user', value: 'alice:…', from: `${file}:2` }]);
    expect(row('cert')).toEqual([]);
    expect(JSON.stringify(settings)).not.toMatch(/alice-secret|shh-secret|0123456789abcdef0123/);
  });

  it('show the number of relay workers a default per CPU came to, not how the default is described', () => {
    const rows = (argv: string[]) => checkConfig(argv, { searchPath: [], cpus: 6 }).settings?.filter((s) => s.option === 'relay-threads');
    expect(rows([])).toEqual([{ option: 'relay-threads', value: '6', from: 'default' }]);
    // Too few relay ports for one worker per CPU: fewer workers, and that is what is shown.
    expect(rows(['--min-port', '50000', '--max-port', '50005'])).toEqual([{ option: 'relay-threads', value: '3', from: 'default' }]);
    expect(rows(['--relay-threads', '2'])).toEqual([{ option: 'relay-threads', value: '2', from: 'command line' }]);
  });
});
