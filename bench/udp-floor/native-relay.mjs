// The bare relay hop in a Node process with the per-datagram work in native-hop.c: `native`
// runs no JS per datagram (JS starts it and reads its counters); `batch` calls JS once per
// event-loop turn with the turn's datagrams, and JS picks each one's destination port from a
// table by source socket, as a channel lookup would.
import { createRequire } from 'node:module';

const [addonPath, mode, ...rest] = process.argv.slice(2);
const [base, k, sinkPort, count] = rest.map(Number);
const hop = createRequire(import.meta.url)(addonPath);
if (mode !== 'native' && mode !== 'batch') throw new Error(`mode must be native or batch, not ${mode}`);

const peerPort = new Int32Array(k).fill(sinkPort);  // source socket index -> destination port
let ports;
let routed = 0;
const onBatch = (n) => {
  for (let i = 0; i < n; i++) ports[i] = peerPort[ports[i]];
  routed += n;
};
const shared = hop.start(base, k, sinkPort, count, mode === 'batch' ? onBatch : undefined);
ports = new Int32Array(shared.ports);

let seen = 0;
let last = Date.now();
const timer = setInterval(() => {
  const s = hop.stats();
  if (s.received !== seen) { seen = s.received; last = Date.now(); }
  if (s.received < count && (s.received === 0 || Date.now() - last < 2000)) return;
  clearInterval(timer);
  if (mode === 'batch' && routed !== s.received) {
    console.error(`JS routed ${routed} of ${s.received} datagrams: not the hop this claims to measure`);
    process.exit(1);
  }
  const cpu = process.cpuUsage();
  console.log(`relayed ${s.received} user ${Math.round(cpu.user - s.startUser)} sys ${Math.round(cpu.system - s.startSys)}`
    + ` batches ${s.batches} dropped ${s.dropped} truncated ${s.truncated} routed-by-js ${routed}`);
  process.exit(0);
}, 100);
console.log('ready');
