// A client's own socket joins the listener's reuse group with bind() and only then connect():
// in between, the kernel may queue it another client's datagram, which it still reads once
// connected. CI saw the result: a retransmitted Allocate from one client read from another
// client's socket, answered as that client's (437) and sent to it. Such a datagram must reach
// the stranger handler with its real source, never the connected client's.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { nativeUdpIo } from '../../src/net/native-udp/addon.js';
import { cleanupAfterEach } from '../support/cleanups.js';
import { freeUdpPort } from '../support/ports.js';

const cleanups = cleanupAfterEach();
const HOST = '127.0.0.1';
/** The connected sockets' remote: an address nothing sends from. */
const SILENT_REMOTE = { address: '127.0.0.3', port: 9 };
const MARK = 'stranger';

/** A child process sending MARK to host:port from 16 source ports as fast as it can, for `seconds`. */
function blast(port: number, seconds: number): { sources: Promise<number[]>; stop: () => void } {
  const script = `
    const dgram = require('node:dgram');
    const sockets = Array.from({ length: 16 }, () => dgram.createSocket('udp4'));
    let bound = 0;
    const data = Buffer.from(${JSON.stringify(MARK)});
    const end = Date.now() + ${seconds * 1000};
    for (const s of sockets) s.bind(0, '${HOST}', () => {
      if (++bound < sockets.length) return;
      process.stdout.write(JSON.stringify(sockets.map((x) => x.address().port)) + '\\n');
      const burst = () => {
        if (Date.now() > end) return process.exit(0);
        for (let i = 0; i < 64; i++) for (const x of sockets) x.send(data, ${port}, '${HOST}');
        setImmediate(burst);
      };
      burst();
    });`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const sources = new Promise<number[]>((resolve, reject) => {
    child.stdout.once('data', (line: Buffer) => resolve(JSON.parse(line.toString()) as number[]));
    child.once('exit', () => reject(new Error('blaster ended before it started')));
  });
  return { sources, stop: () => void child.kill() };
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe.runIf(process.platform === 'linux')('a client socket of the native I/O, while other clients send', () => {
  it("hands another client's datagram, queued before the connect, to the stranger handler with its source", async () => {
    const io = nativeUdpIo()!;
    const port = await freeUdpPort(HOST);
    const listener = io.openUnconnected({ family: 4, address: HOST, port, reusePort: true }, () => {});
    cleanups.push(() => io.close(listener));
    const blaster = blast(port, 20);
    cleanups.push(blaster.stop);
    const sources = await blaster.sources;

    let fromRemote = 0;
    const strangers: { text: string; address: string; port: number }[] = [];
    const deadline = Date.now() + 15_000;
    // Bounded: until a stranger was caught in the window, 15 s or 4,000 rounds of 8 sockets.
    for (let round = 0; round < 4000 && strangers.length === 0 && Date.now() < deadline; round++) {
      const ids = Array.from({ length: 8 }, () =>
        io.openConnected(
          { family: 4, address: HOST, port, reusePort: true },
          SILENT_REMOTE,
          () => void fromRemote++,
          (data, offset, length, address, from) => void strangers.push({ text: data.toString('latin1', offset, offset + length), address, port: from }),
        ),
      );
      await turn();
      await turn();
      for (const id of ids) io.close(id);
    }
    expect(fromRemote).toBe(0);
    expect(strangers.length).toBeGreaterThan(0);
    for (const s of strangers) {
      expect(s).toMatchObject({ text: MARK, address: HOST });
      expect(sources).toContain(s.port);
    }
  }, 30_000);
});
