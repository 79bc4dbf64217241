/**
 * A warm-up at start: the STUN/TURN request path (decode, authenticate, the handlers, encode)
 * run on synthetic requests before the server serves, so that a fresh server's first calls
 * meet compiled, optimised JavaScript instead of the interpreter (a call's setup took some
 * 1.5-3x coturn's time per request on a fresh server, at par after a few hundred clients).
 *
 * Nothing of it is left behind: it drives an engine of its own (its own throwaway user and
 * nonce secret, quotas, counters, silent logger) with relays that open no socket, and puts
 * the allocation numbering back where it found it. Only V8's compiled code and type
 * feedback, shared by every engine of this thread, remain.
 */
import { randomBytes } from 'node:crypto';
import { Credentials, StaticUsers } from '../auth/credentials.js';
import type { ServerOptions } from '../config/server-options.js';
import { engineConfigOf } from '../engine-settings.js';
import { silentLogger } from '../log/logger-interface.js';
import { PeerPolicy } from '../policy/peer-policy.js';
import { AttributeType, MessageBuilder, Method, StunClass, decodeMessage, readString, type StunMessage, type TransportAddress } from '../stun/index.js';
import { longTermKey } from '../stun/integrity.js';
import { restoreAllocationNumbering, type Allocation } from '../turn/allocation.js';
import { TurnEngine } from '../turn/engine.js';
import { LocalLedger } from '../turn/ledger.js';
import { NonceIssuer } from '../turn/nonce.js';
import type { RelayEndpoint, RelayProvider } from '../turn/relay.js';
import type { ClientSession } from '../turn/session.js';

/** Clients whose setup is run: enough for V8 to optimise the path (measured: bench/allocate-steps.ts). */
export const WARM_UP_CLIENTS = 300;

const REALM = 'warm-up.invalid';
const USER = { name: 'warm-up', password: randomBytes(12).toString('hex') };
/** A documentation address (RFC 5737): never a real peer, and nothing is sent to it. */
const PEER: TransportAddress = { family: 4, address: '192.0.2.1', port: 5000 };

/** The warm-up as the server runs it: never a reason not to start (the server serves all the same, only colder). */
export async function warmUp(options: ServerOptions): Promise<void> {
  try {
    await warmUpRequestPath(options);
  } catch {
    // A request path that throws here would answer 500 to clients and log it there.
  }
}

/**
 * Runs `clients` clients' setup (401, Allocate, CreatePermission, ChannelBind, Refresh to 0,
 * Binding) through a throwaway engine; resolves to the number of success answers (5 a client).
 */
export async function warmUpRequestPath(options: ServerOptions, clients = WARM_UP_CLIENTS): Promise<number> {
  const key = longTermKey(USER.name, REALM, USER.password);
  const engine = new TurnEngine(
    { ...engineConfigOf(options), realm: REALM, authMode: 'long-term', userQuota: 0, totalQuota: 0, maxBps: 0, bpsCapacity: 0, alternateServers: [], tlsAlternateServers: [] },
    {
      credentials: new Credentials([new StaticUsers([{ name: USER.name, key }], REALM)], undefined),
      relays: socketlessRelays,
      peerPolicy: new PeerPolicy({ allowLoopbackPeers: false, allowed: [PEER.address] }),
      nonces: new NonceIssuer(0, randomBytes(32)),
      ledger: new LocalLedger(),
      logger: silentLogger,
      clock: Date.now,
    },
  );
  const numbering = restoreAllocationNumbering();
  let succeeded = 0;
  try {
    for (let i = 0; i < clients; i++) succeeded += await oneClient(engine, i, key);
    return succeeded;
  } finally {
    engine.close();
    numbering();
  }
}

async function oneClient(engine: TurnEngine, index: number, key: Buffer): Promise<number> {
  const session = new WarmUpSession({ family: 4, address: `198.51.100.${1 + (index % 250)}`, port: 40_000 + index });
  const transport = (b: MessageBuilder) => b.addFirstByte(AttributeType.RequestedTransport, 17);
  const challenge = await session.exchange(engine, request(Method.Allocate, transport));
  const nonce = (challenge && readString(challenge, AttributeType.Nonce, 763)) ?? '';
  const signed = (method: number, add: (b: MessageBuilder) => void) =>
    session.exchange(engine, request(method, (b) => {
      add(b);
      b.addString(AttributeType.Username, USER.name).addString(AttributeType.Realm, REALM).addString(AttributeType.Nonce, nonce);
    }, key));
  const answers = [
    await signed(Method.Allocate, transport),
    await signed(Method.CreatePermission, (b) => b.addXorAddress(AttributeType.XorPeerAddress, PEER)),
    await signed(Method.ChannelBind, (b) => b.addChannelNumber(0x4000).addXorAddress(AttributeType.XorPeerAddress, PEER)),
    await signed(Method.Refresh, (b) => b.addUint32(AttributeType.Lifetime, 0)),
    await session.exchange(engine, request(Method.Binding, () => {})),
  ];
  return answers.filter((answer) => answer?.cls === StunClass.SuccessResponse).length;
}

/** A request as browsers send them: signed when `key` is given, with a FINGERPRINT. */
function request(method: number, add: (b: MessageBuilder) => void, key?: Buffer): Buffer {
  const builder = new MessageBuilder(method, StunClass.Request);
  add(builder);
  return builder.build({ integrityKey: key, fingerprint: true });
}

/** A client's 5-tuple that keeps only the last answer, to read the nonce from. */
class WarmUpSession implements ClientSession {
  readonly transport = 'udp' as const;
  readonly local: TransportAddress = { family: 4, address: '192.0.2.2', port: 3478 };
  allocation: Allocation | undefined;
  allocating = false;
  private last: Buffer | undefined;

  constructor(readonly remote: TransportAddress) {}

  /** The answer to `data`, or undefined when the server's options have it go unanswered (no-stun). */
  async exchange(engine: TurnEngine, data: Buffer): Promise<StunMessage | undefined> {
    this.last = undefined;
    await engine.handlePacket(this, data);
    return this.last && decodeMessage(this.last);
  }

  setAllocation(allocation: Allocation | undefined): void {
    this.allocation = allocation;
  }
  setAllocating(allocating: boolean): void {
    this.allocating = allocating;
  }
  send(data: Buffer): void {
    this.last = data;
  }
  sendRelayed(): boolean {
    return true;
  }
  sendChannelData(): boolean {
    return true;
  }
}

/** Relays that open no socket: a relay endpoint that sends nothing. */
const socketlessRelays: RelayProvider = {
  hasFamily: (family) => family === 4,
  setsDontFragment: false,
  open: async () => {
    const local: TransportAddress = { family: 4, address: '192.0.2.2', port: 49_152 };
    const endpoint: RelayEndpoint = { local, advertised: local, send() {}, close() {} };
    return { ok: true, endpoint };
  },
};
