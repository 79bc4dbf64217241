/**
 * The web admin's login: the admin token (admin-token / admin-token-file, checked as the
 * HTTP admin interface checks it), or a coturn admin user (`turnadmin -A`, the admin_user
 * table of the user database) with its password and its realm restriction.
 */
import { verifyEncryptedPassword } from '../admin/encrypted-password.js';
import { openStore, type DatabaseChoice } from '../admin/open-store.js';
import { tokenMatches } from '../control/bearer-token.js';
import type { Principal } from './login-sessions.js';

export interface LoginSources {
  readonly token: string | undefined;
  /** The user database (SQLite, PostgreSQL, MySQL or Redis); undefined: no admin users. */
  readonly userDb: DatabaseChoice | undefined;
}

export type LoginForm = { readonly token: string } | { readonly user: string; readonly password: string };

/** The form's fields, or undefined when it is neither a token nor a user and password. */
export function loginForm(body: unknown): LoginForm | undefined {
  const { token, user, password } = (body ?? {}) as Record<string, unknown>;
  if (typeof token === 'string' && user === undefined) return { token };
  if (typeof user === 'string' && typeof password === 'string' && token === undefined) return { user, password };
  return undefined;
}

/** Who the form logs in, or undefined when the token or password is wrong. */
export async function logIn(form: LoginForm, sources: LoginSources): Promise<Principal | undefined> {
  if ('token' in form) {
    return sources.token !== undefined && tokenMatches(form.token, sources.token) ? { name: 'admin token', realm: '' } : undefined;
  }
  if (sources.userDb === undefined || form.user === '') return undefined;
  const store = await openStore(sources.userDb, 'read');
  try {
    const row = await store.adminUser(form.user);
    return row && verifyEncryptedPassword(form.password, row.password) ? { name: form.user, realm: row.realm ?? '' } : undefined;
  } finally {
    await store.close();
  }
}
