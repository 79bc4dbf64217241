// For warm-up-first-clients.test.ts: what V8 throws away of the warmed-up request path at a
// fresh server's first clients. Plain JavaScript importing dist/ (built by pretest), so the
// code V8 sees is the server's own. It warms up as the server does, then turns on
// --trace-deopt (so that only what follows is traced: the node the server builds after the
// warm-up, and its first clients), builds that node (`main`: as server.ts does with one relay
// thread; `worker`: as a relay worker does, options through a postMessage and a slice of the
// relay ports), sends it a bare Binding (a health check's) and runs CLIENTS call setups over
// loopback, and exits: V8's trace is on stdout. Arguments: main|worker PORT MIN-PORT MAX-PORT.
import { createSocket } from 'node:dgram';
import { setFlagsFromString } from 'node:v8';
import { loadConfig } from '../../dist/config/index.js';
import { warmUp } from '../../dist/lifecycle/warm-up.js';
import { silentLogger } from '../../dist/log/logger-interface.js';
import { RelayNode, newRelaySecrets } from '../../dist/relay-node.js';
import { AttributeType, MessageBuilder, Method, decodeMessage, readString } from '../../dist/stun/index.js';
import { longTermKey } from '../../dist/stun/integrity.js';
import { LocalLedger } from '../../dist/turn/ledger.js';
import { reviveOptions } from '../../dist/workers/messages.js';

/** src/stun/constants.ts's StunClass, a const enum that TypeScript leaves out of dist/. */
const StunClass = { Request: 0, SuccessResponse: 2 };
const CLIENTS = 5;
const REALM = 'first.example';
const USER = { name: 'first', password: 'first-clients' };
const PEER = { family: 4, address: '127.0.0.1', port: 9 };
const ANSWER_TIMEOUT_MS = 2000;

const [mode, port, minPort, maxPort] = process.argv.slice(2);
const parsed = loadConfig([
  '-n', '--listening-ip', '127.0.0.1', '--listening-port', port, '--relay-ip', '127.0.0.1', '--min-port', minPort, '--max-port', maxPort,
  '--lt-cred-mech', '--user', `${USER.name}:${USER.password}`, '--realm', REALM, '--allow-loopback-peers', '--no-tcp', '--no-tls', '--no-dtls', '--no-cli',
]).options;
const options = mode === 'worker' ? reviveOptions(structuredClone({ ...parsed, relayThreads: 2 })) : parsed;

await warmUp(options);
setFlagsFromString('--trace-deopt');
const place =
  mode === 'worker'
    ? { slice: { index: 0, count: 2 }, group: {}, foreignReservations: { claim: async () => undefined, giveBack: () => {} } }
    : undefined;
const node = await RelayNode.create({ options, secrets: newRelaySecrets(), ledger: new LocalLedger(), logger: silentLogger, place });
const server = (await node.listen()).udpAddresses[0];
const key = longTermKey(USER.name, REALM, USER.password);
const health = await oneCall(server, key, true);
let answered = 0;
for (let i = 0; i < CLIENTS; i++) answered += await oneCall(server, key);
await node.close();
console.log(`answered ${health} ${answered}`);
process.exit(0);

/** One client's call setup (or a bare Binding) from a socket of its own; resolves to the number of success answers. */
async function oneCall(to, key, bareBinding = false) {
  const socket = createSocket('udp4');
  await new Promise((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const exchange = (data) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no answer')), ANSWER_TIMEOUT_MS);
      socket.once('message', (answer) => {
        clearTimeout(timer);
        resolve(decodeMessage(answer));
      });
      socket.send(data, to.port, to.address);
    });
  const request = (method, add, signedWith) => {
    const builder = new MessageBuilder(method, StunClass.Request);
    add(builder);
    return builder.build({ integrityKey: signedWith, fingerprint: true });
  };
  const transport = (b) => b.addFirstByte(AttributeType.RequestedTransport, 17);
  try {
    if (bareBinding) return (await exchange(new MessageBuilder(Method.Binding, StunClass.Request).build({}))).cls === StunClass.SuccessResponse ? 1 : 0;
    const nonce = readString(await exchange(request(Method.Allocate, transport)), AttributeType.Nonce, 763);
    const signed = (method, add) =>
      request(method, (b) => add(b).addString(AttributeType.Username, USER.name).addString(AttributeType.Realm, REALM).addString(AttributeType.Nonce, nonce), key);
    const answers = [
      await exchange(signed(Method.Allocate, transport)),
      await exchange(signed(Method.CreatePermission, (b) => b.addXorAddress(AttributeType.XorPeerAddress, PEER))),
      await exchange(signed(Method.ChannelBind, (b) => b.addChannelNumber(0x4000).addXorAddress(AttributeType.XorPeerAddress, PEER))),
      await exchange(signed(Method.Refresh, (b) => b.addUint32(AttributeType.Lifetime, 0))),
    ];
    return answers.filter((answer) => answer.cls === StunClass.SuccessResponse).length;
  } finally {
    socket.close();
  }
}
