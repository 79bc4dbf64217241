/**
 * udp-session-socket.ts's per-client socket with native batched I/O. The addon binds it to the
 * listener's addr:port in its reuse group and connects it to the client in one synchronous
 * call, so nothing is held until connected; but bind and connect are two system calls, between
 * which the kernel may queue another client's datagram here: that one goes to the listener's
 * entry with its real source (io.ts's openConnected), not to this client's session. ChannelData and DTLS records stay in the receive area (onChannelData,
 * onDtls); anything else (STUN) is copied and goes to the listener's entry, as with dgram. A
 * DTLS record to send can be sealed straight into the send area (sendArea).
 */
import type { RemoteInfo } from 'node:dgram';
import { CHANNEL_DATA_HEADER, looksLikeChannelDataAt } from '../../stun/channel-data.js';
import { looksLikeDtlsAt } from '../dtls/record.js';
import type { Datagram, SendArea, SessionSocket, SessionSocketOptions } from '../udp-session-socket.js';
import type { NativeUdpIo } from './io.js';
import { routesChannelsInC } from './addon.js';
import type { ChannelRouter } from '../../turn/routed-channels.js';
import type { KeyBlock } from '../dtls/suites.js';

export class NativeSessionSocket implements SessionSocket {
  private readonly id: number | undefined;
  private closed = false;
  readonly sendArea: SendArea;
  readonly channelRouter: ChannelRouter | undefined;

  constructor(
    private readonly io: NativeUdpIo,
    private readonly options: SessionSocketOptions,
  ) {
    const { local, remote } = options;
    try {
      this.id = io.openConnected({ family: local.family, address: local.address, port: local.port, reusePort: true }, remote, this.receive, this.toListener);
    } catch (error) {
      this.closed = true;
      // Reported once the owner holds this socket, as udp-session-socket.ts does.
      queueMicrotask(() => options.onOpenFailed(error as NodeJS.ErrnoException));
    }
    this.channelRouter = this.id !== undefined && routesChannelsInC() ? io.channelRouter(this.id) : undefined;
    this.sendArea = {
      buffer: io.slab,
      reserve: (length) => (this.closed || this.id === undefined ? -1 : io.reserveSend(length)),
      sendWritten: (at, length) => io.queueWritten(this.id!, at, length),
    };
  }

  send(data: Datagram): void {
    if (this.closed || this.id === undefined) return this.options.viaListener(data);
    const datagram = Array.isArray(data) ? Buffer.concat(data) : data;
    // During a batch, a copy leaves with the batch's sendmmsg (a DTLS record made for it, say).
    if (this.io.queueCopy(this.id, datagram, 0, datagram.length)) return;
    this.report(this.io.sendNow(this.id, datagram, 0, datagram.length));
  }

  sendChannelData(channel: number, data: Buffer, offset: number, length: number): void {
    const header = (channel << 16) | length;
    if (!this.closed && this.id !== undefined && this.io.queueSend(this.id, data, offset, length, header)) return;
    const datagram = Buffer.allocUnsafe(CHANNEL_DATA_HEADER + length);
    datagram.writeUInt32BE(header >>> 0, 0);
    data.copy(datagram, CHANNEL_DATA_HEADER, offset, offset + length);
    this.send(datagram);
  }

  attachDtls(keys: KeyBlock, shared: Float64Array): boolean {
    return !this.closed && this.id !== undefined && this.channelRouter !== undefined && this.io.attachDtls(this.id, keys, shared);
  }

  hold(held: boolean): void {
    if (!this.closed && this.id !== undefined) this.io.hold(this.id, held);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.id !== undefined) this.io.close(this.id);
  }

  private readonly receive = (data: Buffer, offset: number, length: number): void => {
    const { onChannelData, onDtls } = this.options;
    if (onChannelData && looksLikeChannelDataAt(data, offset, length)) return onChannelData(data, offset, length);
    if (onDtls && looksLikeDtlsAt(data, offset, length)) return onDtls(data, offset, length);
    const { address, port } = this.options.remote;
    this.toListener(data, offset, length, address, port);
  };

  /**
   * A copy (the receive area is reused next turn) to the listener's entry, from address:port:
   * this client's STUN, and another client's datagram queued here before the connect.
   */
  private readonly toListener = (data: Buffer, offset: number, length: number, address: string, port: number): void => {
    const copy = Buffer.allocUnsafe(length);
    data.copy(copy, 0, offset, offset + length);
    const rinfo: RemoteInfo = { address, family: this.options.remote.family === 6 ? 'IPv6' : 'IPv4', port, size: length };
    this.options.onDatagram(copy, rinfo);
  };

  private report(code: number): void {
    if (code !== 0) this.options.onError(new Error(`send: errno ${code}`));
  }
}
