// Server CPU per Binding when many are in flight (a public STUN server's load, as against
// idle-binding's one at a time): CLIENTS sockets each keep one Binding outstanding, BURST_TOTAL
// answers per server and round, Turnpike (and SETUP_BASELINE_CLI builds) against coturn in one run,
// servers in reverse order every other round.
// Run: npx tsx bench/binding-burst.ts (builds nothing: run `npx tsc -p tsconfig.json` first).
// Env: BURST_CLIENTS (default 32), BURST_TOTAL (default 20000), BURST_ROUNDS (default 3).
import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { MessageBuilder, Method, StunClass } from '../src/stun/index.js';
import { envInt } from './env.js';
import { processCpuNs } from './process-cpu.js';
import { runMain } from './run-main.js';
import { SETUP_HOST, otherBuilds, startReferenceServer, startTurnpikeServer, startTurnpikeServers, type SetupServer } from './setup-servers.js';

const CLIENTS = envInt('BURST_CLIENTS', 32);
const TOTAL = envInt('BURST_TOTAL', 20_000);
const ROUNDS = envInt('BURST_ROUNDS', 3);
/** A bound on the whole round, not an expectation of speed: lost answers are re-asked after it. */
const STALL_MS = 200;

/** Sends until TOTAL answers came back, each socket with one Binding outstanding; server µs per answer and answers per second. */
async function burst(sockets: dgram.Socket[], server: SetupServer): Promise<{ cpuUs: number; rate: number; lost: number }> {
  const request = new MessageBuilder(Method.Binding, StunClass.Request).build();
  let answered = 0;
  let sent = 0;
  const c0 = processCpuNs(server.pid);
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    let stall: NodeJS.Timeout | undefined;
    const rearm = (): void => {
      clearTimeout(stall);
      // A lost answer: every socket asks again, so the round ends.
      stall = setTimeout(() => {
        for (const s of sockets) if (sent < TOTAL + sockets.length * 50) (sent++, s.send(request, server.port, SETUP_HOST));
        rearm();
      }, STALL_MS);
    };
    for (const s of sockets) {
      s.removeAllListeners('message');
      s.on('message', () => {
        answered++;
        if (answered >= TOTAL) {
          clearTimeout(stall);
          return resolve();
        }
        rearm();
        if (sent < TOTAL) (sent++, s.send(request, server.port, SETUP_HOST));
      });
    }
    for (const s of sockets) (sent++, s.send(request, server.port, SETUP_HOST));
    rearm();
  });
  const seconds = (performance.now() - t0) / 1000;
  return { cpuUs: (processCpuNs(server.pid) - c0) / 1000 / answered, rate: answered / seconds, lost: Math.max(0, sent - TOTAL) };
}

async function main(): Promise<number> {
  const servers = [...(await startTurnpikeServers([], 100)), await startReferenceServer(100)];
  for (const build of otherBuilds(process.env.SETUP_BASELINE_CLI)) servers.push(await startTurnpikeServer([], 100, build));
  const sockets = await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      const socket = dgram.createSocket('udp4');
      await new Promise<void>((resolve) => socket.bind(0, SETUP_HOST, () => resolve()));
      return socket;
    }),
  );
  try {
    console.log(`Bindings from ${CLIENTS} sockets, one outstanding each, ${TOTAL} answers per server and round: server µs of CPU per answer, answers/s`);
    for (let round = 0; round < ROUNDS; round++) {
      const cells = new Map<SetupServer, string>();
      for (const s of round % 2 === 0 ? servers : [...servers].reverse()) {
        const { cpuUs, rate, lost } = await burst(sockets, s);
        cells.set(s, `${s.name} ${cpuUs.toFixed(1)} µs, ${Math.round(rate)}/s${lost > 0 ? `, ${lost} re-asked` : ''}`);
      }
      console.log(`  round ${round + 1}: ${servers.map((s) => cells.get(s)).join('   ')}`);
    }
  } finally {
    for (const s of sockets) s.close();
    for (const s of servers) await s.stop();
  }
  return 0;
}

runMain(main);
