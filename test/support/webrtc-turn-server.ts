// The server the WebRTC tests (interop and self-test page) talk to: Turnpike in process on 127.0.0.1 with UDP,
// TCP and TLS (a self-signed certificate made for the run), a long-term user and a REST secret.
import fs from 'node:fs';
import { restPassword } from '../../src/auth/rest-api.js';
import type { ServerOptions } from '../../src/config/server-options.js';
import { createTurnServer, type TurnServer } from '../../src/server.js';
import { makeCertificate, type TestCertificate } from './certs.js';
import { ALICE, testServerOptions } from './server-options.js';

export type Transport = 'udp' | 'tcp' | 'tls';
export const TRANSPORTS: readonly Transport[] = ['udp', 'tcp', 'tls'];

export interface Login {
  readonly username: string;
  readonly password: string;
}

export const REST_SECRET = 'interop-rest-secret';

/** A REST username valid for an hour (or expired an hour ago), signed with the server's secret. */
export function restLogin(expired = false, nowMs = Date.now()): Login {
  const expiry = Math.floor(nowMs / 1000) + (expired ? -3600 : 3600);
  const username = `${expiry}:webrtc`;
  return { username, password: restPassword(REST_SECRET, username) };
}

export const LONG_TERM: Login = ALICE;

export interface TurnFixture {
  readonly server: TurnServer;
  readonly host: string;
  /** The server's certificate (PEM), for clients that verify it. */
  readonly certificatePem: string;
  /** The port a transport is served on. */
  port(transport: Transport): number;
  /** The iceServers URL a browser is given for a transport. */
  url(transport: Transport): string;
  /** Whether a candidate's address is one of this server's relay ports. */
  isRelayAddress(candidate: { address: string; port: number } | undefined): boolean;
  close(): Promise<void>;
}

export async function startTurnFixture(overrides: Partial<ServerOptions> = {}): Promise<TurnFixture> {
  const certificate: TestCertificate = makeCertificate('localhost');
  const base = await testServerOptions({ noTcp: false, noTls: false });
  let server: TurnServer;
  try {
    server = await createTurnServer({
      ...base,
      tls: { ...base.tls, cert: certificate.cert, pkey: certificate.key },
      useAuthSecret: true,
      staticAuthSecrets: [REST_SECRET],
      ...overrides,
    });
  } catch (error) {
    certificate.remove();
    throw error;
  }
  // Listeners.start opens, per address, UDP, then TCP on listening-port, then TLS.
  const [udp] = server.udpAddresses;
  const [tcp, tls] = server.streamAddresses;
  if (!udp || !tcp || !tls) throw new Error('the server did not open UDP, TCP and TLS listeners');
  const ports: Record<Transport, number> = { udp: udp.port, tcp: tcp.port, tls: tls.port };
  const host = udp.address;
  return {
    server,
    host,
    certificatePem: fs.readFileSync(certificate.cert, 'utf8'),
    port: (t) => ports[t],
    url: (t) =>
      t === 'tls' ? `turns:${host}:${ports.tls}?transport=tcp` : `turn:${host}:${ports[t]}?transport=${t}`,
    isRelayAddress: (c) => c !== undefined && c.address === host && c.port >= base.minPort && c.port <= base.maxPort,
    close: async () => {
      await server.close();
      certificate.remove();
    },
  };
}
