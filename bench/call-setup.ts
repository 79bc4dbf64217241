// Call-setup benchmark: Turnpike vs coturn in ONE run, on UDP, with a long-term user.
// Run: npm run bench:setup  (builds Turnpike's dist first)
//
// For each client (headless Chromium, libdatachannel through node-datachannel) and server,
// SETUP_RUNS times (default 15), a relay-only data channel between two peer connections in
// this process (or page) is opened through a tap that gives each call a loopback address
// the server has never seen (bench/fresh-source-tap.ts): each call is a first call.
// Printed: from the first Allocate the tap passes to the first Allocate success it passes
// back (the server's part), to the first relay candidate, to both peers' relay candidates,
// and to the data channel open, as median and range, and the Turnpike/coturn ratio of the
// medians; then the median and spread of each run's own ratio (the servers take turns within a
// run, so that one leaves out how loaded the box was over the run). Then what a spoofed source gets back (bench/spoofed-allocates.ts): a burst of
// 200 minimal Allocates, and a long run of 10,000.
// Env: SETUP_RUNS, SETUP_CLIENTS (comma list of chromium, libdatachannel), SETUP_WARMUP (default
// 0: clients that set up a call on each server, from addresses of their own, before any is
// timed; a server that has served a few hundred is what a server in service is, where one
// that has served none runs its JavaScript unoptimised: bench/allocate-steps.ts shows both),
// SETUP_BASELINE_CLI (other builds of Turnpike timed in the same run: see bench/allocate-steps.ts),
// SETUP_RELAY_THREADS (relay-threads of every server, coturn's too), SETUP_PROMETHEUS (Turnpike
// timed with its metrics endpoint, or both ways: bench/setup-servers.ts), SETUP_CAPTURE=1 (each
// server's time per request kind, from a tcpdump capture of its port: bench/stun-capture.ts).
import type { Page } from 'playwright-core';
import { launchChromium, type HeadlessChromium } from '../test/support/browser.js';
import { servePage, type PageServer } from '../test/support/page-server.js';
import { RELAY_ECHO_PAGE } from '../test/interop/webrtc/relay-echo-page.js';
import { DataChannelProcess } from '../test/interop/webrtc/datachannel-process.js';
import { FreshSourceTap, freshLoopbackAddresses } from './fresh-source-tap.js';
import { spoofedAllocates, type Reflection } from './spoofed-allocates.js';
import { envInt } from './env.js';
import { runMain } from './run-main.js';
import { SETUP_HOST, SETUP_REALM, SETUP_USER, otherBuilds, startReferenceServer, startTurnpikeServer, startTurnpikeServers } from './setup-servers.js';
import { stepTimes, timedSetup } from './setup-requests.js';
import { StunCapture, printServerTimes } from './stun-capture.js';
import { median, quantile } from './quantiles.js';

const HOST = SETUP_HOST;
const REALM = SETUP_REALM;
const USER = SETUP_USER;
const RUNS = envInt('SETUP_RUNS', 15);
const WARMUP = envInt('SETUP_WARMUP', 0, 0);
/** SETUP_CAPTURE=1: also the servers' time per request, from a capture of their ports (bench/stun-capture.ts). */
const CAPTURE = process.env.SETUP_CAPTURE === '1';
const CLIENTS = (process.env.SETUP_CLIENTS ?? 'chromium,libdatachannel').split(',').map((s) => s.trim());
/** A bound on a stuck call, not an expectation of speed. */
const CALL_TIMEOUT_MS = 20_000;
/** libdatachannel's own sockets: not the server's address, so that only the relay connects the peers. */
const DATACHANNEL_BIND = '127.0.0.2';

/** Wall-clock times of one call's events. */
interface CallEvents {
  readonly firstRelayAt: { a?: number; b?: number };
  readonly openedAt?: number;
  readonly error?: string;
}

/** Milliseconds from the first Allocate to each event of a call. */
interface CallTimes {
  /** The first Allocate success, as the tap saw it go back: the server's part. */
  readonly allocated: number;
  readonly relay: number;
  readonly bothRelays: number;
  readonly open: number;
}

type Client = (tapPort: number) => Promise<CallEvents>;

