// Real configurations: Debian coturn 4.6.1's reference turnserver.conf with every option line
// uncommented, and Turnpike's shipped config/turnserver.conf.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { checkConfig, loadConfig, validateConfigFile } from '../../../src/config/index.js';
import { removeTempDirs, writeConf } from './helpers.js';

afterAll(removeTempDirs);

const DOC_DIR = '/usr/share/doc/coturn';
const SHIPPED = fileURLToPath(new URL('../../../config/turnserver.conf', import.meta.url));
const FILE_OPTIONS = new Set(['cert', 'pkey', 'CA-file', 'dh-file']);
const KEY_LINE = /^([A-Za-z][A-Za-z0-9_-]*)(?:[ \t=]+(.*))?$/;

/** Debian's example, plain or gzipped wherever the package put it. Absent is a failure. */
function readReferenceConf(): string {
  const plain = path.join(DOC_DIR, 'examples/etc/turnserver.conf');
  if (fs.existsSync(plain)) return fs.readFileSync(plain, 'utf8');
  const found = (fs.readdirSync(DOC_DIR, { recursive: true }) as string[])
    .filter((f) => /(^|\/)turnserver\.conf(\.gz)?$/.test(f))
    .map((f) => path.join(DOC_DIR, f));
  const first = found[0];
  if (first === undefined)
    throw new Error(`coturn's reference turnserver.conf is not under ${DOC_DIR}: install coturn`);
  const bytes = fs.readFileSync(first);
  return (first.endsWith('.gz') ? zlib.gunzipSync(bytes) : bytes).toString('utf8');
}

/** `sed 's/^#\([a-zA-Z-]\)/\1/'`: every commented option line (and some prose) uncommented. */
function uncomment(text: string): string[] {
  return text.split('\n').map((line) => line.replace(/^#([a-zA-Z-])/, '$1'));
}

function unquote(value: string): string {
  return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
}

/** What the test expects to be refused, worked out independently of src/config: line -> option. */
function expectedErrors(lines: readonly string[]): Map<number, string> {
  const expected = new Map<number, string>();
  lines.forEach((line, i) => {
    const m = KEY_LINE.exec(line.trim());
    if (!m || line.startsWith('#')) return;
    const key = m[1] ?? '';
    const value = unquote(m[2] ?? '');
    const placeholder = /<[^<>]*>/.test(value);
    const unreadable = FILE_OPTIONS.has(key) && !(fs.existsSync(value) && fs.statSync(value).isFile());
    if (placeholder || unreadable) expected.set(i + 1, key);
  });
  return expected;
}

describe("coturn's reference turnserver.conf, every option uncommented", () => {
  const lines = uncomment(readReferenceConf());
  const file = writeConf(lines.join('\n'), 'turnserver.conf');
  const expected = expectedErrors(lines);

  it('has the placeholders and missing files this test expects to find', () => {
    // psql/mysql/redis connection strings, cert, pkey, CA-file, dh-file, proc-user, proc-group.
    expect(expected.size).toBeGreaterThanOrEqual(8);
    expect([...expected.values()]).toEqual(
      expect.arrayContaining(['cert', 'pkey', 'dh-file', 'proc-user', 'proc-group']),
    );
  });

  it('is read with no syntax error: lines that are not options are only warnings', () => {
    const { warnings } = checkConfig(['-c', file], { cwd: path.dirname(file), searchPath: [] });
    const strays = lines.flatMap((line, i) =>
      line.trim() === '' || line.startsWith('#') || KEY_LINE.test(line.trim()) ? [] : [i + 1],
    );
    const syntax = warnings.filter((w) => w.includes('not a key[=value] line'));
    expect(syntax.map((w) => Number(w.slice(file.length + 1).split(':')[0]))).toEqual(strays);
  });

  it('names every placeholder and unreadable file with file, line and option, all at once', () => {
    const errors = validateConfigFile(file, { cwd: path.dirname(file), searchPath: [] });
    expect(new Map(errors.map((e) => [e.line, e.option]))).toEqual(expected);
    for (const e of errors) {
      expect(e.file).toBe(file);
      expect(e.message.startsWith(`${file}:${e.line}: ${e.option}: `)).toBe(true);
    }
  });

  it('loads with warnings only once those lines are removed', () => {
    const cleaned = writeConf(lines.filter((_, i) => !expected.has(i + 1)).join('\n'), 'cleaned.conf');
    const { options, warnings } = loadConfig(['-c', cleaned], { cwd: path.dirname(cleaned), searchPath: [] });
    expect(warnings.length).toBeGreaterThan(20);
    expect(options).toMatchObject({
      listeningIps: ['172.17.19.101', '10.207.21.238', '2607:f0d0:1002:51::4'],
      relayIps: ['172.17.19.105', '2607:f0d0:1002:51::5'],
      realm: 'mycompany.org',
      serverName: 'blackdow.carleon.gov',
      ltCredMech: true,
      noAuth: false,
      logLevel: 'debug',
      pidFile: '/var/run/turnserver.pid',
      logFile: '/var/tmp/turn.log',
      syslog: true,
    });
    expect([...options.externalIps]).toEqual([
      ['', '60.70.80.91'],
      ['172.17.19.101', '60.70.80.91'],
      ['172.17.19.102', '60.70.80.92'],
    ]);
  });
});

describe("coturn's reference turnserver.conf as Debian ships it", () => {
  it('loads, applying its RFC 5780 options with no warning', () => {
    const file = writeConf(readReferenceConf(), 'turnserver.conf');
    const { options, warnings } = loadConfig(['-c', file], { cwd: path.dirname(file), searchPath: [] });
    expect(options.syslog).toBe(true);
    expect(options.noRfc5780).toBe(true);
    expect(warnings.filter((w) => w.includes('rfc5780'))).toEqual([]);
  });
});

describe('the shipped config/turnserver.conf', () => {
  it('loads with no warnings: credentials required, no users yet, loopback peers refused', () => {
    const { options, warnings, configFile } = loadConfig(['-c', SHIPPED], {
      cwd: path.dirname(SHIPPED),
      searchPath: [],
    });
    expect(configFile).toBe(SHIPPED);
    expect(warnings).toEqual([]);
    expect(options).toMatchObject({
      listeningPort: 3478,
      realm: 'turnpike.local',
      ltCredMech: true,
      noAuth: false,
      users: [],
      allowLoopbackPeers: false,
      noMulticastPeers: true,
    });
  });

  it('has every option line commented except the secure defaults', () => {
    const live = fs
      .readFileSync(SHIPPED, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '' && !l.startsWith('#'));
    expect(live).toEqual(['listening-port=3478', 'lt-cred-mech', 'realm=turnpike.local', 'no-multicast-peers']);
  });
});
