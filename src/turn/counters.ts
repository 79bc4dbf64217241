import type { TrafficCounters } from './allocation.js';

/** Why a packet was not relayed or answered; each has a packet and a byte counter. */
export type DropReason = 'Malformed' | 'NoAllocation' | 'NoPermission' | 'NoChannel' | 'Unauthenticated' | 'Backpressure' | 'Bandwidth' | 'Policy';

/**
 * Plain counters the engine and data plane bump; metrics read them at scrape time, so the
 * hot path pays one field increment and nothing else.
 */
export class EngineCounters {
  bindingRequests = 0;
  bindingResponses = 0;
  bindingErrors = 0;
  allocationsCreated = 0;
  allocationsReleased = 0;
  /** Responses by error code (401, 403, 437, …). */
  readonly errorResponses = new Map<number, number>();
  authFailures = 0;
  droppedMalformed = 0;
  droppedNoAllocation = 0;
  droppedNoPermission = 0;
  droppedNoChannel = 0;
  droppedUnauthenticated = 0;
  /** Relayed data dropped because a stream client does not read fast enough. */
  droppedBackpressure = 0;
  relayedToPeerPackets = 0;
  relayedToPeerBytes = 0;
  relayedToClientPackets = 0;
  relayedToClientBytes = 0;

  // Read by the metrics at scrape time; one that no code bumps yet reads 0.
  /** Requests whose credentials were accepted. */
  authSuccesses = 0;
  /** Relayed data dropped by `max-bps` / `bps-capacity`. */
  droppedBandwidth = 0;
  /** Relayed data dropped because the peer policy refuses the peer's address. */
  droppedPolicy = 0;
  /** Bytes of the dropped packets above, by the same reasons. */
  droppedMalformedBytes = 0;
  droppedNoAllocationBytes = 0;
  droppedNoPermissionBytes = 0;
  droppedNoChannelBytes = 0;
  droppedUnauthenticatedBytes = 0;
  droppedBackpressureBytes = 0;
  droppedBandwidthBytes = 0;
  droppedPolicyBytes = 0;
  /** Allocations refused by `user-quota` and by `total-quota` (486). */
  quotaRefusalsUser = 0;
  quotaRefusalsTotal = 0;
  /** Unsigned UDP answers (challenges, errors) withheld because the source had not sent as many bytes. */
  repliesWithheld = 0;
  /**
   * Datagrams the kernel refused to send on this thread's native UDP sockets (EAGAIN: the
   * socket's send buffer full; ECONNREFUSED: an ICMP error came back; EMSGSIZE), each dropped.
   * The addon counts them in C, after a batch; read into here when metrics are read.
   */
  udpSendFailures = 0;
  /** Of the relayed packets, those the addon relayed on channel routes without JS (routed-channels.ts); read in as udpSendFailures is. */
  udpRoutedPackets = 0;
  /** Of those, DTLS clients' (records opened and sealed in C, native/dtls-routes.c). */
  dtlsRoutedPackets = 0;
  /** Of the Binding requests and responses, those a native listener answered in C (native/udp-binding.c). */
  udpNativeBindings = 0;

  /**
   * Relayed data, whatever carried it (UDP datagrams, channel routes below JS, an RFC 6062
   * data connection's reads): the allocation's figures (its log line, admin sessions, the
   * per-realm metrics) and the server's totals (turn_total_traffic_*) move together, here only.
   */
  countToPeer(allocation: TrafficCounters, packets: number, bytes: number): void {
    allocation.packetsFromClient += packets;
    allocation.bytesFromClient += bytes;
    this.relayedToPeerPackets += packets;
    this.relayedToPeerBytes += bytes;
  }

  countToClient(allocation: TrafficCounters, packets: number, bytes: number): void {
    allocation.packetsToClient += packets;
    allocation.bytesToClient += bytes;
    this.relayedToClientPackets += packets;
    this.relayedToClientBytes += bytes;
  }

  /** A packet of `bytes` dropped for `reason`: both of its counters, in one place. */
  drop(reason: DropReason, bytes: number): void {
    this[`dropped${reason}`]++;
    this[`dropped${reason}Bytes`] += bytes;
  }

  countError(code: number): void {
    this.errorResponses.set(code, (this.errorResponses.get(code) ?? 0) + 1);
  }
}
