// Log files are where operators look first: the names coturn uses, and the levels it filters.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger, datedLogFileName } from '../../../src/log/logger.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
const tempDir = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'turnpike-log-'));
  dirs.push(d);
  return d;
};

describe('logger', () => {
  it('names files as coturn 4.6.1 does without simple-log', () => {
    const day = new Date('2026-11-25T12:00:00Z');
    expect(datedLogFileName('/var/log/turn.log', day)).toBe('/var/log/turn_2026-11-25.log');
    expect(datedLogFileName('/var/log/turnlog', day)).toBe('/var/log/turnlog_2026-11-25.log');
  });

  it('writes the dated file by default and the named file with simple-log', () => {
    const dir = tempDir();
    const dated = createLogger({ level: 'info', file: path.join(dir, 'turn.log'), noStdout: true });
    dated.info('dated line');
    dated.close();
    const simple = createLogger({ level: 'info', file: path.join(dir, 'plain.log'), noStdout: true, simpleLog: true });
    simple.info('plain line');
    simple.close();
    const files = fs.readdirSync(dir).sort();
    expect(files).toEqual([path.basename(datedLogFileName('turn.log', new Date())), 'plain.log'].sort());
    expect(fs.readFileSync(path.join(dir, 'plain.log'), 'utf8')).toMatch(/INFO: plain line\n$/);
  });

  it('filters by level: verbose lines only with verbose, debug only with Verbose', () => {
    const dir = tempDir();
    const file = path.join(dir, 'levels.log');
    for (const level of ['info', 'verbose', 'debug'] as const) {
      const logger = createLogger({ level, file, noStdout: true, simpleLog: true });
      logger.verbose(`verbose@${level}`);
      logger.debug(`debug@${level}`);
      logger.close();
    }
    const text = fs.readFileSync(file, 'utf8');
    expect(text).not.toContain('verbose@info');
    expect(text).toContain('verbose@verbose');
    expect(text).not.toContain('debug@verbose');
    expect(text).toContain('debug@debug');
  });

  it('changes its level while running (turnpike admin loglevel)', () => {
    const file = path.join(tempDir(), 'runtime.log');
    const logger = createLogger({ level: 'info', file, noStdout: true, simpleLog: true });
    logger.debug('before');
    logger.setLevel('debug');
    logger.debug('after');
    logger.setLevel('error');
    logger.warn('hidden');
    expect(logger.level).toBe('error');
    logger.close();
    const text = fs.readFileSync(file, 'utf8');
    expect(text).not.toContain('before');
    expect(text).toMatch(/DEBUG: after\n$/);
  });
});
