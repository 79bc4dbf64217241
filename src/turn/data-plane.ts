/**
 * The relay's hot path: ChannelData and Send indications from clients to peers, and peer
 * datagrams back to clients. Per packet: a few map lookups, a timestamp comparison, one send;
 * no strings built, no closures, no copies of the payload.
 */
import { AttributeType, MessageBuilder, Method, StunClass, readBytes, readXorAddress, type StunMessage } from '../stun/index.js';
import { CHANNEL_DATA_HEADER, channelDataHeader } from '../stun/channel-data.js';
import type { Allocation } from './allocation.js';
import type { EngineCounters } from './counters.js';

export class DataPlane {
  constructor(
    private readonly counters: EngineCounters,
    private readonly clock: () => number,
  ) {}

  /** A ChannelData message from the client of `allocation` (already framed: header + data). */
  fromClientChannelData(allocation: Allocation, data: Buffer): void {
    const length = data.readUInt16BE(2);
    if (CHANNEL_DATA_HEADER + length > data.length) {
      this.counters.droppedMalformed++;
      return;
    }
    const channel = allocation.channelByNumber(data.readUInt16BE(0), this.clock());
    if (!channel) {
      this.counters.droppedNoChannel++;
      return;
    }
    const relay = allocation.relayFor(channel.peerFamily);
    if (!relay) return;
    relay.send(data, CHANNEL_DATA_HEADER, length, channel.peerPort, channel.peerAddress);
    allocation.packetsFromClient++;
    allocation.bytesFromClient += length;
    this.counters.relayedToPeerPackets++;
    this.counters.relayedToPeerBytes += length;
  }

  /** A Send indication (RFC 8656 §11.2): relayed when a permission exists, else dropped. */
  fromClientSend(allocation: Allocation, message: StunMessage): void {
    const peer = readXorAddress(message, AttributeType.XorPeerAddress);
    const payload = readBytes(message, AttributeType.Data);
    if (!peer || !payload) {
      this.counters.droppedMalformed++;
      return;
    }
    const relay = allocation.relayFor(peer.family);
    if (!relay || !allocation.hasPermission(peer.address, this.clock())) {
      this.counters.droppedNoPermission++;
      return;
    }
    relay.send(payload, 0, payload.length, peer.port, peer.address);
    allocation.packetsFromClient++;
    allocation.bytesFromClient += payload.length;
    this.counters.relayedToPeerPackets++;
    this.counters.relayedToPeerBytes += payload.length;
  }

  /** A datagram from a peer to a relay address (RFC 8656 §11.3, §12.5). */
  fromPeer(allocation: Allocation, data: Buffer, address: string, port: number): void {
    const now = this.clock();
    if (!allocation.hasPermission(address, now)) {
      this.counters.droppedNoPermission++;
      return;
    }
    const channel = allocation.channelByPeer(address, port, now);
    if (channel) {
      allocation.session.sendChannelData(channelDataHeader(channel.number, data.length), data);
    } else {
      const family = address.includes(':') ? 6 : 4;
      const indication = new MessageBuilder(Method.Data, StunClass.Indication)
        .addXorAddress(AttributeType.XorPeerAddress, { family, address, port })
        .add(AttributeType.Data, data)
        .build();
      allocation.session.send(indication);
    }
    allocation.packetsToClient++;
    allocation.bytesToClient += data.length;
    this.counters.relayedToClientPackets++;
    this.counters.relayedToClientBytes += data.length;
  }
}
