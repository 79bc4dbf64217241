// A client's own socket joins the listener's reuse group with bind() and only then connect():
// in between, the kernel may queue it another client's datagram, which it still reads once
// connected. CI saw the result: a retransmitted Allocate from one client read from another
// client's socket, answered as that client's (437) and sent to it. Such a datagram must reach
// the stranger handler with its real source, never the connected client's.
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { nativeUdpIo } from '../../src/net/native-udp/addon.js';
import { cleanupAfterEach } from '../support/cleanups.js';
import { freeUdpPort } from '../support/ports.js';

const cleanups = cleanupAfterEach();
const HOST = '127.0.0.1';
/** The connected sockets' remote: an address nothing sends from. */
const SILENT_REMOTE = { address: '127.0.0.3', port: 9 };
const MARK = 'stranger';
/** MARK as ChannelData on channel 0x4000: what a routed channel of the client's would carry. */
const CHANNEL_DATA = Buffer.concat([Buffer.from([0x40, 0x00, 0x00, MARK.length]), Buffer.from(MARK)]);

/** A child process sending `data` to host:port from 16 source ports as fast as it can, for `seconds`. */
function blast(port: number, seconds: number, data: Buffer = Buffer.from(MARK)): { sources: Promise<number[]>; stop: () => void } {
  const script = `
    const dgram = require('node:dgram');
    const sockets = Array.from({ length: 16 }, () => dgram.createSocket('udp4'));
    let bound = 0;
    const data = Buffer.from(${JSON.stringify(data.toString('hex'))}, 'hex');
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

/**
 * Opens 8 client sockets at a time in host:port's reuse group (the i-th with `route(id, i)` made
 * in the same turn, before any datagram is read; what it returns undoes it once closed) until a stranger's datagram is caught, 15 s or 4,000
 * rounds; what reached the handlers.
 */
async function catchStrangers(port: number, route: (id: number, index: number) => () => void = () => () => {}): Promise<{ fromRemote: number; strangers: { text: string; address: string; port: number }[] }> {
  const io = nativeUdpIo()!;
  let fromRemote = 0;
  const strangers: { text: string; address: string; port: number }[] = [];
  const deadline = Date.now() + 15_000;
  for (let round = 0; round < 4000 && strangers.length === 0 && Date.now() < deadline; round++) {
    const ids = Array.from({ length: 8 }, () =>
      io.openConnected(
        { family: 4, address: HOST, port, reusePort: true },
        SILENT_REMOTE,
        () => void fromRemote++,
        (data, offset, length, address, from) => void strangers.push({ text: data.toString('latin1', offset, offset + length), address, port: from }),
      ),
    );
    const unroute = ids.map(route);
    await turn();
    await turn();
    for (const id of ids) io.close(id);
    for (const undo of unroute) undo();
  }
  return { fromRemote, strangers };
}

describe.runIf(process.platform === 'linux')('a client socket of the native I/O, while other clients send', () => {
  it("hands another client's datagram, queued before the connect, to the stranger handler with its source", async () => {
    const io = nativeUdpIo()!;
    const port = await freeUdpPort(HOST);
    const listener = io.openUnconnected({ family: 4, address: HOST, port, reusePort: true }, () => {});
    cleanups.push(() => io.close(listener));
    const blaster = blast(port, 20);
    cleanups.push(blaster.stop);
    const sources = await blaster.sources;

    const { fromRemote, strangers } = await catchStrangers(port);
    expect(fromRemote).toBe(0);
    expect(strangers.length).toBeGreaterThan(0);
    for (const s of strangers) {
      expect(s).toMatchObject({ text: MARK, address: HOST });
      expect(sources).toContain(s.port);
    }
  }, 30_000);

  it("does not relay it in C on the client's channel either", async () => {
    const io = nativeUdpIo()!;
    const port = await freeUdpPort(HOST);
    const listener = io.openUnconnected({ family: 4, address: HOST, port, reusePort: true }, () => {});
    cleanups.push(() => io.close(listener));
    // One relay socket per client socket open at a time: a route's peer side is its own.
    const relays = Array.from({ length: 8 }, () => io.openUnconnected({ family: 4, address: HOST, port: 0 }, () => {}));
    cleanups.push(() => relays.forEach((relay) => io.close(relay)));
    const peer = createSocket('udp4');
    let atPeer = 0;
    peer.on('message', () => void atPeer++);
    await new Promise<void>((r) => peer.bind(0, HOST, r));
    cleanups.push(() => new Promise<void>((r) => peer.close(() => r())));
    const blaster = blast(port, 20, CHANNEL_DATA);
    cleanups.push(blaster.stop);
    await blaster.sources;

    const forever = Date.now() + 3_600_000;
    const { fromRemote, strangers } = await catchStrangers(port, (id, index) => {
      const router = io.channelRouter(id);
      const handle = router.add(relays[index]!, 0x4000, HOST, peer.address().port, forever, forever);
      expect(handle).toBeGreaterThanOrEqual(0);
      return () => void router.remove(handle);
    });
    await turn();
    expect(fromRemote).toBe(0);
    expect(strangers.length).toBeGreaterThan(0);
    expect(strangers[0]!.text).toBe(CHANNEL_DATA.toString('latin1'));
    expect(atPeer).toBe(0);
  }, 30_000);
});
