/**
 * Relayed data to a natively accepted TCP client (not TLS), written by native/tcp-accept.c:
 * header, data and padding go to the kernel in one sendmsg, without a Buffer made for the frame
 * or a pass through Node's Writable and its WriteWrap, which cost more user time per packet
 * than the write itself (docs/performance.md, "TCP: where the gap to coturn is").
 *
 * Bytes stay in order because the addon writes only while Node has nothing queued on the
 * socket; what the kernel does not take at once (a full send buffer), and any error, goes to
 * `socket.write` as before, which queues it or reports the error the usual way. The fd is
 * written only while the socket is writable: once destroyed, its number may be another's.
 */
import type { Socket } from 'node:net';
import { channelDataFrame, channelDataSpan } from '../stun/channel-data.js';

/** The addon's call: bytes written (maybe fewer than the frame), or -errno. */
export type WriteChannelData = (fd: number, channel: number, data: Buffer, offset: number, length: number) => number;

export interface ChannelDataWriter {
  /** Writes `length` bytes of `data` from `offset` as a ChannelData frame; the bytes may be reused once it returns. */
  writeChannelData(channel: number, data: Buffer, offset: number, length: number): void;
}

export class NativeFrameWriter implements ChannelDataWriter {
  constructor(
    private readonly write: WriteChannelData,
    private readonly fd: number,
    private readonly socket: Socket,
  ) {}

  writeChannelData(channel: number, data: Buffer, offset: number, length: number): void {
    const socket = this.socket;
    if (!socket.writable || socket.writableLength > 0) {
      socket.write(channelDataFrame(channel, data, offset, length));
      return;
    }
    const written = this.write(this.fd, channel, data, offset, length);
    if (written === channelDataSpan(length)) return;
    const frame = channelDataFrame(channel, data, offset, length);
    socket.write(written > 0 ? frame.subarray(written) : frame);
  }
}
