/**
 * What an operator can ask of a running server, whoever asks: a signal handler in
 * `turnpike serve`, or the admin interface used by `turnpike admin`.
 */
import type { LogLevel } from '../config/server-options.js';

/** One live allocation, as `turnpike admin sessions` lists it. */
export interface SessionReport {
  /** The allocation id (also in the log line written when it ends). */
  readonly id: number;
  readonly user: string;
  readonly realm: string;
  readonly transport: 'udp' | 'tcp' | 'tls' | 'dtls';
  /** `address:port` of the client as the server sees it, and of the server address it reached. */
  readonly client: string;
  readonly server: string;
  /** Relayed transport addresses, `address:port`. */
  readonly relays: readonly string[];
  readonly ageSeconds: number;
  readonly expiresInSeconds: number;
  readonly permissions: number;
  readonly channels: number;
  readonly bytesFromClient: number;
  readonly bytesToClient: number;
  readonly packetsFromClient: number;
  readonly packetsToClient: number;
}

export interface ReloadReport {
  /** False when the new configuration was refused (it did not parse or validate). */
  readonly ok: boolean;
  /** Why it was refused. */
  readonly error?: string;
  /** Options whose new value is in force. */
  readonly applied: readonly string[];
  /** Options that changed but keep their old value until a restart. */
  readonly needsRestart: readonly string[];
}

export interface DrainReport {
  readonly draining: boolean;
  /** Allocations still being served. */
  readonly allocations: number;
  /** When the process exits even if allocations remain (ms since the epoch). */
  readonly deadline: number;
}

export interface ServerControl {
  sessions(filter?: { readonly user?: string }): Promise<SessionReport[]>;
  /** Ends the allocation with this id, or every allocation of this user; returns how many ended. */
  disconnect(target: { readonly id: number } | { readonly user: string }): Promise<number>;
  /** Reads the configuration file again and applies what can change while running. */
  reload(): Promise<ReloadReport>;
  /** Refuses new allocations, serves existing ones, and exits when the last one ends. */
  drain(): Promise<DrainReport>;
  /** Counters and gauges, as plain numbers (the same figures the metrics endpoint has). */
  stats(): Promise<Record<string, number>>;
  logLevel(): LogLevel;
  setLogLevel(level: LogLevel): void;
}
