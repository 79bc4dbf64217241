// coturn's flags through yargs: long and short forms, overriding the file, adding to its lists.
import { afterAll, describe, expect, it } from 'vitest';
import { TURNPIKE_VERSION, loadConfig, renderHelp } from '../../../src/config/index.js';
import { longTermKey } from '../../../src/stun/integrity.js';
import { load, loadArgs, loadError, removeTempDirs, tempDir } from './helpers.js';

afterAll(removeTempDirs);

const AUTH = ['-a', '-r', 'example.org'];

describe('forms of a flag', () => {
  it('takes --key=value, --key value and short -k value', () => {
    expect(loadArgs([...AUTH, '--listening-port=4000']).options.listeningPort).toBe(4000);
    expect(loadArgs([...AUTH, '--listening-port', '4001']).options.listeningPort).toBe(4001);
    expect(loadArgs([...AUTH, '-p', '4002']).options.listeningPort).toBe(4002);
  });

  it('takes a short flag with its value in the same word, as getopt does', () => {
    const { options } = loadArgs(['-p4003', '-L127.0.0.1', '-uname:pw', '-rrealm.org', '-a']);
    expect(options.listeningPort).toBe(4003);
    expect(options.listeningIps).toEqual(['127.0.0.1']);
    expect(options.realm).toBe('realm.org');
    expect(options.users).toEqual([{ name: 'name', key: longTermKey('name', 'realm.org', 'pw'), sha256Key: longTermKey('name', 'realm.org', 'pw', 'sha256') }]);
  });

  it('splits grouped boolean short flags', () => {
    expect(loadArgs(['-afS', '-r', 'r']).options).toMatchObject({
      ltCredMech: true,
      fingerprint: true,
      stunOnly: true,
    });
  });

  it('knows every short flag of coturn', () => {
    const { options } = loadArgs([
      '-r',
      'r',
      '-a',
      '-E',
      '10.0.0.1',
      '-X',
      '1.2.3.4',
      '-l',
      'log.txt',
      '-v',
      '-f',
      '-S',
    ]);
    expect(options).toMatchObject({
      relayIps: ['10.0.0.1'],
      logFile: 'log.txt',
      logLevel: 'verbose',
      fingerprint: true,
      stunOnly: true,
    });
    expect([...options.externalIps]).toEqual([['', '1.2.3.4']]);
  });

  it('treats --no-tcp as an option, not as the negation of --tcp', () => {
    expect(loadArgs([...AUTH, '--no-tcp']).options.noTcp).toBe(true);
    expect(loadArgs([...AUTH, '--no-tcp=yes']).options.noTcp).toBe(true);
    expect(loadArgs([...AUTH, '--no-tcp=0']).options.noTcp).toBe(false);
    expect(loadArgs([...AUTH, '--no-udp-relay', '--no-dtls']).options).toMatchObject({
      noUdpRelay: true,
      noDtls: true,
      noUdp: false,
    });
  });

  it('does no camel-case expansion or dot notation', () => {
    const err = loadError(() => loadArgs([...AUTH, '--listeningPort=5', '--a.b=1']));
    expect(err.errors.map((e) => e.message)).toEqual([
      'command line: --listeningPort: unknown option',
      'command line: --a.b: unknown option',
    ]);
  });

  it('takes optional-value flags bare or with a value', () => {
    expect(loadArgs(AUTH).options.staleNonce).toBe(600);
    expect(loadArgs([...AUTH, '--stale-nonce']).options.staleNonce).toBe(600);
    expect(loadArgs([...AUTH, '--stale-nonce=300']).options.staleNonce).toBe(300);
    expect(loadArgs([...AUTH, '--stale-nonce', '120', '-p', '4000']).options).toMatchObject({
      staleNonce: 120,
      listeningPort: 4000,
    });
    expect(loadArgs([...AUTH, '--max-allocate-lifetime']).options.maxAllocateLifetime).toBe(3600);
  });

  it('maps -v to verbose and -V to debug, whatever the order', () => {
    expect(loadArgs([...AUTH, '-v']).options.logLevel).toBe('verbose');
    expect(loadArgs([...AUTH, '--Verbose']).options.logLevel).toBe('debug');
    expect(loadArgs([...AUTH, '-V', '-v']).options.logLevel).toBe('debug');
    expect(loadArgs(AUTH).options.logLevel).toBe('info');
  });
});

