// config/turnpike.service as systemd reads it: `systemd-analyze verify` (no running systemd
// needed) must have nothing to say about it.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ROOT, TURNPIKE_CLI } from '../support/turnpike-process.js';

const UNIT = fs.readFileSync(path.join(ROOT, 'config/turnpike.service'), 'utf8');
const INSTALLED = '/usr/local/bin/turnpike';

describe('config/turnpike.service', () => {
  it('passes systemd-analyze verify without a warning', async () => {
    expect(UNIT).toContain(`ExecStart=${INSTALLED} serve -c /etc/turnpike/turnserver.conf`);
    // verify checks that the command exists: point it at this checkout's build instead.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'turnpike-unit-'));
    try {
      const unit = path.join(dir, 'turnpike.service');
      fs.writeFileSync(unit, UNIT.replace(`ExecStart=${INSTALLED}`, `ExecStart=${process.execPath} ${TURNPIKE_CLI}`));
      const { stdout, stderr } = await promisify(execFile)('systemd-analyze', ['verify', unit]);
      expect(stdout + stderr).toBe('');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is a notify unit that reloads with SIGHUP and binds low ports without root', () => {
    const settings = new Set(UNIT.split('\n').filter((line) => /^\w+=/.test(line)));
    for (const line of ['Type=notify', 'ExecReload=/bin/kill -HUP $MAINPID', 'KillSignal=SIGTERM', 'User=turnpike', 'AmbientCapabilities=CAP_NET_BIND_SERVICE', 'NoNewPrivileges=yes', 'ProtectSystem=strict'])
      expect(settings, line).toContain(line);
  });
});
