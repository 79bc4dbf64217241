// Soak: does Turnpike hold steady under sustained load? Run: npm run soak (builds first).
//
// Starts the built server as its own process, opens SOAK_ALLOCATIONS UDP allocations (default
// 200), each with a channel to a peer on 127.0.0.2, and has each relay SOAK_RATE messages a
// second (default 50: half client -> peer as ChannelData, half peer -> client) for SOAK_MINUTES
// (default 10). Every minute it prints the server's RSS, its event-loop delay (from its
// Prometheus metrics), a Binding round trip timed from here, and messages sent, received and
// lost. It fails (exit 1) when RSS at the end is more than 10 % above minute 1's, or when
// more than 0.1 % of the messages were lost.
import { createSocket, type Socket } from 'node:dgram';
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { MessageBuilder, Method, StunClass, type TransportAddress } from '../src/stun/index.js';
import { freePortRange, freeTcpPort, freeUdpTcpPort } from '../test/support/ports.js';
import { treeCpuTimeSeconds } from '../test/support/coturn-tools.js';
import { PEER_HOST, UdpTestClient } from '../test/support/turn-client.js';
import { startTurnpike, type TurnpikeHandle } from '../test/support/turnpike-process.js';
import { envInt } from './env-int.js';
import { runMain } from './run-main.js';

const HOST = '127.0.0.1';
const USER = { username: 'soak', password: 'soak-password' };
const MINUTES = envInt('SOAK_MINUTES', 10);
const ALLOCATIONS = envInt('SOAK_ALLOCATIONS', 200);
const RATE = envInt('SOAK_RATE', 50);
const TOTAL_RATE = ALLOCATIONS * RATE;

const PAYLOAD = 100; // bytes: a typical audio frame
const CHANNEL = 0x4000;
const TICK_MS = 5; // small ticks: the load arrives smoothly, not in bursts that fill socket buffers
// After a stall of this process, send at most 10 ms' worth (or 10 messages) and skip the rest:
// a catch-up burst would overflow the server's socket buffer and count our stall as its loss.
const MAX_BURST = Math.max(10, Math.ceil(TOTAL_RATE / 100));
const PEER_SOCKETS = 4; // the peers share the load: a few sockets, not one per allocation
const SOCKET_BUFFER = 4 * 1024 * 1024; // the kernel caps it at net.core.rmem_max
// Permissions last 300 s, channels and allocations 600 s: renew well within the shortest.
const REFRESH_EVERY_MS = 120_000;
const DRAIN_MS = 2_000;
const RSS_GROWTH_LIMIT = 0.10;
const LOSS_LIMIT = 0.001;

/** One direction of one allocation's traffic. Messages carry a sequence number. */
interface Leg {
  sent: number;
  received: number;
  /** Highest sequence number received; -1 before the first. */
  highest: number;
}

/** One allocation: its client, its peer, and the traffic each way. */
interface Flow {
  readonly index: number;
  readonly client: UdpTestClient;
  readonly relay: TransportAddress;
  readonly peerSocket: Socket;
  readonly peer: TransportAddress;
  readonly toPeer: Leg;
  readonly toClient: Leg;
}

const newLeg = (): Leg => ({ sent: 0, received: 0, highest: -1 });

