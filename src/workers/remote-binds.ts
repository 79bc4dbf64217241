/**
 * RFC 6062 across relay workers: a client's data connection may be accepted by another worker
 * than the one holding its allocation (the kernel spreads new connections over the group).
 * The CONNECTION-ID names the owner (its first byte, turn/tcp-relay.ts); the data
 * connection's worker asks it, via main, to bind. If it does, the data connection stays where
 * it is (a socket, or TLS, cannot move between threads) and its bytes cross as a ThreadStream
 * each way: on the owner joined to the peer connection, here joined to the client.
 */
import { StreamPeerConnection } from '../net/peer-connection.js';
import type { TurnEngine } from '../turn/engine.js';
import type { OtherWorkers } from '../turn/engine-context.js';
import type { PeerConnection } from '../turn/relay.js';
import type { TransportAddress } from '../stun/ip.js';
import type { Logger } from '../log/logger-interface.js';
import type { BetweenWorkers } from './messages.js';
import { ThreadStream } from './thread-stream.js';

type Answer = (code: number, peer: TransportAddress | undefined) => void;

export class RemoteBinds {
  /** Numbers channels uniquely across workers: counter × 256 + this worker's number. */
  private nextChannel = 1;
  private readonly streams = new Map<number, ThreadStream>();
  private readonly asking = new Map<number, Answer>();

  constructor(
    private readonly index: number,
    private readonly count: number,
    private readonly toWorker: (to: number, message: BetweenWorkers) => void,
    private readonly logger: Logger,
  ) {}

  /** The engine's hook on the worker the data connection reached. */
  readonly bindElsewhere: OtherWorkers['bindElsewhere'] = (connectionId, username) => {
    const owner = Math.floor(connectionId / 2 ** 24);
    if (owner === this.index || owner >= this.count) return undefined;
    this.logger.debug(`ConnectionBind for CONNECTION-ID ${connectionId} of relay worker ${owner}: asking it to bind, the data connection's bytes crossing threads`);
    const channel = this.nextChannel++ * 256 + this.index;
    const stream = this.open(owner, channel);
    return new Promise<PeerConnection | number>((resolve) => {
      this.asking.set(channel, (code, peer) => {
        this.asking.delete(channel);
        if (code !== 0 || !peer) {
          stream.destroy();
          return resolve(code || 400);
        }
        resolve(new StreamPeerConnection(stream, peer));
      });
      this.toWorker(owner, { kind: 'bind', channel, connectionId, username });
    });
  };

  /** A message from worker `from`; `engine` answers binds of its own CONNECTION-IDs. */
  receive(from: number, message: BetweenWorkers, engine: TurnEngine): void {
    switch (message.kind) {
      case 'serve-allocate':
      case 'claim-reservation':
      case 'reservation-claimed':
      case 'lent-port-closed':
        return;
      case 'bind': {
        const stream = this.open(from, message.channel);
        const { code, peer } = engine.bindForOtherWorker(message.connectionId, message.username, stream);
        if (code !== 0) stream.destroy();
        return this.toWorker(from, { kind: 'bound', channel: message.channel, code, peer });
      }
      case 'bound':
        return this.asking.get(message.channel)?.(message.code, message.peer);
      default:
        return this.streams.get(message.channel)?.receive(message);
    }
  }

  /** Ends every stream (the worker is closing): the far ends close their connections. */
  close(): void {
    for (const stream of this.streams.values()) stream.destroy();
    for (const answer of this.asking.values()) answer(400, undefined);
  }

  private open(other: number, channel: number): ThreadStream {
    const stream = new ThreadStream((signal) => this.toWorker(other, { ...signal, channel }));
    this.streams.set(channel, stream);
    stream.once('close', () => this.streams.delete(channel));
    return stream;
  }
}
