/**
 * The configuration in force as an operator reads it (the web admin's Server view): every
 * option Turnpike applies, its value, and where it came from (file and line, command line, or
 * the default). Secrets and passwords are never shown.
 */
import { describeOrigin } from './errors.js';
import { OPTION_TABLE } from './option-table.js';
import type { Settings } from './settings.js';
import type { Value } from './values.js';

export interface SettingInForce {
  readonly option: string;
  readonly value: string;
  /** `file:line`, `command line` or `default`. */
  readonly from: string;
}

const SECRET = /secret|password|pwd|token$/;

function shown(option: string, value: Value): string {
  if (SECRET.test(option)) return '…';
  if (typeof value !== 'object') return value === true ? 'on' : String(value);
  if ('name' in value) return `${value.name}:…`; // a user's password or key
  if ('publicIp' in value) return value.privateIp === '' ? value.publicIp : `${value.publicIp}/${value.privateIp}`;
  return value.port === undefined ? value.host : `${value.host}:${value.port}`;
}

/**
 * `computedDefaults`: what a default that depends on the machine came to (relay-threads: one
 * per CPU), shown instead of how the table describes it.
 */
export function settingsInForce(settings: Settings, computedDefaults: Readonly<Record<string, Value>> = {}): SettingInForce[] {
  const rows: SettingInForce[] = [];
  for (const spec of OPTION_TABLE) {
    if (spec.status.kind !== 'applied') continue;
    const set = settings.all(spec.name);
    // A scalar's last setting wins; a list keeps every value.
    const inForce = spec.list ? set : set.slice(-1);
    for (const s of inForce) rows.push({ option: spec.name, value: shown(spec.name, s.value), from: describeOrigin(s.origin) });
    // coturn's default file names (cert, pkey) are shown in help but never read unless set.
    if (set.length === 0 && spec.default !== undefined && spec.type !== 'file') rows.push({ option: spec.name, value: shown(spec.name, computedDefaults[spec.name] ?? spec.default), from: 'default' });
  }
  return rows;
}
