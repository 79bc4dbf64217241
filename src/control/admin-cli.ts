/**
 * `turnpike admin sessions|disconnect|reload|drain|stats|loglevel`: the commands that talk to
 * a running server (the other `turnpike admin` forms are coturn's turnadmin). Exit status:
 * 0 done, 1 the server is unreachable, refused, or found nothing to do, 2 bad command line.
 */
import yargs from 'yargs';
import { AdminError, UsageError } from '../admin/errors.js';
import type { AdminIo } from '../admin/turnadmin.js';
import type { LogLevel } from '../config/server-options.js';
import { LOG_LEVELS } from '../log/logger.js';
import { AdminClient } from './admin-client.js';
import { TOKEN_ENV, resolveEndpoint } from './admin-endpoint.js';
import { drainLines, reloadLines, sessionsTable, statsLines } from './admin-output.js';
import { fleetSessionsTable, fleetStatsDb, readFleetSessions } from './fleet-sessions.js';

export const ADMIN_COMMANDS: readonly string[] = Object.freeze(['sessions', 'disconnect', 'reload', 'drain', 'stats', 'loglevel']);

export const isAdminCommand = (word: string | undefined): boolean => word !== undefined && ADMIN_COMMANDS.includes(word);

const PREFIX = 'turnpike admin';

/** How to reach the server, and how to print. */
interface Common {
  readonly json: boolean;
  readonly socket: string | undefined;
  readonly url: string | undefined;
  readonly token: string | undefined;
  /** `-c FILE`. */
  readonly config: string | undefined;
}

type Command =
  | { readonly command: 'sessions'; readonly user: string | undefined; readonly fleet: boolean; readonly redisStatsdb: string | undefined }
  | { readonly command: 'disconnect'; readonly target: { readonly id: number } | { readonly user: string } }
  | { readonly command: 'reload' | 'drain' | 'stats' }
  | { readonly command: 'loglevel'; readonly level: LogLevel | undefined };

type Args = Common & Command;

export async function runAdminCommand(argv: readonly string[], io: AdminIo, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  try {
    const args = parseArgs(argv);
    if (typeof args === 'string') {
      io.out(args);
      return 0;
    }
    if (args.command === 'sessions' && args.fleet) return await fleetSessions(args, io);
    const client = new AdminClient(resolveEndpoint(args, env));
    return await run(client, args, io);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof UsageError) {
      io.err(`${PREFIX}: ${message}`);
      io.err(`Try '${PREFIX} --help'.`);
      return 2;
    }
    io.err(`${PREFIX}: ${error instanceof AdminError ? '' : 'unexpected error: '}${message}`);
    return 1;
  }
}

function printerFor(args: Common, io: AdminIo): (json: unknown, lines: () => string[]) => void {
  return (json, lines) => {
    if (args.json) io.out(JSON.stringify(json, null, 2));
    else for (const line of lines()) io.out(line);
  };
}

/** `sessions --fleet`: every node's allocations, from redis-statsdb rather than one server. */
async function fleetSessions(args: Common & { user: string | undefined; redisStatsdb: string | undefined }, io: AdminIo): Promise<number> {
  const sessions = await readFleetSessions(fleetStatsDb(args.redisStatsdb, args.config), args.user);
  printerFor(args, io)(sessions, () => fleetSessionsTable(sessions));
  return 0;
}

async function run(client: AdminClient, args: Args, io: AdminIo): Promise<number> {
  const print = printerFor(args, io);
  switch (args.command) {
    case 'sessions': {
      const sessions = await client.sessions(args.user === undefined ? undefined : { user: args.user });
      print(sessions, () => sessionsTable(sessions));
      return 0;
    }
    case 'disconnect': {
      const { target } = args;
      const disconnected = await client.disconnect(target);
      const what = 'id' in target ? `session ${target.id}` : `user ${target.user}`;
      print({ disconnected }, () => [disconnected === 0 ? `no live session of ${what}` : `disconnected ${disconnected} session(s) of ${what}`]);
      return disconnected === 0 ? 1 : 0;
    }
    case 'reload': {
      const report = await client.reload();
      print(report, () => reloadLines(report));
      return report.ok ? 0 : 1;
    }
    case 'drain': {
      const report = await client.drain();
      print(report, () => drainLines(report));
      return report.draining ? 0 : 1;
    }
    case 'stats': {
      const stats = await client.stats();
      print(stats, () => statsLines(stats));
      return 0;
    }
    case 'loglevel': {
      const previous = await client.logLevel();
      if (args.level !== undefined) await client.setLogLevel(args.level);
      const level = args.level ?? previous;
      print({ level, previous }, () => [args.level === undefined || level === previous ? `log level: ${level}` : `log level: ${level} (was ${previous})`]);
      return 0;
    }
  }
}

