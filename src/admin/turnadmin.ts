/**
 * turnadmin: coturn's user-database commands on coturn's schema, in SQLite (-b) or PostgreSQL (-e). Output on stdout is
 * exactly the data lines coturn prints; everything else (errors, notes, warnings) goes to
 * stderr. Exit status 0 done, 1 bad input or database trouble, 2 a bad command line.
 */
import { longTermKey } from '../stun/integrity.js';
import type { Access } from './database.js';
import { encryptPassword } from './encrypted-password.js';
import { AdminError, UsageError } from './errors.js';
import * as listing from './listing.js';
import { canonicalOrigin } from './origin.js';
import { REALM_OPTIONS, parseRequest, type AdminRequest, type Command, type RealmOption } from './request.js';
import { openStore, type DatabaseChoice } from './open-store.js';
import type { UserStore } from './store.js';
import { HELP, USAGE_LINE } from './usage.js';
import { checkPassword, checkRealm, checkUserName, coturnRefusesName, quoted } from './validate.js';

/** Where turnadmin writes: one call per line, without the newline. */
export interface AdminIo {
  out(line: string): void;
  err(line: string): void;
}

/**
 * `database`: the database to work on whatever argv says (the web admin gives the server's own,
 * which may be a parsed connection rather than a flag's text).
 */
export async function runTurnadmin(argv: readonly string[], io: AdminIo, prefix = 'turnadmin', database?: DatabaseChoice): Promise<number> {
  try {
    const request = parseRequest(argv);
    if (request.help) {
      io.out(HELP.trimEnd());
      return 0;
    }
    await execute(request, io, prefix, database ?? request);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`${prefix}: ${error.message}`);
      io.err(USAGE_LINE);
      return 2;
    }
    io.err(`${prefix}: ${error instanceof AdminError ? '' : 'unexpected error: '}${messageOf(error)}`);
    return 1;
  }
}

const READS = new Set<Command>(['list', 'list-admin', 'show-secret', 'list-origins', 'list-realm-options']);

async function execute(req: AdminRequest, io: AdminIo, prefix: string, database: DatabaseChoice): Promise<void> {
  const note = (text: string) => io.err(`${prefix}: ${text}`);
  if (req.command === 'key') {
    const user = newUserName(req, note);
    if (req.realm === undefined) note('warning: no realm (-r); this is the key for the empty realm');
    const realm = req.realm ?? '';
    checkRealm(realm);
    const password = need(req, req.password, 'password', '-p PASSWORD');
    checkPassword(password);
    io.out(listing.keyLine(longTermKey(user, realm, password)));
    return;
  }
  if (req.command === 'generate-encrypted-password') {
    io.out(encryptPassword(need(req, req.password, 'password', '-p PASSWORD')));
    return;
  }
  // Check the input before the database is opened (or created).
  const work = planDatabaseWork(req, note);
  const access: Access = READS.has(req.command) ? 'read' : 'write';
  const store = await openStore(database, access);
  try {
    for (const line of await work(store)) io.out(line);
  } catch (error) {
    throw error instanceof AdminError ? error : store.errorOf(error);
  } finally {
    await store.close();
  }
}

type DatabaseWork = (store: UserStore) => Promise<string[]>;

