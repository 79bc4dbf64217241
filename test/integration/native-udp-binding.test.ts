// Binding answered in C (native/udp-binding.c, docs/native-udp.md): a native listener answers a
// plain Binding request without JS, with the very bytes JS sends (compared here with the same
// server's JS path, TURNPIKE_UDP_BINDING=js), counted where JS counts it; every other datagram,
// malformed ones included, reaches JS and gets what it got before; and the configurations that
// change a Binding's answer (secure-stun, RFC 5780, SOFTWARE, FINGERPRINT, no-stun, a reload)
// leave it to JS or tell C.
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ServerOptions } from '../../src/config/server-options.js';
import type { TurnServer } from '../../src/server.js';
import { AttributeType, MessageBuilder, Method, StunClass, decodeMessage, readErrorCode, type StunMessage, type TransportAddress } from '../../src/stun/index.js';
import { cleanupAfterEach } from '../support/cleanups.js';
import { startInProcessServer } from '../support/in-process-server.js';
import { freeTcpPort, freeUdpTcpPort } from '../support/ports.js';
import { startProcess, stopAllProcesses } from '../support/processes.js';
import { testServerOptions } from '../support/server-options.js';
import { TURNPIKE_CLI, reloadFromFile, startTurnpike, startTurnpikeFromFile } from '../support/turnpike-process.js';
import { valueOf } from '../unit/metrics/exposition.js';

const cleanups = cleanupAfterEach();
afterEach(() => stopAllProcesses());

/** A request's transaction id: the same for every server, so their answers can be compared byte for byte. */
const txid = (n: number): Buffer => Buffer.alloc(12, n);
const binding = (n: number): MessageBuilder => new MessageBuilder(Method.Binding, StunClass.Request, txid(n));
const withFingerprint = (builder: MessageBuilder): Buffer => builder.build({ fingerprint: true });
/** Asked after each request: it goes to JS (an attribute C leaves to it), so its answer comes after any answer to what was sent before. */
const PROBE = 0xee;
const probe = (): Buffer => binding(PROBE).add(0x8055, Buffer.from('probe')).build();
/** The probe where no Binding is answered (no-stun): an Allocate's 401. */
const allocateProbe = (): Buffer => new MessageBuilder(Method.Allocate, StunClass.Request, txid(PROBE)).addFirstByte(AttributeType.RequestedTransport, 17).build();

function edited(data: Buffer, edit: (copy: Buffer) => void): Buffer {
  const copy = Buffer.from(data);
  edit(copy);
  return copy;
}

/** Requests of every shape, plain ones first: [name, bytes, answered in C]. */
const REQUESTS: readonly (readonly [string, Buffer, boolean])[] = [
  ['bare', binding(1).build(), true],
  ['SOFTWARE (padded)', binding(2).addString(AttributeType.Software, 'client 1.2').build(), true],
  ['FINGERPRINT', withFingerprint(binding(3)), true],
  ['SOFTWARE and FINGERPRINT', withFingerprint(binding(4).addString(AttributeType.Software, 'abcd')), true],
  ['two SOFTWAREs', binding(5).addString(AttributeType.Software, 'a').addString(AttributeType.Software, 'bb').build(), true],
  ['bad FINGERPRINT', edited(withFingerprint(binding(6)), (d) => (d[d.length - 1]! ^= 1)), false],
  ['FINGERPRINT not last', edited(withFingerprint(binding(7).addString(AttributeType.Software, 'abcd')), (d) => {
    // SOFTWARE after FINGERPRINT: the two attributes swapped, the CRC still over what precedes it.
    const software = Buffer.from(d.subarray(20, 28));
    d.copy(d, 20, 28, 36);
    software.copy(d, 28);
  }), false],
  ['FINGERPRINT of 8 bytes', binding(8).add(AttributeType.Fingerprint, Buffer.alloc(8)).build(), false],
  ['an unknown optional attribute', binding(9).add(0x8055, Buffer.from('x')).build(), false],
  ['an empty CHANGE-REQUEST', binding(10).addUint32(AttributeType.ChangeRequest, 0).build(), false],
  ['USERNAME', binding(11).addString(AttributeType.Username, 'alice').build(), false],
  ['an unknown required attribute', binding(12).add(0x0055, Buffer.from('x')).build(), false],
  ['no magic cookie (RFC 3489)', edited(binding(13).build(), (d) => d.writeUInt32BE(0x01020304, 4)), false],
  ['a length past the datagram', edited(binding(14).build(), (d) => d.writeUInt16BE(4, 2)), false],
  ['a length short of the datagram', Buffer.concat([binding(15).build(), Buffer.alloc(4)]), false],
  ['a length not a multiple of 4', edited(binding(16).addString(AttributeType.Software, 'ab').build(), (d) => d.writeUInt16BE(6, 2)), false],
  ['an attribute past the message', edited(binding(17).addString(AttributeType.Software, 'abcd').build(), (d) => d.writeUInt16BE(40, 22)), false],
  ['shorter than a header', binding(18).build().subarray(0, 19), false],
  ['a Binding indication', new MessageBuilder(Method.Binding, StunClass.Indication, txid(19)).build(), false],
  ['a Binding success', new MessageBuilder(Method.Binding, StunClass.SuccessResponse, txid(20)).build(), false],
  ['an empty datagram', Buffer.alloc(0), false],
];

