// docker/entrypoint.sh as a plain script, outside Docker: it starts the real built server
// with the image's defaults and the environment's settings, and runs other commands as given.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { AttributeType, readXorAddress } from '../../src/stun/index.js';
import { freePortRange, freeUdpPort } from '../support/ports.js';
import { startProcess, stopAllProcesses, waitForUdpStun, waitUntilReady, type ProcessHandle } from '../support/processes.js';
import { ROOT, TURNPIKE_CLI } from '../support/turnpike-process.js';
import { UdpTestClient } from '../support/turn-client.js';

const HOST = '127.0.0.1';
const ENTRYPOINT = path.join(ROOT, 'docker/entrypoint.sh');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'turnpike-entrypoint-'));
afterEach(() => stopAllProcesses());
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A configuration file as an operator would mount it at /etc/turnpike/turnserver.conf. */
async function writeConfig(name: string): Promise<{ file: string; port: number }> {
  const port = await freeUdpPort(HOST);
  const minPort = await freePortRange(HOST, 20);
  const file = path.join(dir, name);
  fs.writeFileSync(file, [
    `listening-ip=${HOST}`, `listening-port=${port}`, `relay-ip=${HOST}`, `min-port=${minPort}`, `max-port=${minPort + 19}`,
    'no-tcp', 'no-tls', 'no-dtls', 'lt-cred-mech', 'realm=entrypoint.example', 'user=alice:secret', '',
  ].join('\n'));
  return { file, port };
}

function entrypoint(args: string[], env: NodeJS.ProcessEnv): ProcessHandle {
  return startProcess('sh', [ENTRYPOINT, ...args], {
    cwd: dir,
    env: { ...process.env, PATH: `${path.dirname(process.execPath)}:${process.env['PATH']}`, TURNPIKE_CLI, ...env },
  });
}

describe('docker/entrypoint.sh', () => {
  it('serves with TURNPIKE_CONFIG and TURNPIKE_EXTERNAL_IP, as the exec-ed server process', async () => {
    const { file, port } = await writeConfig('env.conf');
    const server = entrypoint([], { TURNPIKE_CONFIG: file, TURNPIKE_EXTERNAL_IP: `203.0.113.9/${HOST}` });
    await waitUntilReady(server, waitForUdpStun(HOST, port, 10_000), 'entrypoint');
    const client = await UdpTestClient.open({ address: HOST, port }, { username: 'alice', password: 'secret' });
    const relay = readXorAddress(await client.allocate(), AttributeType.XorRelayedAddress);
    await client.close();
    // The relay is on 127.0.0.1; clients are told the public address it maps to.
    expect(relay?.address).toBe('203.0.113.9');
    // exec: the script's PID is now the server's, so SIGTERM reaches Node and it exits cleanly.
    expect(fs.readFileSync(`/proc/${server.pid}/cmdline`, 'utf8').split('\0')).toContain('serve');
    expect(await server.stop()).toEqual({ code: 0, signal: null });
  });

  it("lets a -c among the flags win over TURNPIKE_CONFIG, and runs Turnpike's other commands", async () => {
    const { file, port } = await writeConfig('flag.conf');
    const server = entrypoint(['-c', file], { TURNPIKE_CONFIG: path.join(dir, 'missing.conf') });
    await waitUntilReady(server, waitForUdpStun(HOST, port, 10_000), 'entrypoint');
    const check = entrypoint(['healthcheck', '--port', String(port)], {});
    expect((await check.exited).code, check.output).toBe(0);
    expect(check.stdout).toMatch(/^ok: /);
  });

  it('executes any other command as given', async () => {
    const echo = entrypoint(['echo', 'hello', 'from the container'], {});
    expect(await echo.exited).toEqual({ code: 0, signal: null });
    expect(echo.stdout).toBe('hello from the container\n');
  });
});
