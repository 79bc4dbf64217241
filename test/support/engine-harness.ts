// An engine under test, driven without client sockets: see engineHarness().
import { Credentials, StaticUsers } from '../../src/auth/credentials.js';
import { UdpRelays } from '../../src/net/udp-relays.js';
import { PeerPolicy } from '../../src/policy/peer-policy.js';
import { engineConfigOf } from '../../src/server.js';
import {
  AttributeType,
  MessageBuilder,
  StunClass,
  decodeMessage,
  looksLikeStun,
  readErrorCode,
  readString,
  type SealOptions,
  type StunMessage,
} from '../../src/stun/index.js';
import { TurnEngine } from '../../src/turn/engine.js';
import { silentLogger } from '../../src/log/logger-interface.js';
import { NonceIssuer } from '../../src/turn/nonce.js';
import { LocalLedger, type AllocationLedger } from '../../src/turn/ledger.js';
import type { ReplyBudget } from '../../src/turn/reply-budget.js';
import type { RelayProvider } from '../../src/turn/relay.js';
import { RecordingSession } from './recording-session.js';
import type { ServerOptions } from '../../src/config/server-options.js';
import { ALICE, ALICE_KEY, REALM, testServerOptions } from './server-options.js';

const closers: (() => void)[] = [];

export function closeEngineHarnesses(): void {
  closers.splice(0).forEach((c) => c());
}

export interface HarnessOptions {
  readonly staleNonceSeconds?: number;
  /** A fixed secret makes the same nonces in every run, the clock starting at the same time (default: random). */
  readonly nonceSecret?: Buffer;
  /** Slows relay binding down, to open the window in which a retransmission can race. */
  readonly relayDelayMs?: number;
  /** Whether the relay sockets are taken to send with DF (default: what this kernel does). */
  readonly setsDontFragment?: boolean;
  /** Where quotas and bps-capacity are decided (default: a LocalLedger of its own). */
  readonly ledger?: AllocationLedger;
  /** Server options beyond testServerOptions()' defaults (quotas, max-bps, …). */
  readonly options?: Partial<ServerOptions>;
  /** What caps unsigned answers over UDP (default: none, as with no-reply-budget). */
  readonly replyBudget?: ReplyBudget;
  /** The nonce issuer (default: one with staleNonceSeconds and nonceSecret). */
  readonly nonces?: NonceIssuer;
  /**
   * The engine gets the relays and the ledger themselves, as a server does, rather than wrapped
   * in async functions that count the work under way: what they decide at once is then answered
   * at once. settled() cannot count their work: await each request's Promise instead.
   */
  readonly unwrapped?: boolean;
}

/** What alice's request carries instead of what she would send: another NONCE, other integrity keys. */
export interface SigningOverrides {
  readonly nonce?: string;
  readonly seal?: SealOptions;
}

/**
 * A TurnEngine with real relay sockets on 127.0.0.1 (from the options' min-port..max-port), a
 * clock the test moves, and client sessions (5-tuples) that sign requests as alice: `t.session`
 * and `t.request` are the first one's, `t.client()` makes another. Error log lines are kept
 * in `t.errors`, so that a test can assert that nothing failed inside the engine.
 */
