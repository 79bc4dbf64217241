/**
 * One log line, as text (coturn-like) or as one JSON object for log shippers. Fields that
 * look like credentials are replaced whatever the caller passed: a log is the first place
 * a leaked password would end up, and the last place anyone would look for it.
 */
import type { LogLevel } from '../config/server-options.js';
import { strftime } from './strftime.js';

export type LogFormat = 'text' | 'json';

export type LogFieldValue = string | number | boolean | null | undefined;
export type LogFields = Readonly<Record<string, LogFieldValue>>;

export interface LineOptions {
  readonly format: LogFormat;
  /** strftime format for text lines (`new-log-timestamp-format`); default ISO-8601 UTC with ms. */
  readonly timestampFormat?: string;
}

/** password, pkey-pwd, static-auth-secret, hmackey, key, ...: names that may carry a credential. */
const SECRET_FIELD = /pass|pwd|secret|hmac|credential|key$/i;
const RESERVED = new Set(['time', 'level', 'message']);

export function isSecretField(name: string): boolean {
  return SECRET_FIELD.test(name);
}

export function renderLine(level: LogLevel, message: string, fields: LogFields | undefined, now: Date, options: LineOptions): string {
  if (options.format === 'json') {
    const line: Record<string, LogFieldValue> = { time: now.toISOString(), level, message };
    if (fields) {
      for (const [name, value] of Object.entries(fields)) {
        if (value === undefined) continue;
        line[RESERVED.has(name) ? `${name}_` : name] = isSecretField(name) ? '[redacted]' : value;
      }
    }
    return `${JSON.stringify(line)}\n`;
  }
  // The message already says what the fields say; text lines stay one readable sentence.
  if (options.timestampFormat !== undefined) return `${strftime(options.timestampFormat, now)}: ${level.toUpperCase()}: ${message}\n`;
  return `${now.toISOString()} ${level.toUpperCase()}: ${message}\n`;
}
