/**
 * turnadmin's command line read the way coturn's getopt_long reads it: short flags group
 * (`-kp pw`), a short flag takes its value from the rest of the word or the next word
 * (`-uname`, `-u name`, even `-p -dashed`), long options take `--name=value` or `--name value`
 * and may be shortened to any unambiguous prefix. Words that are not options are errors.
 */
import { UsageError } from './errors.js';

export interface FlagSpec {
  /** The canonical name (the long name), used as the key of the parsed result. */
  readonly name: string;
  readonly short?: string;
  /** Further long names (coturn has `--db` and `--userdb` for `-b`, for example). */
  readonly aliases?: readonly string[];
  readonly takesValue: boolean;
}

export interface ParsedFlag {
  readonly spec: FlagSpec;
  /** As typed (`-u`, `--user`), for messages. */
  readonly given: string;
  /** '' for a flag without a value. */
  readonly value: string;
}

export function getopt(argv: readonly string[], specs: readonly FlagSpec[]): ParsedFlag[] {
  const parsed: ParsedFlag[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i] ?? '';
    if (word === '--') {
      const rest = argv.slice(i + 1);
      if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
      break;
    }
    if (word.startsWith('--')) {
      const eq = word.indexOf('=');
      const name = word.slice(2, eq < 0 ? undefined : eq);
      const spec = findLong(name, specs);
      if (!spec.takesValue) {
        if (eq >= 0) throw new UsageError(`option --${spec.name} takes no value`);
        parsed.push({ spec, given: `--${spec.name}`, value: '' });
      } else if (eq >= 0) {
        parsed.push({ spec, given: `--${spec.name}`, value: word.slice(eq + 1) });
      } else {
        parsed.push({ spec, given: `--${spec.name}`, value: valueAfter(argv, i++, `--${spec.name}`) });
      }
      continue;
    }
    if (word.startsWith('-') && word.length > 1) {
      for (let j = 1; j < word.length; j++) {
        const letter = word[j] ?? '';
        const spec = specs.find((s) => s.short === letter);
        if (!spec) throw new UsageError(`unknown option -${letter}`);
        if (!spec.takesValue) {
          parsed.push({ spec, given: `-${letter}`, value: '' });
          continue;
        }
        const rest = word.slice(j + 1);
        parsed.push({ spec, given: `-${letter}`, value: rest !== '' ? rest : valueAfter(argv, i++, `-${letter}`) });
        break;
      }
      continue;
    }
    throw new UsageError(`unexpected argument "${word}"`);
  }
  return parsed;
}

function valueAfter(argv: readonly string[], i: number, flag: string): string {
  const next = argv[i + 1];
  if (next === undefined) throw new UsageError(`option ${flag} needs a value`);
  return next;
}

/** An exact long name, or the one option that name is a prefix of (getopt_long's rule). */
function findLong(name: string, specs: readonly FlagSpec[]): FlagSpec {
  const names = (s: FlagSpec) => [s.name, ...(s.aliases ?? [])];
  const exact = specs.find((s) => names(s).includes(name));
  if (exact) return exact;
  const candidates = name === '' ? [] : specs.filter((s) => names(s).some((n) => n.startsWith(name)));
  if (candidates.length === 1 && candidates[0]) return candidates[0];
  if (candidates.length > 1) {
    const list = candidates.map((s) => `--${s.name}`).join(', ');
    throw new UsageError(`option --${name} is ambiguous (${list})`);
  }
  throw new UsageError(`unknown option --${name}`);
}
