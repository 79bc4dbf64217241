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
//
// Two more hops run in a Node process with the per-datagram work in an addon
// (udp-floor/native-hop.c, built here with gcc against the running Node's headers; skipped with
// a message when that fails): `native`, recvmmsg/sendmmsg on Node's event loop with no JS per
// datagram, and `batch`, the same with one JS call per loop turn that routes the turn's datagrams.
// `C mmsg` is the C relay batched the same way, so batching and Node's share can be told apart.
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

interface Hop { readonly relayed: number; readonly userUs: number; readonly sysUs: number; readonly batches?: number }

const perPacket = (hop: Hop) => (hop.userUs + hop.sysUs) / hop.relayed;

function compile(dir: string): void {
  for (const name of ['relay', 'load', 'sink']) {
    execFileSync('gcc', ['-O2', '-o', path.join(dir, name), path.join(SOURCES, `${name}.c`)]);
  }
}

/** The running Node's headers: next to its binary, or in the `node` package's platform package. */
function nodeHeaders(): string | undefined {
  const candidates = [
    path.resolve(process.execPath, '../../include/node'),
    path.resolve(process.execPath, `../../node_modules/node-${process.platform}-${process.arch}/include/node`),
  ];
  return candidates.find((dir) => fs.existsSync(path.join(dir, 'node_api.h')));
}

/** native-hop.c as a .node file, or why it could not be built (no network: gcc, not node-gyp). */
function compileAddon(dir: string): { addon: string } | { skipped: string } {
  const headers = nodeHeaders();
  if (!headers) return { skipped: `no node_api.h for ${process.execPath}` };
  const addon = path.join(dir, 'native-hop.node');
  try {
    execFileSync('gcc', ['-O2', '-shared', '-fPIC', '-DNODE_GYP_MODULE_NAME=native_hop', `-I${headers}`,
      '-o', addon, path.join(SOURCES, 'native-hop.c')], { stdio: 'pipe' });
    return { addon };
  } catch (error) {
    return { skipped: `gcc failed: ${String((error as { stderr?: Buffer }).stderr ?? error).trim().split('\n')[0]}` };
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
    const [, relayed, user, sys, batches] = (await relay.waitForOutput(/relayed (\d+) user (\d+) sys (\d+)(?: batches (\d+))?/, 30_000))
      .map((field) => (field === undefined ? undefined : Number(field)));
    return { relayed: relayed!, userUs: user!, sysUs: sys!, ...(batches ? { batches } : {}) };
  } finally {
    await relay.stop();
  }
}

const describe = (name: string, hop: Hop) =>
  `${name.padEnd(7)} ${String(hop.relayed).padStart(7)} relayed  user ${(hop.userUs / hop.relayed).toFixed(2)}  `
  + `sys ${(hop.sysUs / hop.relayed).toFixed(2)}  total ${perPacket(hop).toFixed(2)} µs/datagram`
  + (hop.batches ? `  ${(hop.relayed / hop.batches).toFixed(1)}/batch` : '');

async function main(): Promise<number> {
  console.log(`UDP floor: ${PACKETS} datagrams of ${LENGTH} B at ${RATE}/s over ${SOCKETS} sockets; ${RUNS} runs`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'udp-floor-'));
  try {
    compile(dir);
    const sink = startProcess(path.join(dir, 'sink'), []);
    const sinkPort = Number((await sink.waitForOutput(/^(\d+)$/m, 5000))[1]);
    const built = compileAddon(dir);
    if ('skipped' in built) console.log(`native and batch hops skipped: ${built.skipped}`);
    const relay = path.join(dir, 'relay');
    const others: [string, string, string[]][] = [
      ['C mmsg', relay, ['mmsg']],
      ['Node', process.execPath, [path.join(SOURCES, 'node-relay.mjs')]],
      ...('addon' in built ? ['native', 'batch'].map((mode): [string, string, string[]] =>
        [mode, process.execPath, [path.join(SOURCES, 'native-relay.mjs'), built.addon, mode]]) : []),
    ];
    const ratios = new Map<string, number[]>();
    for (let run = 1; run <= RUNS; run++) {
      const c = await runHop(dir, sinkPort, relay, []);
      console.log(`run ${run}\n  ${describe('C', c)}`);
      const baselines: [string, Hop][] = [['C', c]];
      for (const [name, command, args] of others) {
        const hop = await runHop(dir, sinkPort, command, args);
        const against = baselines.map(([base, baseHop]) => {
          const key = `${name}/${base}`;
          ratios.set(key, [...ratios.get(key) ?? [], perPacket(hop) / perPacket(baseHop)]);
          return `${key} ${ratios.get(key)!.at(-1)!.toFixed(2)}`;
        });
        console.log(`  ${describe(name, hop)}  ${against.join('  ')}`);
        if (name === 'C mmsg') baselines.push([name, hop]);
      }
    }
    for (const [key, list] of ratios) {
      console.log(`${key} per relayed datagram: ${Math.min(...list).toFixed(2)}-${Math.max(...list).toFixed(2)}`);
    }
    await sink.stop();
    return 0;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

runMain(main);
