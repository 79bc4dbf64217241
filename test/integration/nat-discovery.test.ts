// RFC 5780 NAT behaviour discovery over real UDP sockets: where answers come from and go to,
// what is refused without a second listening IP, and that padded answers stay within the
// reply budget of their (possibly spoofed) source.
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import type { ServerOptions } from '../../src/config/server-options.js';
import type { TurnServer } from '../../src/server.js';
import { AttributeType, MessageBuilder, Method, StunClass, decodeMessage, readAddress, readErrorCode, type StunMessage, type TransportAddress } from '../../src/stun/index.js';
import { REPLY_BUDGET_DEFAULTS } from '../../src/turn/reply-budget.js';
import { Arrival } from '../support/arrival.js';
import { cleanupAfterEach } from '../support/cleanups.js';
import { startInProcessServer } from '../support/in-process-server.js';
import { freePortPairOnAll } from '../support/ports.js';

const cleanups = cleanupAfterEach();
const TWO_IPS = ['127.0.0.1', '127.0.0.2'];

interface Answer {
  readonly message: StunMessage;
  readonly from: RemoteInfo;
}

/** A client UDP socket on 127.0.0.1 and what reaches it. */
class Probe {
  readonly answers: Answer[] = [];
  private readonly arrival = new Arrival();

  private constructor(readonly socket: Socket) {
    socket.on('message', (data, from) => {
      this.answers.push({ message: decodeMessage(data), from });
      this.arrival.notify();
    });
  }

  static async open(): Promise<Probe> {
    const socket = createSocket('udp4');
    cleanups.push(() => new Promise<void>((r) => socket.close(() => r())));
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
    return new Probe(socket);
  }

  get port(): number {
    return this.socket.address().port;
  }

  send(to: TransportAddress, data: Buffer): void {
    this.socket.send(data, to.port, to.address);
  }

  async next(timeoutMs = 3000): Promise<Answer> {
    const seen = this.answers.length;
    await this.arrival.until(() => this.answers.length > seen, timeoutMs, 'no answer');
    return this.answers[seen]!;
  }

  /** Waits until `done()`, which may turn true with no datagram (a withheld answer), so looks often. */
  async until(done: () => boolean, what: string): Promise<void> {
    const look = setInterval(() => this.arrival.notify(), 5);
    try {
      await this.arrival.until(done, 5000, what);
    } finally {
      clearInterval(look);
    }
  }
}

const binding = (add: (b: MessageBuilder) => void = () => {}): Buffer => {
  const builder = new MessageBuilder(Method.Binding, StunClass.Request);
  add(builder);
  return builder.build();
};
const changeRequest = (flags: number) => (b: MessageBuilder) => void b.addUint32(AttributeType.ChangeRequest, flags);
const CHANGE_IP = 0x04;
const CHANGE_PORT = 0x02;

const start = (overrides: Partial<ServerOptions> = {}): Promise<TurnServer> => startInProcessServer(cleanups, overrides);
const origin = (m: StunMessage) => readAddress(m, AttributeType.ResponseOrigin);
const other = (m: StunMessage) => readAddress(m, AttributeType.OtherAddress);
const codeOf = (m: StunMessage) => readErrorCode(m, AttributeType.ErrorCode);

describe('RFC 5780 without a second listening IP', () => {
  it('refuses CHANGE-REQUEST with coturn’s 420 and still answers an empty one', async () => {
    const server = await start();
    const probe = await Probe.open();
    const to = server.udpAddresses[0]!;
    probe.send(to, binding(changeRequest(CHANGE_IP | CHANGE_PORT)));
    const refused = (await probe.next()).message;
    expect(refused.cls).toBe(StunClass.ErrorResponse);
    expect(codeOf(refused)).toEqual({ code: 420, reason: 'Unknown attribute: TURN server was configured without RFC 5780 support' });

    probe.send(to, binding(changeRequest(0)));
    const answered = (await probe.next()).message;
    expect(answered.cls).toBe(StunClass.SuccessResponse);
    // Minimal without RFC 5780 (coturn's response-origin-only-with-rfc5780, always in effect).
    expect([...answered.attributes.keys()]).toEqual([AttributeType.XorMappedAddress]);
  });

  it('refuses CHANGE-REQUEST on two IPs with no-rfc5780, binding no alternative port', async () => {
    const server = await start({ listeningIps: TWO_IPS, noRfc5780: true });
    expect(server.udpAddresses).toHaveLength(2);
    const probe = await Probe.open();
    probe.send(server.udpAddresses[0]!, binding(changeRequest(CHANGE_PORT)));
    expect(codeOf((await probe.next()).message)?.code).toBe(420);
  });
});

