/**
 * Reads turnserver.conf the way coturn does (mainrelay.c, parse_arg_string): one `key[=value]`
 * per line, key and value split at the first run of spaces, tabs or '=', whole-line `#`
 * comments only, one pair of double quotes stripped. It knows nothing of the option table:
 * keys come back as written, with their line, and the resolver decides what they mean.
 */
import fs from 'node:fs';
import { ConfigError, located, type Origin } from './errors.js';

export interface RawEntry {
  /** As written: a long option name, or anything else the resolver will warn about. */
  readonly key: string;
  /** '' for a bare key. Never trimmed inside: `#` and `;` belong to passwords. */
  readonly value: string;
  readonly origin: Origin;
}

export interface ParsedConf {
  readonly entries: RawEntry[];
  readonly warnings: string[];
}

const KEY = /^[A-Za-z][A-Za-z0-9_-]*$/;

export function parseConfText(text: string, file: string): ParsedConf {
  const entries: RawEntry[] = [];
  const warnings: string[] = [];
  const lines = text.replace(/^\uFEFF/, '').split('\n');
  lines.forEach((rawLine, index) => {
    const origin: Origin = { file, line: index + 1 };
    const line = rawLine.replace(/^[ \t]+/, '').replace(/\s+$/, '');
    if (line === '' || line.startsWith('#')) return;

    const split = /^([^ \t=]*)[ \t=]*(.*)$/.exec(line);
    const key = split?.[1] ?? '';
    let value = split?.[2] ?? '';
    if (!KEY.test(key)) {
      const hint = line.startsWith('--') ? " (write options without the leading '--')" : '';
      // Only the first word: the rest of a broken line may be a secret (`static-auth-secret: s3cret`).
      warnings.push(located(origin, `not a key[=value] line, ignored${hint}: starts with "${line.split(/[\s=:]/)[0]}"`));
      return;
    }
    if (value.startsWith('"')) {
      if (value.length >= 2 && value.endsWith('"')) {
        value = value.slice(1, -1);
      } else {
        warnings.push(
          located(
            origin,
            `${key}: the value has an opening double quote but no closing one; the quote is dropped, as coturn does`,
          ),
        );
        value = value.slice(1);
      }
    }
    // coturn warns about this too: `;` is not a terminator here, it stays in the value.
    if (line.endsWith(';'))
      warnings.push(located(origin, `${key}: the line ends with ';', which is kept as part of the value`));
    entries.push({ key, value, origin });
  });
  return { entries, warnings };
}

/** Reads and parses a config file; a file that cannot be read is a ConfigError. */
export function readConfFile(file: string, origin: Origin, option: string): ParsedConf {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new ConfigError(origin, option, `cannot read config file ${file} (${code})`);
  }
  return parseConfText(text, file);
}