export async function engineHarness(harness: HarnessOptions = {}) {
  let now = 1_700_000_000_000;
  const relayDelayMs = harness.relayDelayMs ?? 0;
  const options = await testServerOptions(harness.options);
  const relays = new UdpRelays({ relayIps: ['127.0.0.1'], minPort: options.minPort, maxPort: options.maxPort, externalIps: new Map(), setsDontFragment: harness.setsDontFragment }, silentLogger);
  // Binding a relay socket and (across a port) the ledger's answer are the work the engine
  // waits for here that outlives the microtasks of a packet: counting them under way tells
  // when the engine is done.
  let bindingsUnderWay = 0;
  const countedRelays: RelayProvider = {
    hasFamily: (family) => relays.hasFamily(family),
    setsDontFragment: relays.setsDontFragment,
    open: async (request, onPacket) => {
      bindingsUnderWay++;
      try {
        if (relayDelayMs > 0) await new Promise((r) => setTimeout(r, relayDelayMs));
        return await relays.open(request, onPacket);
      } finally {
        bindingsUnderWay--;
      }
    },
  };
  const ledger = harness.ledger ?? new LocalLedger();
  let reservationsUnderWay = 0;
  const countedLedger: AllocationLedger = {
    reserve: async (request) => {
      reservationsUnderWay++;
      try {
        return await ledger.reserve(request);
      } finally {
        reservationsUnderWay--;
      }
    },
    release: (lease) => ledger.release(lease),
  };
  const errors: string[] = [];
  const engine = new TurnEngine(engineConfigOf(options), {
    credentials: new Credentials([new StaticUsers(options.users, REALM)], undefined),
    relays: harness.unwrapped ? relays : countedRelays,
    peerPolicy: new PeerPolicy({ allowLoopbackPeers: true, allowed: options.allowedPeerIps, denied: options.deniedPeerIps }),
    nonces: harness.nonces ?? new NonceIssuer(harness.staleNonceSeconds ?? 600, harness.nonceSecret),
    replyBudget: harness.replyBudget,
    ledger: harness.unwrapped ? ledger : countedLedger,
    logger: { ...silentLogger, error: (line) => void errors.push(line) },
    clock: () => now,
  });
  closers.push(() => {
    engine.close();
    relays.close();
  });
  let nextPort = 40000;
  const code = (m: StunMessage) => readErrorCode(m, AttributeType.ErrorCode)?.code;

  /** Resolves once the engine has finished with every packet handed to it so far. */
  async function settled(): Promise<void> {
    for (let i = 0; i < 1000; i++) {
      await new Promise((r) => setImmediate(r)); // every queued continuation has run
      if (bindingsUnderWay === 0 && reservationsUnderWay === 0) return;
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error('the engine is still reserving or binding relays after 1,000 waits');
  }

  /** Another 5-tuple of alice's, from `address` (nonces are bound to the client's IP). */
  function client(address = '127.0.0.1') {
    const session = new RecordingSession(nextPort++, address);
    let nonce = '';

    /** A request as alice would sign it with the nonce she last learnt. */
    function signed(method: number, add: (b: MessageBuilder) => void = () => {}, overrides: SigningOverrides = {}): Buffer {
      const builder = new MessageBuilder(method, StunClass.Request);
      add(builder);
      builder.addString(AttributeType.Username, ALICE.username).addString(AttributeType.Realm, REALM).addString(AttributeType.Nonce, overrides.nonce ?? nonce);
      return builder.build(overrides.seal ?? { integrityKey: ALICE_KEY });
    }

    /** Every answer this session has been sent so far to `request` (a response with its transaction ID). */
    function received(request: Buffer): StunMessage[] {
      const id = request.subarray(8, 20);
      return session.sent
        .filter((data) => looksLikeStun(data) && data.subarray(8, 20).equals(id))
        .map((data) => decodeMessage(data))
        .filter((m) => m.cls === StunClass.SuccessResponse || m.cls === StunClass.ErrorResponse);
    }

    /** Hands `request` to the engine and returns the answers it got once the engine is done: none, one, or (a bug) more. */
    async function answersTo(request: Buffer): Promise<StunMessage[]> {
      const before = received(request).length;
      engine.handlePacket(session, request);
      await settled();
      const answers = received(request).slice(before);
      for (const answer of answers) nonce = readString(answer, AttributeType.Nonce, 763) ?? nonce;
      return answers;
    }

    /** Sends a signed request and returns its one answer; no answer, or more than one, fails the test. */
    async function requestOnce(method: number, add: (b: MessageBuilder) => void = () => {}): Promise<StunMessage> {
      const answers = await answersTo(signed(method, add));
      if (answers.length !== 1) throw new Error(`request ${method} got ${answers.length} answers, not one`);
      return answers[0]!;
    }

    /** As a client does: a 438 (or a first 401) is answered by trying again with the new nonce. */
    async function request(method: number, add: (b: MessageBuilder) => void = () => {}): Promise<StunMessage> {
      const response = await requestOnce(method, add);
      return code(response) === 438 ? requestOnce(method, add) : response;
    }
    return { session, signed, received, answersTo, requestOnce, request, nonce: () => nonce };
  }

  const firstClient = client();
  return {
    ...firstClient,
    client,
    engine,
    options,
    errors,
    settled,
    code,
    now: () => now,
    advance: (ms: number) => {
      now += ms;
      engine.tick();
    },
  };
}

export type EngineHarness = Awaited<ReturnType<typeof engineHarness>>;
