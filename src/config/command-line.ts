/**
 * coturn's command line, read with yargs: long flags (`--key value`, `--key=value`, bare
 * booleans), coturn's short flags, and `-c FILE` / `-n` / `-h` / `--version`. Values stay raw
 * strings; the resolver types them exactly as it types the file's, so both follow one set of
 * rules. yargs' negation (`--no-tcp` is an option here), camel-case expansion and dot notation
 * are off.
 */
import yargs from 'yargs';
import type { RawEntry } from './conf-file.js';
import { COMMAND_LINE, ConfigError } from './errors.js';
import { OPTION_TABLE, findOption, findShortOption } from './option-table.js';

export interface CommandLine {
  /** Options other than -c/-n/-h/--version, with canonical names, in flag order per option. */
  readonly entries: RawEntry[];
  readonly configFile: string | undefined;
  readonly noConfigFile: boolean;
  readonly help: boolean;
  readonly version: boolean;
  readonly errors: ConfigError[];
}

export function parseCommandLine(argv: readonly string[]): CommandLine {
  const errors: ConfigError[] = [];
  const dashDash = argv.indexOf('--');
  const tokens = normalizeShortFlags(dashDash < 0 ? argv : argv.slice(0, dashDash));
  const afterDashDash = dashDash < 0 ? [] : argv.slice(dashDash + 1);

  let parser = yargs([...tokens])
    .parserConfiguration({
      'boolean-negation': false,
      'camel-case-expansion': false,
      'dot-notation': false,
      'duplicate-arguments-array': true,
      'flatten-duplicate-arrays': true,
      'greedy-arrays': false,
      'parse-numbers': false,
      'parse-positional-numbers': false,
      'strip-aliased': true,
      'strip-dashed': false,
    })
    .help(false)
    .version(false)
    .exitProcess(false)
    .strict(false);
  for (const spec of OPTION_TABLE) {
    const alias = [...(spec.short !== undefined && spec.short !== spec.name ? [spec.short] : []), ...spec.aliases];
    // Every option is a string to yargs: a bare flag comes back as '', and the resolver (not
    // yargs, which reads `--no-tcp=yes` as false) decides what a boolean's text means.
    parser = parser.option(spec.name, { type: 'string', alias });
  }
  const parsed = parser.parseSync() as Record<string, unknown>;

  const entries: RawEntry[] = [];
  let configFile: string | undefined;
  let noConfigFile = false;
  let help = false;
  let version = false;
  for (const [key, raw] of Object.entries(parsed)) {
    if (key === '_' || key === '$0') continue;
    const spec = findOption(key);
    const values = (Array.isArray(raw) ? raw : [raw]).map((v) => (typeof v === 'string' ? v : ''));
    if (!spec) {
      errors.push(new ConfigError(COMMAND_LINE, key.length === 1 ? `-${key}` : `--${key}`, 'unknown option'));
      continue;
    }
    const last = values[values.length - 1] ?? '';
    if (spec.cliOnly && spec.type === 'boolean' && values.some((v) => v !== '')) {
      // yargs hands `-n foo` the word foo; getopt would not, so say so rather than drop it.
      errors.push(
        new ConfigError(COMMAND_LINE, key.length === 1 ? `-${key}` : `--${key}`, 'takes no value, but one was given'),
      );
      continue;
    }
    if (spec.name === 'c') {
      if (last === '') errors.push(new ConfigError(COMMAND_LINE, '-c', 'needs a file name'));
      else configFile = last;
    } else if (spec.name === 'n') noConfigFile = true;
    else if (spec.name === 'help') help = true;
    else if (spec.name === 'version') version = true;
    else for (const value of values) entries.push({ key: spec.name, value, origin: COMMAND_LINE });
  }
  const positional = [...(parsed._ as unknown[]).map(String), ...afterDashDash];
  for (const word of positional) errors.push(new ConfigError(COMMAND_LINE, undefined, `unexpected argument "${word}"`));
  return { entries, configFile, noConfigFile, help, version, errors };
}

/**
 * getopt lets a short flag carry its value in the same word (`-p3478`, `-uname:pw`); yargs
 * would read `-uname:pw` as a group of flags. Split those words for flags that take a value;
 * groups of boolean flags (`-av`) are left for yargs to split. `-p=3478` loses the '='.
 */
function normalizeShortFlags(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (const word of argv) {
    const m = /^-([A-Za-z])(.+)$/.exec(word);
    const spec = m ? findShortOption(m[1] ?? '') : undefined;
    if (m && spec && spec.type !== 'boolean') out.push(`-${m[1]}`, (m[2] ?? '').replace(/^=/, ''));
    else out.push(word);
  }
  return out;
}
