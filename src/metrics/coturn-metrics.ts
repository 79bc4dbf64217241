/**
 * coturn 4.6's metric names, types and labels, so that existing dashboards keep working.
 * Two differences, both deliberate: the traffic series move while sessions run (coturn adds
 * a session's counts only when it ends), and they count relayed payload (coturn's client-side
 * counts also include STUN requests and responses on the client socket).
 */
import type { Registry } from 'prom-client';
import type { ClientTransport } from '../turn/session.js';
import { registerSampled } from './sampled-metric.js';
import type { ScrapeState } from './scrape-state.js';
import type { Traffic, TrafficSeries } from './snapshot.js';

/** coturn labels allocations with its client socket type's name (socket_type_name()). */
const COTURN_TYPE: Record<ClientTransport, string> = { udp: 'UDP', tcp: 'TCP', tls: 'TLS/TCP', dtls: 'DTLS' };

type EngineTotal = 'relayedToPeerPackets' | 'relayedToPeerBytes' | 'relayedToClientPackets' | 'relayedToClientBytes';

/** [suffix, per-realm field, server-wide counter, what it counts]. */
const TRAFFIC: readonly (readonly [string, keyof Traffic, EngineTotal, string])[] = [
  ['rcvp', 'fromClientPackets', 'relayedToPeerPackets', 'packets received from clients'],
  ['rcvb', 'fromClientBytes', 'relayedToPeerBytes', 'bytes received from clients'],
  ['sentp', 'toClientPackets', 'relayedToClientPackets', 'packets sent to clients'],
  ['sentb', 'toClientBytes', 'relayedToClientBytes', 'bytes sent to clients'],
  // What a peer sent was relayed to the client, and what a client sent went to its peer.
  ['peer_rcvp', 'toClientPackets', 'relayedToClientPackets', 'packets received from peers'],
  ['peer_rcvb', 'toClientBytes', 'relayedToClientBytes', 'bytes received from peers'],
  ['peer_sentp', 'fromClientPackets', 'relayedToPeerPackets', 'packets sent to peers'],
  ['peer_sentb', 'fromClientBytes', 'relayedToPeerBytes', 'bytes sent to peers'],
];

/** coturn 4.6.2 and later (not 4.6.0/4.6.1), same names. */
const BINDING: readonly (readonly [string, 'bindingRequests' | 'bindingResponses' | 'bindingErrors', string])[] = [
  ['stun_binding_request', 'bindingRequests', 'Incoming STUN Binding requests'],
  ['stun_binding_response', 'bindingResponses', 'Outgoing STUN Binding responses'],
  ['stun_binding_error', 'bindingErrors', 'STUN Binding errors'],
];

const labelsOf = (s: TrafficSeries): Record<string, string> => (s.user === undefined ? { realm: s.realm } : { realm: s.realm, user: s.user });

export function registerCoturnMetrics(registry: Registry, state: ScrapeState, usernameLabels: boolean): void {
  const c = state.counters;
  for (const [suffix, field, total, what] of TRAFFIC) {
    registerSampled(registry, `turn_traffic_${suffix}`, `Relayed ${what}, by realm${usernameLabels ? ' and user' : ''}; ended and live sessions`, 'counter', () =>
      [...state.snapshot().traffic.values()].map((s) => ({ labels: labelsOf(s), value: s.traffic[field] })),
    );
    registerSampled(registry, `turn_total_traffic_${suffix}`, `Relayed ${what}, all sessions; ended and live`, 'counter', () => [{ value: c[total] }]);
  }
  registerSampled(registry, 'turn_total_allocations', 'Current allocations, by client transport (coturn type names)', 'gauge', () => {
    const byTransport = state.snapshot().allocations;
    return (Object.entries(COTURN_TYPE) as [ClientTransport, string][]).map(([transport, type]) => {
      let n = 0;
      for (const count of byTransport.get(transport)?.values() ?? []) n += count;
      return { labels: { type }, value: n };
    });
  });
  for (const [name, field, help] of BINDING) registerSampled(registry, name, help, 'counter', () => [{ value: c[field] }]);
}
