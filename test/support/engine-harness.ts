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
  longTermKey,
  readErrorCode,
  readString,
  type StunMessage,
} from '../../src/stun/index.js';
import { TurnEngine } from '../../src/turn/engine.js';
import { silentLogger } from '../../src/turn/logger.js';
import { NonceIssuer } from '../../src/turn/nonce.js';
import type { RelayProvider } from '../../src/turn/relay.js';
import { freePortRange } from './ports.js';
import { RecordingSession } from './recording-session.js';
import type { ServerOptions } from '../../src/config/server-options.js';
import { ALICE, REALM, testServerOptions } from './server-options.js';

const closers: (() => void)[] = [];

export function closeEngineHarnesses(): void {
  closers.splice(0).forEach((c) => c());
}

export interface HarnessOptions {
  readonly staleNonceSeconds?: number;
  /** Slows relay binding down, to open the window in which a retransmission can race. */
  readonly relayDelayMs?: number;
  /** Whether the relay sockets are taken to send with DF (default: what this kernel does). */
  readonly setsDontFragment?: boolean;
  /** Server options beyond testServerOptions()' defaults (quotas, max-bps, …). */
  readonly options?: Partial<ServerOptions>;
}

/**
 * A TurnEngine with real relay sockets on 127.0.0.1, a clock the test moves, and client
 * sessions (5-tuples) that sign requests as alice: `t.session` and `t.request` are the first
 * one's, `t.client()` makes another.
 */
export async function engineHarness(harness: HarnessOptions = {}) {
  let now = 1_700_000_000_000;
  const relayDelayMs = harness.relayDelayMs ?? 0;
  const first = await freePortRange('127.0.0.1', 10);
  const relays = new UdpRelays({ relayIps: ['127.0.0.1'], minPort: first, maxPort: first + 9, externalIps: new Map(), setsDontFragment: harness.setsDontFragment }, silentLogger);
  const options = await testServerOptions(harness.options);
  const slowRelays: RelayProvider = {
    hasFamily: (family) => relays.hasFamily(family),
    setsDontFragment: relays.setsDontFragment,
    open: async (request, onPacket) => {
      await new Promise((r) => setTimeout(r, relayDelayMs));
      return relays.open(request, onPacket);
    },
  };
  const engine = new TurnEngine(engineConfigOf(options), {
    credentials: new Credentials([new StaticUsers(options.users, REALM)], undefined),
    relays: relayDelayMs > 0 ? slowRelays : relays,
    peerPolicy: new PeerPolicy({ allowLoopbackPeers: true }),
    nonces: new NonceIssuer(harness.staleNonceSeconds ?? 600),
    logger: silentLogger,
    clock: () => now,
  });
  closers.push(() => {
    engine.close();
    relays.close();
  });
  const key = longTermKey(ALICE.username, REALM, ALICE.password);
  let nextPort = 40000;
  const code = (m: StunMessage) => readErrorCode(m, AttributeType.ErrorCode)?.code;

  /** Another 5-tuple of alice's. */
  function client() {
    const session = new RecordingSession(nextPort++);
    let nonce = '';

    /** A request as alice would sign it with the nonce she last learnt. */
    function signed(method: number, add: (b: MessageBuilder) => void = () => {}): Buffer {
      const builder = new MessageBuilder(method, StunClass.Request);
      add(builder);
      builder.addString(AttributeType.Username, ALICE.username).addString(AttributeType.Realm, REALM).addString(AttributeType.Nonce, nonce);
      return builder.build({ integrityKey: key });
    }

    /** Sends a request and waits for the engine's answer (requests are handled asynchronously). */
    async function requestOnce(method: number, add: (b: MessageBuilder) => void = () => {}): Promise<StunMessage> {
      const before = session.sent.length;
      engine.handlePacket(session, signed(method, add));
      for (let i = 0; i < 200 && session.sent.length === before; i++) await new Promise((r) => setTimeout(r, 5));
      const response = decodeMessage(session.sent[session.sent.length - 1]!);
      const fresh = readString(response, AttributeType.Nonce, 763);
      if (fresh) nonce = fresh;
      return response;
    }

    /** As a client does: a 438 (or a first 401) is answered by trying again with the new nonce. */
    async function request(method: number, add: (b: MessageBuilder) => void = () => {}): Promise<StunMessage> {
      const response = await requestOnce(method, add);
      return code(response) === 438 ? requestOnce(method, add) : response;
    }
    return { session, signed, requestOnce, request };
  }

  const firstClient = client();
  return {
    ...firstClient,
    client,
    engine,
    code,
    now: () => now,
    advance: (ms: number) => {
      now += ms;
      engine.tick();
    },
  };
}
