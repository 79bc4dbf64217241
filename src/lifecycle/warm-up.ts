/**
 * A warm-up at start: a few hundred call setups (401, Allocate, CreatePermission, ChannelBind,
 * Refresh, Binding) run over loopback through relay nodes of the warm-up's own, before the
 * server serves, so that a fresh server's first calls meet compiled, optimised JavaScript
 * instead of the interpreter.
 *
 * Through the real path, sockets and all: a listener, the client's own connected socket, a
 * relay socket, Node's dgram and the native UDP I/O. An engine driven with synthetic sessions
 * and socketless relays (what this was before) left that side cold, and taught V8 shapes the
 * real path does not have, so its optimised code was thrown away ("wrong map") at the first
 * real client: a fresh server's Allocate still took twice coturn's time (issue 14).
 *
 * Nothing of it is seen or left behind: it listens on 127.0.0.1 on a port the kernel picks,
 * relays from ports the kernel picks (none from min-port..max-port), with its own throwaway
 * user and secrets, quotas, counters and silent logger, and puts the allocation numbering back
 * where it found it. Only V8's compiled code and type feedback, shared by every node of this
 * thread, remain.
 */
import { createSocket, type Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import type { ServerOptions } from '../config/server-options.js';
import { silentLogger } from '../log/logger-interface.js';
import { RelayNode, newRelaySecrets, type RelayNodeParts } from '../relay-node.js';
import { AttributeType, MessageBuilder, Method, StunClass, decodeMessage, readString, type StunMessage, type TransportAddress } from '../stun/index.js';
import { longTermKey } from '../stun/integrity.js';
import { restoreAllocationNumbering } from '../turn/allocation.js';
import { LocalLedger } from '../turn/ledger.js';
import { LedgerClient } from '../turn/ledger-port.js';
import { reviveOptions } from '../workers/messages.js';
import { hasCertificate } from '../net/tls-context.js';
import { WARM_UP_HANDSHAKES, warmUpDtlsHandshakes } from './warm-up-dtls.js';

/**
 * Clients whose setup is run: enough for V8 to optimise the path over the real sockets (a
 * fresh server's first 10 clients took as little CPU after 150 as after 300 in
 * bench/allocate-steps.ts; 300 cost twice the start-up).
 */
export const WARM_UP_CLIENTS = 150;

/**
 * Relay nodes the clients take turns on. With one, V8 learned that node's own closures and
 * objects (its listener's handler, its reply budget's hash) as the only ones, and threw the
 * optimised code away at the server's first client ("wrong call target"): seen with two, a
 * call site is compiled for any closure of the same function, the server's too. One of each
 * kind of node the server has (warmUpNodeParts).
 */
const WARM_UP_NODES = 2;

/**
 * Source addresses the clients take turns on. From 127.0.0.1 alone, the reply budget, which
 * keeps a slot per source address, found that one slot every time, and V8 compiled it without
 * the path a new source takes, the path of every first client (deoptimised there: insufficient
 * feedback). Few enough that the budget's advances answer every warm-up client at once.
 */
const WARM_UP_SOURCES = 16;

const LOOPBACK = '127.0.0.1';
const REALM = 'warm-up.invalid';
const USER = { name: 'warm-up', password: randomBytes(12).toString('hex') };
/** A user configured by key, never used: see warmUpOptions. */
const KEYED_USER = 'warm-up-keyed';
/** A documentation address (RFC 5737): never a real peer, and nothing is sent to it. */
const PEER: TransportAddress = { family: 4, address: '192.0.2.1', port: 5000 };
/** A bound on one answer over loopback: none comes when the options leave a request unanswered (no-stun). */
const ANSWER_TIMEOUT_MS = 1000;
/** A bound on the whole warm-up, on a machine too loaded to finish it soon. */
const DEADLINE_MS = 10_000;

/** The warm-up as the server runs it: never a reason not to start (the server serves all the same, only colder). */
export async function warmUp(options: ServerOptions): Promise<void> {
  try {
    await warmUpRequestPath(options);
  } catch {
    // A request path that throws here would answer 500 to clients and log it there.
  }
  if (options.noDtls || !hasCertificate(options.tls)) return;
  try {
    await warmUpDtls(options);
  } catch {
    // A certificate DTLS cannot serve: the server says so when it starts its own listeners.
  }
}

/**
 * Runs `handshakes` DTLS handshakes over loopback through a node of its own that serves DTLS
 * with the server's certificate (without CA-file: the warm-up client has no certificate);
 * resolves to the number that completed.
 */
export async function warmUpDtls(options: ServerOptions, handshakes = WARM_UP_HANDSHAKES): Promise<number> {
  const key = longTermKey(USER.name, REALM, USER.password);
  const dtlsOptions: ServerOptions = { ...warmUpOptions(options, key), noDtls: false, tlsListeningPort: 0, tls: { ...options.tls, caFile: undefined } };
  const node = await RelayNode.create({ options: dtlsOptions, secrets: newRelaySecrets(), ledger: new LocalLedger(), logger: silentLogger });
  try {
    const server = (await node.listen()).dtlsAddresses[0];
    return server ? await warmUpDtlsHandshakes(server, handshakes, Date.now() + DEADLINE_MS, ANSWER_TIMEOUT_MS) : 0;
  } finally {
    await node.close();
  }
}

/**
 * Runs `clients` clients' setup over loopback through nodes of its own; resolves to the
 * number of success answers (5 a client, 4 under no-stun). It stops at the first request left
 * unanswered.
 */
export async function warmUpRequestPath(options: ServerOptions, clients = WARM_UP_CLIENTS): Promise<number> {
  const key = longTermKey(USER.name, REALM, USER.password);
  const numbering = restoreAllocationNumbering();
  const nodes: RelayNode[] = [];
  let succeeded = 0;
  try {
    const servers: TransportAddress[] = [];
    for (let n = 0; n < WARM_UP_NODES; n++) {
      const node = await RelayNode.create(warmUpNodeParts(n, warmUpOptions(options, key)));
      nodes.push(node);
      const server = (await node.listen()).udpAddresses[0];
      if (!server) return 0;
      servers.push(server);
    }
    const deadline = Date.now() + DEADLINE_MS;
    for (let i = 0; i < clients && Date.now() < deadline; i++) {
      const source = `127.1.0.${1 + (i % WARM_UP_SOURCES)}`;
      // Half the clients without FINGERPRINT, as some clients (and health checks) send them: on each node.
      const answers = await oneClient(servers[i % servers.length]!, source, key, !options.noStun, Math.floor(i / servers.length) % 2 === 0);
      succeeded += answers.filter((answer) => answer?.cls === StunClass.SuccessResponse).length;
      if (answers.includes(undefined)) break;
    }
    return succeeded;
  } finally {
    for (const node of nodes) await node.close();
    numbering();
  }
}

/**
 * Node n's parts: the server's nodes are of two kinds, the only node (one relay thread) or a
 * relay worker's, so the warm-up has one of each. A worker's users' keys are copies made by
 * reviveOptions (another hidden class than the hash's own Buffers) and its ledger is a client
 * of the main thread's: with only the first kind, V8 threw a worker's authenticate (`decide`)
 * and engine code away at its first clients (wrong map, field type changed). The client's
 * messages go nowhere: under the warm-up's options (no quota) it grants every lease itself and
 * only tells the main thread, which is not asked here.
 */
function warmUpNodeParts(n: number, options: ServerOptions): RelayNodeParts {
  const parts = { secrets: newRelaySecrets(), logger: silentLogger };
  if (n % 2 === 0) return { ...parts, options, ledger: new LocalLedger() };
  // With postLater, as a relay worker's port has (relay-worker.ts): the grants take the worker's path.
  const nowhere = { postMessage: () => {}, postLater: () => {}, on: () => nowhere, off: () => nowhere };
  const ledger = new LedgerClient(nowhere, { memory: new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT), slot: 0 });
  return { ...parts, options: reviveOptions(options), ledger };
}

