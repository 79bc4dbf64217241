/**
 * Users, REST secrets, origins and realm options of the user database (SQLite, PostgreSQL,
 * MySQL or Redis), from the web admin:
 * every change runs turnadmin's own command (runTurnadmin, the same checks and messages as
 * `turnadmin` on the command line), and listings read through turnadmin's AdminStore.
 * An admin user with a realm sees and changes that realm only.
 */
import { createHash } from 'node:crypto';
import { openStore, type DatabaseChoice } from '../admin/open-store.js';
import { REALM_OPTIONS } from '../admin/request.js';
import type { UserStore } from '../admin/store.js';
import { runTurnadmin } from '../admin/turnadmin.js';
import type { Principal } from './login-sessions.js';

/** A change the page asked for that turnadmin refused, or that is not this admin's to make. */
export class UserDbRefusal extends Error {}

export interface UserDbListing {
  readonly users: readonly { name: string; realm: string }[];
  /** Secrets masked; `id` names one for deletion without showing it. */
  readonly secrets: readonly { id: string; masked: string; realm: string }[];
  readonly origins: readonly { origin: string; realm: string }[];
  readonly realmOptions: readonly { realm: string; opt: string; value: string }[];
}

const secretId = (realm: string, value: string): string => createHash('sha256').update(`${realm}\u0000${value}`).digest('hex').slice(0, 16);
const mask = (value: string): string => `${value.slice(0, 2)}${'•'.repeat(8)}`;

export class UserDatabaseAdmin {
  constructor(private readonly database: DatabaseChoice) {}

  listing(principal: Principal): Promise<UserDbListing> {
    const realm = principal.realm === '' ? undefined : principal.realm;
    return this.read(async (store) => ({
      users: await store.users(realm),
      secrets: (await store.secrets(realm)).map((s) => ({ id: secretId(s.realm, s.value), masked: mask(s.value), realm: s.realm })),
      origins: await store.origins(realm),
      realmOptions: await store.realmOptions(realm),
    }));
  }

  /** One change, `action` as the page names it and `fields` as it sent them. */
  async change(principal: Principal, action: string, fields: Record<string, unknown>): Promise<void> {
    const text = (name: string): string => {
      const value = fields[name];
      if (typeof value !== 'string') throw new UserDbRefusal(`${name} is missing`);
      return value;
    };
    const realm = (): string => {
      const value = text('realm');
      if (principal.realm !== '' && value !== principal.realm) throw new UserDbRefusal(`you may change realm "${principal.realm}" only`);
      return value;
    };
    switch (action) {
      case 'add-user':
        return this.turnadmin(['--add', `--user=${text('user')}`, `--realm=${realm()}`, `--password=${text('password')}`]);
      case 'delete-user':
        return this.turnadmin(['--delete', `--user=${text('user')}`, `--realm=${realm()}`]);
      case 'add-secret':
        return this.turnadmin([`--set-secret=${text('secret')}`, `--realm=${realm()}`]);
      case 'delete-secret': {
        const r = realm();
        const id = text('id');
        const value = await this.read(async (store) => (await store.secrets(r)).find((s) => secretId(r, s.value) === id)?.value);
        if (value === undefined) throw new UserDbRefusal(`realm "${r}" has no such secret`);
        return this.turnadmin([`--delete-secret=${value}`, `--realm=${r}`]);
      }
      case 'add-origin':
        return this.turnadmin(['--add-origin', `--origin=${text('origin')}`, `--realm=${realm()}`]);
      case 'delete-origin': {
        const origin = text('origin');
        if (principal.realm !== '') {
          const owner = await this.read(async (store) => (await store.origins(principal.realm)).some((o) => o.origin === origin));
          if (!owner) throw new UserDbRefusal(`realm "${principal.realm}" has no origin ${origin}`);
        }
        return this.turnadmin(['--del-origin', `--origin=${origin}`]);
      }
      case 'set-realm-options': {
        const given = REALM_OPTIONS.filter((opt) => typeof fields[opt] === 'string' && fields[opt] !== '');
        return this.turnadmin(['--set-realm-option', `--realm=${realm()}`, ...given.map((opt) => `--${opt}=${text(opt)}`)]);
      }
      default:
        throw new UserDbRefusal(`no such change: ${action}`);
    }
  }

  private async turnadmin(args: string[]): Promise<void> {
    const errors: string[] = [];
    const status = await runTurnadmin(args, { out: () => {}, err: (line) => errors.push(line) }, 'turnadmin', this.database);
    if (status !== 0) throw new UserDbRefusal(errors.filter((line) => !line.startsWith('Usage')).join('\n'));
  }

  private async read<T>(fn: (store: UserStore) => Promise<T>): Promise<T> {
    const store = await openStore(this.database, 'read');
    try {
      return await fn(store);
    } finally {
      await store.close();
    }
  }
}
