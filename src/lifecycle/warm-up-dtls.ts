/**
 * The DTLS part of the warm-up at start (warm-up.ts): whole handshakes over loopback against a
 * DTLS listener of the warm-up's own node, with the server's certificate, so that a fresh
 * server's first DTLS clients meet optimised code. Without it a fresh server's first few hundred
 * handshakes ran the handshake's JavaScript in V8's baseline tiers and paid for its compilation
 * on the way (200 s_client handshakes after 20: 1.40-1.50 ms of server CPU each, 1.20-1.35 ms
 * with it, alternating builds, docs/dtls.md).
 */
import { createSocket, type Socket } from 'node:dgram';
import type { TransportAddress } from '../stun/index.js';
import { warmUpHandshake } from '../net/dtls/warm-up-client.js';

/** Handshakes run: about what V8 needs to optimise the handshake's functions (each runs once or twice a handshake). */
export const WARM_UP_HANDSHAKES = 150;

/** Runs up to `count` handshakes against `server` (a DTLS listener on loopback), one at a time, until `deadline`; resolves to those that completed. */
export async function warmUpDtlsHandshakes(server: TransportAddress, count: number, deadline: number, answerTimeoutMs: number): Promise<number> {
  let completed = 0;
  for (let i = 0; i < count && Date.now() < deadline; i++) {
    const client = await DatagramClient.open(server, answerTimeoutMs);
    try {
      if (!(await warmUpHandshake((data, complete) => client.exchange(data, complete), (data) => client.send(data)))) break;
      completed++;
    } finally {
      client.close();
    }
  }
  return completed;
}

/** A client's socket on loopback (a port of its own: a fresh 5-tuple), one flight at a time. */
class DatagramClient {
  private answer: Buffer[] = [];
  private waiting: (() => void) | undefined;

  private constructor(
    private readonly socket: Socket,
    private readonly server: TransportAddress,
    private readonly timeoutMs: number,
  ) {
    socket.on('error', () => {}); // the flight waiting times out
    socket.on('message', (data) => {
      this.answer.push(data);
      this.waiting?.();
    });
  }

  static async open(server: TransportAddress, timeoutMs: number): Promise<DatagramClient> {
    const socket = createSocket(server.family === 6 ? 'udp6' : 'udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, server.address, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    return new DatagramClient(socket, server, timeoutMs);
  }

  /** The datagrams that answer `data`, once `complete` says they are all in; undefined when they are not in time. */
  exchange(data: Buffer, complete: (answer: readonly Buffer[]) => boolean): Promise<Buffer[] | undefined> {
    this.answer = [];
    return new Promise((resolve) => {
      const done = (answer: Buffer[] | undefined) => {
        clearTimeout(timer);
        this.waiting = undefined;
        resolve(answer);
      };
      const timer = setTimeout(() => done(undefined), this.timeoutMs);
      this.waiting = () => {
        if (complete(this.answer)) done(this.answer);
      };
      this.send(data);
    });
  }

  send(data: Buffer): void {
    this.socket.send(data, this.server.port, this.server.address);
  }

  close(): void {
    this.waiting = undefined;
    this.socket.close();
  }
}
