/** Turns one raw option value (a string from a file or the command line) into a typed one. */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { OptionSpec } from './option-table.js';
import { parseIpRange as parsePeerRange } from '../policy/ip-range.js';

/** A bad value; the resolver adds the file, line and option. */
export class ValueError extends Error {
  override readonly name = 'ValueError';
}

export interface ExternalIp {
  readonly publicIp: string;
  /** The relay (private) address it maps, or '' for the single `external-ip=<public>` form. */
  readonly privateIp: string;
}

export type UserSpec =
  { readonly name: string; readonly password: string } | { readonly name: string; readonly key: Buffer };

export interface Address {
  readonly host: string;
  readonly port: number | undefined;
}

export type Value = boolean | number | string | ExternalIp | UserSpec | Address;

/** Where relative file names are looked for: the config file's folder, then the search path. */
export interface FileContext {
  readonly cwd: string;
  readonly configDir: string | undefined;
  readonly searchPath: readonly string[];
}

const TRUE = new Set(['1', 'yes', 'y', 'true', 't', 'on']);
const FALSE = new Set(['0', 'no', 'n', 'false', 'f', 'off']);
// `<user-name>`, `<DH-PEM-file-name>`, `host=<host>`: left over from an example file.
const PLACEHOLDER = /<[^<>]*>/;

/**
 * Options whose values are secrets: never echoed in a message, and a `<…>` in them is part of
 * the password (coturn's example file has no placeholder in these).
 */
const SECRET_OPTIONS: ReadonlySet<string> = new Set(['user', 'static-auth-secret', 'pkey-pwd', 'cli-password']);

/** Any value, even of an option Turnpike ignores: `<password>` means the file was never finished. */
export function checkPlaceholder(raw: string, option?: string): void {
  if (option !== undefined && SECRET_OPTIONS.has(option)) return;
  const placeholder = PLACEHOLDER.exec(raw);
  if (placeholder)
    throw new ValueError(`"${placeholder[0]}" is a placeholder from an example configuration; put a real value here`);
}

export function parseValue(spec: OptionSpec, raw: string, files: FileContext): Value {
  checkPlaceholder(raw, spec.name);
  if (raw === '' && spec.type !== 'boolean' && spec.bare === undefined && !spec.emptyOk)
    throw new ValueError('needs a value');
  switch (spec.type) {
    case 'boolean':
      return parseBoolean(raw);
    case 'string':
      return raw;
    case 'integer':
      return raw === '' && spec.bare !== undefined
        ? spec.bare
        : parseInteger(raw, spec.min ?? 0, spec.max ?? 0x7fffffff);
    case 'port':
      return parsePort(raw, spec.min ?? 1);
    case 'ip':
      return parseIp(raw);
    case 'ip-range':
      return parseIpRange(raw);
    case 'address':
      return parseAddress(raw);
    case 'external-ip':
      return parseExternalIp(raw);
    case 'user':
      return parseUser(raw);
    case 'file':
      return findReadableFile(raw, files);
    case 'choice':
      if (spec.choices?.includes(raw)) return raw;
      throw new ValueError(`"${raw}" is not one of ${(spec.choices ?? []).join(', ')}`);
  }
}

export function parseBoolean(raw: string): boolean {
  if (raw === '') return true;
  const word = raw.toLowerCase();
  if (TRUE.has(word)) return true;
  if (FALSE.has(word)) return false;
  throw new ValueError(`"${raw}" is not a boolean (use yes/no, on/off, true/false or 1/0)`);
}

function parseInteger(raw: string, min: number, max: number): number {
  if (!/^\d{1,10}$/.test(raw)) throw new ValueError(`"${raw}" is not a whole number`);
  const n = Number(raw);
  if (n < min || n > max) throw new ValueError(`${n} is out of range ${min}..${max}`);
  return n;
}

function parsePort(raw: string, min: number): number {
  const n = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= min && n <= 65535)) throw new ValueError(`"${raw}" is not a port number`);
  return n;
}