/**
 * The server's options, but listening on loopback only (UDP), relaying from kernel-chosen
 * ports, for a throwaway user under no quota, with nothing but the warm-up's peer allowed.
 */
function warmUpOptions(options: ServerOptions, key: Buffer): ServerOptions {
  return {
    ...options,
    listeningIps: [LOOPBACK],
    listeningPort: 0,
    noRfc5780: true,
    auxServers: [],
    tcpProxyPort: undefined,
    noUdp: false,
    noTcp: true,
    noTls: true,
    noDtls: true,
    relayIps: [LOOPBACK],
    externalIps: new Map(),
    // Port 0: the kernel picks each relay socket's port, so none of the user's range is taken.
    minPort: 0,
    maxPort: 0,
    realm: REALM,
    noAuth: false,
    stunOnly: false,
    ltCredMech: true,
    oauth: false,
    // As configured users come (config/auth-options.ts): by password (MD5 and SHA-256 keys) and
    // by key (MD5 only). With the second missing, V8 compiled the key lookup for the first
    // shape alone and threw it away at a server whose users are the other (field type changed).
    users: [
      { name: USER.name, key, sha256Key: longTermKey(USER.name, REALM, USER.password, 'sha256') },
      { name: KEYED_USER, key: randomBytes(16) },
    ],
    userDb: undefined,
    redisUserDb: undefined,
    psqlUserDb: undefined,
    mysqlUserDb: undefined,
    redisStatsDb: undefined,
    useAuthSecret: false,
    userQuota: 0,
    totalQuota: 0,
    maxBps: 0,
    bpsCapacity: 0,
    redirect: { ...options.redirect, alternateServers: [], tlsAlternateServers: [] },
    allowedPeerIps: [PEER.address],
    deniedPeerIps: [],
    allowLoopbackPeers: false,
  };
}

