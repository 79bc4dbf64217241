// From settings to ServerOptions: defaults, applied options, validation errors and warnings.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkConfig } from '../../../src/config/index.js';
import { check, load, loadArgs, loadError, removeTempDirs, tempDir, writeConf } from './helpers.js';

afterAll(removeTempDirs);

const pkg = JSON.parse(fs.readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};
const AUTH = 'lt-cred-mech\nrealm=example.org\n';

describe('defaults', () => {
  it('are coturn’s, with credentials neither required nor waived', () => {
    const { options, warnings } = loadArgs([]);
    expect(options).toMatchObject({
      listeningIps: [],
      listeningPort: 3478,
      tlsListeningPort: 5349,
      relayIps: [],
      minPort: 49152,
      maxPort: 65535,
      realm: '',
      serverName: os.hostname(),
      ltCredMech: false,
      noAuth: false,
      users: [],
      staleNonce: 600,
      maxAllocateLifetime: 3600,
      defaultAllocateLifetime: 600,
      permissionLifetime: 300,
      channelLifetime: 600,
      strictChannelNumbers: false,
      fingerprint: false,
      software: `Turnpike ${pkg.version}`,
      pidFile: undefined,
      logFile: undefined,
      logLevel: 'info',
    });
    expect(options.externalIps.size).toBe(0);
    // Not an error: the server runs STUN only, and says why.
    expect(warnings).toEqual([
      expect.stringMatching(/^neither lt-cred-mech .* nor no-auth is set: Turnpike serves STUN only/),
    ]);
  });

  it('deep-freezes the options', () => {
    const { options } = load(`${AUTH}user=a:b\nexternal-ip=1.2.3.4\nlistening-ip=::1\n`);
    expect(Object.isFrozen(options)).toBe(true);
    expect(Object.isFrozen(options.listeningIps)).toBe(true);
    expect(Object.isFrozen(options.users)).toBe(true);
    expect(Object.isFrozen(options.users[0])).toBe(true);
    expect(() => (options.externalIps as Map<string, string>).set('x', 'y')).toThrow(TypeError);
    expect(() => (options.externalIps as Map<string, string>).clear()).toThrow(TypeError);
    expect(options.externalIps.get('')).toBe('1.2.3.4');
  });
});

describe('applied options', () => {
  it('maps every flag of the contract', () => {
    const flags = [
      'no-reply-budget',
      'stun-only',
      'no-stun',
      'secure-stun',
      'no-udp',
      'no-tcp',
      'no-tls',
      'no-dtls',
      'no-udp-relay',
      'no-tcp-relay',
      'allow-loopback-peers',
      'no-multicast-peers',
      'fingerprint',
      'no-software-attribute',
      'no-stdout-log',
      'simple-log',
      'syslog',
      'strict-channel-numbers',
    ];
    const { options } = load(`${AUTH}${flags.join('\n')}\n`);
    expect(options).toMatchObject({
      stunOnly: true,
      noStun: true,
      secureStun: true,
      noUdp: true,
      noTcp: true,
      noTls: true,
      noDtls: true,
      noUdpRelay: true,
      noTcpRelay: true,
      allowLoopbackPeers: true,
      noMulticastPeers: true,
      fingerprint: true,
      softwareAttribute: false,
      noReplyBudget: true,
      noStdoutLog: true,
      simpleLog: true,
      syslog: true,
      strictChannelNumbers: true,
    });
  });

  it('maps ports, lifetimes, names and files', () => {
    const text = `${AUTH}listening-port=3479\ntls-listening-port=5350\nmin-port=50000\nmax-port=50100\nstale-nonce=0\nmax-allocate-lifetime=300\npermission-lifetime=200\nchannel-lifetime=500\nserver-name=turn.example.org\npidfile=/run/t.pid\nlog-file=/var/log/t.log\n`;
    expect(load(text).options).toMatchObject({
      listeningPort: 3479,
      tlsListeningPort: 5350,
      minPort: 50000,
      maxPort: 50100,
      staleNonce: 0,
      maxAllocateLifetime: 300,
      defaultAllocateLifetime: 300,
      permissionLifetime: 200,
      channelLifetime: 500,
      serverName: 'turn.example.org',
      pidFile: '/run/t.pid',
      logFile: '/var/log/t.log',
    });
  });

  it('defaults server-name to the realm', () => {
    expect(load(AUTH).options.serverName).toBe('example.org');
  });

  it('reads an empty pidfile as none, as Debian’s unit passes --pidfile=', () => {
    expect(load(`${AUTH}pidfile=/run/t.pid\n`, ['--pidfile=']).options.pidFile).toBeUndefined();
  });

  it('sends SOFTWARE only when software-attribute asks for it', () => {
    expect(load(AUTH).options.softwareAttribute).toBe(false);
    expect(load(`${AUTH}software-attribute\n`).options.softwareAttribute).toBe(true);
  });

  it('accepts coturn’s deprecated prod for no-software-attribute', () => {
    expect(load(`${AUTH}software-attribute\nprod\n`).options.softwareAttribute).toBe(false);
  });

  it('maps external-ip forms: public alone, and public/private pairs', () => {
    const { options } = load(
      `${AUTH}external-ip=60.70.80.91\nexternal-ip=60.70.80.92/172.17.19.102\nexternal-ip=2001:db8::1/fd00::1\n`,
    );
    expect([...options.externalIps]).toEqual([
      ['', '60.70.80.91'],
      ['172.17.19.102', '60.70.80.92'],
      ['fd00::1', '2001:db8::1'],
    ]);
  });

  it('refuses a second mapping of the same address, as coturn does', () => {
    const err = loadError(() => load(`${AUTH}external-ip=1.1.1.1\nexternal-ip=2.2.2.2\n`));
    expect(err.message).toMatch(
      /turnserver\.conf:4: external-ip: a single external IP was already mapped at .*turnserver\.conf:3$/,
    );
  });
});