function chromiumClient(page: Page): Client {
  return async (tapPort) => {
    const args = {
      iceServers: [{ urls: `turn:${HOST}:${tapPort}?transport=udp`, username: USER.username, credential: USER.password }],
      messages: 1,
      timeoutMs: CALL_TIMEOUT_MS,
    };
    const r = (await page.evaluate(`window.relayEcho(${JSON.stringify(args)})`)) as {
      log: Record<'a' | 'b', { firstRelayAt?: number }>;
      openedAt?: number;
      error?: string;
    };
    return { firstRelayAt: { a: r.log.a.firstRelayAt, b: r.log.b.firstRelayAt }, openedAt: r.openedAt, error: r.error };
  };
}

/** In a process of its own, which a call stuck in libdatachannel cannot hang (test/interop/webrtc/datachannel-process.ts). */
function datachannelClient(calls: DataChannelProcess): Client {
  return async (tapPort) => (await calls.call({ turn: { host: HOST, port: tapPort, ...USER, bindAddress: DATACHANNEL_BIND }, messages: 1, timeoutMs: CALL_TIMEOUT_MS })).times;
}

async function timeCall(client: Client, tap: FreshSourceTap): Promise<CallTimes> {
  await tap.nextCall();
  const events = await client(tap.port);
  const [start, allocated] = [tap.firstAllocateAt, tap.firstRelayAt];
  const { a, b } = events.firstRelayAt;
  if (events.error || start === undefined || allocated === undefined || a === undefined || b === undefined || events.openedAt === undefined) {
    throw new Error(`call failed: ${JSON.stringify({ ...events, firstAllocateAt: start, firstRelayAt: allocated })}`);
  }
  return { allocated: allocated - start, relay: Math.min(a, b) - start, bothRelays: Math.max(a, b) - start, open: events.openedAt - start };
}

/** The call times of one client through each server, by run (undefined: that call failed). */
type RunTimes = Map<string, (CallTimes | undefined)[]>;

function printSetup(client: string, names: readonly string[], times: RunTimes): void {
  const metrics: [keyof CallTimes, string][] = [['allocated', 'Allocate success (tap)'], ['relay', 'first relay candidate'], ['bothRelays', 'both relay candidates'], ['open', 'data channel open']];
  console.log(`\n${client}, ms from the first Allocate (${RUNS} calls each; median [min-max]; x: ratio of the medians to coturn's):`);
  const of = (server: string, key: keyof CallTimes) => (times.get(server) ?? []).map((t) => t?.[key]);
  for (const [key, label] of metrics) {
    const cell = (server: string) => {
      const xs = of(server, key).filter((x) => x !== undefined);
      return xs.length ? { text: `${median(xs).toFixed(1)} [${Math.min(...xs).toFixed(1)}-${Math.max(...xs).toFixed(1)}]`, median: median(xs) } : undefined;
    };
    const ct = cell('coturn');
    const cells = names.map((name) => {
      const c = cell(name);
      const ratio = name === 'coturn' ? '' : ` (${c && ct ? (c.median / ct.median).toFixed(2) : 'n/a'}x)`;
      return `${name} ${c?.text ?? 'n/a'}${ratio}`.padEnd(name === 'coturn' ? 32 : 40);
    });
    console.log(`  ${label.padEnd(22)} ${cells.join(' ')}`);
  }
  // The servers take turns within a run, so a ratio within one run leaves out how loaded the box was then.
  console.log(`  each run's ratio to coturn's call in the same run, median [p25-p75] (min-max):`);
  for (const [key, label] of metrics) {
    const cells = names.filter((name) => name !== 'coturn').map((name) => {
      const coturn = of('coturn', key);
      const ratios = of(name, key).flatMap((x, run) => (x !== undefined && coturn[run] !== undefined ? [x / coturn[run]!] : [])).sort((a, b) => a - b);
      if (!ratios.length) return `${name} n/a`.padEnd(40);
      const text = `${median(ratios).toFixed(2)}x [${quantile(ratios, 0.25).toFixed(2)}-${quantile(ratios, 0.75).toFixed(2)}] (${ratios[0]!.toFixed(2)}-${ratios.at(-1)!.toFixed(2)})`;
      return `${name} ${text}`.padEnd(40);
    });
    console.log(`  ${label.padEnd(22)} ${cells.join(' ')}`);
  }
}

