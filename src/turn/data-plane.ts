/**
 * The relay's hot path: ChannelData and Send indications from clients to peers, and peer
 * datagrams back to clients. Per packet: a few map lookups, a timestamp comparison, one send;
 * no strings built, no closures, no copies of the payload. A datagram is `length` bytes of a
 * Buffer from `offset`: with native UDP I/O, of the shared receive area (native-udp/io.ts).
 */
import { AttributeType, MessageBuilder, Method, StunClass, readBytes, readXorAddress, type StunMessage } from '../stun/index.js';
import { CHANNEL_DATA_HEADER, channelDataHeader, stableBytes } from '../stun/channel-data.js';
import type { Allocation } from './allocation.js';
import type { PeerPolicy } from '../policy/peer-policy.js';
import type { EngineCounters } from './counters.js';
import type { ClientSession } from './session.js';

export class DataPlane {
  constructor(
    private readonly counters: EngineCounters,
    private readonly clock: () => number,
    private peerPolicy: PeerPolicy,
  ) {}

  /** New peer rules after a reload. */
  setPeerPolicy(peerPolicy: PeerPolicy): void {
    this.peerPolicy = peerPolicy;
  }

  /** A ChannelData message from the client of `allocation` (already framed: header + data, at least the header). */
  fromClientChannelData(allocation: Allocation, data: Buffer, offset = 0, size = data.length): void {
    const length = data.readUInt16BE(offset + 2);
    if (CHANNEL_DATA_HEADER + length > size) {
      this.counters.drop('Malformed', size);
      return;
    }
    const channel = allocation.channelByNumber(data.readUInt16BE(offset), this.clock());
    if (!channel) {
      this.counters.drop('NoChannel', length);
      return;
    }
    const relay = allocation.relayFor(channel.peerFamily);
    if (!relay) return;
    if (allocation.toPeerLimit && !allocation.toPeerLimit.take(length, this.clock())) {
      this.counters.drop('Bandwidth', length);
      return;
    }
    relay.send(data, offset + CHANNEL_DATA_HEADER, length, channel.peerPort, channel.peerAddress);
    this.counters.countToPeer(allocation, 1, length);
    allocation.routes?.relayed(channel);
  }

  /** A Send indication (RFC 8656 §11.2): relayed when a permission exists, else dropped. */
  fromClientSend(allocation: Allocation, message: StunMessage): void {
    const peer = readXorAddress(message, AttributeType.XorPeerAddress);
    const payload = readBytes(message, AttributeType.Data);
    if (!peer || !payload) {
      this.counters.drop('Malformed', message.buffer.length);
      return;
    }
    const relay = allocation.relayFor(peer.family);
    if (!relay || !allocation.hasPermission(peer.address, this.clock())) {
      this.counters.drop('NoPermission', payload.length);
      return;
    }
    // A permission is per IP: the port rules (own addresses, service ports) apply per packet.
    if (!this.peerPolicy.isPeerPort(peer.address, peer.port)) {
      this.counters.drop('Policy', payload.length);
      return;
    }
    if (allocation.toPeerLimit && !allocation.toPeerLimit.take(payload.length, this.clock())) {
      this.counters.drop('Bandwidth', payload.length);
      return;
    }
    relay.send(payload, 0, payload.length, peer.port, peer.address);
    this.counters.countToPeer(allocation, 1, payload.length);
  }

  /** A datagram from a peer to a relay address (RFC 8656 §11.3, §12.5). */
  fromPeer(allocation: Allocation, data: Buffer, address: string, port: number, offset = 0, length = data.length): void {
    const now = this.clock();
    if (!allocation.hasPermission(address, now)) {
      this.counters.drop('NoPermission', length);
      return;
    }
    if (allocation.toClientLimit && !allocation.toClientLimit.take(length, now)) {
      this.counters.drop('Bandwidth', length);
      return;
    }
    const channel = allocation.channelByPeer(address, port, now);
    const sent = channel
      ? sendChannelData(allocation.session, channel.number, data, offset, length)
      : allocation.session.sendRelayed(dataIndication(data.subarray(offset, offset + length), address, port));
    if (!sent) {
      this.counters.drop('Backpressure', length);
      return;
    }
    this.counters.countToClient(allocation, 1, length);
    if (channel) allocation.routes?.relayed(channel);
  }
}

function sendChannelData(session: ClientSession, channel: number, data: Buffer, offset: number, length: number): boolean {
  if (session.sendChannelDataFrom) return session.sendChannelDataFrom(channel, data, offset, length);
  return session.sendChannelData(channelDataHeader(channel, length), stableBytes(data, offset, length));
}

function dataIndication(data: Buffer, address: string, port: number): Buffer {
  const family = address.includes(':') ? 6 : 4;
  return new MessageBuilder(Method.Data, StunClass.Indication)
    .addXorAddress(AttributeType.XorPeerAddress, { family, address, port })
    .add(AttributeType.Data, data)
    .build();
}