describe('malformed values stop the server with file, line and option', () => {
  it('names them as /path:line: option: problem', () => {
    const result = check(`${AUTH}listening-port=abc\n`);
    expect(result.errors.map((e) => e.message)).toEqual([
      `${result.file}:3: listening-port: "abc" is not a port number`,
    ]);
    expect(result.options).toBeUndefined();
  });

  it.each([
    ['listening-port=70000', 'listening-port', '"70000" is not a port number'],
    ['listening-ip=localhost', 'listening-ip', '"localhost" is not an IP address'],
    ['relay-ip=10.0.0', 'relay-ip', '"10.0.0" is not an IP address'],
    ['external-ip=1.2.3.4/nat', 'external-ip', '"nat" (the private part of "1.2.3.4/nat") is not an IP address'],
    ['stale-nonce=-1', 'stale-nonce', '"-1" is not a whole number'],
    ['channel-lifetime=0', 'channel-lifetime', '0 is out of range 1..2147483647'],
    ['realm', 'realm', 'needs a value'],
    [
      'allocation-default-address-family=ipv5',
      'allocation-default-address-family',
      '"ipv5" is not one of ipv4, ipv6, keep',
    ],
    [
      'denied-peer-ip=10.0.0.1-::1',
      'denied-peer-ip',
      '"10.0.0.1-::1" is not an IP address or range (ip, ip-ip or ip/prefix)',
    ],
    ['alternate-server=1.2.3.4:0', 'alternate-server', '"1.2.3.4:0" is not an address (ip, ip:port or [ipv6]:port)'],
  ])('%s', (line, option, detail) => {
    const err = loadError(() => load(`${AUTH}${line}\n`));
    expect(err).toMatchObject({ line: 3, option, detail });
  });

  it('refuses min-port above max-port, naming min-port', () => {
    const err = loadError(() => load(`${AUTH}min-port=60000\nmax-port=50000\n`));
    expect(err.message).toMatch(/turnserver\.conf:3: min-port: min-port 60000 is above max-port 50000$/);
  });

  it('refuses bps-capacity without max-bps, as coturn does', () => {
    expect(loadError(() => load(`${AUTH}bps-capacity=1000\n`))).toMatchObject({ line: 3, option: 'bps-capacity' });
  });

  it('refuses placeholders in angle brackets, even in options Turnpike ignores, but not in secrets', () => {
    const err = loadError(() => load(`${AUTH}proc-user=<user-name>\ncli-password=<password>\nuser=bob:<password>\ndh-file=<DH-PEM-file-name>\n`));
    // A password may hold "<…>"; coturn's example file has no placeholder in a secret.
    expect(err.errors.map((e) => [e.line, e.option])).toEqual([
      [3, 'proc-user'],
      [6, 'dh-file'],
    ]);
    expect(err.errors[0]?.detail).toBe(
      '"<user-name>" is a placeholder from an example configuration; put a real value here',
    );
  });

  it('refuses cert, pkey, CA-file and dh-file that cannot be read', () => {
    const dir = tempDir();
    const err = loadError(() =>
      load(`${AUTH}cert=/nonexistent/cert.pem\npkey=missing.pem\nCA-file=${dir}\ndh-file=\n`),
    );
    expect(err.errors.map((e) => [e.line, e.option, e.detail])).toEqual([
      [3, 'cert', 'cannot read "/nonexistent/cert.pem" (no such file)'],
      [4, 'pkey', 'cannot read "missing.pem" (no such file)'],
      [5, 'CA-file', `cannot read "${dir}" (${dir} is not a file)`],
      [6, 'dh-file', 'needs a value'],
    ]);
  });

  it('finds a relative cert next to the config file', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'cert.pem'), 'PEM');
    const file = writeConf(`${AUTH}cert=cert.pem\n`, 'turnserver.conf', dir);
    expect(checkConfig(['-c', file], { cwd: '/', searchPath: [] }).errors).toEqual([]);
    // The same file elsewhere, without cert.pem next to it:
    expect(check(fs.readFileSync(file, 'utf8')).errors.map((e) => e.detail)).toEqual([
      'cannot read "cert.pem" (no such file)',
    ]);
  });

  it('collects every error, one line each in the message', () => {
    const err = loadError(() => load('listening-port=x\nmin-port=y\nfingerprint=maybe\n', ['-p', 'z']));
    expect(err.errors).toHaveLength(4);
    expect(err.message.split('\n')).toHaveLength(4);
    expect(err).toMatchObject({ line: 1, option: 'listening-port' });
    expect(err.errors[3]?.message).toBe('command line: listening-port: "z" is not a port number');
  });
});

