// A UDP forwarder in front of a TURN server, for the call-setup benchmark. Each client socket
// (address and port) is forwarded from a loopback address of its own that the server has
// never seen: every call is a first call from its client's address, as the reply budget
// sees it, however often the benchmark repeats. It also notes when the first Allocate of a
// call passes, on this process's wall clock.
import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';

/** Wall-clock milliseconds, sub-millisecond: what the page and the clients stamp events with too. */
export const wallClock = (): number => performance.timeOrigin + performance.now();

/** STUN message type of an Allocate request (RFC 8656). */
const ALLOCATE_REQUEST = 0x0003;

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

  private constructor(
    private readonly listener: dgram.Socket,
    private readonly server: { host: string; port: number },
    private readonly nextAddress: () => string,
  ) {
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

  /** Forgets the last call: its client sockets and its first Allocate. */
  async nextCall(): Promise<void> {
    this.firstAllocate = undefined;
    const sockets = [...this.upstreams.values()];
    this.upstreams.clear();
    await Promise.all(sockets.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }

  async close(): Promise<void> {
    await this.nextCall();
    await new Promise<void>((resolve) => this.listener.close(() => resolve()));
  }

  private forward(data: Buffer, from: dgram.RemoteInfo): void {
    if (this.firstAllocate === undefined && data.length >= 20 && data.readUInt16BE(0) === ALLOCATE_REQUEST) {
      this.firstAllocate = wallClock();
    }
    const key = `${from.address}:${from.port}`;
    let upstream = this.upstreams.get(key);
    if (!upstream) {
      const socket = dgram.createSocket('udp4');
      upstream = socket;
      this.upstreams.set(key, socket);
      socket.on('message', (answer) => this.listener.send(answer, from.port, from.address));
      socket.on('error', () => socket.close());
      // Sends queue until the bind is done.
      socket.bind(0, this.nextAddress());
    }
    upstream.send(data, this.server.port, this.server.host);
  }
}
