// `relay-threads` unset, as in coturn: `turnpike serve` relays on one worker thread per CPU,
// and on fewer when min-port..max-port has not two relay ports for each (each worker owns its
// port pairs), rather than refusing to start as an explicit relay-threads that large does.
import os from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { StunClass } from '../../src/stun/index.js';
import { freePortRange, freeTcpPort, freeUdpTcpPort } from '../support/ports.js';
import { stopAllProcesses } from '../support/processes.js';
import { UdpTestClient, type Credentials } from '../support/turn-client.js';
import { startTurnpike, type TurnpikeHandle } from '../support/turnpike-process.js';

const HOST = '127.0.0.1';
const ALICE: Credentials = { username: 'alice', password: 'alice-Pa55' };
const CPUS = os.availableParallelism();
const clients: UdpTestClient[] = [];
afterEach(async () => {
  clients.splice(0).forEach((c) => c.close());
  await stopAllProcesses();
});

async function serve(relayPorts: number, extra: string[] = []): Promise<TurnpikeHandle> {
  const port = await freeUdpTcpPort(HOST);
  const minPort = await freePortRange(HOST, relayPorts);
  return startTurnpike([
    '-n', '--listening-ip', HOST, '--listening-port', String(port), '--relay-ip', HOST,
    '--min-port', String(minPort), '--max-port', String(minPort + relayPorts - 1),
    '--realm', 'threads.example', '--user', `${ALICE.username}:${ALICE.password}`, '--no-tcp', '--no-tls', '--no-dtls', ...extra,
  ], HOST, port);
}

async function allocates(server: TurnpikeHandle): Promise<boolean> {
  const client = await UdpTestClient.open({ address: server.host, port: server.port }, ALICE);
  clients.push(client);
  return (await client.allocate()).cls === StunClass.SuccessResponse;
}

describe('relay-threads unset', () => {
  it.skipIf(CPUS < 2)('starts one relay worker per CPU', async () => {
    const server = await serve(40);
    await server.proc.waitForOutput(new RegExp(`relaying with ${CPUS} worker threads`), 10_000);
    expect(await allocates(server)).toBe(true);
  });

  it.skipIf(CPUS < 2)('starts fewer workers when the relay port range is narrow, and says why', async () => {
    const server = await serve(2);
    await server.proc.waitForOutput(/min-port\.\.max-port has 2 relay ports, 2 for each relay worker: starting 1 relay worker, not one per CPU/, 10_000);
    expect(await allocates(server)).toBe(true);
    expect(server.proc.output).not.toMatch(/relaying with \d+ worker threads/);
  });
});

describe('relay workers at start', () => {
  it('answer /metrics as soon as STUN is answered, as one thread does (the first worker answers before the others are up)', async () => {
    const metricsPort = await freeTcpPort(HOST);
    await serve(40, ['--relay-threads', '2', '--prometheus', '--prometheus-port', String(metricsPort)]);
    const response = await fetch(`http://${HOST}:${metricsPort}/metrics`);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('turn_total_allocations');
  });
});
