// What a request costs a server that was idle before it, Turnpike vs coturn in ONE run: Binding
// requests (the least work either server does for a request: no credentials, no state), each
// sent after IDLE_GAP_MS of quiet, timed from send to answer, with the server's on-CPU time for
// each (all its threads, less what it burns idle: timers). Back-to-back Bindings are timed too.
// Between a call's requests, and between calls, a server sleeps: its caches and TLB are then cold
// (on this shared 2-core VM, more so), and a request costs what its whole path touches, not what
// its warm instructions take (docs/performance.md, call setup latency).
// Run: npx tsx bench/idle-binding.ts (builds nothing: run `npx tsc -p tsconfig.json` first).
// Env: IDLE_GAP_MS (default 30), IDLE_REQUESTS (per server and round, default 60), IDLE_ROUNDS
// (default 2), SETUP_RELAY_THREADS (both servers'), SETUP_PROMETHEUS (bench/setup-servers.ts),
// SETUP_BASELINE_CLI (other builds of Turnpike timed in the same run, `NAME=path/to/turnpike.js,…`).
// Each round measures the servers in turn, in reverse order every other round, so that load
// drift does not always favour the same one.
import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { MessageBuilder, Method, StunClass } from '../src/stun/index.js';
import { envInt } from './env.js';
import { processCpuNs } from './process-cpu.js';
import { median } from './quantiles.js';
import { runMain } from './run-main.js';
import { SETUP_HOST, otherBuilds, startReferenceServer, startTurnpikeServer, startTurnpikeServers, type SetupServer } from './setup-servers.js';

const GAP_MS = envInt('IDLE_GAP_MS', 30, 0);
const REQUESTS = envInt('IDLE_REQUESTS', 60);
const ROUNDS = envInt('IDLE_ROUNDS', 2);
/** A bound on a lost answer, not an expectation of speed. */
const ANSWER_TIMEOUT_MS = 1000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function exchange(socket: dgram.Socket, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no Binding answer')), ANSWER_TIMEOUT_MS);
    socket.once('message', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.send(new MessageBuilder(Method.Binding, StunClass.Request).build(), port, SETUP_HOST);
  });
}

/** Round trip and server on-CPU µs (medians) of Bindings each sent after `gap` ms of quiet. */
async function measure(socket: dgram.Socket, server: SetupServer, gap: number): Promise<{ rtt: number; cpu: number }> {
  // What the server burns while idle (its timers), to take out of each request's share.
  const c0 = processCpuNs(server.pid);
  const t0 = performance.now();
  await sleep(Math.max(200, gap * 5));
  const idleNsPerMs = (processCpuNs(server.pid) - c0) / (performance.now() - t0);
  const rtts: number[] = [];
  const cpus: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    if (gap > 0) await sleep(gap);
    const c1 = processCpuNs(server.pid);
    const t1 = performance.now();
    await exchange(socket, server.port);
    const ms = performance.now() - t1;
    rtts.push(ms * 1000);
    cpus.push((processCpuNs(server.pid) - c1 - idleNsPerMs * ms) / 1000);
  }
  return { rtt: median(rtts), cpu: median(cpus) };
}

async function main(): Promise<number> {
  const servers = [...(await startTurnpikeServers([], 100)), await startReferenceServer(100)];
  for (const build of otherBuilds(process.env.SETUP_BASELINE_CLI)) servers.push(await startTurnpikeServer([], 100, build));
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, SETUP_HOST, () => resolve()));
  try {
    console.log(`Binding round trip and server on-CPU time, µs (median of ${REQUESTS}), back-to-back and after ${GAP_MS} ms idle`);
    for (let round = 0; round < ROUNDS; round++) {
      for (const gap of [0, GAP_MS]) {
        const cells = new Map<SetupServer, string>();
        for (const s of round % 2 === 0 ? servers : [...servers].reverse()) {
          const { rtt, cpu } = await measure(socket, s, gap);
          cells.set(s, `${s.name} ${rtt.toFixed(0)} rtt, ${cpu.toFixed(0)} cpu`);
        }
        console.log(`  round ${round + 1}, ${gap === 0 ? 'back-to-back  ' : `after ${gap} ms idle`}: ${servers.map((s) => cells.get(s)).join('   ')}`);
      }
    }
  } finally {
    socket.close();
    for (const s of servers) await s.stop();
  }
  return 0;
}

runMain(main);
