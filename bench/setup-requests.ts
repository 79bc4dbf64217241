// The requests of a TURN call's setup over UDP, one client, each timed from send to answer:
// Allocate (no credentials, the 401), Allocate (signed, the relay), CreatePermission,
// ChannelBind and Refresh (lifetime 0, so the relay port goes back).
import { performance } from 'node:perf_hooks';
import { AttributeType, MessageBuilder, Method, StunClass, readErrorCode, type StunMessage } from '../src/stun/index.js';
import { UdpTestClient } from '../test/support/turn-client.js';
import { processCpuNs } from './process-cpu.js';
import { SETUP_HOST, SETUP_USER, type SetupServer } from './setup-servers.js';

const PEER = { family: 4 as const, address: '127.0.0.3', port: 5000 };

export const STEPS = ['Allocate 401', 'Allocate', 'CreatePermission', 'ChannelBind', 'Refresh'] as const;
export type Step = (typeof STEPS)[number];

/** Milliseconds from send to answer of each step, and (when asked for) the server's on-CPU ms for it. */
export interface StepTimes {
  readonly wall: Map<Step, number[]>;
  readonly cpu?: Map<Step, number[]>;
}

export const stepTimes = (withCpu = false): StepTimes => {
  const empty = () => new Map(STEPS.map((step) => [step, [] as number[]]));
  return { wall: empty(), cpu: withCpu ? empty() : undefined };
};

async function timed(server: SetupServer, times: StepTimes, step: Step, exchange: () => Promise<StunMessage>, expected: StunClass): Promise<StunMessage> {
  const cpu0 = times.cpu ? processCpuNs(server.pid) : 0;
  const t0 = performance.now();
  const answer = await exchange();
  const ms = performance.now() - t0;
  if (answer.cls !== expected) throw new Error(`${server.name}: ${step}: unexpected answer ${JSON.stringify(readErrorCode(answer, AttributeType.ErrorCode))}`);
  times.wall.get(step)!.push(ms);
  times.cpu?.get(step)!.push((processCpuNs(server.pid) - cpu0) / 1e6);
  return answer;
}

/** One client's setup, each request timed on its own (no retransmission is expected on loopback). */
export async function timedSetup(server: SetupServer, source: string, times: StepTimes): Promise<void> {
  const client = await UdpTestClient.open({ address: SETUP_HOST, port: server.port }, SETUP_USER, source);
  try {
    const transport = (b: MessageBuilder) => b.addFirstByte(AttributeType.RequestedTransport, 17);
    const first = new MessageBuilder(Method.Allocate, StunClass.Request);
    transport(first);
    client.auth.learn(await timed(server, times, 'Allocate 401', () => client.transact(first), StunClass.ErrorResponse));
    const signed = (method: number, add: (b: MessageBuilder) => void) => () => client.request(method, add);
    await timed(server, times, 'Allocate', signed(Method.Allocate, transport), StunClass.SuccessResponse);
    await timed(server, times, 'CreatePermission', signed(Method.CreatePermission, (b) => b.addXorAddress(AttributeType.XorPeerAddress, PEER)), StunClass.SuccessResponse);
    await timed(server, times, 'ChannelBind', signed(Method.ChannelBind, (b) => b.addChannelNumber(0x4000).addXorAddress(AttributeType.XorPeerAddress, PEER)), StunClass.SuccessResponse);
    await timed(server, times, 'Refresh', signed(Method.Refresh, (b) => b.addUint32(AttributeType.Lifetime, 0)), StunClass.SuccessResponse);
  } finally {
    await client.close();
  }
}
