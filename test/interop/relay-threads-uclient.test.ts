// coturn's turnutils_uclient -T (RFC 6062 client to client) against relay worker threads,
// through the library API (relayThreads is not on the command line yet): allocations, and
// data connections, land on both workers.
import { describe, expect, it } from 'vitest';
import { recordingLogger } from '../support/recording-logger.js';
import { cleanupAfterEach } from '../support/cleanups.js';
import { runUclient } from '../support/coturn-tools.js';
import { freePortRange } from '../support/ports.js';
import { startInProcessServer } from '../support/in-process-server.js';
import { ALICE } from '../support/server-options.js';

const cleanups = cleanupAfterEach();

describe('turnutils_uclient -T against relayThreads 2', () => {
  it('relays client to client through TCP allocations on both workers with 0 lost', async () => {
    const { logger, lines } = recordingLogger();
    const first = await freePortRange('127.0.0.1', 100);
    const server = await startInProcessServer(cleanups, { relayThreads: 2, noTcp: false, minPort: first, maxPort: first + 99 }, logger);
    const { address, port } = server.streamAddresses[0]!;
    const r = await runUclient({ host: address, port, user: ALICE.username, password: ALICE.password, clients: 8, messages: 50, length: 100, extraArgs: ['-T'], timeoutMs: 45_000 });
    expect(r.exitCode, r.output).toBe(0);
    expect(r.sent).toBe(400);
    expect(r.received).toBe(400);
    expect(r.lostPackets).toBe(0);
    // Data connections reached another worker than their allocation (about half of the dozens made).
    expect(lines.filter((l) => l.includes('ConnectionBind for CONNECTION-ID')).length).toBeGreaterThan(0);
  });
});
