// A UDP forwarder in front of a TURN server, for the call-setup benchmark. The client sockets
// of one call (both peers, each of their sockets) are forwarded from one loopback address the
// server has never seen, a new one for each call: every call is a first call from its
// address, as the reply budget sees it, however often the benchmark repeats, and the peers
// share that address as they share 127.0.0.1 in the interop tests. It also notes when the
// first Allocate of a call passes, and the first Allocate success back, on this process's
// wall clock.
import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';

/** Wall-clock milliseconds, sub-millisecond: what the page and the clients stamp events with too. */
export const wallClock = (): number => performance.timeOrigin + performance.now();

/** STUN message types (RFC 8656): Allocate request and success response. */
const ALLOCATE_REQUEST = 0x0003;
const ALLOCATE_SUCCESS = 0x0103;

const stunType = (data: Buffer): number | undefined => (data.length >= 20 ? data.readUInt16BE(0) : undefined);

/** A fresh address in 127.42.0.0/16 on each call, never 127.0.0.1 or 127.0.0.2 (server and clients). */
export function freshLoopbackAddresses(): () => string {
  let n = 0;
  return () => {
    n++;
    if (n >= 65_535) throw new Error('out of fresh loopback addresses');
    return `127.42.${n >> 8}.${n & 0xff}`;
  };
}

export class FreshSourceTap {
  private readonly upstreams = new Map<string, dgram.Socket>();
  private firstAllocate: number | undefined;
  private firstRelay: number | undefined;
  private callAddress: string;

  private constructor(
    private readonly listener: dgram.Socket,
    private readonly server: { host: string; port: number },
    private readonly nextAddress: () => string,
  ) {
    this.callAddress = nextAddress();
    listener.on('message', (data, from) => this.forward(data, from));
  }

  /** A tap on 127.0.0.1 and a port from the OS, in front of `server`. */
  static async open(server: { host: string; port: number }, nextAddress: () => string): Promise<FreshSourceTap> {
    const listener = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => listener.bind(0, '127.0.0.1', resolve));
    return new FreshSourceTap(listener, server, nextAddress);
  }

  get port(): number {
    return this.listener.address().port;
  }

  /** When the first Allocate since the last `nextCall()` went through. */
  get firstAllocateAt(): number | undefined {
    return this.firstAllocate;
  }

  /** When the first Allocate success since the last `nextCall()` went back: the server's part of a relay candidate. */
  get firstRelayAt(): number | undefined {
    return this.firstRelay;
  }

  /** Forgets the last call (its client sockets and its timestamps) and takes a new address for the next. */
  async nextCall(): Promise<void> {
    this.firstAllocate = undefined;
    this.firstRelay = undefined;
    this.callAddress = this.nextAddress();
    const sockets = [...this.upstreams.values()];
    this.upstreams.clear();
    await Promise.all(sockets.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }

  async close(): Promise<void> {
    await this.nextCall();
    await new Promise<void>((resolve) => this.listener.close(() => resolve()));
  }

  private forward(data: Buffer, from: dgram.RemoteInfo): void {
    if (this.firstAllocate === undefined && stunType(data) === ALLOCATE_REQUEST) this.firstAllocate = wallClock();
    const key = `${from.address}:${from.port}`;
    let upstream = this.upstreams.get(key);
    if (!upstream) {
      const socket = dgram.createSocket('udp4');
      upstream = socket;
      this.upstreams.set(key, socket);
      socket.on('message', (answer) => {
        if (this.firstRelay === undefined && stunType(answer) === ALLOCATE_SUCCESS) this.firstRelay = wallClock();
        this.listener.send(answer, from.port, from.address);
      });
      socket.on('error', () => {
        this.upstreams.delete(key); // the next datagram from this client opens a new one
        socket.close();
      });
      // Sends queue until the bind is done.
      socket.bind(0, this.callAddress);
    }
    upstream.send(data, this.server.port, this.server.host);
  }
}