describe('the command line over the file', () => {
  it("overrides the file's scalars", () => {
    const { options } = load('listening-port=1000\nrealm=file.org\nlt-cred-mech\nfingerprint\n', [
      '-p',
      '2000',
      '--realm=cli.org',
      '--fingerprint=off',
    ]);
    expect(options).toMatchObject({ listeningPort: 2000, realm: 'cli.org', fingerprint: false });
  });

  it("adds to the file's lists, file first", () => {
    const text = 'lt-cred-mech\nrealm=r\nlistening-ip=10.0.0.1\nuser=a:1\n';
    const { options } = load(text, ['-L', '10.0.0.2', '--listening-ip=10.0.0.3', '-u', 'b:2', '--user', 'c:3']);
    expect(options.listeningIps).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3']);
    expect(options.users.map((u) => u.name)).toEqual(['a', 'b', 'c']);
  });

  it('computes the keys of file users with a realm given on the command line', () => {
    const { options } = load('lt-cred-mech\nuser=ninefingers:youhavetoberealistic\n', ['-r', 'north.gov']);
    // The key `turnadmin -k -u ninefingers -r north.gov -p youhavetoberealistic` prints.
    expect(options.users[0]?.key.toString('hex')).toBe('bc807ee29df3c9ffa736523fb2c4e8ee');
  });
});

describe('mistakes on the command line', () => {
  it('refuses unknown flags and stray words', () => {
    // An unknown flag may take a value (`--bogus x`), so a stray word comes first here.
    const err = loadError(() => loadArgs([...AUTH, 'extra', '--bogus', '-Z']));
    expect(err.errors.map((e) => e.message)).toEqual([
      'command line: --bogus: unknown option',
      'command line: -Z: unknown option',
      'command line: unexpected argument "extra"',
    ]);
  });

  it('refuses words after --', () => {
    expect(loadError(() => loadArgs([...AUTH, '--', '-p'])).message).toBe('command line: unexpected argument "-p"');
  });

  it('names the option of a bad value', () => {
    expect(loadError(() => loadArgs([...AUTH, '-p', 'abc'])).message).toBe(
      'command line: listening-port: "abc" is not a port number',
    );
    expect(loadError(() => loadArgs([...AUTH, '--listening-port'])).message).toBe(
      'command line: listening-port: needs a value',
    );
  });

  it('refuses a value after -n, -h or --version', () => {
    expect(loadError(() => loadConfig(['-n', 'turnserver.conf'], { cwd: tempDir(), searchPath: [] })).message).toBe(
      'command line: -n: takes no value, but one was given',
    );
  });

  it('wants a file name after -c', () => {
    expect(loadError(() => loadConfig(['-c'], { cwd: tempDir(), searchPath: [] })).message).toBe(
      'command line: -c: needs a file name',
    );
  });
});

describe('help and version', () => {
  it('returns the help text for -h and --help, without reading any file', () => {
    for (const flag of ['-h', '--help']) {
      const result = loadConfig([flag, '-c', '/nonexistent/turnserver.conf'], { cwd: tempDir(), searchPath: [] });
      expect(result.printAndExit).toBe(renderHelp());
      expect(result.configFile).toBeUndefined();
      expect(result.options.listeningPort).toBe(3478);
    }
  });

  it('returns the version for --version', () => {
    expect(loadConfig(['--version'], { cwd: tempDir(), searchPath: [] }).printAndExit).toBe(`${TURNPIKE_VERSION}\n`);
  });

  it('leaves printAndExit unset for a normal start', () => {
    expect(loadArgs(AUTH).printAndExit).toBeUndefined();
  });
});
