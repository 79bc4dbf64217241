/**
 * Configuration: coturn's turnserver.conf and command-line flags to one frozen ServerOptions.
 * The command line overrides the file's scalars and adds to its lists, as in coturn.
 */
import os from 'node:os';
import path from 'node:path';
import { buildServerOptions } from './apply.js';
import { parseCommandLine } from './command-line.js';
import { readConfFile, type RawEntry } from './conf-file.js';
import { COMMAND_LINE, ConfigError } from './errors.js';
import { deepFreeze } from './freeze.js';
import { renderHelp } from './help.js';
import type { ServerOptions } from './server-options.js';
import { Settings, collectSettings } from './settings.js';
import { settingsInForce, type SettingInForce } from './settings-in-force.js';
import { DEFAULT_CONFIG_NAME, DEFAULT_SEARCH_PATH, findConfigFile } from './search-path.js';
import { TURNPIKE_VERSION } from './version.js';

export { ConfigError, type Origin } from './errors.js';
export {
  OPTION_TABLE,
  findOption,
  type OptionSpec,
  type OptionStatus,
  type OptionType,
} from './option-table.js';
export { renderHelp, renderOptionsMarkdown } from './help.js';
export { DEFAULT_SEARCH_PATH } from './search-path.js';
export { TURNPIKE_VERSION } from './version.js';
export type { LogLevel, ServerOptions, StaticUser } from './server-options.js';

export interface LoadOptions {
  /** Folder that relative paths (and the relative part of the search path) start from. */
  readonly cwd?: string;
  /** Folders to look for turnserver.conf in when neither -c nor -n is given. */
  readonly searchPath?: readonly string[];
  /**
   * The host's name, the realm when none is set (os.hostname() if absent). A server reads it
   * once and passes it to every reload, so that the realm its clients signed with stays.
   */
  readonly hostname?: string;
  /** CPUs, relay-threads' default (os.availableParallelism() if absent). */
  readonly cpus?: number;
}

export interface LoadedConfig {
  readonly options: ServerOptions;
  readonly warnings: string[];
  /** The file read (absolute), or undefined with -n or when none was found. */
  readonly configFile: string | undefined;
  /**
   * Set for `-h`/`--help` (the help text) and `--version`: print it and exit with status 0.
   * The file is not read then, and `options` are the defaults.
   */
  readonly printAndExit: string | undefined;
  /** The options in force and where each came from (absent with printAndExit). */
  readonly settings?: readonly SettingInForce[];
}

export interface CheckedConfig {
  /** Undefined when there are errors. */
  readonly options: ServerOptions | undefined;
  readonly warnings: string[];
  /** Every problem found, not just the first. */
  readonly errors: ConfigError[];
  readonly configFile: string | undefined;
  readonly printAndExit: string | undefined;
  readonly settings?: readonly SettingInForce[];
}

/** Reads the config; throws one ConfigError listing every problem (see `errors` on it). */
export function loadConfig(argv: readonly string[], opts: LoadOptions = {}): LoadedConfig {
  const checked = checkConfig(argv, opts);
  if (checked.errors.length > 0 || checked.options === undefined) throw ConfigError.combine(checked.errors);
  return {
    options: checked.options,
    warnings: checked.warnings,
    configFile: checked.configFile,
    printAndExit: checked.printAndExit,
    settings: checked.settings,
  };
}

/** The problems a config file has on its own (no command line), all of them. */
export function validateConfigFile(file: string, opts: LoadOptions = {}): ConfigError[] {
  return checkConfig(['-c', file], opts).errors;
}

/** Like loadConfig, but returns the errors instead of throwing. */
export function checkConfig(argv: readonly string[], opts: LoadOptions = {}): CheckedConfig {
  const cwd = opts.cwd ?? process.cwd();
  const searchPath = opts.searchPath ?? DEFAULT_SEARCH_PATH;
  const env = { hostname: opts.hostname ?? os.hostname(), version: TURNPIKE_VERSION, cpus: opts.cpus ?? os.availableParallelism() };
  const cli = parseCommandLine(argv);

  const special = cli.help ? renderHelp() : cli.version ? `${TURNPIKE_VERSION}\n` : undefined;
  if (special !== undefined) {
    const defaults = deepFreeze(buildServerOptions(new Settings(), env).options);
    return { options: defaults, warnings: [], errors: [], configFile: undefined, printAndExit: special };
  }

  const warnings: string[] = [];
  const errors: ConfigError[] = [...cli.errors];
  let fileEntries: RawEntry[] = [];
  let configFile: string | undefined;
  try {
    configFile = locateConfigFile(cli, cwd, searchPath, warnings);
    if (configFile !== undefined) {
      const parsed = readConfFile(configFile, COMMAND_LINE, '-c');
      fileEntries = parsed.entries;
      warnings.push(...parsed.warnings);
    }
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    errors.push(err);
  }

  const collected = collectSettings([...fileEntries, ...cli.entries], { cwd, searchPath });
  const built = buildServerOptions(collected.settings, env);
  warnings.push(...collected.warnings, ...built.warnings);
  errors.push(...collected.errors, ...built.errors);
  const options = errors.length === 0 ? deepFreeze(built.options) : undefined;
  return { options, warnings, errors, configFile, printAndExit: undefined, settings: settingsInForce(collected.settings, { 'relay-threads': built.options.relayThreads ?? 1 }) };
}

function locateConfigFile(
  cli: { readonly configFile: string | undefined; readonly noConfigFile: boolean },
  cwd: string,
  searchPath: readonly string[],
  warnings: string[],
): string | undefined {
  if (cli.noConfigFile) {
    // coturn stops looking at the first -n, wherever -c is.
    if (cli.configFile !== undefined) warnings.push(`command line: -n is given, so -c ${cli.configFile} is not read`);
    return undefined;
  }
  if (cli.configFile === undefined) {
    const found = findConfigFile(DEFAULT_CONFIG_NAME, cwd, searchPath);
    if (found === undefined) {
      warnings.push(
        `no ${DEFAULT_CONFIG_NAME} found in ${searchPath.join(' ')}; using the defaults and the command line`,
      );
    }
    return found === undefined ? undefined : path.resolve(cwd, found);
  }
  // coturn warns and carries on with the defaults; a server started on the wrong file should not.
  const found = findConfigFile(cli.configFile, cwd, ['./', ...searchPath]);
  if (found === undefined) {
    const absolute = path.resolve(cwd, cli.configFile);
    readConfFile(absolute, COMMAND_LINE, '-c'); // throws with the reason (ENOENT, EACCES, EISDIR)
    throw new ConfigError(COMMAND_LINE, '-c', `cannot find config file ${cli.configFile}`);
  }
  return path.resolve(cwd, found);
}