function arrived(leg: Leg, seq: number): void {
  leg.received++;
  leg.highest = Math.max(leg.highest, seq);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function startServer(): Promise<{ server: TurnpikeHandle; metricsUrl: string }> {
  const port = await freeUdpTcpPort(HOST);
  const ports = ALLOCATIONS + 20;
  const minPort = await freePortRange(HOST, ports);
  const metricsPort = await freeTcpPort(HOST);
  const server = await startTurnpike([
    '-n', '--listening-ip', HOST, '--listening-port', String(port), '--relay-ip', HOST,
    '--min-port', String(minPort), '--max-port', String(minPort + ports - 1),
    '--lt-cred-mech', '--user', `${USER.username}:${USER.password}`, '--realm', 'soak.example',
    '--allow-loopback-peers', '--no-tcp', '--no-tls', '--no-dtls', '--no-cli',
    '--prometheus', '--prometheus-port', String(metricsPort),
  ], HOST, port);
  return { server, metricsUrl: `http://${HOST}:${metricsPort}/metrics` };
}

/** The peers: each counts what it receives, by the flow and sequence number in the payload. */
async function openPeers(flows: readonly Flow[]): Promise<Socket[]> {
  return Promise.all(Array.from({ length: PEER_SOCKETS }, async () => {
    const socket = createSocket({ type: 'udp4', recvBufferSize: SOCKET_BUFFER });
    socket.on('message', (data) => {
      const flow = flows[data.readUInt32BE(4)];
      if (flow) arrived(flow.toPeer, data.readUInt32BE(0));
    });
    await new Promise<void>((r) => socket.bind(0, PEER_HOST, r));
    return socket;
  }));
}

/** A request, sent again when its answer is lost under load (UDP has no retransmission of its own). */
async function withRetries<T>(what: string, run: () => Promise<T>, attempts = 3): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await run();
    } catch (error) {
      if (i >= attempts) throw new Error(`${what}: ${(error as Error).message}`);
    }
  }
}

async function expectSuccess(what: string, response: Promise<{ cls: number }>): Promise<void> {
  if ((await response).cls !== StunClass.SuccessResponse) throw new Error(`${what} refused`);
}

async function openFlow(index: number, server: TurnpikeHandle, peerSocket: Socket): Promise<Flow> {
  const client = await UdpTestClient.open({ address: server.host, port: server.port }, USER);
  const relay = await client.allocateRelay();
  const peer: TransportAddress = { family: 4, address: PEER_HOST, port: peerSocket.address().port };
  await expectSuccess('ChannelBind', client.channelBind(CHANNEL, peer));
  const flow: Flow = { index, client, relay, peerSocket, peer, toPeer: newLeg(), toClient: newLeg() };
  // Relayed ChannelData is only counted (the test client would keep every datagram); STUN
  // responses still go to the client, which matches them to its requests.
  const [stun] = client.socket.listeners('message') as ((data: Buffer, from: unknown) => void)[];
  client.socket.removeAllListeners('message');
  client.socket.on('message', (data: Buffer, from) => {
    if (data[0]! < 0x40) return stun!(data, from);
    arrived(flow.toClient, data.readUInt32BE(4));
  });
  return flow;
}

/** A payload naming its flow and sequence number, behind `headerBytes` for ChannelData's header. */
function message(flow: Flow, leg: Leg, headerBytes: number): Buffer {
  const data = Buffer.allocUnsafe(headerBytes + PAYLOAD); // fresh each time: a queued send still reads it
  data.writeUInt32BE(leg.sent++, headerBytes);
  data.writeUInt32BE(flow.index, headerBytes + 4);
  data.fill(0x5a, headerBytes + 8);
  return data;
}

function sendToPeer(flow: Flow): void {
  const data = message(flow, flow.toPeer, 4);
  data.writeUInt16BE(CHANNEL, 0);
  data.writeUInt16BE(PAYLOAD, 2);
  flow.client.socket.send(data, flow.client.server.port, flow.client.server.address);
}

function sendToClient(flow: Flow): void {
  flow.peerSocket.send(message(flow, flow.toClient, 0), flow.relay.port, flow.relay.address);
}

/**
 * One timer for all flows: each tick sends what the schedule says is due, round robin over
 * the flows, to the peers on one pass and to the clients on the next.
 */
function startLoad(flows: Flow[]): { stop(): void } {
  const started = performance.now();
  let sent = 0;
  let skipped = 0;
  let next = 0;
  const timer = setInterval(() => {
    const due = Math.floor(((performance.now() - started) / 1000) * TOTAL_RATE) - sent - skipped;
    skipped += Math.max(0, due - MAX_BURST);
    for (let i = Math.min(due, MAX_BURST); i > 0; i--) {
      const flow = flows[next % flows.length]!;
      if (next < flows.length) sendToPeer(flow);
      else sendToClient(flow);
      next = (next + 1) % (2 * flows.length);
      sent++;
    }
  }, TICK_MS);
  return { stop: () => clearInterval(timer) };
}

