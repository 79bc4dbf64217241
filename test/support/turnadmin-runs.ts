// coturn's turnadmin and Turnpike's, run side by side on one database: their stdout data lines.
import path from 'node:path';
import { expect } from 'vitest';
import { runCoturnTurnadmin } from './coturn-tools.js';
import { startProcess } from './processes.js';
import { ROOT } from './turnpike-process.js';

export const TURNADMIN_JS = path.join(ROOT, 'dist/cli/turnadmin.js');
// coturn's turnadmin prints its log lines on stdout too, after the data.
const COTURN_LOG_LINE = /^\d+: : /;

export interface TurnadminRuns {
  coturn(...args: string[]): Promise<string[]>;
  turnpike(...args: string[]): Promise<string[]>;
}

/** Runners in `dir` (coturn's tool writes files there); each expects exit status 0. */
export function turnadminRuns(dir: () => string): TurnadminRuns {
  const run = async (cmd: string, args: string[]): Promise<string[]> => {
    const proc = cmd === 'turnadmin' ? await runCoturnTurnadmin(args, dir()) : startProcess(cmd, args, { cwd: dir() });
    const { code } = await proc.exited;
    expect(code, `${cmd} ${args.join(' ')}\n${proc.stdout}\n${proc.stderr}`).toBe(0);
    return proc.stdout.split('\n').filter((l) => l !== '' && !COTURN_LOG_LINE.test(l));
  };
  return {
    coturn: (...args) => run('turnadmin', args),
    turnpike: (...args) => run(process.execPath, [TURNADMIN_JS, ...args]),
  };
}
