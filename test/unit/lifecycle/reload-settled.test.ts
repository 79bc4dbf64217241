// A stop waits for a reload under way (serve.ts): the reload is not put in force on a closing
// server, and its line comes before "stopped". A reload that never ends must not hold the stop.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.js';
import type { ServerOptions } from '../../../src/config/server-options.js';
import { ConfigReloader } from '../../../src/lifecycle/reload.js';
import { cleanupAfterEach } from '../../support/cleanups.js';

const cleanups = cleanupAfterEach();

/** A reloader over a real file, whose server puts options in force when `release` is called. */
function reloaderWithHeldReconfigure(): { reloader: ConfigReloader; lines: string[]; release: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'turnpike-reload-settled-'));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  const conf = path.join(dir, 'turnserver.conf');
  fs.writeFileSync(conf, 'realm=settled.example\nlt-cred-mech\nuser=ann:ann-Pa55\n');
  const argv = ['-c', conf];
  const { options } = loadConfig(argv);
  const lines: string[] = [];
  let release = (): void => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  const server = { reconfigure: (_next: ServerOptions) => held, reloadCertificates: () => true };
  const log = (message: string): void => void lines.push(message);
  const logger = { info: log, warn: log, error: log, setLevel: () => {} };
  return { reloader: new ConfigReloader(argv, options, server, logger), lines, release };
}

describe('ConfigReloader.settled', () => {
  it('resolves only once the reload under way has been put in force', async () => {
    const { reloader, lines, release } = reloaderWithHeldReconfigure();
    void reloader.reload();
    let settled = false;
    const waiting = reloader.settled(60_000).then(() => {
      settled = true;
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(settled).toBe(false);
    release();
    await waiting;
    expect(lines).toEqual(['configuration reloaded: nothing changed']);
  });

  it('gives up on a reload that does not end within the time given', async () => {
    const { reloader, lines } = reloaderWithHeldReconfigure();
    void reloader.reload();
    await reloader.settled(50);
    expect(lines).toEqual([]);
  });

  it('resolves at once when no reload was asked for (else the test times out)', async () => {
    const { reloader, lines } = reloaderWithHeldReconfigure();
    await reloader.settled(60_000);
    expect(lines).toEqual([]);
  });
});
