// An exception that JS's callback throws when a native addon calls it from the event loop (a
// batch of datagrams, an accepted connection, a connection's bytes) is the process's uncaught
// exception, as one thrown by an event handler is: never swallowed in C (socket-addon.h's
// callJsFromLoop). Each addon in a child Node process of its own, real sockets on loopback.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const build = path.resolve('native/build');

/** Runs `script` in a child Node (the addons' directory as BUILD): what it printed, or why it ended. */
function runChild(script: string): Promise<string> {
  const prelude = `const BUILD = ${JSON.stringify(build)};
process.on('uncaughtException', (error) => { console.log('uncaught: ' + error.message); process.exit(0); });
setTimeout(() => { console.log('nothing thrown'); process.exit(2); }, 5000);
`;
  return new Promise((resolve) => {
    execFile(process.execPath, ['-e', prelude + script], { timeout: 15_000 }, (error, stdout, stderr) => resolve(error ? `${error.message} ${stderr}` : stdout.trim()));
  });
}

/** The tcp-accept addon, listening on loopback, and a client connecting to it. */
const acceptOne = (onConnection: string) => `const accept = require(BUILD + '/tcp-accept.node');
accept.start(${onConnection});
const [, port] = accept.listen(4, '127.0.0.1', 0, false);
const client = require('node:net').connect(port, '127.0.0.1');
client.on('error', () => {});
`;

describe.runIf(process.platform === 'linux')('an exception thrown by JS called from a native addon', () => {
  it('udp-io: from onBatch, it reaches uncaughtException', async () => {
    expect(await runChild(`const io = require(BUILD + '/udp-io.node');
io.start(() => { throw new Error('from onBatch'); });
const id = io.open(4, '127.0.0.1', 0, false, 0);
require('node:dgram').createSocket('udp4').send(Buffer.from('x'), io.localPort(id), '127.0.0.1');
`)).toBe('uncaught: from onBatch');
  });

  it('tcp-accept: from onConnection, it reaches uncaughtException', async () => {
    expect(await runChild(acceptOne(`() => { throw new Error('from onConnection'); }`))).toBe('uncaught: from onConnection');
  });

  it('tls-stream: from a connection\'s event, it reaches uncaughtException', async () => {
    expect(await runChild(`const stream = require(BUILD + '/tls-stream.node');
stream.start(() => { throw new Error('from onEvent'); }, Buffer.alloc(65536));
${acceptOne(`(id, fd) => { stream.adoptPlain(fd, Buffer.alloc(0)); require('node:fs').closeSync(fd); }`)}
client.write('x');
`)).toBe('uncaught: from onEvent');
  });
});