/** A client socket that asks several servers the same and keeps each answer's bytes. */
class RawClient {
  private readonly waiting: ((data: Buffer) => void)[] = [];
  private readonly received: Buffer[] = [];

  private constructor(readonly socket: dgram.Socket) {
    socket.on('message', (data) => {
      const next = this.waiting.shift();
      if (next) next(data);
      else this.received.push(data);
    });
  }

  static async open(family: 4 | 6): Promise<RawClient> {
    const socket = dgram.createSocket(family === 6 ? 'udp6' : 'udp4');
    await new Promise<void>((resolve) => socket.bind(0, family === 6 ? '::1' : '127.0.0.1', resolve));
    const client = new RawClient(socket);
    cleanups.push(() => new Promise<void>((resolve) => socket.close(() => resolve())));
    return client;
  }

  private next(): Promise<Buffer> {
    const ready = this.received.shift();
    if (ready) return Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no answer within 5 s')), 5000);
      this.waiting.push((data) => {
        clearTimeout(timer);
        resolve(data);
      });
    });
  }

  /** What `to` answers `request`: every datagram that comes back before the probe's answer. */
  async answersTo(request: Buffer, to: TransportAddress, after = probe()): Promise<Buffer[]> {
    this.socket.send(request, to.port, to.address);
    this.socket.send(after, to.port, to.address);
    const answers: Buffer[] = [];
    for (;;) {
      const data = await this.next();
      if (data.length >= 20 && data.subarray(8, 20).equals(txid(PROBE))) return answers;
      answers.push(data);
    }
  }
}

/** A server with `overrides`, its Bindings answered by JS alone when `jsOnly`. */
async function start(overrides: Partial<ServerOptions>, jsOnly = false): Promise<TurnServer> {
  const before = process.env.TURNPIKE_UDP_BINDING;
  // Read as each listener opens its socket, in this process.
  if (jsOnly) process.env.TURNPIKE_UDP_BINDING = 'js';
  try {
    return await startInProcessServer(cleanups, overrides);
  } finally {
    if (before === undefined) delete process.env.TURNPIKE_UDP_BINDING;
    else process.env.TURNPIKE_UDP_BINDING = before;
  }
}

const nativeBindings = (server: TurnServer): number => server.engine.counters.udpNativeBindings;
const bindingCounts = (server: TurnServer): [number, number, number] => {
  const c = server.engine.counters;
  return [c.bindingRequests, c.bindingResponses, c.bindingErrors];
};

const CONFIGS: readonly (readonly [string, Partial<ServerOptions>])[] = [
  ['no SOFTWARE, FINGERPRINT when asked', { softwareAttribute: false, fingerprint: false }],
  ['SOFTWARE, FINGERPRINT always', { softwareAttribute: true, software: 'Turnpike test 1.0', fingerprint: true }],
  ['SOFTWARE of 4n bytes', { softwareAttribute: true, software: 'Turnpike', fingerprint: false }],
];

