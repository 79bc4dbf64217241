// In-process DTLS test rigs: an engine with a DTLS socket whose limits and clock a test sets,
// raw UDP sockets for hand-made ClientHellos, and certificates of other key types.
import { execFileSync } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect } from 'vitest';
import { DEFAULT_DTLS_LIMITS, DtlsService, type DtlsLimits } from '../../../src/net/dtls/service.js';
import { secureOptions } from '../../../src/net/tls-context.js';
import { UdpListener } from '../../../src/net/udp-listener.js';
import { createTurnServer } from '../../../src/server.js';
import { silentLogger, type Logger } from '../../../src/log/logger-interface.js';
import { makeCertificate, type TestCertificate } from '../../support/certs.js';
import type { Cleanups } from '../../support/cleanups.js';
import { testServerOptions } from '../../support/server-options.js';
import { clientHelloDatagram, helloVerifyCookie } from './client-hello.js';

/** What a test undoes after itself, last first (cleanupAfterEach's). */
export type { Cleanups };
export interface CertificateFiles {
  readonly cert: string;
  readonly key: string;
}
export interface RawSocket {
  readonly socket: Socket;
  readonly received: Buffer[];
}

/** Polls `check` every 20 ms, 5 s at most. */
export async function waitFor(check: () => boolean): Promise<boolean> {
  for (let i = 0; i < 250 && !check(); i++) await new Promise((r) => setTimeout(r, 20));
  return check();
}

/** An engine (from a UDP-only server) and one DTLS socket on `host`, with these limits, clock and logger. */
export async function startDtls(
  cleanups: Cleanups,
  cert: CertificateFiles,
  options: { limits?: Partial<DtlsLimits>; clock?: () => number; host?: string; logger?: Logger } = {},
) {
  const host = options.host ?? '127.0.0.1';
  const logger = options.logger ?? silentLogger;
  const base = await testServerOptions({ listeningIps: [host] });
  const tls = { ...base.tls, cert: cert.cert, pkey: cert.key };
  const server = await createTurnServer({ ...base, tls });
  const service = new DtlsService(secureOptions(tls), server.engine, logger, { ...DEFAULT_DTLS_LIMITS, ...options.limits }, options.clock);
  const udp = await UdpListener.listen(host, 0, server.engine, logger);
  udp.onDtls = service.attach(udp);
  cleanups.push(async () => {
    service.close();
    await udp.close();
    await server.close();
  });
  return { server, service, udp, address: udp.local };
}

/** A UDP socket on `host` (an IPv4 loopback address) that keeps what it receives. */
export async function rawSocket(cleanups: Cleanups, host = '127.0.0.1'): Promise<RawSocket> {
  const socket = createSocket('udp4');
  const received: Buffer[] = [];
  socket.on('message', (d) => received.push(d));
  await new Promise<void>((r) => socket.bind(0, host, () => r()));
  cleanups.push(() => new Promise<void>((r) => socket.close(() => r())));
  return { socket, received };
}

/** Sends a ClientHello without a cookie and returns the HelloVerifyRequest's cookie. */
export async function cookieFor(raw: RawSocket, port: number, random: Buffer): Promise<Buffer> {
  const before = raw.received.length;
  raw.socket.send(clientHelloDatagram({ random }), port, '127.0.0.1');
  expect(await waitFor(() => raw.received.length > before)).toBe(true);
  const cookie = helloVerifyCookie(raw.received[before]!);
  expect(cookie).toBeDefined();
  return cookie!;
}

/** Call at the top of a test file: a self-signed certificate for its tests, removed after the last. */
export function certificateForFile(): TestCertificate {
  const certificate = makeCertificate();
  afterAll(() => certificate.remove());
  return certificate;
}

/** A self-signed certificate made with these `openssl req` key arguments. */
export function certificateOf(cleanups: Cleanups, keyArgs: readonly string[]): CertificateFiles {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'turnpike-dtls-'));
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', ...keyArgs, '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=localhost'], { stdio: 'ignore' });
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return { cert, key };
}
