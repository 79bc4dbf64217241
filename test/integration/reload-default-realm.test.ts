// With no realm set, the realm is the host's name as the server read it at start. A reload
// reads the file again, but not the host's name: were the host renamed since, a new realm
// would answer every client's next request with 401 (a re-authentication storm).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { ConfigReloader } from '../../src/lifecycle/reload.js';
import { createLogger } from '../../src/log/logger.js';
import { createTurnServer } from '../../src/server.js';
import { StunClass } from '../../src/stun/index.js';
import { cleanupAfterEach } from '../support/cleanups.js';
import { freePortRange, freeUdpPort } from '../support/ports.js';
import { UdpTestClient } from '../support/turn-client.js';

const HOST = '127.0.0.1';
const CAROL = { username: 'carol', password: 'carol-Pa55' };
const cleanups = cleanupAfterEach();

describe('a reload with still no realm set', () => {
  it('keeps the realm named after the host at start, whatever the host is called now', async () => {
    const startedAs = `not-${os.hostname()}.example`;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'turnpike-realm-reload-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const minPort = await freePortRange(HOST, 10);
    const lines = [
      `listening-ip=${HOST}`, `listening-port=${await freeUdpPort(HOST)}`, `relay-ip=${HOST}`, `min-port=${minPort}`,
      `max-port=${minPort + 9}`, 'no-tcp', 'no-tls', 'no-dtls', 'lt-cred-mech', `user=${CAROL.username}:${CAROL.password}`,
    ];
    const conf = path.join(dir, 'turnserver.conf');
    fs.writeFileSync(conf, `${lines.join('\n')}\n`);
    const argv = ['-c', conf];
    const { options } = loadConfig(argv, { hostname: startedAs });
    const server = await createTurnServer(options);
    cleanups.push(() => server.close());
    const reloader = new ConfigReloader(argv, options, server, createLogger({ level: 'error', noStdout: true }), { hostname: startedAs });

    const carol = await UdpTestClient.open(server.udpAddresses[0]!, CAROL);
    cleanups.push(() => carol.close());
    expect((await carol.allocate()).cls).toBe(StunClass.SuccessResponse);
    expect(carol.realm).toBe(startedAs);

    fs.writeFileSync(conf, `${[...lines, 'user=dave:dave-Pa55'].join('\n')}\n`);
    expect(await reloader.reload()).toEqual({ ok: true, applied: ['user'], needsRestart: [] });
    // Signed with the realm and nonce learned before the reload.
    expect((await carol.refresh(600)).cls).toBe(StunClass.SuccessResponse);
  });
});