/** A database command, its input checked: what it does to the store, and its stdout lines. */
function planDatabaseWork(req: AdminRequest, note: (text: string) => void): DatabaseWork {
  const realm = () => {
    const value = need(req, req.realm, 'realm', '-r REALM');
    checkRealm(value);
    return value;
  };
  const existingUser = () => need(req, req.user, 'user', '-u USER');
  const origin = () => canonicalOrigin(need(req, req.origin, 'origin', '-o ORIGIN'));
  const secret = () => need(req, req.secret, 'secret', `${req.commandFlag} SECRET`);
  const missing = (what: string) => note(`note: ${what}; nothing deleted`);
  const done = (write: (store: UserStore) => Promise<void>): DatabaseWork => async (store) => {
    await write(store);
    return [];
  };

  switch (req.command) {
    case 'add': {
      const [user, r, password] = [newUserName(req, note), realm(), need(req, req.password, 'password', '-p PASSWORD')];
      checkPassword(password);
      const hmackey = longTermKey(user, r, password).toString('hex');
      return done((store) => store.setUserKey(user, r, hmackey));
    }
    case 'delete': {
      const [user, r] = [existingUser(), realm()];
      return done(async (store) => {
        if (!(await store.deleteUser(user, r))) missing(`there is no user ${quoted(user)} in realm ${quoted(r)}`);
      });
    }
    case 'add-admin': {
      const [user, r] = [newUserName(req, note), req.realm ?? ''];
      checkRealm(r);
      const encrypted = encryptPassword(need(req, req.password, 'password', '-p PASSWORD'));
      return done((store) => store.setAdminUser(user, r, encrypted));
    }
    case 'delete-admin': {
      const user = existingUser();
      return done(async (store) => {
        if (!(await store.deleteAdminUser(user))) missing(`there is no admin user ${quoted(user)}`);
      });
    }
    case 'list':
      return async (store) => listing.userLines(await store.users(req.realm));
    case 'list-admin':
      return async (store) => listing.adminUserLines(await store.adminUsers());
    case 'set-secret': {
      const [value, r] = [secret(), realm()];
      return done((store) => store.addSecret(value, r));
    }
    case 'show-secret':
      return async (store) => listing.secretLines(await store.secrets(req.realm));
    case 'delete-secret': {
      const [value, r] = [secret(), realm()];
      return done(async (store) => {
        if (!(await store.deleteSecret(value, r))) missing(`realm ${quoted(r)} has no such secret`);
      });
    }
    case 'delete-all-secrets': {
      const r = realm();
      return done(async (store) => {
        if ((await store.deleteAllSecrets(r)) === 0) missing(`realm ${quoted(r)} has no secrets`);
      });
    }
    case 'add-origin': {
      const [o, r] = [origin(), realm()];
      return done((store) => store.addOrigin(o, r));
    }
    case 'del-origin': {
      const o = origin();
      return done(async (store) => {
        if (!(await store.deleteOrigin(o))) missing(`there is no origin ${quoted(o)}`);
      });
    }
    case 'list-origins':
      return async (store) => listing.originLines(await store.origins(req.realm));
    case 'set-realm-option': {
      const [r, values] = [realm(), realmOptionValues(req)];
      // Zero removes the option, as coturn's help says (coturn 4.6.1 itself ignores a zero).
      return done((store) =>
        store.transaction(async () => {
          for (const [opt, value] of values) {
            if (value === '0') await store.deleteRealmOption(r, opt);
            else await store.setRealmOption(r, opt, value);
          }
        }),
      );
    }
    case 'list-realm-options':
      return async (store) => listing.realmOptionLines(await store.realmOptions(req.realm), store.kind);
    case 'key':
    case 'generate-encrypted-password':
      throw new Error(`${req.command} needs no database`);
  }
}

/** A name for a user that is being created: coturn's and SASLprep's rules apply. */
function newUserName(req: AdminRequest, note: (text: string) => void): string {
  const user = need(req, req.user, 'user', '-u USER');
  checkUserName(user);
  if (coturnRefusesName(user)) {
    note(`warning: coturn's own turnadmin refuses the name ${quoted(user)} (its SASLprep works on bytes)`);
  }
  return user;
}

// coturn's quotas are C ints, and so is turnadmin's reading of --max-bps.
const MAX_OPTION_VALUE = 2147483647;

function realmOptionValues(req: AdminRequest): [RealmOption, string][] {
  const values: [RealmOption, string][] = [];
  for (const opt of REALM_OPTIONS) {
    const raw = req.realmOptions.get(opt);
    if (raw === undefined) continue;
    if (!/^\d+$/.test(raw) || Number(raw) > MAX_OPTION_VALUE) {
      throw new AdminError(`--${opt}: "${raw}" is not a whole number from 0 to ${MAX_OPTION_VALUE}`);
    }
    values.push([opt, String(Number(raw))]);
  }
  if (values.length === 0) {
    throw new AdminError(`${req.commandFlag}: a realm option must be set (--max-bps, --total-quota or --user-quota)`);
  }
  return values;
}

function need(req: AdminRequest, value: string | undefined, what: string, hint: string): string {
  if (value === undefined) throw new AdminError(`${req.commandFlag}: the ${what} must be set (${hint})`);
  if (value === '') throw new AdminError(`${req.commandFlag}: the ${what} is empty`);
  return value;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