/** Renews every allocation, channel and permission as a client would, until stopped. */
function startRefreshing(flows: Flow[]): { stop(): Promise<void>; failure(): Error | undefined } {
  let running = true;
  let failure: Error | undefined;
  const loop = (async () => {
    while (running) {
      for (let waited = 0; running && waited < REFRESH_EVERY_MS; waited += 1000) await sleep(1000);
      for (const flow of flows) {
        if (!running) break;
        await withRetries('Refresh', () => expectSuccess('Refresh', flow.client.refresh()));
        await withRetries('ChannelBind', () => expectSuccess('ChannelBind', flow.client.channelBind(CHANNEL, flow.peer)));
      }
    }
  })().catch((error: Error) => void (failure = error));
  return { stop: async () => { running = false; await loop; }, failure: () => failure };
}

/** Binding round trips, one a second: how long the server takes to answer while loaded. */
function startBindingProbe(client: UdpTestClient): BindingProbe {
  let times: number[] = [];
  let unanswered = 0;
  const timer = setInterval(() => {
    const t0 = performance.now();
    client.transact(new MessageBuilder(Method.Binding, StunClass.Request))
      .then(() => times.push(performance.now() - t0), () => unanswered++);
  }, 1000);
  return {
    stop: () => clearInterval(timer),
    takeMinute: () => {
      const minute = { mean: times.reduce((a, b) => a + b, 0) / times.length, max: Math.max(...times), unanswered };
      [times, unanswered] = [[], 0];
      return minute;
    },
  };
}

interface BindingProbe {
  /** The round trips since the last call. */
  takeMinute(): BindingTimes;
  stop(): void;
}

interface BindingTimes {
  readonly mean: number;
  readonly max: number;
  /** Requests (or their answers) lost, or later than the client's 2 s timeout. */
  readonly unanswered: number;
}

function rssKiB(pid: number): number {
  const line = /^VmRSS:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!line) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(line[1]);
}

/**
 * The server's event-loop delay since the previous scrape, from prom-client's default metrics
 * (each scrape reads and resets perf_hooks' histogram), in ms.
 */
async function eventLoopDelay(metricsUrl: string): Promise<{ p99: number; max: number }> {
  const text = await (await fetch(metricsUrl)).text();
  const gauge = (name: string) => {
    const m = new RegExp(`^nodejs_eventloop_lag_${name}_seconds (\\S+)$`, 'm').exec(text);
    if (!m) throw new Error(`metrics have no nodejs_eventloop_lag_${name}_seconds`);
    return Number(m[1]) * 1000;
  };
  return { p99: gauge('p99'), max: gauge('max') };
}

const legs = (flows: Flow[]) => flows.flatMap((f) => [f.toPeer, f.toClient]);
const total = (flows: Flow[], count: (leg: Leg) => number) => legs(flows).reduce((n, leg) => n + count(leg), 0);
/** Messages before the latest one received that never came (loopback does not reorder). */
const lostSoFar = (flows: Flow[]) => total(flows, (leg) => leg.highest + 1 - leg.received);
const mib = (kib: number) => (kib / 1024).toFixed(1);
const ms = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : 'n/a');
const percent = (part: number, whole: number) => ((part / whole) * 100).toFixed(0);