describe('options with no effect yet', () => {
  it('warn once each, wherever they are set', () => {
    const { warnings, file } = load(`${AUTH}no-cli\nno-cli\n`, ['--no-cli']);
    expect(warnings).toEqual([
      `${file}:3: option 'no-cli' is not planned in Turnpike (Turnpike has no telnet CLI; use 'turnpike admin'; this is always in effect); it has no effect`,
    ]);
  });

  it('warn about options that are not planned, with the reason', () => {
    const { warnings, file } = load(`${AUTH}no-cli\ncli-port=abc\n`);
    expect(warnings).toEqual([
      `${file}:3: option 'no-cli' is not planned in Turnpike (Turnpike has no telnet CLI; use 'turnpike admin'; this is always in effect); it has no effect`,
      `${file}:4: option 'cli-port' is not planned in Turnpike (Turnpike has no telnet CLI; use 'turnpike admin'); it has no effect`,
    ]);
  });

  it('warn on the command line too', () => {
    expect(loadArgs(['-a', '-r', 'r', '--no-cli']).warnings).toEqual([
      "command line: option 'no-cli' is not planned in Turnpike (Turnpike has no telnet CLI; use 'turnpike admin'; this is always in effect); it has no effect",
    ]);
  });
});

describe('alternate-server', () => {
  it('takes IP addresses with coturn’s default ports, and refuses names', () => {
    const { options } = load(`${AUTH}alternate-server=192.0.2.1\nalternate-server=[2001:db8::1]:3479\ntls-alternate-server=192.0.2.2\n`);
    expect(options.redirect.alternateServers).toEqual([
      { family: 4, address: '192.0.2.1', port: 3478 },
      { family: 6, address: '2001:db8::1', port: 3479 },
    ]);
    expect(options.redirect.tlsAlternateServers).toEqual([{ family: 4, address: '192.0.2.2', port: 5349 }]);
    expect(() => load(`${AUTH}alternate-server=turn.example.org\n`)).toThrow(/alternate-server.*"turn\.example\.org" is not an IP address \(ALTERNATE-SERVER carries an address/);
  });
});

describe('address family and old-client options', () => {
  it('reads allocation-default-address-family, with -K (keep-address-family) as the old spelling of keep', () => {
    expect(load(AUTH).options.defaultAddressFamily).toBe('ipv4');
    expect(load(`${AUTH}allocation-default-address-family=ipv6\n`).options.defaultAddressFamily).toBe('ipv6');
    expect(load(`${AUTH}allocation-default-address-family=ipv6\nkeep-address-family\n`).options.defaultAddressFamily).toBe('keep');
    expect(() => load(`${AUTH}allocation-default-address-family=ipv5\n`)).toThrow(/allocation-default-address-family/);
  });

  it('reads no-stun-backward-compatibility and log-binding', () => {
    expect(load(AUTH).options).toMatchObject({ stunBackwardCompatibility: true, logBinding: false });
    expect(load(`${AUTH}no-stun-backward-compatibility\nlog-binding\n`).options).toMatchObject({ stunBackwardCompatibility: false, logBinding: true });
  });
});

describe('aux-server', () => {
  it('takes IP:port endpoints, and refuses a name or a missing port', () => {
    expect(load(`${AUTH}aux-server=192.0.2.1:443\naux-server=[2001:db8::1]:80\n`).options.auxServers).toEqual([
      { family: 4, address: '192.0.2.1', port: 443 },
      { family: 6, address: '2001:db8::1', port: 80 },
    ]);
    expect(() => load(`${AUTH}aux-server=192.0.2.1\n`)).toThrow(/aux-server.*"192\.0\.2\.1" has no port/);
    expect(() => load(`${AUTH}aux-server=turn.example.org:443\n`)).toThrow(/aux-server.*"turn\.example\.org" is not an IP address/);
  });
});

describe('relay-threads (-m)', () => {
  it('maps to relayThreads; 0 (coturn’s single-threaded mode) and 1 mean one event loop', () => {
    expect(loadArgs(['-m', '0']).options.relayThreads).toBe(1);
    expect(loadArgs(['-m', '1']).options.relayThreads).toBe(1);
    expect(loadArgs(['-m', '3']).options.relayThreads).toBe(3);
    expect(load(`${AUTH}relay-threads=2\n`).options.relayThreads).toBe(2);
  });

  it('unset, starts one per CPU as coturn does, at most 128 (coturn caps its default too)', () => {
    expect(loadArgs([]).options.relayThreads).toBe(os.availableParallelism());
    const dir = tempDir();
    const unset = (cpus: number) => checkConfig(['-n'], { cwd: dir, searchPath: [dir], cpus });
    expect(unset(3).options?.relayThreads).toBe(3);
    expect(unset(200).options?.relayThreads).toBe(128);
    expect(unset(200).warnings.filter((w) => w.includes('relay-threads'))).toEqual([]);
    expect(checkConfig(['-n', '-m', '1'], { cwd: dir, searchPath: [dir], cpus: 8 }).options?.relayThreads).toBe(1);
  });

  it('unset, starts fewer workers than CPUs when min-port..max-port has not 2 ports for each, and says so', () => {
    const dir = tempDir();
    const load = (...args: string[]) => checkConfig(['-n', ...args], { cwd: dir, searchPath: [dir], cpus: 8 });
    expect(load('--min-port', '50000', '--max-port', '50005').options?.relayThreads).toBe(3);
    expect(load('--min-port', '50000', '--max-port', '50000').options?.relayThreads).toBe(1);
    expect(load('--min-port', '50000', '--max-port', '50005').warnings).toContain(
      'min-port..max-port has 6 relay ports, 2 for each relay worker: starting 3 relay workers, not one per CPU (8); set relay-threads to say how many',
    );
    expect(load('--min-port', '50000', '--max-port', '50015').warnings.filter((w) => w.includes('relay worker'))).toEqual([]);
  });

  it('takes a value above 128 as 128 with a warning, as coturn does', () => {
    const { options, warnings, file } = load(`${AUTH}relay-threads=500\n`);
    expect(options.relayThreads).toBe(128);
    expect(warnings).toContain(`${file}:3: relay-threads 500 is above 128; using 128, as coturn does`);
  });

  it('refuses what is not a whole number, naming the line', () => {
    expect(loadError(() => load(`${AUTH}relay-threads=-1\n`))).toMatchObject({ line: 3, option: 'relay-threads' });
    expect(loadError(() => load(`${AUTH}relay-threads=two\n`))).toMatchObject({ line: 3, option: 'relay-threads' });
  });

});

describe('a single-valued option given more than once', () => {
  it('ignores a bad value that a later one overrides, with a warning (coturn\'s secure_relay_with_db_redis.sh: -max-bps=3000000 … -m 3)', () => {
    const { options, warnings } = loadArgs(['-max-bps=3000000', '-m', '3']);
    expect(options.relayThreads).toBe(3);
    expect(warnings).toContain('command line: relay-threads: "ax-bps=3000000" is not a whole number; ignored, a later relay-threads overrides it');
  });

  it('still refuses a bad value given last', () => {
    expect(loadError(() => loadArgs(['-m', '3', '-max-bps=3000000']))).toMatchObject({ option: 'relay-threads' });
    expect(loadError(() => load(`${AUTH}relay-threads=two\n`, ['--relay-threads', 'three']))).toMatchObject({ option: 'relay-threads' });
  });
});
