/** Where a setting came from: a line of a config file, or (no file) the command line. */
export interface Origin {
  readonly file?: string;
  readonly line?: number;
}

export const COMMAND_LINE: Origin = Object.freeze({});

/** `file:line` or `command line`, the prefix of every error and warning. */
export function describeOrigin(origin: Origin): string {
  if (origin.file === undefined) return 'command line';
  return origin.line === undefined ? origin.file : `${origin.file}:${origin.line}`;
}

/** A warning with the same prefix as an error, so both read alike in the log. */
export function located(origin: Origin, text: string): string {
  return `${describeOrigin(origin)}: ${text}`;
}

/**
 * A configuration the server must not start with. The message always names the file and line
 * (or "command line") and the option. When several problems were found, `errors` lists each
 * one and the message has one line per problem; `file`, `line` and `option` are the first's.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly file: string | undefined;
  readonly line: number | undefined;
  readonly option: string | undefined;
  readonly detail: string;
  readonly errors: readonly ConfigError[];

  constructor(origin: Origin, option: string | undefined, detail: string, errors?: readonly ConfigError[]) {
    super(errors && errors.length > 1 ? errors.map((e) => e.message).join('\n') : format(origin, option, detail));
    this.file = origin.file;
    this.line = origin.line;
    this.option = option;
    this.detail = detail;
    this.errors = errors && errors.length > 1 ? errors : [this];
  }

  /** One error for all of `errors` (which must not be empty). */
  static combine(errors: readonly ConfigError[]): ConfigError {
    const first = errors[0];
    if (!first) throw new RangeError('ConfigError.combine needs at least one error');
    if (errors.length === 1) return first;
    return new ConfigError(first, first.option, first.detail, errors);
  }
}

function format(origin: Origin, option: string | undefined, detail: string): string {
  return option === undefined ? located(origin, detail) : located(origin, `${option}: ${detail}`);
}
