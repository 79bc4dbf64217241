// The floor under Turnpike's UDP figure: a bare relay hop (receive a datagram, send it on) in
// C and in Node's dgram, in ONE run, same machine, same offered load.
// Run: npx tsx bench/udp-floor.ts  (needs gcc)
//
// Each relay listens on BENCH_FLOOR_SOCKETS ports, as a server with that many clients does, and
// sends every datagram on, unconnected, to a sink that drains them; a C load generator offers
// BENCH_FLOOR_PACKETS datagrams of 100 bytes round robin at BENCH_FLOOR_RATE per second. The
// figure is each relay's own CPU (user + system, from its first datagram on) per relayed
// datagram; Node/C is as close as a dgram server can get to coturn (relay-bench.ts), before
// it parses, looks up or counts anything. BENCH_FLOOR_RUNS rounds, C and Node alternating.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePortRange } from '../test/support/ports.js';
import { startProcess } from '../test/support/processes.js';
import { envInt } from './env.js';
import { runMain } from './run-main.js';

const HOST = '127.0.0.1';
const SOURCES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'udp-floor');
const PACKETS = envInt('BENCH_FLOOR_PACKETS', 50_000);
const RATE = envInt('BENCH_FLOOR_RATE', 10_000);
const SOCKETS = envInt('BENCH_FLOOR_SOCKETS', 100);
const RUNS = envInt('BENCH_FLOOR_RUNS', 3);
const LENGTH = 100;

interface Hop { readonly relayed: number; readonly userUs: number; readonly sysUs: number }

const perPacket = (hop: Hop) => (hop.userUs + hop.sysUs) / hop.relayed;

function compile(dir: string): void {
  for (const name of ['relay', 'load', 'sink']) {
    execFileSync('gcc', ['-O2', '-o', path.join(dir, name), path.join(SOURCES, `${name}.c`)]);
  }
}

/** One relay (`command args`) under the load; its own report of what it relayed and spent. */
async function runHop(dir: string, sinkPort: number, command: string, args: string[]): Promise<Hop> {
  const base = await freePortRange(HOST, SOCKETS);
  const relay = startProcess(command, [...args, String(base), String(SOCKETS), String(sinkPort), String(PACKETS)]);
  try {
    await relay.waitForOutput(/^ready$/m, 10_000);
    const load = startProcess(path.join(dir, 'load'), [String(base), String(SOCKETS), String(PACKETS), String(RATE), String(LENGTH)]);
    await load.exited;
    const [, relayed, user, sys] = (await relay.waitForOutput(/relayed (\d+) user (\d+) sys (\d+)/, 30_000)).map(Number);
    return { relayed: relayed!, userUs: user!, sysUs: sys! };
  } finally {
    await relay.stop();
  }
}

const describe = (name: string, hop: Hop) =>
  `${name.padEnd(5)} ${String(hop.relayed).padStart(7)} relayed  user ${(hop.userUs / hop.relayed).toFixed(2)}  `
  + `sys ${(hop.sysUs / hop.relayed).toFixed(2)}  total ${perPacket(hop).toFixed(2)} µs/datagram`;

async function main(): Promise<number> {
  console.log(`UDP floor: ${PACKETS} datagrams of ${LENGTH} B at ${RATE}/s over ${SOCKETS} sockets; ${RUNS} runs`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'udp-floor-'));
  try {
    compile(dir);
    const sink = startProcess(path.join(dir, 'sink'), []);
    const sinkPort = Number((await sink.waitForOutput(/^(\d+)$/m, 5000))[1]);
    const ratios: number[] = [];
    for (let run = 1; run <= RUNS; run++) {
      const c = await runHop(dir, sinkPort, path.join(dir, 'relay'), []);
      const node = await runHop(dir, sinkPort, process.execPath, [path.join(SOURCES, 'node-relay.mjs')]);
      ratios.push(perPacket(node) / perPacket(c));
      console.log(`run ${run}\n  ${describe('C', c)}\n  ${describe('Node', node)}\n  Node/C ${ratios.at(-1)!.toFixed(2)}`);
    }
    console.log(`Node/C per relayed datagram: ${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}`);
    await sink.stop();
    return 0;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

runMain(main);
