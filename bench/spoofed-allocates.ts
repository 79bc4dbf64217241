// What a spoofed source gets back: minimal unauthenticated Allocates (28 bytes, a new
// transaction each) from one loopback address the server has not seen, sent in batches, and
// the bytes that come back to it. A batch is sent back to back (a burst); the next one goes
// only once the server has dealt with every request so far, so that none is lost in a full
// socket buffer and the figure is bytes back over bytes the server really read.
import dgram from 'node:dgram';
import { AttributeType, MessageBuilder, Method, StunClass } from '../src/stun/index.js';

export interface Reflection {
  readonly requests: number;
  readonly bytesSent: number;
  readonly answers: number;
  readonly bytesBack: number;
  /** The size of the first answer, if any came (the challenge). */
  readonly firstAnswerBytes: number | undefined;
}

export interface SpoofedRun {
  readonly server: { host: string; port: number };
  /** The spoofed source: an address the server has not seen. */
  readonly source: string;
  readonly requests: number;
  readonly batch: number;
  /**
   * How many requests the server has dealt with (answered or withheld) since it started,
   * given the answers this run has seen; a server that answers all can say `answers`.
   */
  readonly handled: (answers: number) => Promise<number>;
  /** A bound on a stuck run. */
  readonly timeoutMs: number;
}

/** A minimal Allocate (28 bytes): what a spoofer sends. */
export const minimalAllocate = (): Buffer =>
  new MessageBuilder(Method.Allocate, StunClass.Request).addFirstByte(AttributeType.RequestedTransport, 17).build();

export async function spoofedAllocates(run: SpoofedRun): Promise<Reflection> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, run.source, resolve));
  let answers = 0;
  let bytesBack = 0;
  let firstAnswerBytes: number | undefined;
  socket.on('message', (data) => {
    answers++;
    bytesBack += data.length;
    firstAnswerBytes ??= data.length;
  });
  const before = await run.handled(0);
  const deadline = Date.now() + run.timeoutMs;
  let requests = 0;
  let bytesSent = 0;
  try {
    while (requests < run.requests) {
      const n = Math.min(run.batch, run.requests - requests);
      for (let i = 0; i < n; i++) {
        const request = minimalAllocate();
        socket.send(request, run.server.port, run.server.host);
        bytesSent += request.length;
      }
      requests += n;
      while ((await run.handled(answers)) - before < requests) {
        if (Date.now() > deadline) throw new Error(`the server dealt with fewer than ${requests} requests within ${run.timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }
    // Answers counted as sent may still be on their way over loopback.
    await new Promise((resolve) => setTimeout(resolve, 100));
    return { requests, bytesSent, answers, bytesBack, firstAnswerBytes };
  } finally {
    await new Promise<void>((resolve) => socket.close(() => resolve()));
  }
}