describe('RFC 5780 on two listening IPs', () => {
  /** The server, its first UDP address, and the OTHER-ADDRESS it names for it. */
  async function discovery(overrides: Partial<ServerOptions> = {}) {
    const listeningPort = await freePortPairOnAll(TWO_IPS);
    const server = await start({ listeningIps: TWO_IPS, listeningPort, ...overrides });
    const probe = await Probe.open();
    const main = server.udpAddresses[0]!;
    probe.send(main, binding());
    const first = (await probe.next()).message;
    return { server, probe, main, first, alternate: other(first)! };
  }

  it('names the other IP on the alternative port (port + 1), and listens there', async () => {
    const { server, main, first, alternate } = await discovery();
    expect(origin(first)).toEqual(main);
    expect(alternate).toEqual({ family: 4, address: '127.0.0.2', port: main.port + 1 });
    const bound = server.udpAddresses.map((a) => `${a.address}:${a.port}`);
    expect(bound).toContain(`127.0.0.2:${alternate.port}`);
    expect(bound).toContain(`127.0.0.1:${alternate.port}`);
  });

  it('answers CHANGE-REQUEST from the other IP and port, the other port, or the other IP', async () => {
    const { probe, main, alternate } = await discovery();
    const cases: [number, TransportAddress][] = [
      [CHANGE_IP | CHANGE_PORT, alternate],
      [CHANGE_PORT, { ...main, port: alternate.port }],
      [CHANGE_IP, { ...alternate, port: main.port }],
    ];
    for (const [flags, expected] of cases) {
      probe.send(main, binding(changeRequest(flags)));
      const { message, from } = await probe.next();
      expect({ address: from.address, port: from.port }).toEqual({ address: expected.address, port: expected.port });
      expect(origin(message)).toEqual(expected);
      expect(other(message)).toEqual(alternate);
    }
  });

  it('sends the answer to RESPONSE-PORT, the requester’s IP', async () => {
    const { probe, main } = await discovery();
    const elsewhere = await Probe.open();
    probe.send(main, binding((b) => b.add(AttributeType.ResponsePort, Buffer.from([elsewhere.port >> 8, elsewhere.port & 0xff, 0, 0]))));
    const { message, from } = await elsewhere.next();
    expect(message.cls).toBe(StunClass.SuccessResponse);
    expect(from.port).toBe(main.port);
  });

  it('pads the answer to PADDING, and refuses PADDING with RESPONSE-PORT', async () => {
    const { probe, main } = await discovery();
    probe.send(main, binding((b) => b.add(AttributeType.Padding, Buffer.alloc(1500))));
    const padded = (await probe.next()).message;
    expect(padded.attributes.get(AttributeType.Padding)?.length).toBe(1500);

    probe.send(main, binding((b) => b.add(AttributeType.Padding, Buffer.alloc(4)).add(AttributeType.ResponsePort, Buffer.from([0x30, 0x39, 0, 0]))));
    expect(codeOf((await probe.next()).message)?.code).toBe(400);
  });

  it('sends a spoofable source of small PADDING requests no more than it sent plus the advance', async () => {
    const { server, probe, main } = await discovery();
    const before = server.engine.counters.repliesWithheld;
    let sent = 0;
    const requests = 40;
    for (let i = 0; i < requests; i++) {
      // 28 bytes asking for a 1,500-byte answer: what a reflection attack would send.
      const request = binding((b) => b.add(AttributeType.Padding, Buffer.alloc(4)));
      probe.send(main, request);
      sent += request.length;
    }
    const dealtWith = () => probe.answers.length - 1 + server.engine.counters.repliesWithheld - before;
    await probe.until(() => dealtWith() >= requests, `the server dealt with ${dealtWith()} of ${requests} requests`);
    const back = probe.answers.slice(1).reduce((n, a) => n + a.message.buffer.length, 0);
    expect(back).toBeLessThanOrEqual(sent + REPLY_BUDGET_DEFAULTS.advanceBytes);
    // Each padded answer is 1,560 bytes: more than a 28-byte request and the advance pay for.
    expect(server.engine.counters.repliesWithheld - before).toBe(requests);
  });
});
