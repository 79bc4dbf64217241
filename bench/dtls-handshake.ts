// DTLS handshake cost: Turnpike vs coturn in ONE run, server CPU per full DTLS 1.2 handshake.
// Run: npx tsx bench/dtls-handshake.ts  (build Turnpike first: dist/cli/turnpike.js)
//
// Each server gets BENCH_WARMUP handshakes, then BENCH_HANDSHAKES more, BENCH_PARALLEL at a
// time, each by a fresh `openssl s_client -dtls1_2` (ECDHE-ECDSA-AES128-GCM-SHA256, P-256
// certificate) that says close_notify once its handshake is done. The figure is the server's
// user+system CPU over those handshakes, divided by their count: cookie exchange, ECDHE,
// signing, the PRF, and the closing alert. s_client takes about half a second from start to
// exit; one at a time, the server's idle timers would add a third of a millisecond or more to
// each handshake, so several run at once.
// Env: BENCH_BASELINE_CLI: another build's dist/cli/turnpike.js, measured too (as 'baseline', or
// a comma list of NAME=CLI), for a before/after comparison in one run.
import { spawn } from 'node:child_process';
import { startCoturn, treeCpuTimeSeconds } from '../test/support/coturn-tools.js';
import { freePortRange, freeUdpTcpPort } from '../test/support/ports.js';
import { startTurnpike } from '../test/support/turnpike-process.js';
import { makeCertificate, type TestCertificate } from '../test/support/certs.js';
import { envInt } from './env.js';
import { runMain } from './run-main.js';
import { otherBuilds } from './setup-servers.js';

const HOST = '127.0.0.1';
const WARMUP = envInt('BENCH_WARMUP', 20);
const HANDSHAKES = envInt('BENCH_HANDSHAKES', 200);
const PARALLEL = envInt('BENCH_PARALLEL', 10);
const SUITE = 'ECDHE-ECDSA-AES128-GCM-SHA256';
const HANDSHAKE_TIMEOUT_MS = 10_000;

interface Server { pid: number; stop(): Promise<unknown> }

/** One handshake by a fresh s_client; resolves when it has exited, rejects if it failed. */
function handshake(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('openssl', ['s_client', '-dtls1_2', '-cipher', SUITE, '-connect', `${HOST}:${port}`, '-brief'],
      { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    // s_client may read stdin before its handshake is done: EOF only once it says it is.
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (/CONNECTION ESTABLISHED/.test(stderr)) child.stdin.end(); // then it sends close_notify
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), HANDSHAKE_TIMEOUT_MS);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0 && /CONNECTION ESTABLISHED/.test(stderr)) resolve();
      else reject(new Error(`s_client exited ${code}:\n${stderr.slice(-1000)}`));
    });
  });
}

const BASELINES = otherBuilds(process.env.BENCH_BASELINE_CLI);

async function start(name: string, certificate: TestCertificate): Promise<{ server: Server; dtlsPort: number }> {
  const port = await freeUdpTcpPort(HOST);
  const dtlsPort = await freeUdpTcpPort(HOST);
  const minPort = await freePortRange(HOST, 20);
  const flags = ['--listening-ip', HOST, '--listening-port', String(port), '--relay-ip', HOST,
    '--min-port', String(minPort), '--max-port', String(minPort + 19), '--tls-listening-port', String(dtlsPort),
    '--cert', certificate.cert, '--pkey', certificate.key, '--lt-cred-mech', '--user', 'bench:benchpass',
    '--realm', 'bench.example', '--no-tcp', '--no-tls', '--no-cli'];
  const server = name === 'coturn'
    ? await startCoturn([...flags, '--relay-threads', '1'], { dtls: true })
    : await startTurnpike(['-n', ...flags, '--relay-threads', '1'], HOST, port, {}, BASELINES.find((b) => b.name === name)?.cli);
  return { server, dtlsPort };
}

/** `count` handshakes, `PARALLEL` at a time. */
async function handshakes(port: number, count: number): Promise<void> {
  let started = 0;
  const lane = async () => {
    while (started < count) {
      started++;
      await handshake(port);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, count) }, lane));
}

async function measure(name: string, certificate: TestCertificate): Promise<number> {
  const { server, dtlsPort } = await start(name, certificate);
  try {
    await handshakes(dtlsPort, WARMUP);
    const cpu0 = treeCpuTimeSeconds(server.pid);
    await handshakes(dtlsPort, HANDSHAKES);
    return ((treeCpuTimeSeconds(server.pid) - cpu0) * 1000) / HANDSHAKES;
  } finally {
    await server.stop();
  }
}

async function main(): Promise<number> {
  console.log(`DTLS handshake bench: ${WARMUP} warm-up + ${HANDSHAKES} openssl s_client -dtls1_2 `
    + `handshakes, ${PARALLEL} at a time (${SUITE}, P-256 certificate) per server`);
  const certificate = makeCertificate();
  const cost = new Map<string, number>();
  try {
    for (const name of ['turnpike', 'coturn', ...BASELINES.map((b) => b.name)]) {
      console.log(`running ${name}...`);
      cost.set(name, await measure(name, certificate));
    }
  } finally {
    certificate.remove();
  }
  for (const [name, ms] of cost) console.log(`${name.padStart(8)}: ${ms.toFixed(2)} ms server CPU per handshake`);
  for (const name of ['turnpike', ...BASELINES.map((b) => b.name)]) console.log(`${name}/coturn: ${(cost.get(name)! / cost.get('coturn')!).toFixed(2)}`);
  return 0;
}

runMain(main);
