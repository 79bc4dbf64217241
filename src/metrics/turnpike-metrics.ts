/** What coturn does not export: state gauges, drops by reason, auth results, quota refusals. */
import type { Registry } from 'prom-client';
import type { EngineCounters } from '../turn/counters.js';
import type { ClientTransport } from '../turn/session.js';
import { registerSampled, type Sample } from './sampled-metric.js';
import type { ScrapeState } from './scrape-state.js';
import type { RelayFamily } from './snapshot.js';

type CounterField = { [K in keyof EngineCounters]: EngineCounters[K] extends number ? K : never }[keyof EngineCounters];

const TRANSPORTS: readonly ClientTransport[] = ['udp', 'tcp', 'tls', 'dtls'];
const FAMILIES: readonly RelayFamily[] = ['ipv4', 'ipv6', 'dual'];

/** [reason, packets, bytes]: each is bumped where that drop happens; one not bumped yet reads 0. */
const DROPS: readonly (readonly [string, CounterField, CounterField])[] = [
  ['malformed', 'droppedMalformed', 'droppedMalformedBytes'],
  ['no_allocation', 'droppedNoAllocation', 'droppedNoAllocationBytes'],
  ['no_permission', 'droppedNoPermission', 'droppedNoPermissionBytes'],
  ['no_channel', 'droppedNoChannel', 'droppedNoChannelBytes'],
  ['unauthenticated', 'droppedUnauthenticated', 'droppedUnauthenticatedBytes'],
  ['backpressure', 'droppedBackpressure', 'droppedBackpressureBytes'],
  ['bandwidth', 'droppedBandwidth', 'droppedBandwidthBytes'],
  ['policy', 'droppedPolicy', 'droppedPolicyBytes'],
];

const byLabel = (label: string, rows: readonly (readonly [string, number])[]): Sample[] =>
  rows.map(([value, n]) => ({ labels: { [label]: value }, value: n }));

export function registerTurnpikeMetrics(registry: Registry, state: ScrapeState): void {
  const c = state.counters;
  registerSampled(registry, 'turnpike_allocations', 'Current allocations, by client transport and relay address family', 'gauge', () => {
    const live = state.snapshot().allocations;
    return TRANSPORTS.flatMap((transport) =>
      FAMILIES.map((family) => ({ labels: { transport, family }, value: live.get(transport)?.get(family) ?? 0 })),
    );
  });
  registerSampled(registry, 'turnpike_allocations_total', 'Allocations created and ended', 'counter', () =>
    byLabel('event', [['created', c.allocationsCreated], ['ended', c.allocationsReleased]]),
  );
  registerSampled(registry, 'turnpike_permissions', 'Current permissions over all allocations (expired ones until pruned)', 'gauge', () => [
    { value: state.snapshot().permissions },
  ]);
  registerSampled(registry, 'turnpike_channels', 'Current channel bindings over all allocations (expired ones until pruned)', 'gauge', () => [
    { value: state.snapshot().channels },
  ]);
  registerSampled(registry, 'turnpike_relay_ports', 'Relay ports of min-port..max-port over all relay addresses, in use and free', 'gauge', () => {
    const { inUse, total } = state.portUsage();
    return byLabel('state', [['in_use', inUse], ['free', total - inUse]]);
  });
  registerSampled(registry, 'turnpike_auth_results_total', 'Authentication results: accepted, rejected (401 with credentials), stale_nonce (438)', 'counter', () =>
    byLabel('result', [['accepted', c.authSuccesses], ['rejected', c.authFailures], ['stale_nonce', c.errorResponses.get(438) ?? 0]]),
  );
  registerSampled(registry, 'turnpike_error_responses_total', 'Error responses sent, by STUN error code', 'counter', () =>
    byLabel('code', [...c.errorResponses].map(([code, n]) => [String(code), n] as const)),
  );
  registerSampled(registry, 'turnpike_dropped_packets_total', 'Packets dropped, by reason', 'counter', () =>
    byLabel('reason', DROPS.map(([reason, packets]) => [reason, c[packets]] as const)),
  );
  registerSampled(registry, 'turnpike_dropped_bytes_total', 'Bytes of dropped packets, by reason', 'counter', () =>
    byLabel('reason', DROPS.map(([reason, , bytes]) => [reason, c[bytes]] as const)),
  );
  registerSampled(registry, 'turnpike_quota_refusals_total', 'Allocations refused by user-quota or total-quota', 'counter', () =>
    byLabel('quota', [['user', c.quotaRefusalsUser], ['total', c.quotaRefusalsTotal]]),
  );
  registerSampled(registry, 'turnpike_udp_send_failures_total', 'Datagrams the kernel refused to send on native UDP sockets (send buffer full, ICMP error, too large), each dropped', 'counter', () => [
    { value: c.udpSendFailures },
  ]);
  registerSampled(registry, 'turnpike_udp_routed_packets_total', 'Relayed packets (both ways) the native UDP addon relayed on established channels without JS; counted in the traffic totals too', 'counter', () => [
    { value: c.udpRoutedPackets },
  ]);
  registerSampled(registry, 'turnpike_dtls_routed_packets_total', 'Of turnpike_udp_routed_packets_total, those of DTLS clients: records opened or sealed in C', 'counter', () => [
    { value: c.dtlsRoutedPackets },
  ]);
  registerSampled(registry, 'turnpike_udp_native_bindings_total', 'STUN Binding requests the native UDP addon answered without JS; counted in stun_binding_request and stun_binding_response too', 'counter', () => [
    { value: c.udpNativeBindings },
  ]);
  registerSampled(registry, 'turnpike_replies_withheld_total', 'Unsigned UDP answers withheld because their source had not sent as many bytes (anti-reflection)', 'counter', () => [
    { value: c.repliesWithheld },
  ]);
}