describe.runIf(process.platform === 'linux')('Binding answered in C', () => {
  it.each(CONFIGS)('sends the bytes JS sends, to IPv4 and IPv6 clients, and counts as JS counts (%s)', async (_name, config) => {
    const options = { ...config, listeningIps: ['127.0.0.1', '::1'], noRfc5780: true };
    const inC = await start(options);
    const inJs = await start(options, true);
    for (const family of [4, 6] as const) {
      const client = await RawClient.open(family);
      const at = (server: TurnServer): TransportAddress => server.udpAddresses.find((a) => a.family === family)!;
      for (const [name, request, plain] of REQUESTS) {
        const before = nativeBindings(inC);
        const fromC = await client.answersTo(request, at(inC));
        const fromJs = await client.answersTo(request, at(inJs));
        expect(fromC.map((d) => d.toString('hex')), `${name} over IPv${family}`).toEqual(fromJs.map((d) => d.toString('hex')));
        expect(nativeBindings(inC) - before, `${name} over IPv${family}: answered in C`).toBe(plain ? 1 : 0);
        if (plain) expect(fromC).toHaveLength(1);
      }
    }
    expect(bindingCounts(inC)).toEqual(bindingCounts(inJs));
    expect(nativeBindings(inJs)).toBe(0);
    // The probes and the requests JS answered are JS's.
    expect(inC.engine.counters.bindingRequests).toBeGreaterThan(nativeBindings(inC));
  });

  it('gets what JS gets for 400 datagrams made from plain Bindings by cutting and flipping bytes', async () => {
    // No reply budget: an error JS answers goes whatever the two servers' budgets hold.
    const options = { softwareAttribute: true, software: 'fuzz', noReplyBudget: true };
    const inC = await start(options);
    const inJs = await start(options, true);
    const client = await RawClient.open(4);
    let seed = 0x5eed;
    const random = (below: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % below;
    };
    // Errors carry a NONCE of their server's (a flipped bit can make an Allocate): compared by code.
    const summary = (answer: Buffer): string => {
      const message = decodeMessage(answer);
      return message.cls === StunClass.ErrorResponse ? `error ${readErrorCode(message, AttributeType.ErrorCode)?.code}` : answer.toString('hex');
    };
    let answeredInC = 0;
    for (let i = 0; i < 400; i++) {
      const base = i % 2 === 0 ? withFingerprint(binding(i % 200).addString(AttributeType.Software, 'fuzzing')) : binding(i % 200).addString(AttributeType.Software, 'abc').build();
      const datagram = Buffer.from(base);
      for (let flips = 1 + random(3); flips > 0; flips--) datagram[random(datagram.length)] ^= 1 << random(8);
      const request = random(4) === 0 ? datagram.subarray(0, random(datagram.length)) : datagram;
      const before = nativeBindings(inC);
      const fromC = (await client.answersTo(request, inC.udpAddresses[0]!)).map(summary);
      const fromJs = (await client.answersTo(request, inJs.udpAddresses[0]!)).map(summary);
      expect(fromC, `datagram ${i}: ${request.toString('hex')}`).toEqual(fromJs);
      answeredInC += nativeBindings(inC) - before;
    }
    expect(bindingCounts(inC)).toEqual(bindingCounts(inJs));
    // Most flips land in a transaction id or SOFTWARE's text: the request stays plain.
    expect(answeredInC).toBeGreaterThan(0);
  });

  it('adds SOFTWARE and FINGERPRINT as configured', async () => {
    const server = await start({ softwareAttribute: true, software: 'Turnpike ßoftware', fingerprint: true });
    const client = await RawClient.open(4);
    const [answer] = await client.answersTo(binding(1).build(), server.udpAddresses[0]!);
    const message = decodeMessage(answer!);
    expect(message.cls).toBe(StunClass.SuccessResponse);
    expect(message.attributes.get(AttributeType.Software)).toBeDefined();
    expect(answer!.subarray(24, 24 + Buffer.byteLength('Turnpike ßoftware')).toString()).toBe('Turnpike ßoftware');
    expect(message.fingerprint).toBeDefined();
    expect(nativeBindings(server)).toBe(1);
  });

  it('leaves a Binding to JS when SOFTWARE is longer than C keeps', async () => {
    const software = 'S'.repeat(1100);
    const server = await start({ softwareAttribute: true, software });
    const client = await RawClient.open(4);
    const [answer] = await client.answersTo(binding(1).build(), server.udpAddresses[0]!);
    expect(decodeMessage(answer!).attributes.get(AttributeType.Software)?.length).toBe(1100);
    expect(nativeBindings(server)).toBe(0);
  });

  it('leaves a Binding to JS under secure-stun: 401', async () => {
    const server = await start({ secureStun: true });
    const client = await RawClient.open(4);
    const [answer] = await client.answersTo(binding(1).build(), server.udpAddresses[0]!);
    expect(readErrorCode(decodeMessage(answer!), AttributeType.ErrorCode)?.code).toBe(401);
    expect(nativeBindings(server)).toBe(0);
  });

  it('leaves a Binding to JS with RFC 5780: its answer names OTHER-ADDRESS', async () => {
    const server = await start({ listeningIps: ['127.0.0.1', '127.0.0.2'] });
    const client = await RawClient.open(4);
    const [answer] = await client.answersTo(binding(1).build(), server.udpAddresses[0]!);
    const message: StunMessage = decodeMessage(answer!);
    expect(message.attributes.get(AttributeType.OtherAddress)).toBeDefined();
    expect(message.attributes.get(AttributeType.ResponseOrigin)).toBeDefined();
    expect(nativeBindings(server)).toBe(0);
  });

  it('answers no Binding under no-stun, nor with log-binding in C (JS logs each)', async () => {
    const silent = await start({ noStun: true });
    const client = await RawClient.open(4);
    expect(await client.answersTo(binding(1).build(), silent.udpAddresses[0]!, allocateProbe())).toEqual([]);
    expect(nativeBindings(silent)).toBe(0);
    const logging = await start({ logBinding: true });
    expect(await client.answersTo(binding(1).build(), logging.udpAddresses[0]!)).toHaveLength(1);
    expect(nativeBindings(logging)).toBe(0);
  });

  it('follows a reload: SOFTWARE added in C, then secure-stun leaves Bindings to JS', async () => {
    const server = await start({ softwareAttribute: false });
    const client = await RawClient.open(4);
    const to = server.udpAddresses[0]!;
    expect(decodeMessage((await client.answersTo(binding(1).build(), to))[0]!).attributes.has(AttributeType.Software)).toBe(false);
    const options = await testServerOptions();
    await server.reconfigure({ ...options, listeningIps: ['127.0.0.1'], softwareAttribute: true, software: 'reloaded' });
    const reloaded = decodeMessage((await client.answersTo(binding(2).build(), to))[0]!);
    expect(reloaded.attributes.has(AttributeType.Software)).toBe(true);
    expect(nativeBindings(server)).toBe(2);
    await server.reconfigure({ ...options, listeningIps: ['127.0.0.1'], secureStun: true });
    expect(readErrorCode(decodeMessage((await client.answersTo(binding(3).build(), to))[0]!), AttributeType.ErrorCode)?.code).toBe(401);
    expect(nativeBindings(server)).toBe(2);
  });

  it('counts N Bindings answered in C as JS counts them, in /metrics and `turnpike admin stats`, summed over relay workers', async () => {
    const N = 40;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'turnpike-binding-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const figures = async (env: NodeJS.ProcessEnv): Promise<Record<string, number>> => {
      const port = await freeUdpTcpPort('127.0.0.1');
      const metricsPort = await freeTcpPort('127.0.0.1');
      const socket = path.join(dir, `admin-${port}.sock`);
      const server = await startTurnpike([
        '--listening-ip', '127.0.0.1', '--listening-port', String(port), '--relay-threads', '2', '--no-tcp', '--no-tls', '--no-dtls',
        '--prometheus', '--prometheus-address', '127.0.0.1', '--prometheus-port', String(metricsPort), '--admin-socket', socket,
      ], '127.0.0.1', port, env);
      await server.proc.waitForOutput(/relaying with 2 worker threads/, 10_000);
      // waitForUdpStun's Bindings count too: read what is there first.
      const read = async (): Promise<Record<string, number>> => {
        const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
        const admin = startProcess(process.execPath, [TURNPIKE_CLI, 'admin', 'stats', '--json', '--socket', socket], {});
        await admin.exited;
        const stats = JSON.parse(admin.stdout) as Record<string, number>;
        return {
          request: valueOf(text, 'stun_binding_request')!, response: valueOf(text, 'stun_binding_response')!, inC: valueOf(text, 'turnpike_udp_native_bindings_total')!,
          adminRequests: stats.bindingRequests!, adminResponses: stats.bindingResponses!, adminInC: stats.udpNativeBindings!,
        };
      };
      const settled = async (): Promise<Record<string, number>> => {
        // Relay workers report to main once a second: read until two reads a second apart agree.
        let last = await read();
        for (let tries = 0; tries < 10; tries++) {
          await new Promise((resolve) => setTimeout(resolve, 1100));
          const now = await read();
          if (JSON.stringify(now) === JSON.stringify(last)) return now;
          last = now;
        }
        return last;
      };
      const before = await settled();
      // From several sockets, so that the kernel spreads them over both workers.
      for (let i = 0; i < N; i++) {
        const client = await RawClient.open(4);
        expect(await client.answersTo(binding(i).build(), { family: 4, address: '127.0.0.1', port })).toHaveLength(1);
      }
      const after = await settled();
      await server.stop();
      // The probes are Bindings too, answered by JS: two per client.
      return Object.fromEntries(Object.entries(after).map(([name, value]) => [name, value - before[name]!]));
    };
    const inC = await figures({});
    const inJs = await figures({ TURNPIKE_UDP_BINDING: 'js' });
    expect(inC).toEqual({ request: 2 * N, response: 2 * N, inC: N, adminRequests: 2 * N, adminResponses: 2 * N, adminInC: N });
    expect(inJs).toEqual({ ...inC, inC: 0, adminInC: 0 });
  }, 60_000);

  it('follows SIGHUP in every relay worker: FINGERPRINT, then secure-stun', async () => {
    const port = await freeUdpTcpPort('127.0.0.1');
    const lines = [
      'listening-ip=127.0.0.1', `listening-port=${port}`, 'relay-threads=2', 'no-tcp', 'no-tls', 'no-dtls', 'no-cli',
      'lt-cred-mech', 'realm=binding.example', 'user=alice:alice-Pa55', 'no-reply-budget', // every 401 answered
    ];
    const served = await startTurnpikeFromFile(cleanups, lines, '127.0.0.1', port);
    await served.server.proc.waitForOutput(/relaying with 2 worker threads/, 10_000);
    const to = { family: 4 as const, address: '127.0.0.1', port };
    // From several sockets, so that both workers answer some.
    const clients = await Promise.all(Array.from({ length: 8 }, () => RawClient.open(4)));
    const answers = async (n: number): Promise<StunMessage[]> => Promise.all(clients.map(async (c) => decodeMessage((await c.answersTo(binding(n).build(), to))[0]!)));
    for (const answer of await answers(1)) expect(answer.fingerprint).toBeUndefined();
    await reloadFromFile(served, [...lines, 'fingerprint'], /configuration reloaded: fingerprint/);
    for (const answer of await answers(2)) expect(answer.fingerprint).toBeDefined();
    await reloadFromFile(served, [...lines, 'fingerprint', 'secure-stun'], /configuration reloaded: secure-stun/);
    for (const answer of await answers(3)) expect(readErrorCode(answer, AttributeType.ErrorCode)?.code).toBe(401);
  }, 30_000);
});