/** What each minute prints; returns the server's RSS in KiB. */
function minuteReporter(server: TurnpikeHandle, metricsUrl: string, flows: Flow[], probe: BindingProbe) {
  const started = performance.now();
  let serverCpu = treeCpuTimeSeconds(server.pid);
  let ownCpu = process.cpuUsage();
  return async (minute: number): Promise<number> => {
    const rss = rssKiB(server.pid);
    const delay = await eventLoopDelay(metricsUrl);
    const rtt = probe.takeMinute();
    const sent = total(flows, (leg) => leg.sent);
    const elapsed = (performance.now() - started) / 1000;
    const cpu = treeCpuTimeSeconds(server.pid);
    const own = process.cpuUsage(ownCpu);
    const cpuShares = `CPU server ${percent(cpu - serverCpu, 60)} % soak ${percent((own.user + own.system) / 1e6, 60)} %`;
    [serverCpu, ownCpu] = [cpu, process.cpuUsage()];
    // A working histogram never reads 0 (its resolution alone is 10 ms): 0 means not measured.
    const loop = delay.max > 0 ? `p99 ${ms(delay.p99)} ms max ${ms(delay.max)} ms` : 'not reported (gauges read 0)';
    console.log(`minute ${minute}: server RSS ${mib(rss)} MiB, event-loop delay ${loop}, `
      + `Binding RTT mean ${ms(rtt.mean)} ms max ${ms(rtt.max)} ms (${rtt.unanswered} unanswered), `
      + `sent ${sent} (${Math.round(sent / elapsed)}/s), received ${total(flows, (leg) => leg.received)}, `
      + `lost ${lostSoFar(flows)}, ${cpuShares}`);
    return rss;
  };
}

/** The verdict: RSS growth from minute 1 to the end, and loss, each against its limit. */
function verdict(rss: readonly number[], flows: Flow[]): boolean {
  const sent = total(flows, (leg) => leg.sent);
  const received = total(flows, (leg) => leg.received);
  const lost = sent - received;
  const growth = rss.at(-1)! / rss[0]! - 1;
  const rssOk = growth <= RSS_GROWTH_LIMIT;
  const lossOk = lost / sent <= LOSS_LIMIT;
  console.log(`\nRSS minute 1 ${mib(rss[0]!)} MiB, end ${mib(rss.at(-1)!)} MiB: ${(growth * 100).toFixed(1)} % `
    + `(limit +${RSS_GROWTH_LIMIT * 100} %): ${rssOk ? 'within' : 'NOT within'}`);
  console.log(`messages sent ${sent}, received ${received}, lost ${lost} = ${((lost / sent) * 100).toFixed(4)} % `
    + `(limit ${LOSS_LIMIT * 100} %): ${lossOk ? 'within' : 'NOT within'}`);
  console.log(rssOk && lossOk ? 'soak PASSED' : 'soak FAILED');
  return rssOk && lossOk;
}

async function main(): Promise<number> {
  console.log(`soak: ${ALLOCATIONS} UDP allocations x ${RATE} msgs/s x ${PAYLOAD} B, half client -> peer (ChannelData), `
    + `half peer -> client, peers on ${PEER_HOST}, for ${MINUTES} min (${TOTAL_RATE} relayed msgs/s)`);
  const { server, metricsUrl } = await startServer();
  const flows: Flow[] = [];
  const peers = await openPeers(flows);
  for (let i = 0; i < ALLOCATIONS; i++) flows.push(await openFlow(i, server, peers[i % peers.length]!));
  const probeClient = await UdpTestClient.open({ address: server.host, port: server.port });
  console.log(`${flows.length} allocations open on server pid ${server.pid}; metrics at ${metricsUrl}`);

  await eventLoopDelay(metricsUrl); // starts the first minute's histogram
  const probe = startBindingProbe(probeClient);
  const report = minuteReporter(server, metricsUrl, flows, probe);
  const refreshing = startRefreshing(flows);
  const load = startLoad(flows);
  const started = performance.now();
  const rss: number[] = [];
  try {
    for (let minute = 1; minute <= MINUTES; minute++) {
      await sleep(started + minute * 60_000 - performance.now());
      const failure = refreshing.failure();
      if (failure) throw failure;
      rss.push(await report(minute));
    }
  } finally {
    load.stop();
    probe.stop();
    await refreshing.stop();
  }
  await sleep(DRAIN_MS); // what is still in flight arrives
  const passed = verdict(rss, flows);
  await Promise.all([...flows.map((f) => f.client.close()), probeClient.close()]);
  for (const peer of peers) peer.close();
  return passed ? 0 : 1;
}

runMain(main);
