// Per-request latency of a TURN call's setup, Turnpike vs coturn in ONE run, over UDP: what a
// WebRTC client sends to get its relay candidate and let a peer in. Each round, a client on a
// loopback address neither server has seen sends, one after another and each timed from send
// to answer: Allocate (no credentials, the 401), Allocate (signed, the relay), CreatePermission,
// ChannelBind and Refresh. The servers take turns going first.
// Run: npx tsx bench/allocate-steps.ts (builds nothing: run `npx tsc -p tsconfig.json` first).
// Env: STEP_ROUNDS (default 200), STEP_WARMUP (clients each server serves untimed first, default
// 0: V8 optimizes Turnpike's request path over its first several hundred clients, so 800 or so
// shows a server that has been up a while), STEP_TURNPIKE_ARGS (extra flags for Turnpike, space-separated),
// STEP_GAP_MS (each client waits this long before its setup, default 0: servers idle between
// calls, as in bench:setup, run every request of a call on cold caches, at two to three times
// the cost; see docs/performance.md), SETUP_RELAY_THREADS (both servers' relay-threads), SETUP_PROMETHEUS (bench/setup-servers.ts), STEP_BASELINE_CLI (another build's dist/cli/turnpike.js, measured too, as 'baseline': a
// before/after comparison in one run; that build needs node_modules and package.json beside its
// dist; several as a comma list of NAME=CLI, each measured under its NAME).
import { envInt } from './env.js';
import { freshLoopbackAddresses } from './fresh-source-tap.js';
import { runMain } from './run-main.js';
import { otherBuilds, startReferenceServer, startTurnpikeServer, startTurnpikeServers } from './setup-servers.js';
import { STEPS, stepTimes, timedSetup, type Step, type StepTimes } from './setup-requests.js';

const ROUNDS = envInt('STEP_ROUNDS', 200);
const WARMUP = envInt('STEP_WARMUP', 0, 0);
const GAP_MS = envInt('STEP_GAP_MS', 0, 0);
/** A bound on the whole run, not an expectation of speed. */
const DEADLINE_MS = 300_000;
const EXTRA_TURNPIKE_ARGS = (process.env.STEP_TURNPIKE_ARGS ?? '').split(' ').filter(Boolean);
const BASELINES = otherBuilds(process.env.STEP_BASELINE_CLI);
const sorted = (xs: readonly number[]): number[] => [...xs].sort((a, b) => a - b);
const percentile = (ascending: readonly number[], p: number): number => ascending[Math.min(ascending.length - 1, Math.floor((p / 100) * ascending.length))]!;
/** The first clients a server sees: what a call-setup benchmark of a few calls meets. */
const COLD = 10;

async function main(): Promise<number> {
  // A relay port for each client: coturn does not hand a freed one out again at once.
  const relayPorts = 2 * (WARMUP + ROUNDS) + 100;
  const servers = [...(await startTurnpikeServers(EXTRA_TURNPIKE_ARGS, relayPorts)), await startReferenceServer(relayPorts)];
  for (const build of BASELINES) servers.push(await startTurnpikeServer(EXTRA_TURNPIKE_ARGS, relayPorts, build));
  const fresh = freshLoopbackAddresses();
  const times = new Map<string, StepTimes>(servers.map((s) => [s.name, stepTimes(true)]));
  const deadline = Date.now() + DEADLINE_MS;
  try {
    const untimed = stepTimes();
    for (let round = 0; round < WARMUP && Date.now() < deadline; round++) for (const s of servers) await timedSetup(s, fresh(), untimed);
    for (let round = 0; round < ROUNDS && Date.now() < deadline; round++) {
      // Each server in turn goes first, so that none always meets a warmer client.
      const order = servers.map((_, i) => servers[(i + round) % servers.length]!);
      for (const s of order) {
        if (GAP_MS > 0) await new Promise((resolve) => setTimeout(resolve, GAP_MS));
        await timedSetup(s, fresh(), times.get(s.name)!);
      }
    }
  } finally {
    for (const s of servers) await s.stop();
  }
  const n = times.get('coturn')!.wall.get('Allocate')!.length;
  console.log(`request to answer over UDP, ms, ${n} fresh clients per server${WARMUP ? ` after ${WARMUP} untimed` : ''}${GAP_MS ? `, each after ${GAP_MS} ms idle` : ''}, Turnpike ${EXTRA_TURNPIKE_ARGS.join(' ') || 'defaults'}`);
  console.log(`  (p50 of the first ${COLD} clients, on a server that has served few, then p50 / p90 / p99 of all; ratio: p50 of all to coturn's)`);
  printSteps(servers.map((s) => s.name), (name) => times.get(name)!.wall);
  console.log(`the server's on-CPU ms for each request (all its threads; waits for a core not counted), same layout:`);
  printSteps(servers.map((s) => s.name), (name) => times.get(name)!.cpu!);
  const coldSum = (name: string) => STEPS.reduce((sum, step) => sum + times.get(name)!.cpu!.get(step)!.slice(0, COLD).reduce((a, b) => a + b, 0), 0);
  console.log(`  the first ${COLD} clients' setups, all steps: ${servers.map((s) => `${s.name} ${coldSum(s.name).toFixed(2)}`).join('   ')} ms on CPU`);
  return 0;
}

function printSteps(names: readonly string[], of: (name: string) => Map<Step, number[]>): void {
  for (const step of STEPS) {
    const coturn = percentile(sorted(of('coturn').get(step)!), 50);
    const cells = names.map((name) => {
      const xs = of(name).get(step)!;
      const all = sorted(xs);
      const figures = `${percentile(sorted(xs.slice(0, COLD)), 50).toFixed(3)} | ${[50, 90, 99].map((p) => percentile(all, p).toFixed(3)).join(' / ')}`;
      return `${name} ${figures}${name === 'coturn' ? '' : ` (${(percentile(all, 50) / coturn).toFixed(2)}x)`}`;
    });
    console.log(`  ${step.padEnd(17)} ${cells.join('   ')}`);
  }
}

runMain(main);
