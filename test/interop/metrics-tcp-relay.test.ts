// RFC 6062 TCP relaying counts in the traffic metrics as UDP relaying does: after coturn's
// turnutils_uclient -T has relayed through a TCP allocation's data connections, the
// server-wide totals (turn_total_traffic_*), the per-realm series, `turnpike admin stats` and
// each allocation's "ended" log line hold at least the bytes uclient says it sent and got.
// A data connection is a byte stream: each read counts as one packet (as coturn 4.6.1 counts
// it), so packets are reads, not uclient's messages.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runUclient } from '../support/coturn-tools.js';
import { freePortRange, freeTcpPort, freeUdpTcpPort } from '../support/ports.js';
import { stopAllProcesses } from '../support/processes.js';
import { startTurnpike, TURNPIKE_CLI, type TurnpikeHandle } from '../support/turnpike-process.js';
import { valueOf } from '../unit/metrics/exposition.js';

const HOST = '127.0.0.1';
const REALM = 'tcp-relay.example';
const LOAD = { clients: 4, messages: 50, length: 100 };
const DIRECTIONS = ['rcv', 'sent', 'peer_rcv', 'peer_sent'] as const;

afterAll(() => stopAllProcesses());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Scrapes every 200 ms until `done` holds for a scrape; bounded by `tries`. */
async function scrapeUntil(url: string, done: (text: string) => boolean, what: string, tries = 150): Promise<string> {
  let last = '';
  for (let i = 0; i < tries; i++) {
    last = await (await fetch(url)).text();
    if (done(last)) return last;
    await sleep(200);
  }
  throw new Error(`no scrape showed ${what} after ${tries} tries; last:\n${last}`);
}

/** The sums of the "allocation N ended (...)" lines' figures in `output`. */
function endedTotals(output: string): { fromClientBytes: number; toClientBytes: number; fromClientPackets: number; toClientPackets: number } {
  const sums = { fromClientBytes: 0, toClientBytes: 0, fromClientPackets: 0, toClientPackets: 0 };
  for (const m of output.matchAll(/allocation \d+ ended \(.*from client (\d+) pkts\/(\d+) B, to client (\d+) pkts\/(\d+) B/g)) {
    sums.fromClientPackets += Number(m[1]);
    sums.fromClientBytes += Number(m[2]);
    sums.toClientPackets += Number(m[3]);
    sums.toClientBytes += Number(m[4]);
  }
  return sums;
}

/** `turnpike admin stats --json`: the engine's counters by name. */
function adminStats(socket: string): Record<string, number> {
  return JSON.parse(execFileSync(process.execPath, [TURNPIKE_CLI, 'admin', 'stats', '--json', '--socket', socket], { encoding: 'utf8' })) as Record<string, number>;
}

async function startServer(relayThreads: number, socket: string): Promise<{ server: TurnpikeHandle; port: number; url: string }> {
  const port = await freeUdpTcpPort(HOST);
  const metricsPort = await freeTcpPort(HOST);
  const minPort = await freePortRange(HOST, 100);
  const server = await startTurnpike(
    [
      '-n', '--listening-ip', HOST, '--listening-port', String(port), '--relay-ip', HOST,
      '--min-port', String(minPort), '--max-port', String(minPort + 99),
      '--lt-cred-mech', '--user', 'alice:secret', '--realm', REALM, '--allow-loopback-peers',
      '--no-tls', '--no-dtls', '--relay-threads', String(relayThreads), '--admin-socket', socket,
      '--prometheus', '--prometheus-port', String(metricsPort),
    ],
    HOST,
    port,
  );
  if (relayThreads > 1) await server.proc.waitForOutput(new RegExp(`relaying with ${relayThreads} worker threads`), 10_000);
  return { server, port, url: `http://${HOST}:${metricsPort}/metrics` };
}

describe('traffic metrics after turnutils_uclient -T (RFC 6062 TCP relay)', () => {
  it.each([1, 2])('count the data connections\' bytes, relay-threads %i', async (relayThreads) => {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'turnpike-tcp-metrics-'));
    try {
      const socket = path.join(folder, 'admin.sock');
      const { server, port, url } = await startServer(relayThreads, socket);
      const before = await (await fetch(url)).text();
      for (const d of DIRECTIONS) expect(valueOf(before, `turn_total_traffic_${d}b`), d).toBe(0);

      // -T implies -t -y -c: the clients Connect to each other's TCP relay addresses and send
      // over their data connections (coturn's turnutils_peer has no TCP mode).
      const r = await runUclient({ host: HOST, port, user: 'alice', password: 'secret', ...LOAD, extraArgs: ['-T'], timeoutMs: 60_000 });
      expect(r.exitCode, r.output).toBe(0);
      expect(r.sent).toBe(LOAD.clients * LOAD.messages);
      expect(r.lostPackets).toBe(0);
      const sentBytes = r.sentBytes!;
      const receivedBytes = r.receivedBytes!;
      expect(sentBytes).toBe(r.sent! * LOAD.length);
      expect(receivedBytes).toBe(r.received! * LOAD.length);

      // Bytes a client sent went to its peer; what reached a client came from its peer.
      const enough = (t: string) =>
        (valueOf(t, 'turn_total_traffic_rcvb') ?? 0) >= sentBytes && (valueOf(t, 'turn_total_traffic_sentb') ?? 0) >= receivedBytes;
      const after = await scrapeUntil(url, enough, `turn_total_traffic_* of ${sentBytes} B sent, ${receivedBytes} B received`);
      const expected = { rcvb: sentBytes, peer_sentb: sentBytes, sentb: receivedBytes, peer_rcvb: receivedBytes };
      for (const [suffix, bytes] of Object.entries(expected)) {
        expect(valueOf(after, `turn_total_traffic_${suffix}`), suffix).toBeGreaterThanOrEqual(bytes);
        expect(valueOf(after, `turn_traffic_${suffix}`, { realm: REALM }), suffix).toBeGreaterThanOrEqual(bytes);
      }
      // One packet per read: at least one, at most one per byte.
      for (const d of DIRECTIONS) {
        const packets = valueOf(after, `turn_total_traffic_${d}p`)!;
        expect(packets, d).toBeGreaterThan(0);
        expect(packets, d).toBeLessThanOrEqual(valueOf(after, `turn_total_traffic_${d}b`)!);
      }

      const stats = adminStats(socket);
      expect(stats.relayedToPeerBytes).toBeGreaterThanOrEqual(sentBytes);
      expect(stats.relayedToClientBytes).toBeGreaterThanOrEqual(receivedBytes);

      // uclient refreshes its allocations with lifetime 0 as it ends: their log lines say what each relayed.
      const exit = await server.proc.stop();
      expect(exit.code, server.proc.output).toBe(0);
      const ended = endedTotals(server.proc.output);
      expect(ended.fromClientBytes).toBeGreaterThanOrEqual(sentBytes);
      expect(ended.toClientBytes).toBeGreaterThanOrEqual(receivedBytes);
      expect(ended.fromClientBytes).toBe(valueOf(after, 'turn_total_traffic_rcvb'));
      expect(ended.toClientBytes).toBe(valueOf(after, 'turn_total_traffic_sentb'));
      expect(ended.fromClientPackets).toBe(valueOf(after, 'turn_total_traffic_rcvp'));
      expect(ended.toClientPackets).toBe(valueOf(after, 'turn_total_traffic_sentp'));
    } finally {
      fs.rmSync(folder, { recursive: true, force: true });
    }
  }, 90_000);
});
