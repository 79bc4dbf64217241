// Log line formats: coturn's strftime timestamps, JSON lines for log shippers, no secrets.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { renderLine } from '../../../src/log/line-format.js';
import { createLogger } from '../../../src/log/logger.js';
import { COTURN_TIMESTAMP_FORMAT, strftime } from '../../../src/log/strftime.js';
import { loadConfig } from '../../../src/config/index.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
const tempFile = (name: string) => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'turnpike-log-'));
  dirs.push(d);
  return path.join(d, name);
};

// A local-time date, so that every code is checked against the getters strftime uses.
const DATE = new Date(2026, 1, 3, 4, 5, 6, 789); // Tue 3 Feb 2026 04:05:06.789, local time

describe('strftime', () => {
  const offset = (() => {
    const m = -DATE.getTimezoneOffset();
    const abs = Math.abs(m);
    return `${m < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}${String(abs % 60).padStart(2, '0')}`;
  })();

  it("formats coturn's default %FT%T%z", () => {
    expect(strftime(COTURN_TIMESTAMP_FORMAT, DATE)).toBe(`2026-02-03T04:05:06${offset}`);
  });

  it('formats the common codes', () => {
    expect(strftime('%Y %y %C %m %d %e %j %H %k %I %l %M %S %p %P', DATE)).toBe('2026 26 20 02 03  3 034 04  4 04  4 05 06 AM am');
    expect(strftime('%a %A %b %h %B %u %w', DATE)).toBe('Tue Tuesday Feb Feb February 2 2');
    expect(strftime('%D|%R|%r|%T|%F|%x|%X', DATE)).toBe('02/03/26|04:05|04:05:06 AM|04:05:06|2026-02-03|02/03/26|04:05:06');
    expect(strftime('%c', DATE)).toBe('Tue Feb  3 04:05:06 2026');
    expect(strftime('%s', DATE)).toBe(String(Math.floor(DATE.getTime() / 1000)));
    expect(strftime('100%% %n%t', DATE)).toBe('100% \n\t');
    expect(strftime('%Z', DATE).length).toBeGreaterThan(0);
  });

  it('copies unknown codes as they are, as glibc does', () => {
    expect(strftime('%Q %Y', DATE)).toBe('%Q 2026');
  });

  it("formats the example of coturn's reference config", () => {
    expect(strftime('%d/%m/%Y_%H:%M:%S.%j', DATE)).toBe('03/02/2026_04:05:06.034');
  });
});

describe('log lines', () => {
  it('are text with an ISO-8601 UTC timestamp by default', () => {
    expect(renderLine('info', 'hello', undefined, DATE, { format: 'text' })).toBe(`${DATE.toISOString()} INFO: hello\n`);
  });

  it("put coturn's timestamp first with new-log-timestamp", () => {
    expect(renderLine('warn', 'hello', { user: 'x' }, DATE, { format: 'text', timestampFormat: '%F %T' })).toBe('2026-02-03 04:05:06: WARN: hello\n');
  });

  it('are one JSON object per line with json, structured fields included', () => {
    const line = renderLine('info', 'allocation ended', { user: 'alice', bytes: 12, ok: true, none: undefined, message: 'shadow' }, DATE, { format: 'json' });
    expect(line.endsWith('\n')).toBe(true);
    expect(line.trim()).not.toContain('\n');
    expect(JSON.parse(line)).toEqual({ time: DATE.toISOString(), level: 'info', message: 'allocation ended', user: 'alice', bytes: 12, ok: true, message_: 'shadow' });
  });

  it('never carry a field that may hold a credential', () => {
    const fields = { password: 'p1', 'pkey-pwd': 'p2', 'static-auth-secret': 'p3', hmackey: 'p4', key: 'p5', credential: 'p6', user: 'alice' };
    const line = renderLine('info', 'm', fields, DATE, { format: 'json' });
    for (const secret of ['p1', 'p2', 'p3', 'p4', 'p5', 'p6']) expect(line).not.toContain(secret);
    expect(JSON.parse(line).user).toBe('alice');
  });
});

describe('the logger', () => {
  it('writes JSON lines to the file with log-format json', () => {
    const file = tempFile('turn.json');
    const logger = createLogger({ level: 'info', file, noStdout: true, simpleLog: true, format: 'json' });
    logger.info('one', { relay: '127.0.0.1:50000' });
    logger.warn('two');
    logger.close();
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => [l.level, l.message, l.relay])).toEqual([['info', 'one', '127.0.0.1:50000'], ['warn', 'two', undefined]]);
  });

  it('reopens the file by name: a renamed file keeps the old lines, the new one gets the rest', () => {
    const file = tempFile('turn.log');
    const logger = createLogger({ level: 'info', file, noStdout: true, simpleLog: true });
    logger.info('before rotation');
    fs.renameSync(file, `${file}.1`);
    logger.info('still the old file');
    logger.reopen();
    logger.info('after rotation');
    logger.close();
    expect(fs.readFileSync(`${file}.1`, 'utf8')).toMatch(/before rotation\n.*still the old file\n$/);
    expect(fs.readFileSync(file, 'utf8')).toMatch(/^\S+ INFO: after rotation\n$/);
  });

  it('keeps going when the file cannot be written', () => {
    const logger = createLogger({ level: 'info', file: path.join(tempFile('x'), 'missing-dir', 'turn.log'), noStdout: true, simpleLog: true });
    expect(() => logger.info('nowhere to go')).not.toThrow();
    logger.close();
  });
});

describe('the log options', () => {
  const load = (...args: string[]) => loadConfig(['-n', ...args]);

  it("give coturn's timestamp format with new-log-timestamp, and the given one with -format", () => {
    expect(load().options.logTimestampFormat).toBeUndefined();
    expect(load('--new-log-timestamp').options.logTimestampFormat).toBe('%FT%T%z');
    expect(load('--new-log-timestamp', '--new-log-timestamp-format', '%H:%M').options.logTimestampFormat).toBe('%H:%M');
  });

  it('warn that the format alone does nothing, as in coturn', () => {
    const loaded = load('--new-log-timestamp-format', '%H:%M');
    expect(loaded.options.logTimestampFormat).toBeUndefined();
    expect(loaded.warnings.join('\n')).toMatch(/new-log-timestamp-format has no effect without new-log-timestamp/);
  });

  it('take log-format text or json only', () => {
    expect(load().options.logFormat).toBe('text');
    expect(load('--log-format', 'json').options.logFormat).toBe('json');
    expect(() => load('--log-format', 'xml')).toThrow(/log-format/);
  });
});
