// A TLS client that sends faster than the server gets through its records must not hold the
// thread that runs its connection (native/tls-stream.c reads a bounded share per loop round, as
// libuv reads 32 times per callback for Node's sockets): another client is still served.
import { spawn, type ChildProcess } from 'node:child_process';
import tls from 'node:tls';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MessageBuilder, Method, StunClass } from '../../src/stun/index.js';
import { makeCertificate, type TestCertificate } from '../support/certs.js';
import { stopAllProcesses } from '../support/processes.js';
import { startSecureTurnpike } from '../support/turnpike-process.js';

const HOST = '127.0.0.1';
let certificate: TestCertificate;
let tlsPort: number;
const flooders: ChildProcess[] = [];

beforeAll(async () => {
  certificate = makeCertificate();
  // One relay worker: every connection is run by the same thread.
  ({ tlsPort } = await startSecureTurnpike(certificate, 'fair.example', ['--no-dtls', '--relay-threads', '1']));
});
afterAll(async () => {
  for (const child of flooders) child.kill('SIGKILL');
  await stopAllProcesses();
  certificate.remove();
});

/**
 * In a process of its own (so its writes never wait on this test's loop): two TLS connections
 * that write 16 KiB records of 4,096 empty ChannelData frames (channel unbound: dropped) back to
 * back for as long as they live, each costing the server far more to take apart than it costs to
 * send. It says "flooding" once one has sent 16 MiB, and exits if either closes.
 */
function startFlooder(port: number): Promise<ChildProcess> {
  const script = `
    const tls = require('node:tls');
    const frame = Buffer.from([0x40, 0x00, 0x00, 0x00]);
    const record = Buffer.concat(Array(4096).fill(frame));
    const flood = () => {
      const socket = tls.connect({ host: '${HOST}', port: ${port}, rejectUnauthorized: false, ALPNProtocols: ['stun.turn'] }, () => {
        let sent = 0;
        const more = () => {
          while (socket.write(record)) if ((sent += record.length) === 16 * 1024 * 1024) console.log('flooding');
          socket.once('drain', more);
        };
        more();
      });
      socket.on('error', (e) => { console.error(e.message); process.exit(1); });
      socket.on('close', () => process.exit(2));
    };
    flood();
    flood();`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  flooders.push(child);
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (data: Buffer) => {
      if (data.toString().includes('flooding')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`flooder exited (${code})`)));
  });
}

/** A new TLS connection's Binding answer (no deadline: the test's own timeout says it never came). */
function bindingAnswer(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: HOST, port, rejectUnauthorized: false, ALPNProtocols: ['stun.turn'] }, () => {
      socket.write(new MessageBuilder(Method.Binding, StunClass.Request).build());
    });
    socket.once('data', (data: Buffer) => {
      socket.destroy();
      resolve(data.readUInt16BE(0));
    });
    socket.once('error', reject);
  });
}

it('answers new clients while four connections flood theirs', async () => {
  const running = [await startFlooder(tlsPort), await startFlooder(tlsPort)];
  // Without a bound on a round of reads, a flooding connection is read from for as long as
  // its socket holds bytes (always): no other connection is accepted or answered meanwhile.
  for (let i = 0; i < 10; i++) expect(await bindingAnswer(tlsPort)).toBe(0x0101);
  for (const flooder of running) expect(flooder.exitCode).toBeNull(); // still connected, and flooding, while the others were answered
}, 30_000);
