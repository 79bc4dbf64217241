/**
 * coturn's rules between the credential options (users turn lt-cred-mech on, no-auth with
 * credentials, …), with Turnpike failing closed where coturn exits.
 */
import { longTermKey } from '../stun/integrity.js';
import { SaslprepError, saslprep } from '../stun/saslprep.js';
import { ConfigError, located, type Origin } from './errors.js';
import type { ServerOptions, StaticUser } from './server-options.js';
import { parseMysqlConnection, type MysqlConnection } from './mysql-connection.js';
import { parsePgConnection, type PgConnection } from './pg-connection.js';
import { parseRedisConnection, type RedisConnection } from './redis-connection.js';
import type { Settings } from './settings.js';
import type { UserSpec } from './values.js';

export type Auth = Pick<
  ServerOptions,
  'realm' | 'ltCredMech' | 'noAuth' | 'users' | 'userDb' | 'redisUserDb' | 'psqlUserDb' | 'mysqlUserDb' | 'useAuthSecret' | 'staticAuthSecrets' | 'restApiSeparator'
>;

/** The realm when long-term credentials are on, no realm is set and the host has no name. */
const FALLBACK_REALM = 'turnpike';

/**
 * coturn's rules, from mainrelay.c's main(), with Turnpike failing closed where coturn exits.
 * `hostname` names the default realm: the caller reads it once, so a reload keeps the realm.
 */
export function resolveAuth(s: Settings, hostname: string, warnings: string[], errors: ConfigError[]): Auth {
  const where = (name: string): Origin => s.last(name)?.origin ?? {};
  const restApi = s.flag('use-auth-secret') || s.has('static-auth-secret');
  const userDb = USER_DATABASES.find((name) => s.has(name));
  // coturn: use-auth-secret and static-auth-secret switch long-term credentials on.
  let ltCredMech = s.flag('lt-cred-mech') || restApi;
  let noAuth = s.flag('no-auth');
  let userSettings = s.all('user');
  const { sqliteUserDb, redisUserDb, psqlUserDb, mysqlUserDb } = userDatabase(s, warnings, errors);

  if (ltCredMech && noAuth) {
    warnings.push(
      located(
        where('no-auth'),
        'no-auth with lt-cred-mech or use-auth-secret: coturn refuses to start; Turnpike requires credentials and ignores no-auth',
      ),
    );
    noAuth = false;
  }
  if (restApi && userSettings.length > 0) {
    warnings.push(
      located(
        userSettings[0]?.origin ?? {},
        'user accounts with use-auth-secret: coturn ignores the accounts; Turnpike accepts both (REST-form names are checked against the secrets)',
      ),
    );
  }
  if (userSettings.length > 0 && noAuth) {
    warnings.push(
      located(
        where('no-auth'),
        'no-auth with user accounts: the accounts are ignored and access is anonymous, as in coturn',
      ),
    );
    userSettings = [];
  } else if (userSettings.length > 0 && !ltCredMech) {
    warnings.push(
      located(
        userSettings[0]?.origin ?? {},
        'user accounts without lt-cred-mech: turning lt-cred-mech on, as coturn does',
      ),
    );
    ltCredMech = true;
  }
  if (userDb !== undefined && !ltCredMech && !noAuth) {
    // coturn's reference config promises this; coturn 4.6.1 itself runs without authentication.
    warnings.push(
      located(
        where(userDb),
        `${userDb} without lt-cred-mech: turning lt-cred-mech on (coturn 4.6.1 would allow anonymous access)`,
      ),
    );
    ltCredMech = true;
  }
  const configuredRealm = s.string('realm') ?? '';
  const realm = ltCredMech && configuredRealm === '' ? defaultRealm(hostname) : configuredRealm;

  const byName = new Map<string, StaticUser>();
  for (const { value, origin } of userSettings) {
    const spec = value as UserSpec;
    // coturn SASLpreps the name and refuses it if that fails; the password is SASLprepped for the key.
    const bad = prohibited(spec.name)
      ? 'name'
      : 'password' in spec && prohibited(spec.password)
        ? 'password'
        : undefined;
    if (bad !== undefined) {
      errors.push(
        new ConfigError(origin, 'user', `the ${bad} of user "${spec.name}" has a character SASLprep prohibits`),
      );
      continue;
    }
    if (byName.has(spec.name))
      warnings.push(located(origin, `user '${spec.name}' is given again; this later one counts`));
    byName.set(
      spec.name,
      'key' in spec
        ? { name: spec.name, key: spec.key }
        : { name: spec.name, key: longTermKey(spec.name, realm, spec.password), sha256Key: longTermKey(spec.name, realm, spec.password, 'sha256') },
    );
  }
  if (realm !== configuredRealm) {
    const keyed = new Set(userSettings.map((x) => x.value as UserSpec).filter((spec) => 'key' in spec).map((spec) => spec.name));
    const why = hostname !== '' ? "the host's name" : 'the host has no name';
    warnAboutDefaultRealm(`"${realm}" (${why})`, [...keyed], userDb === undefined ? undefined : { name: userDb, origin: where(userDb) }, warnings);
  }
  return {
    realm,
    ltCredMech,
    noAuth,
    users: [...byName.values()],
    userDb: sqliteUserDb,
    redisUserDb,
    psqlUserDb,
    mysqlUserDb,
    useAuthSecret: restApi,
    staticAuthSecrets: s.all('static-auth-secret').map((x) => x.value as string),
    restApiSeparator: s.string('rest-api-separator') ?? ':',
  };
}

