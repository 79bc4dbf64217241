// Which Node.js runs Turnpike: the suite runs on the version package.json's engines names
// (npm ci puts it in node_modules/.bin, which npm scripts put first on PATH), and an older
// Node that runs the commands directly is told which version they need.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { REQUIRED_NODE_MAJOR, unsupportedNode } from '../../src/cli/supported-node.js';
import { startProcess, stopAllProcesses } from '../support/processes.js';
import { ROOT } from '../support/turnpike-process.js';

afterEach(() => stopAllProcesses());

const major = (version: string) => Number(version.replace(/^v/, '').split('.')[0]);

/** The first `node` on PATH outside this checkout (the machine's own), with its version. */
function machineNode(): { path: string; version: string } | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, 'node');
    if (!dir || path.resolve(dir).startsWith(ROOT) || !fs.existsSync(candidate)) continue;
    return { path: candidate, version: execFileSync(candidate, ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim() };
  }
  return undefined;
}

describe('the Node.js runtime', () => {
  it("runs the suite on the Node that engines requires, and on no older one", () => {
    const engines = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
    expect(engines).toBe(`>=${REQUIRED_NODE_MAJOR}`);
    console.log(`tests run on Node.js ${process.version} (${process.execPath})`);
    expect(major(process.version)).toBeGreaterThanOrEqual(REQUIRED_NODE_MAJOR);
  });

  it('accepts 24 and later, refuses 22 and older', () => {
    for (const ok of ['24.0.0', '24.21.0', '26.1.0']) expect(unsupportedNode('turnpike', ok, '/x/node')).toBeUndefined();
    for (const old of ['20.20.2', '22.16.0', '23.11.1']) expect(unsupportedNode('turnpike', old, '/x/node')).toMatch(/needs Node\.js 24 or later/);
  });

  const older = machineNode();
  // The machines this project runs on come with Node 20; one that ships 24 has nothing older to try.
  it.runIf(older !== undefined && major(older.version) < REQUIRED_NODE_MAJOR)(
    `tells a user who runs the commands with the machine's older Node (${older?.version}) which version they need, and exits 1`,
    async () => {
      for (const command of ['turnpike', 'turnserver', 'turnadmin']) {
        const proc = startProcess(older!.path, [path.join(ROOT, 'dist/cli', `${command}.js`), '--help'], { cwd: ROOT });
        expect(await proc.exited).toEqual({ code: 1, signal: null });
        expect(proc.stdout).toBe('');
        expect(proc.stderr).toBe(
          `${command}: needs Node.js 24 or later; this is Node.js v${older!.version} (${fs.realpathSync(older!.path)}).\n` +
            `${command}: \`npm ci\` in Turnpike's folder puts Node.js 24 in node_modules/.bin: ` +
            `run node_modules/.bin/node dist/cli/${command}.js (npm start and npm test use it)\n`,
        );
      }
    },
  );
});