function printReflection(server: string, what: string, r: Reflection): void {
  const ratio = r.bytesBack / r.bytesSent;
  console.log(`  ${server.padEnd(9)} ${what.padEnd(24)} sent ${r.bytesSent} B in ${r.requests}, back ${r.bytesBack} B in ${r.answers} `
    + `answers (first ${r.firstAnswerBytes ?? '-'} B): ${ratio.toFixed(3)}x, ${r.bytesBack - r.bytesSent} B over`);
}

async function main(): Promise<number> {
  // A relay port for each warm-up client too: coturn does not hand a freed one out again at once.
  const relayPorts = 100 + 8 * RUNS + WARMUP;
  const servers = [...(await startTurnpikeServers([], relayPorts)), await startReferenceServer(relayPorts)];
  for (const build of otherBuilds(process.env.SETUP_BASELINE_CLI)) servers.push(await startTurnpikeServer([], relayPorts, build));
  const fresh = freshLoopbackAddresses();
  for (const s of servers) for (let i = 0; i < WARMUP; i++) await timedSetup(s, fresh(), stepTimes());
  const taps = new Map<string, FreshSourceTap>();
  let chromium: HeadlessChromium | undefined;
  let pageServer: PageServer | undefined;
  let failures = 0;
  const datachannelCalls = new DataChannelProcess();
  try {
    for (const s of servers) taps.set(s.name, await FreshSourceTap.open({ host: HOST, port: s.port }, fresh));
    const clients = new Map<string, Client>();
    for (const name of CLIENTS) {
      if (name === 'libdatachannel') clients.set(name, datachannelClient(datachannelCalls));
      else if (name === 'chromium') {
        chromium = await launchChromium();
        pageServer = await servePage(RELAY_ECHO_PAGE);
        const page = await chromium.newPage();
        await page.goto(pageServer.url);
        clients.set(name, chromiumClient(page));
      } else throw new Error(`unknown client ${name}`);
    }
    console.log(`call setup over UDP, Turnpike and coturn 4.6.1, realm ${REALM}, ${RUNS} calls per client and server, after ${WARMUP} warm-up clients each`);
    for (const [name, client] of clients) {
      const times: RunTimes = new Map(servers.map((s) => [s.name, []]));
      const capture = CAPTURE ? await StunCapture.start(servers.map((s) => s.port)) : undefined;
      for (let run = 0; run < RUNS; run++) {
        // Each server in turn goes first, so that none always meets a warmer client.
        const order = servers.map((_, i) => servers[(i + run) % servers.length]!);
        for (const s of order) {
          try {
            times.get(s.name)![run] = await timeCall(client, taps.get(s.name)!);
          } catch (err) {
            failures++;
            console.log(`${name} through ${s.name}: ${err instanceof Error ? err.message : String(err)}`);
          }
        }
      }
      const exchanges = await capture?.stop();
      printSetup(name, servers.map((s) => s.name), times);
      if (exchanges) {
        console.log(`  each server's time per request, ms from the request to its answer on the wire (tcpdump):`);
        printServerTimes(exchanges, servers);
      }
      for (const s of servers) if (s.withheld) console.log(`  ${s.name}: ${await s.withheld()} unsigned answers withheld by the reply budget so far`);
    }

    console.log('\nbytes back to one spoofed source (minimal 28-byte Allocates, a fresh address each):');
    for (const s of servers) {
      // Counting what Turnpike's reply budget withheld takes its metrics: a Turnpike timed without them starts anew with them.
      const target = s.handled ? s : await s.withMetrics!();
      try {
        const run = { server: { host: HOST, port: target.port }, handled: target.handled!, batch: 200, timeoutMs: 60_000 };
        printReflection(s.name, 'burst of 200', await spoofedAllocates({ ...run, source: fresh(), requests: 200 }));
        printReflection(s.name, '10,000 in bursts of 200', await spoofedAllocates({ ...run, source: fresh(), requests: 10_000 }));
      } finally {
        if (target !== s) await target.stop();
      }
    }
  } finally {
    await chromium?.close();
    await pageServer?.close();
    await datachannelCalls.close();
    for (const tap of taps.values()) await tap.close();
    for (const s of servers) await s.stop();
  }
  return failures ? 1 : 0;
}

runMain(main);
