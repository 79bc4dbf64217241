// A TLS or plain TCP client that sends faster than the server gets through its frames must not
// hold the thread that runs its connection (native/stream-conn.c reads a bounded share per loop
// round, as libuv reads 32 times per callback for Node's sockets): another client is still served.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MessageBuilder, Method, StunClass } from '../../src/stun/index.js';
import { makeCertificate, type TestCertificate } from '../support/certs.js';
import { stopAllProcesses } from '../support/processes.js';
import { startSecureTurnpike } from '../support/turnpike-process.js';

const HOST = '127.0.0.1';
let certificate: TestCertificate;
let tlsPort: number;
let tcpPort: number;
const flooders: ChildProcess[] = [];

beforeAll(async () => {
  certificate = makeCertificate();
  // One relay worker: every connection is run by the same thread.
  let server;
  ({ tlsPort, server } = await startSecureTurnpike(certificate, 'fair.example', ['--no-dtls', '--relay-threads', '1']));
  tcpPort = server.port;
});
afterAll(async () => {
  for (const child of flooders) child.kill('SIGKILL');
  await stopAllProcesses();
  certificate.remove();
});

type Transport = 'tls' | 'tcp';
const portOf = (transport: Transport): number => (transport === 'tls' ? tlsPort : tcpPort);

/**
 * In a process of its own (so its writes never wait on this test's loop): two connections
 * that write 16 KiB records of 4,096 empty ChannelData frames (channel unbound: dropped) back to
 * back for as long as they live, each costing the server far more to take apart than it costs to
 * send. It says "flooding" once one has sent 16 MiB, and exits if either closes.
 */
function startFlooder(transport: Transport): Promise<ChildProcess> {
  const port = portOf(transport);
  const connect = transport === 'tls'
    ? `(then) => require('node:tls').connect({ host: '${HOST}', port: ${port}, rejectUnauthorized: false, ALPNProtocols: ['stun.turn'] }, then)`
    : `(then) => require('node:net').connect({ host: '${HOST}', port: ${port} }, then)`;
  const script = `
    const connect = ${connect};
    const frame = Buffer.from([0x40, 0x00, 0x00, 0x00]);
    const record = Buffer.concat(Array(4096).fill(frame));
    const flood = () => {
      const socket = connect(() => {
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

/** A new connection's Binding answer (no deadline: the test's own timeout says it never came). */
function bindingAnswer(transport: Transport): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = () => socket.write(new MessageBuilder(Method.Binding, StunClass.Request).build());
    const port = portOf(transport);
    const socket: net.Socket = transport === 'tls' ? tls.connect({ host: HOST, port, rejectUnauthorized: false, ALPNProtocols: ['stun.turn'] }, request) : net.connect({ host: HOST, port }, request);
    socket.once('data', (data: Buffer) => {
      socket.destroy();
      resolve(data.readUInt16BE(0));
    });
    socket.once('error', reject);
  });
}

it.each(['tls', 'tcp'] as const)('answers new %s clients while four connections flood theirs', async (transport) => {
  const running = [await startFlooder(transport), await startFlooder(transport)];
  // Without a bound on a round of reads, a flooding connection is read from for as long as
  // its socket holds bytes (always): no other connection is accepted or answered meanwhile.
  for (let i = 0; i < 10; i++) expect(await bindingAnswer(transport)).toBe(0x0101);
  for (const flooder of running) expect(flooder.exitCode).toBeNull(); // still connected, and flooding, while the others were answered
  for (const flooder of running) flooder.kill('SIGKILL');
}, 30_000);
