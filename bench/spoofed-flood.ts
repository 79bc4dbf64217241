// Server CPU per spoofed request: minimal 28-byte Allocates (a new transaction each) from one
// loopback source the server has not seen, sent at a bounded rate, and the server's on-CPU
// time over the flood. Turnpike withholds most of the 401s (the reply budget), coturn answers
// each. Turnpike, coturn and other builds (FLOOD_BASELINE_CLI, as SETUP_BASELINE_CLI) in one
// run, each server in turn, FLOOD_RUNS times. No scrape of the server during the flood: it would
// cost the server more CPU than the flood.
import dgram from 'node:dgram';
import { envInt } from './env.js';
import { freshLoopbackAddresses } from './fresh-source-tap.js';
import { processCpuNs } from './process-cpu.js';
import { runMain } from './run-main.js';
import { minimalAllocate } from './spoofed-allocates.js';
import { SETUP_HOST, otherBuilds, startReferenceServer, startTurnpikeServer, type SetupServer } from './setup-servers.js';

const REQUESTS = envInt('FLOOD_REQUESTS', 40_000);
const PER_MS = envInt('FLOOD_PER_MS', 20);
const RUNS = envInt('FLOOD_RUNS', 3);

/** Server on-CPU µs per request over one flood from `source`, and the answers that came back. */
async function flood(server: SetupServer, source: string): Promise<{ usPerRequest: number; answers: number }> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, source, resolve));
  let answers = 0;
  socket.on('message', () => void answers++);
  const settle = () => new Promise((resolve) => setTimeout(resolve, 300));
  try {
    await settle();
    const cpu0 = processCpuNs(server.pid);
    const deadline = Date.now() + 60_000;
    for (let sent = 0; sent < REQUESTS && Date.now() < deadline; ) {
      for (let i = 0; i < PER_MS && sent < REQUESTS; i++, sent++) socket.send(minimalAllocate(), server.port, SETUP_HOST);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await settle();
    return { usPerRequest: (processCpuNs(server.pid) - cpu0) / 1000 / REQUESTS, answers };
  } finally {
    await new Promise<void>((resolve) => socket.close(() => resolve()));
  }
}

async function main(): Promise<number> {
  const servers = [await startTurnpikeServer(), await startReferenceServer()];
  for (const build of otherBuilds(process.env.FLOOD_BASELINE_CLI)) servers.push(await startTurnpikeServer([], undefined, build));
  const fresh = freshLoopbackAddresses();
  const figures = new Map<string, number[]>(servers.map((s) => [s.name, []]));
  console.log(`server CPU per spoofed request: ${REQUESTS} minimal Allocates from one fresh source, ${PER_MS} a millisecond at most`);
  try {
    for (let run = 0; run < RUNS; run++) {
      for (const s of servers.map((_, i) => servers[(i + run) % servers.length]!)) {
        const { usPerRequest, answers } = await flood(s, fresh());
        figures.get(s.name)!.push(usPerRequest);
        console.log(`  run ${run + 1} ${s.name.padEnd(9)} ${usPerRequest.toFixed(2)} µs a request, ${answers} answers`);
      }
    }
    const coturn = figures.get('coturn')!;
    for (const [name, list] of figures) {
      if (name === 'coturn') continue;
      console.log(`  ${name.padEnd(9)} / coturn: ${list.map((x, i) => (x / coturn[i]!).toFixed(2)).join(', ')}`);
    }
  } finally {
    for (const s of servers) await s.stop();
  }
  return 0;
}

runMain(main);
