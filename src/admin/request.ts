/**
 * coturn 4.6.1's turnadmin flags, as its `-h` lists them, turned into one request: which
 * command, and the values it may use. Where coturn silently lets a later command replace an
 * earlier one (`-a -l` lists), Turnpike refuses: a script that says two things is a bug.
 */
import { AdminError, UsageError } from './errors.js';
import { getopt, type FlagSpec } from './getopt.js';

export const COMMANDS = {
  key: 'k',
  add: 'a',
  delete: 'd',
  'add-admin': 'A',
  'delete-admin': 'D',
  list: 'l',
  'list-admin': 'L',
  'set-secret': 's',
  'show-secret': 'S',
  'delete-secret': 'X',
  'delete-all-secrets': undefined,
  'add-origin': 'O',
  'del-origin': 'R',
  'list-origins': 'I',
  'set-realm-option': 'g',
  'list-realm-options': 'G',
  'generate-encrypted-password': 'P',
} as const;

export type Command = keyof typeof COMMANDS;

export const REALM_OPTIONS = ['max-bps', 'total-quota', 'user-quota'] as const;
export type RealmOption = (typeof REALM_OPTIONS)[number];

export interface AdminRequest {
  readonly command: Command;
  /** The command's flag as typed (`-a`, `--add`), for messages. */
  readonly commandFlag: string;
  readonly user: string | undefined;
  readonly realm: string | undefined;
  readonly password: string | undefined;
  readonly origin: string | undefined;
  /** The value of -s or -X. */
  readonly secret: string | undefined;
  /** -b FILE; undefined when -e, -M or -N is given after it. */
  readonly db: string | undefined;
  /** -e CONNECTION (PostgreSQL); undefined when -b, -M or -N is given after it. */
  readonly psql: string | undefined;
  /** -M CONNECTION (MySQL/MariaDB); undefined when -b, -e or -N is given after it. */
  readonly mysql: string | undefined;
  /** -N CONNECTION: coturn's Redis user database; undefined when -b, -e or -M is given after it. */
  readonly redis: string | undefined;
  /** Raw values of --max-bps, --total-quota, --user-quota, as given. */
  readonly realmOptions: ReadonlyMap<RealmOption, string>;
}

export type ParsedRequest = { readonly help: true } | ({ readonly help: false } & AdminRequest);

const VALUE_WITH_COMMAND = new Set<string>(['set-secret', 'delete-secret']);

const SPECS: FlagSpec[] = [
  ...Object.entries(COMMANDS).map(([name, short]) => ({
    name,
    ...(short !== undefined ? { short } : {}),
    ...(name === 'list-realm-options' ? { aliases: ['list-realm-option'] } : {}),
    takesValue: VALUE_WITH_COMMAND.has(name),
  })),
  { name: 'help', short: 'h', takesValue: false },
  { name: 'userdb', short: 'b', aliases: ['db'], takesValue: true },
  { name: 'user', short: 'u', takesValue: true },
  { name: 'realm', short: 'r', takesValue: true },
  { name: 'password', short: 'p', takesValue: true },
  { name: 'origin', short: 'o', takesValue: true },
  ...REALM_OPTIONS.map((name) => ({ name, takesValue: true })),
  { name: 'psql-userdb', short: 'e', aliases: ['sql-userdb'], takesValue: true },
  { name: 'mysql-userdb', short: 'M', takesValue: true },
  { name: 'redis-userdb', short: 'N', takesValue: true },
  // Accepted so that it gets a clear "not supported" rather than "unknown option".
  { name: 'mongo-userdb', short: 'J', takesValue: true },
  { name: 'generate-encrypted-password-aes', short: 'E', takesValue: false },
  { name: 'key-path', short: 'x', takesValue: true },
  { name: 'file-key-path', short: 'f', takesValue: true },
  { name: 'verify', short: 'v', takesValue: true },
];

const DATABASE_FLAGS = new Set(['userdb', 'psql-userdb', 'mysql-userdb', 'redis-userdb']);

const UNSUPPORTED: Record<string, string> = {
  'mongo-userdb': 'MongoDB user databases are not supported yet; use an SQLite file with -b',
  'generate-encrypted-password-aes': 'AES-encrypted passwords are not supported yet',
  'key-path': 'AES-encrypted passwords are not supported yet',
  'file-key-path': 'AES-encrypted passwords are not supported yet',
  verify: 'AES-encrypted passwords are not supported yet',
};

/** Throws UsageError (exit 2) for what getopt would refuse, AdminError for what Turnpike cannot do. */
export function parseRequest(argv: readonly string[]): ParsedRequest {
  const flags = getopt(argv, SPECS);
  if (flags.some((f) => f.spec.name === 'help')) return { help: true };
  const unsupported = flags.find((f) => UNSUPPORTED[f.spec.name] !== undefined);
  if (unsupported) throw new AdminError(`${unsupported.given}: ${UNSUPPORTED[unsupported.spec.name]}`);

  const commands = flags.filter((f) => f.spec.name in COMMANDS);
  const distinct = [...new Set(commands.map((f) => f.spec.name))];
  const first = commands[0];
  if (!first) throw new UsageError('no command given');
  if (distinct.length > 1) {
    const second = commands.find((f) => f.spec.name !== first.spec.name);
    throw new UsageError(`two commands given (${first.given} and ${second?.given}); give one`);
  }
  // As with getopt, a later value replaces an earlier one.
  const last = (name: string) => flags.filter((f) => f.spec.name === name).at(-1)?.value;
  const realmOptions = new Map<RealmOption, string>();
  for (const name of REALM_OPTIONS) {
    const value = last(name);
    if (value !== undefined) realmOptions.set(name, value);
  }
  const command = first.spec.name as Command;
  // coturn keeps one database: -b, -e, -M and -N set the same thing, and the one given last counts.
  const database = flags.filter((f) => DATABASE_FLAGS.has(f.spec.name)).at(-1);
  return {
    help: false,
    command,
    commandFlag: first.given,
    user: last('user'),
    realm: last('realm'),
    password: last('password'),
    origin: last('origin'),
    secret: VALUE_WITH_COMMAND.has(command) ? commands.at(-1)?.value : undefined,
    db: database?.spec.name === 'userdb' ? database.value : undefined,
    psql: database?.spec.name === 'psql-userdb' ? database.value : undefined,
    mysql: database?.spec.name === 'mysql-userdb' ? database.value : undefined,
    redis: database?.spec.name === 'redis-userdb' ? database.value : undefined,
    realmOptions,
  };
}