/** The host's name, which is what a client's operator most likely reads as "the realm". */
function defaultRealm(hostname: string): string {
  return hostname !== '' ? hostname : FALLBACK_REALM;
}

/**
 * Says which realm (quoted, with where it comes from) is served, and what that leaves out:
 * keys (`0x…`, MD5(name:realm:password)) and database rows are made for one realm.
 */
function warnAboutDefaultRealm(realm: string, keyedUsers: readonly string[], userDb: { name: string; origin: Origin } | undefined, warnings: string[]): void {
  warnings.push(`no realm is set: long-term credentials are served in realm ${realm}; set realm to choose it`);
  if (keyedUsers.length > 0) {
    warnings.push(
      `user ${keyedUsers.join(', ')} given as a key (0x…): a key is made for one realm and works only if that is ${realm}; ` +
        'set realm to the one the key was made for (turnadmin -k -r REALM)',
    );
  }
  if (userDb !== undefined) {
    warnings.push(
      located(
        userDb.origin,
        `${userDb.name} is read for realm ${realm}: users, secrets and realm options stored for another realm (turnadmin -r) are not found; set realm to theirs`,
      ),
    );
  }
}

/** The user-database options; coturn keeps one of them. */
const USER_DATABASES = ['userdb', 'psql-userdb', 'mysql-userdb', 'redis-userdb'] as const;
type UserDatabases = Pick<Auth, 'redisUserDb' | 'psqlUserDb' | 'mysqlUserDb'> & { sqliteUserDb: string | undefined };
const NO_USER_DATABASE: UserDatabases = { sqliteUserDb: undefined, redisUserDb: undefined, psqlUserDb: undefined, mysqlUserDb: undefined };

/**
 * `userdb`, `psql-userdb`, `mysql-userdb` or `redis-userdb`. coturn keeps one user database:
 * -b, -e, -M and -N write the same setting, so the one given last wins (the command line after
 * the file); Turnpike does the same and warns.
 */
function userDatabase(s: Settings, warnings: string[], errors: ConfigError[]): UserDatabases {
  const given = USER_DATABASES.map((name) => ({ name, setting: s.last(name) })).filter(
    (g): g is { name: (typeof g)['name']; setting: NonNullable<(typeof g)['setting']> } => g.setting !== undefined,
  );
  const kept = given.reduce<(typeof given)[number] | undefined>((a, b) => (a === undefined || later(b.setting.origin, a.setting.origin) ? b : a), undefined);
  if (kept === undefined) return NO_USER_DATABASE;
  const dropped = given.filter((g) => g !== kept).map((g) => g.name);
  if (dropped.length > 0) {
    warnings.push(located(kept.setting.origin, `both ${[kept.name, ...dropped].join(' and ')} are set: ${kept.name}, given last, is used and ${dropped.join(' and ')} is ignored, as in coturn`));
  }
  const text = kept.setting.value as string;
  if (kept.name === 'userdb') return { ...NO_USER_DATABASE, sqliteUserDb: text };
  const parsed =
    kept.name === 'redis-userdb' ? parseRedisConnection(text) : kept.name === 'mysql-userdb' ? { warnings: [], ...parseMysqlConnection(text) } : parsePgConnection(text);
  for (const w of parsed.warnings) warnings.push(located(kept.setting.origin, w));
  if (parsed.error !== undefined) errors.push(new ConfigError(kept.setting.origin, kept.name, parsed.error));
  if (kept.name === 'redis-userdb') return { ...NO_USER_DATABASE, redisUserDb: parsed.connection as RedisConnection | undefined };
  if (kept.name === 'mysql-userdb') return { ...NO_USER_DATABASE, mysqlUserDb: parsed.connection as MysqlConnection | undefined };
  return { ...NO_USER_DATABASE, psqlUserDb: parsed.connection as PgConnection | undefined };
}

/** Whether `a` was read after `b`: the file is read first, then the command line (in order). */
function later(a: Origin, b: Origin): boolean {
  if (a.file === undefined || b.file === undefined) return a.file === undefined;
  return (a.line ?? 0) > (b.line ?? 0);
}

function prohibited(text: string): boolean {
  try {
    saslprep(text);
    return false;
  } catch (err) {
    if (err instanceof SaslprepError) return true;
    throw err;
  }
}

