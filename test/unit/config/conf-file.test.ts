// How a turnserver.conf line is read: the rules of coturn's parse_arg_string, on real files.
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfText } from '../../../src/config/conf-file.js';
import { longTermKey } from '../../../src/stun/integrity.js';
import { check, load, loadError, removeTempDirs } from './helpers.js';

afterAll(removeTempDirs);

describe('splitting key and value', () => {
  it('splits at the first run of spaces, tabs or =', () => {
    const { entries } = parseConfText('realm=a\nrealm b\nrealm \t = \tc\nuser=bob:=x y\n', 'f.conf');
    expect(entries.map((e) => [e.key, e.value])).toEqual([
      ['realm', 'a'],
      ['realm', 'b'],
      ['realm', 'c'],
      ['user', 'bob:=x y'],
    ]);
  });

  it('gives each entry its file and 1-based line', () => {
    const { entries } = parseConfText('# one\n\nrealm=a\n', '/etc/x.conf');
    expect(entries[0]?.origin).toEqual({ file: '/etc/x.conf', line: 3 });
  });

  it('reads a bare key as true', () => {
    expect(load('fingerprint\nno-tcp\nrealm=r\nlt-cred-mech\n').options).toMatchObject({
      fingerprint: true,
      noTcp: true,
    });
  });

  it('allows leading blanks, and drops trailing blanks and \\r', () => {
    const { options } = load('   realm=spaced   \r\n\tlistening-port=4000 \t\r\nlt-cred-mech\n');
    expect(options.realm).toBe('spaced');
    expect(options.listeningPort).toBe(4000);
  });

  it('ignores a UTF-8 byte order mark', () => {
    expect(load('\uFEFFrealm=bom\nlt-cred-mech\n').options.realm).toBe('bom');
  });
});

describe('comments and values', () => {
  it('treats only whole lines starting with # as comments, after blanks', () => {
    const { entries } = parseConfText('# a\n   # b\n\t#c\nrealm=x # not a comment\n', 'f');
    expect(entries.map((e) => e.value)).toEqual(['x # not a comment']);
  });

  it('keeps # and ; inside values, so passwords survive', () => {
    const { options } = load('realm=ex#ample;org\nlt-cred-mech\nuser=alice:pa#ss;word\n');
    expect(options.realm).toBe('ex#ample;org');
    expect(options.users[0]?.key).toEqual(longTermKey('alice', 'ex#ample;org', 'pa#ss;word'));
  });

  it('warns, as coturn does, about a line ending in ;', () => {
    const { warnings, file } = load('realm=x;\nlt-cred-mech\n');
    expect(warnings).toContain(`${file}:1: realm: the line ends with ';', which is kept as part of the value`);
  });

  it('strips one pair of surrounding double quotes', () => {
    expect(load('realm="my realm"\nlt-cred-mech\n').options.realm).toBe('my realm');
    expect(load('realm=""quoted""\nlt-cred-mech\n').options.realm).toBe('"quoted"');
    expect(load('realm=a"b"\nlt-cred-mech\n').options.realm).toBe('a"b"');
  });

  it('drops an unbalanced opening quote like coturn, with a warning', () => {
    const { options, warnings, file } = load('realm="open\nlt-cred-mech\n');
    expect(options.realm).toBe('open');
    expect(warnings.some((w) => w.startsWith(`${file}:1: realm: the value has an opening double quote`))).toBe(true);
  });
});

describe('repeated keys', () => {
  it('takes the last value of a scalar', () => {
    expect(load('listening-port=1000\nlistening-port=2000\nrealm=a\nrealm=b\nlt-cred-mech\n').options).toMatchObject({
      listeningPort: 2000,
      realm: 'b',
    });
  });

  it('adds up the values of a list, in order', () => {
    const text =
      'listening-ip=10.0.0.1\nlistening-ip=10.0.0.2\nrelay-ip=10.0.0.3\nrelay-ip=::1\nlt-cred-mech\nrealm=r\n';
    const { options } = load(text);
    expect(options.listeningIps).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(options.relayIps).toEqual(['10.0.0.3', '::1']);
  });
});

describe('booleans', () => {
  it.each(['1', 'yes', 'YES', 'y', 'true', 'True', 't', 'on', 'On'])('reads %s as true', (word) => {
    expect(load(`fingerprint=${word}\nlt-cred-mech\nrealm=r\n`).options.fingerprint).toBe(true);
  });

  it.each(['0', 'no', 'n', 'false', 'FALSE', 'f', 'off', 'OFF'])('reads %s as false', (word) => {
    expect(load(`fingerprint\nfingerprint=${word}\nlt-cred-mech\nrealm=r\n`).options.fingerprint).toBe(false);
  });

  it('refuses any other word, naming file, line and option', () => {
    const err = loadError(() => load('realm=r\nfingerprint=maybe\n'));
    expect(err.message).toMatch(/turnserver\.conf:2: fingerprint: "maybe" is not a boolean/);
    expect(err).toMatchObject({ line: 2, option: 'fingerprint' });
  });
});

describe('lines that are not options', () => {
  it('warns about stray lines with file and line, and goes on', () => {
    const { warnings, file, options } = load('1.2.3.4\n--realm=foo\nOR:\nrealm=ok\nlt-cred-mech\n');
    expect(options.realm).toBe('ok');
    // Only the first word is shown: the rest of a broken line may be a secret.
    expect(warnings).toContain(`${file}:1: not a key[=value] line, ignored: starts with "1.2.3.4"`);
    expect(warnings).toContain(
      `${file}:2: not a key[=value] line, ignored (write options without the leading '--'): starts with "--realm"`,
    );
    expect(warnings).toContain(`${file}:3: not a key[=value] line, ignored: starts with "OR"`);
  });

  it('warns about unknown keys with file and line', () => {
    const { warnings, file } = load('realm=r\nlt-cred-mech\nbogus-key=1\n');
    expect(warnings).toEqual([`${file}:3: unknown option 'bogus-key', ignored`]);
  });

  it('warns about command-line-only options in a file', () => {
    const { warnings, file } = load('realm=r\nlt-cred-mech\nn\n');
    expect(warnings).toEqual([`${file}:3: 'n' only works on the command line, ignored`]);
  });

  it('reports an empty file as no settings at all', () => {
    const result = check('');
    expect(result.errors).toEqual([]);
    expect(result.options?.listeningPort).toBe(3478);
  });
});
