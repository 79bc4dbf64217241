// Stream framing: what TCP and TLS deliver is cut into the same frames whatever the chunking.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AttributeType, MessageBuilder, Method, StunClass } from '../../../src/stun/index.js';
import { FramingError, StreamFramer } from '../../../src/stun/stream-framer.js';

const stun = (text: string) => new MessageBuilder(Method.Binding, StunClass.Request).addString(AttributeType.Software, text).build();
const channelData = (channel: number, payload: Buffer) => {
  const padded = Buffer.alloc(4 + ((payload.length + 3) & ~3));
  padded.writeUInt16BE(channel, 0);
  padded.writeUInt16BE(payload.length, 2);
  payload.copy(padded, 4);
  return padded;
};

function frames(chunks: Buffer[]): Buffer[] {
  const framer = new StreamFramer();
  const out: Buffer[] = [];
  for (const c of chunks) framer.push(c, (f) => out.push(Buffer.from(f)));
  return out;
}

describe('StreamFramer', () => {
  const messages = [stun('one'), channelData(0x4001, Buffer.from('odd')), stun('three'), channelData(0x4002, Buffer.alloc(0))];
  const stream = Buffer.concat(messages);
  const expected = [messages[0], channelData(0x4001, Buffer.from('odd')).subarray(0, 7), messages[2], messages[3]!.subarray(0, 4)];

  it('cuts coalesced frames, dropping ChannelData padding', () => {
    expect(frames([stream])).toEqual(expected);
  });

  it('cuts the same frames when bytes arrive one at a time', () => {
    expect(frames([...stream].map((b) => Buffer.from([b])))).toEqual(expected);
  });

  it('cuts the same frames for any split of the stream', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(stream.length), { maxLength: 10 }), (cuts) => {
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        const chunks: Buffer[] = [];
        let last = 0;
        for (const p of [...points, stream.length]) {
          chunks.push(stream.subarray(last, p));
          last = p;
        }
        expect(frames(chunks)).toEqual(expected);
      }),
    );
  });

  it('hands a frame within one chunk over without copying it', () => {
    const framer = new StreamFramer();
    let seen: Buffer | undefined;
    framer.push(stream, (f) => (seen ??= f));
    expect(seen!.buffer).toBe(stream.buffer);
  });

  it('copies what it holds of a transient chunk: the same frames when each chunk is a reused buffer overwritten after the push', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(stream.length), { maxLength: 10 }), (cuts) => {
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        const framer = new StreamFramer();
        const out: Buffer[] = [];
        const reused = Buffer.alloc(stream.length);
        let last = 0;
        for (const p of [...points, stream.length]) {
          stream.copy(reused, 0, last, p);
          framer.push(reused.subarray(0, p - last), (f) => out.push(Buffer.from(f)), true);
          reused.fill(0xff); // the next read overwrites it
          last = p;
        }
        expect(out).toEqual(expected);
      }),
    );
  });

  it('copies what follows a frame it stops at in a transient chunk', () => {
    const framer = new StreamFramer();
    const tail = Buffer.from('raw bytes, no frame');
    const reused = Buffer.concat([messages[0]!, tail]);
    framer.push(reused, () => false, true);
    reused.fill(0);
    expect(framer.takeBuffered()).toEqual(tail);
  });

  it('holds what follows a frame it is told to stop at, until pushed again or taken out', () => {
    const framer = new StreamFramer();
    const seen: Buffer[] = [];
    const stopAtEach = (frame: Buffer): boolean => {
      seen.push(Buffer.from(frame));
      return false;
    };
    const tail = Buffer.from('raw bytes, no frame');
    framer.push(Buffer.concat([messages[0]!, messages[2]!, tail]), stopAtEach);
    expect(seen).toEqual([messages[0]]);
    framer.push(Buffer.alloc(0), stopAtEach);
    expect(seen).toEqual([messages[0], messages[2]]);
    expect(framer.takeBuffered()).toEqual(tail);
    expect(framer.bufferedBytes).toBe(0);
  });

  it('refuses garbage and an oversized length', () => {
    expect(() => frames([Buffer.from('GET / HTTP/1.1\r\n')])).toThrow(FramingError);
    const huge = Buffer.from([0x40, 0x01, 0xff, 0xff]);
    expect(() => frames([huge])).toThrow(/over the limit/);
    const badStun = Buffer.from([0x00, 0x01, 0x00, 0x03]);
    expect(() => frames([badStun])).toThrow(/multiple of 4/);
  });

  it('refuses to buffer more than its limit while waiting', () => {
    const framer = new StreamFramer({ maxFrameLength: 70_000, maxBuffered: 1000 });
    const header = Buffer.from([0x40, 0x01, 0x10, 0x00]); // 4096 bytes announced
    expect(() => {
      framer.push(header, () => {});
      for (let i = 0; i < 10; i++) framer.push(Buffer.alloc(200), () => {});
    }).toThrow(/buffered/);
  });
});