function parseIp(raw: string): string {
  if (net.isIP(raw) === 0) throw new ValueError(`"${raw}" is not an IP address`);
  return raw;
}

/** Checked by the same parser the peer policy uses, so what loads is what applies. */
function parseIpRange(raw: string): string {
  try {
    parsePeerRange(raw);
  } catch {
    throw new ValueError(`"${raw}" is not an IP address or range (ip, ip-ip or ip/prefix)`);
  }
  return raw;
}

const HOST_NAME = /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

/** `1.2.3.4`, `1.2.3.4:5678`, `[2001:db8::1]:3478`, `2001:db8::1`, or a host name with a port. */
export function parseAddress(raw: string): Address {
  const bad = () => new ValueError(`"${raw}" is not an address (ip, ip:port or [ipv6]:port)`);
  let host = raw;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(raw);
  if (bracketed) {
    host = bracketed[1] ?? '';
    portText = bracketed[2];
    if (net.isIPv6(host) === false) throw bad();
  } else if (net.isIPv6(raw)) {
    return { host: raw, port: undefined };
  } else {
    const colon = raw.lastIndexOf(':');
    if (colon >= 0) {
      host = raw.slice(0, colon);
      portText = raw.slice(colon + 1);
    }
    if (net.isIPv4(host) === false && !HOST_NAME.test(host)) throw bad();
  }
  if (portText === undefined) return { host, port: undefined };
  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
  if (!(port >= 1 && port <= 65535)) throw bad();
  return { host, port };
}

function parseExternalIp(raw: string): ExternalIp {
  const [publicIp = '', privateIp, ...rest] = raw.split('/');
  if (rest.length > 0 || net.isIP(publicIp) === 0)
    throw new ValueError(`"${raw}" is not an IP address or public-ip/private-ip`);
  if (privateIp === undefined) return { publicIp, privateIp: '' };
  if (net.isIP(privateIp) === 0)
    throw new ValueError(`"${privateIp}" (the private part of "${raw}") is not an IP address`);
  return { publicIp, privateIp };
}

/** `name:password` or `name:0x<32 hex digits>` (the key `turnadmin -k` prints). */
function parseUser(raw: string): UserSpec {
  const colon = raw.indexOf(':');
  if (colon < 0) throw new ValueError(`the value has no ':'; write name:password or name:0x<key>`); // it may be a password: not echoed
  const name = raw.slice(0, colon);
  // coturn skips blanks after the colon, so `bob: secret` has the password "secret".
  const secret = raw.slice(colon + 1).replace(/^[ \t]+/, '');
  if (name === '') throw new ValueError('the user name is empty');
  if (secret === '') throw new ValueError(`user "${name}" has an empty password`);
  if (!secret.startsWith('0x')) return { name, password: secret };
  const hex = secret.slice(2);
  if (!/^[0-9A-Fa-f]{32}$/.test(hex)) throw new ValueError(`the key of user "${name}" must be 0x and 32 hex digits`);
  return { name, key: Buffer.from(hex, 'hex') };
}

/**
 * coturn looks for certificates like for its config file; its reference file says "relative to
 * the configuration file". Turnpike tries that folder first, then the search path.
 */
function findReadableFile(raw: string, files: FileContext): string {
  const candidates = path.isAbsolute(raw)
    ? [raw]
    : [...(files.configDir === undefined ? [] : [files.configDir]), ...files.searchPath].map((dir) =>
        path.resolve(files.cwd, dir, raw),
      );
  let reason = 'no such file';
  for (const candidate of candidates) {
    try {
      if (!fs.statSync(candidate).isFile()) {
        reason = `${candidate} is not a file`;
        continue;
      }
      fs.accessSync(candidate, fs.constants.R_OK);
      return candidate;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') reason = `${candidate}: ${code ?? String(err)}`;
    }
  }
  throw new ValueError(`cannot read "${raw}" (${reason})`);
}
