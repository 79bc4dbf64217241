// DTLS record crypto alone: CPU per record sealed and opened by RecordProtection with the native
// AES-GCM addon and with node:crypto, in one run, interleaved (docs/native-crypto.md).
// Run: npx tsx bench/dtls-record-aead.ts  Env: BENCH_RECORDS (per round), BENCH_ROUNDS, BENCH_LENGTH.
import { randomBytes } from 'node:crypto';
import { nativeRecordGcm, nodeCryptoGcm, type Gcm } from '../src/net/dtls/gcm.js';
import { RecordProtection } from '../src/net/dtls/protection.js';
import { ContentType, parseRecords } from '../src/net/dtls/record.js';
import { CIPHER_SUITES, keyBlock } from '../src/net/dtls/suites.js';
import { envInt } from './env.js';

const RECORDS = envInt('BENCH_RECORDS', 20_000);
const ROUNDS = envInt('BENCH_ROUNDS', 5);
const LENGTH = envInt('BENCH_LENGTH', 104); // a ChannelData header and uclient's 100 bytes
const suite = CIPHER_SUITES[0]!;
const keys = keyBlock(suite, randomBytes(48), randomBytes(32), randomBytes(32));
const mirrored = { clientKey: keys.serverKey, serverKey: keys.clientKey, clientIv: keys.serverIv, serverIv: keys.clientIv };

/** User and system CPU µs since `start`. */
function cpuUsSince(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return d.user + d.system;
}

/** CPU µs per record: [seal, open]. Nothing sealed is kept, so that GC of it stays out. */
function measure(gcm: Gcm): [number, number] {
  const server = new RecordProtection(suite, keys, gcm);
  const client = new RecordProtection(suite, mirrored, gcm);
  const payload = randomBytes(LENGTH);
  let t = process.cpuUsage();
  for (let i = 0; i < RECORDS; i++) server.seal(ContentType.ApplicationData, 1, i, [payload]);
  const sealUs = cpuUsSince(t) / RECORDS;
  const records = Array.from({ length: 64 }, (_, i) => parseRecords(server.seal(ContentType.ApplicationData, 1, i, [payload]))![0]!);
  t = process.cpuUsage();
  for (let i = 0; i < RECORDS; i++) if (!client.open(records[i % records.length]!)) throw new Error('a record did not open');
  const openUs = cpuUsSince(t) / RECORDS;
  return [sealUs, openUs];
}

const native = nativeRecordGcm();
if (!('gcm' in native)) throw new Error(`native AES-GCM unavailable: ${native.unavailable}`);
console.log(`DTLS record AES-GCM (${suite.name}), ${LENGTH} B plaintext, ${RECORDS} records per round, CPU µs per record`);
console.log('round  native seal  native open  node:crypto seal  node:crypto open');
measure(native.gcm); // warm-up: compiled code and pools for both, not counted
measure(nodeCryptoGcm);
for (let round = 1; round <= ROUNDS; round++) {
  const [ns, no] = measure(native.gcm);
  const [cs, co] = measure(nodeCryptoGcm);
  console.log(`${String(round).padStart(5)}  ${ns.toFixed(2).padStart(11)}  ${no.toFixed(2).padStart(11)}  ${cs.toFixed(2).padStart(16)}  ${co.toFixed(2).padStart(16)}`);
}