/**
 * One client's answers, in order; undefined for a request left unanswered (the rest are not
 * sent). `binding`: false under no-stun, which leaves a Binding unanswered by design.
 */
async function oneClient(server: TransportAddress, source: string, key: Buffer, binding: boolean, fingerprint: boolean): Promise<(StunMessage | undefined)[]> {
  const client = await LoopbackClient.open(server, source);
  try {
    const transport = (b: MessageBuilder) => b.addFirstByte(AttributeType.RequestedTransport, 17);
    const challenge = await client.exchange(request(Method.Allocate, fingerprint, transport));
    if (!challenge) return [undefined];
    const nonce = readString(challenge, AttributeType.Nonce, 763) ?? '';
    const signed = (method: number, add: (b: MessageBuilder) => void) =>
      request(method, fingerprint, (b) => {
        add(b);
        b.addString(AttributeType.Username, USER.name).addString(AttributeType.Realm, REALM).addString(AttributeType.Nonce, nonce);
      }, key);
    const requests = [
      signed(Method.Allocate, transport),
      signed(Method.CreatePermission, (b) => b.addXorAddress(AttributeType.XorPeerAddress, PEER)),
      signed(Method.ChannelBind, (b) => b.addChannelNumber(0x4000).addXorAddress(AttributeType.XorPeerAddress, PEER)),
      signed(Method.Refresh, (b) => b.addUint32(AttributeType.Lifetime, 0)),
      ...(binding ? [request(Method.Binding, fingerprint, () => {})] : []),
    ];
    const answers: (StunMessage | undefined)[] = [];
    for (const data of requests) {
      const answer = await client.exchange(data);
      answers.push(answer);
      if (!answer) break;
    }
    return answers;
  } finally {
    client.close();
  }
}

/** A request as clients send them: signed when `key` is given, with a FINGERPRINT or not. */
function request(method: number, fingerprint: boolean, add: (b: MessageBuilder) => void, key?: Buffer): Buffer {
  const builder = new MessageBuilder(method, StunClass.Request);
  add(builder);
  return builder.build({ integrityKey: key, fingerprint });
}

/** A client's socket on loopback (a port of its own: a fresh 5-tuple), one request at a time. */
class LoopbackClient {
  private waiting: ((answer: StunMessage | undefined) => void) | undefined;
  /** The transaction id of the request waiting: a late answer to an earlier one is not its answer. */
  private transactionId: Buffer | undefined;

  private constructor(
    private readonly socket: Socket,
    private readonly server: TransportAddress,
  ) {
    socket.on('message', (data) => {
      try {
        const answer = decodeMessage(data);
        if (this.transactionId?.equals(answer.transactionId)) this.answered(answer);
      } catch {
        // Not an answer: the request times out.
      }
    });
  }

  /** Bound on `source`, or on 127.0.0.1 where that is no local address (all of 127/8 is, on Linux). */
  static async open(server: TransportAddress, source: string): Promise<LoopbackClient> {
    const socket = (await boundSocket(source)) ?? (await boundSocket(LOOPBACK));
    if (!socket) throw new Error('the warm-up cannot bind a loopback socket');
    return new LoopbackClient(socket, server);
  }

  /** The answer to `data`, or undefined when none comes in time. */
  exchange(data: Buffer): Promise<StunMessage | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.answered(undefined), ANSWER_TIMEOUT_MS);
      this.transactionId = data.subarray(8, 20);
      this.waiting = (answer) => {
        clearTimeout(timer);
        resolve(answer);
      };
      this.socket.send(data, this.server.port, this.server.address);
    });
  }

  close(): void {
    this.answered(undefined);
    this.socket.close();
  }

  private answered(answer: StunMessage | undefined): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.(answer);
  }
}

function boundSocket(address: string): Promise<Socket | undefined> {
  const socket = createSocket('udp4');
  return new Promise((resolve) => {
    const failed = (): void => {
      socket.close();
      resolve(undefined);
    };
    socket.once('error', failed);
    socket.bind(0, address, () => {
      socket.off('error', failed);
      resolve(socket);
    });
  });
}
