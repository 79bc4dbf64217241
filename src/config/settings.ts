/**
 * From raw entries (the file's, then the command line's) to typed settings: every value is
 * checked against the option table, every problem collected, and every entry that will have
 * no effect (unknown key, option not applied yet, option not planned) warned about once.
 */
import path from 'node:path';
import type { RawEntry } from './conf-file.js';
import { ConfigError, located, type Origin } from './errors.js';
import { findOption, type OptionSpec } from './option-table.js';
import { ValueError, checkPlaceholder, parseValue, type Value } from './values.js';

export interface Setting {
  readonly spec: OptionSpec;
  readonly value: Value;
  readonly origin: Origin;
}

/** The typed settings: lists keep every value in order, scalars are read as the last one. */
export class Settings {
  private readonly byName = new Map<string, Setting[]>();

  add(setting: Setting): void {
    const list = this.byName.get(setting.spec.name);
    if (list) list.push(setting);
    else this.byName.set(setting.spec.name, [setting]);
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** The winning (last) setting of a scalar option. */
  last(name: string): Setting | undefined {
    const list = this.byName.get(name);
    return list?.[list.length - 1];
  }

  /** Every setting of a list option, file first, then command line. */
  all(name: string): readonly Setting[] {
    return this.byName.get(name) ?? [];
  }

  flag(name: string): boolean {
    return this.last(name)?.value === true;
  }

  number(name: string, fallback: number): number {
    const value = this.last(name)?.value;
    return typeof value === 'number' ? value : fallback;
  }

  string(name: string): string | undefined {
    const value = this.last(name)?.value;
    return typeof value === 'string' ? value : undefined;
  }
}

export interface Collected {
  readonly settings: Settings;
  readonly warnings: string[];
  readonly errors: ConfigError[];
}

export function collectSettings(
  entries: readonly RawEntry[],
  files: { readonly cwd: string; readonly searchPath: readonly string[] },
): Collected {
  const settings = new Settings();
  const warnings: string[] = [];
  const errors: ConfigError[] = [];
  const warnedAbout = new Set<string>();
  // A bad value of a single-valued option counts only if no later one overrides it (coturn
  // reads each in turn: its own example script secure_relay_with_db_redis.sh has
  // `-max-bps=3000000`, which is -m "ax-bps=3000000", overridden by its later -m 3).
  const refused: { index: number; name: string; error: ConfigError; list: boolean }[] = [];
  const lastGood = new Map<string, number>();

  for (const [index, entry] of entries.entries()) {
    const spec = findOption(entry.key);
    if (!spec) {
      warnings.push(located(entry.origin, `unknown option '${entry.key}', ignored`));
      continue;
    }
    if (spec.cliOnly && entry.origin.file !== undefined) {
      warnings.push(located(entry.origin, `'${entry.key}' only works on the command line, ignored`));
      continue;
    }
    const status = spec.status;
    if (status.kind !== 'applied' && !warnedAbout.has(spec.name)) {
      warnedAbout.add(spec.name);
      warnings.push(
        located(
          entry.origin,
          `option '${spec.name}' is not planned in Turnpike (${status.why}); it has no effect`,
        ),
      );
    }
    try {
      if (status.kind === 'not-planned') {
        // Its value means nothing to Turnpike, but a placeholder still means an unfinished file.
        checkPlaceholder(entry.value, spec.name);
        continue;
      }
      const configDir = entry.origin.file === undefined ? undefined : path.dirname(entry.origin.file);
      const value = parseValue(spec, entry.value, { cwd: files.cwd, configDir, searchPath: files.searchPath });
      settings.add({ spec, value, origin: entry.origin });
      lastGood.set(spec.name, index);
    } catch (err) {
      if (!(err instanceof ValueError)) throw err;
      refused.push({ index, name: spec.name, error: new ConfigError(entry.origin, spec.name, err.message), list: spec.list });
    }
  }
  for (const { index, name, error, list } of refused) {
    if (!list && (lastGood.get(name) ?? -1) > index) warnings.push(`${error.message}; ignored, a later ${name} overrides it`);
    else errors.push(error);
  }
  return { settings, warnings, errors };
}
