// The option table against coturn 4.6.1 itself (its --help, captured in test/fixtures/config,
// and its reference config), and the help text and docs generated from the table.
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { OPTION_TABLE, findOption, renderHelp, renderOptionsMarkdown } from '../../../src/config/index.js';
import { findShortOption } from '../../../src/config/option-table.js';

const HELP = fs.readFileSync(new URL('../../fixtures/config/coturn-4.6.1-help.txt', import.meta.url), 'utf8');
const REFERENCE = '/usr/share/doc/coturn/examples/etc/turnserver.conf';
const DOCS = fs.readFileSync(new URL('../../../docs/coturn-options.md', import.meta.url), 'utf8');
// Prose in coturn's help, not options: "--no_dtls" is a typo for --no-dtls there.
const NOT_OPTIONS = new Set(['no_dtls']);

describe('the table covers coturn 4.6.1', () => {
  it('has every long option of turnserver --help', () => {
    const names = [...new Set([...HELP.matchAll(/--([A-Za-z][A-Za-z0-9_-]*)/g)].map((m) => m[1] ?? ''))];
    const missing = names.filter((n) => !NOT_OPTIONS.has(n) && !findOption(n));
    expect(names.length).toBeGreaterThan(100);
    expect(missing).toEqual([]);
  });

  it('gives every short flag of turnserver --help the same option', () => {
    const pairs = [...HELP.matchAll(/^ -([A-Za-z]),? ,? ?--([A-Za-z][A-Za-z0-9_-]*)/gm)].map((m) => [
      m[1] ?? '',
      m[2] ?? '',
    ]);
    expect(pairs.length).toBeGreaterThan(25);
    for (const [letter, name] of pairs)
      expect(findShortOption(letter)?.name, `-${letter}`).toBe(findOption(name)?.name);
    for (const letter of ['c', 'n', 'h']) expect(findShortOption(letter), `-${letter}`).toBeDefined();
  });

  it("has every option of coturn's reference turnserver.conf", () => {
    const keys = fs
      .readFileSync(REFERENCE, 'utf8')
      .split('\n')
      .flatMap((line) => /^#?\s?([a-z][A-Za-z0-9_-]*[a-z0-9])(?:=|$| ")/.exec(line)?.slice(1, 2) ?? []);
    expect(keys.length).toBeGreaterThan(100);
    expect(keys.filter((k) => !findOption(k))).toEqual([]);
  });

  it('declares each name once, with a status that says enough', () => {
    const names = OPTION_TABLE.flatMap((s) => [s.name, ...s.aliases]);
    expect(new Set(names).size).toBe(names.length);
    expect(OPTION_TABLE.length).toBeGreaterThanOrEqual(110);
    for (const spec of OPTION_TABLE) {
      expect(spec.help.length, spec.name).toBeGreaterThan(5);
      if (spec.status.kind === 'not-planned') expect(spec.status.why.length, spec.name).toBeGreaterThan(10);
    }
  });

  it('applies every option the ServerOptions contract has', () => {
    const applied = OPTION_TABLE.filter((s) => s.status.kind === 'applied').map((s) => s.name);
    expect(applied).toEqual(
      expect.arrayContaining([
        'listening-port',
        'listening-ip',
        'relay-ip',
        'external-ip',
        'min-port',
        'max-port',
        'realm',
        'server-name',
        'lt-cred-mech',
        'no-auth',
        'user',
        'stale-nonce',
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
        'max-allocate-lifetime',
        'permission-lifetime',
        'channel-lifetime',
        'fingerprint',
        'no-software-attribute',
        'pidfile',
        'log-file',
        'no-stdout-log',
        'simple-log',
        'syslog',
        'verbose',
        'Verbose',
        'strict-channel-numbers',
      ]),
    );
  });
});

describe('help and docs', () => {
  it('help lists every option with its flags', () => {
    const help = renderHelp();
    expect(help.startsWith('Usage: turnserver [options]\n')).toBe(true);
    for (const spec of OPTION_TABLE)
      expect(help, spec.name).toContain(spec.name.length === 1 ? `-${spec.name}` : `--${spec.name}`);
    expect(help).toContain('  -p, --listening-port <port>\n        Listener port for UDP and TCP. Default: 3478.');
    expect(help).toMatch(/--cli-port <number>\n\s+Telnet CLI port\. Default: 5766\. \[not planned:/);
  });

  it('docs/coturn-options.md opens with the ini decision and holds the generated table', () => {
    const firstSection = /^## (.+)$/m.exec(DOCS)?.[1];
    expect(firstSection).toBe('Why not the ini package');
    const table = /<!-- BEGIN OPTION TABLE -->\n([\s\S]*)<!-- END OPTION TABLE -->/.exec(DOCS)?.[1];
    // When this fails, regenerate the table with the command given in the .md.
    expect(table).toBe(renderOptionsMarkdown());
  });
});