/** An all-digits word is a session id; --user NAME names a user whatever it looks like. */
function disconnectTarget(word: string | undefined, user: string | undefined): { id: number } | { user: string } {
  const usage = new UsageError('disconnect takes a session id or a user name, or --user NAME');
  if (user !== undefined) {
    if (word !== undefined) throw usage;
    return { user };
  }
  if (word === undefined) throw usage;
  return /^\d{1,15}$/.test(word) ? { id: Number(word) } : { user: word };
}

/** The parsed command line, or the help text to print. */
function parseArgs(argv: readonly string[]): Args | string {
  let output = '';
  const parsed = yargs([...argv])
    .scriptName(PREFIX)
    .usage(`${PREFIX} <command> [options]: ask a running Turnpike server`)
    .parserConfiguration({
      'boolean-negation': false,
      'camel-case-expansion': false,
      'dot-notation': false,
      'parse-numbers': false,
      'parse-positional-numbers': false,
    })
    .command('sessions', 'list live sessions (allocations)', (y) =>
      y
        .option('user', { type: 'string', requiresArg: true, describe: "only this user's sessions" })
        .option('fleet', { type: 'boolean', describe: "every node's allocations, from the status keys of redis-statsdb" })
        .option('redis-statsdb', { type: 'string', requiresArg: true, describe: 'with --fleet: its connection string (default: from the configuration)' }),
    )
    .command('disconnect [target]', 'end a session by id, or every session of a user', (y) =>
      y
        .positional('target', { type: 'string', describe: 'a session id (all digits) or a user name' })
        .option('user', { type: 'string', requiresArg: true, describe: 'a user name, even one of all digits' }),
    )
    .command('reload', 'read the configuration file again and apply what can change while running')
    .command('drain', 'refuse new allocations, serve the current ones, exit when the last ends')
    .command('stats', 'counters and live figures')
    .command('loglevel [level]', 'show the log level, or set it', (y) =>
      y.positional('level', { type: 'string', choices: LOG_LEVELS }),
    )
    .option('json', { type: 'boolean', describe: 'print JSON, for scripts' })
    .option('socket', { type: 'string', requiresArg: true, describe: "the server's admin-socket" })
    .option('url', { type: 'string', requiresArg: true, describe: "the server's HTTP admin interface, http://127.0.0.1:PORT" })
    .option('token', { type: 'string', requiresArg: true, describe: `its admin token (default: $${TOKEN_ENV}, else from the configuration)` })
    .option('c', { type: 'string', requiresArg: true, describe: 'the turnserver.conf to find the admin interface in (default: the search path)' })
    .epilog('Without --socket or --url, the admin-socket or admin-port of the server\'s turnserver.conf is used.')
    .demandCommand(1, 'give a command')
    .strict()
    .help()
    .alias('help', 'h')
    .version(false)
    .exitProcess(false)
    .wrap(null)
    .fail((message: string | undefined, error: Error | undefined) => {
      throw new UsageError(message ?? error?.message ?? 'bad command line');
    })
    .parseSync([...argv], {}, (_error: unknown, _argv: unknown, text: string) => {
      output = text;
    }) as Record<string, unknown>;
  if (parsed.help === true) return output;
  const text = (name: string): string | undefined => (typeof parsed[name] === 'string' ? (parsed[name] as string) : undefined);
  const common: Common = { json: parsed.json === true, socket: text('socket'), url: text('url'), token: text('token'), config: text('c') };
  const command = String((parsed._ as unknown[])[0]);
  switch (command) {
    case 'sessions':
      return { ...common, command, user: text('user'), fleet: parsed.fleet === true, redisStatsdb: text('redis-statsdb') };
    case 'disconnect':
      return { ...common, command, target: disconnectTarget(text('target'), text('user')) };
    case 'loglevel':
      return { ...common, command, level: text('level') as LogLevel | undefined };
    case 'reload':
    case 'drain':
    case 'stats':
      return { ...common, command };
    default:
      throw new UsageError(`unknown command ${command}`);
  }
}
