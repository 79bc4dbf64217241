// DTLS handshake steps, in process: the server's CPU for each step of a full DTLS 1.2
// handshake (ECDHE-ECDSA-AES128-GCM-SHA256, X25519, extended master secret, P-256 certificate),
// the datagrams given straight to a DtlsEndpoint whose socket keeps what it is sent. Without
// sockets, processes and other work on the machine, it shows what the handshake's own code
// costs, step by step; `npm run bench:dtls-handshake` compares the whole server with coturn.
// BENCH_EVICT_MB=32 touches that much memory before each step, as the other processes of a busy
// machine do between a server's datagrams: caches cold, the same code costs about twice as much.
// Run: npx tsx bench/dtls-handshake-steps.ts   (profile: node --cpu-prof --import tsx ...)
import { createHash, randomBytes } from 'node:crypto';
import type { RemoteInfo, Socket } from 'node:dgram';
import type { DatagramSocket } from '../src/net/dtls/endpoint.js';
import { handshakeMessage, parseHandshakeFragments } from '../src/net/dtls/handshake-codec.js';
import { AlertDescription, AlertLevel, ContentType, alertBody, parseRecords, plainRecord } from '../src/net/dtls/record.js';
import { DEFAULT_DTLS_LIMITS, DtlsService } from '../src/net/dtls/service.js';
import { silentLogger } from '../src/log/logger-interface.js';
import { secureOptions } from '../src/net/tls-context.js';
import { createTurnServer } from '../src/server.js';
import { makeCertificate } from '../test/support/certs.js';
import { testServerOptions } from '../test/support/server-options.js';
import { clientHelloDatagram, helloVerifyCookie } from '../test/unit/dtls/client-hello.js';
import { clientFinalMessages } from '../test/unit/dtls/client-keys.js';
import { envInt } from './env.js';
import { runMain } from './run-main.js';

const WARMUP = envInt('BENCH_WARMUP', 200);
const HANDSHAKES = envInt('BENCH_HANDSHAKES', 2000);
const EVICT = new Uint8Array(envInt('BENCH_EVICT_MB', 0, 0) << 20);
const STEPS = ['cookie exchange', 'ClientHello to flight 4', 'flight 5 to Finished', 'close_notify'] as const;

/** The server's thread CPU (µs) spent in `run`. */
function cpu(run: () => void): number {
  const start = process.threadCpuUsage();
  run();
  const used = process.threadCpuUsage(start);
  return used.user + used.system;
}

/** One client's handshake against `deliver`; adds each step's server CPU to `spent`. */
function handshake(deliver: (datagram: Buffer, port: number) => void, sent: Buffer[], port: number, spent: number[]): void {
  const step = (i: number, datagram: Buffer): Buffer[] => {
    sent.length = 0;
    for (let at = 0; at < EVICT.length; at += 64) EVICT[at]!++;
    spent[i]! += cpu(() => deliver(datagram, port));
    return sent.splice(0);
  };
  const random = randomBytes(32);
  const cookie = helloVerifyCookie(step(0, clientHelloDatagram({ random, suites: [0xc02b] }))[0]!)!;
  const hello = clientHelloDatagram({ random, cookie, messageSeq: 1, recordSequence: 1, suites: [0xc02b] });
  const flight = step(1, hello);
  const transcript = createHash('sha256').update(parseRecords(hello)![0]!.fragment);
  const messages = new Map<number, Buffer>();
  for (const datagram of flight) {
    for (const record of parseRecords(datagram)!) {
      for (const f of parseHandshakeFragments(record.fragment)!) {
        transcript.update(handshakeMessage(f.type, f.messageSeq, f.body));
        messages.set(f.type, f.body);
      }
    }
  }
  const { exchange, finished, protection: client } = clientFinalMessages(transcript, random, messages);
  const final = step(2, Buffer.concat([
    plainRecord(ContentType.Handshake, 0, 2, exchange),
    plainRecord(ContentType.ChangeCipherSpec, 0, 3, Buffer.from([1])),
    client.seal(ContentType.Handshake, 1, 0, [finished]),
  ]));
  if (!parseRecords(final[0]!)?.some((r) => r.epoch === 1)) throw new Error('no server Finished');
  step(3, client.seal(ContentType.Alert, 1, 1, [alertBody(AlertLevel.Warning, AlertDescription.CloseNotify)]));
}

async function main(): Promise<number> {
  const certificate = makeCertificate();
  const options = await testServerOptions({ listeningIps: ['127.0.0.1'] });
  const tls = { ...options.tls, cert: certificate.cert, pkey: certificate.key };
  const server = await createTurnServer({ ...options, tls });
  const service = new DtlsService(secureOptions(tls), server.engine, silentLogger, { ...DEFAULT_DTLS_LIMITS, maxHandshakesPerSource: 1_000_000 });
  const sent: Buffer[] = [];
  const socket = { send: (data: Buffer) => sent.push(data) } as unknown as Socket;
  const udp: DatagramSocket = { socket, local: { family: 4, address: '127.0.0.1', port: 3478 } };
  const handle = service.attach(udp);
  const deliver = (datagram: Buffer, port: number) =>
    handle(datagram, { address: '127.0.0.1', family: 'IPv4', port, size: datagram.length } satisfies RemoteInfo);
  try {
    const spent = STEPS.map(() => 0);
    for (let i = 0; i < WARMUP; i++) handshake(deliver, sent, 10_000 + (i % 50_000), spent);
    spent.fill(0);
    for (let i = 0; i < HANDSHAKES; i++) handshake(deliver, sent, 10_000 + (i % 50_000), spent);
    if (service.counters.handshakesCompleted !== WARMUP + HANDSHAKES) throw new Error(`${service.counters.handshakesCompleted} handshakes completed`);
    console.log(`DTLS handshake steps, in process: server CPU per handshake over ${HANDSHAKES} (after ${WARMUP}), ${EVICT.length >> 20} MB evicted per step`);
    STEPS.forEach((name, i) => console.log(`${name.padStart(24)}: ${(spent[i]! / HANDSHAKES).toFixed(1)} µs`));
    console.log(`${'total'.padStart(24)}: ${(spent.reduce((a, b) => a + b) / HANDSHAKES).toFixed(1)} µs`);
  } finally {
    service.close();
    await server.close();
    certificate.remove();
  }
  return 0;
}

runMain(main);
