/**
 * What turnadmin accepts as a user name, realm and password. The rules are coturn's where a
 * name that breaks them would not work in coturn's turnserver (it builds its SQL from strings
 * and refuses names with spaces, quotes or backslashes), plus SASLprep (RFC 4013) done
 * properly: coturn's own SASLprep works byte by byte and so refuses most non-ASCII names.
 */
import { SaslprepError, saslprep } from '../stun/saslprep.js';
import { AdminError } from './errors.js';

// C0 controls, DEL and C1 controls.
const CONTROL = /[\u0000-\u001F\u007F-\u009F]/u;
// coturn's is_secure_string(): these characters make it refuse a user name outright.
const COTURN_UNSAFE = /[ \t'"\\]/;

/** JSON-quoted, with invisible and control characters as \\uXXXX so that they show. */
export function quoted(text: string): string {
  return JSON.stringify(text).replace(
    /[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Zl}\p{Zp}\u00A0]/gu,
    (ch) => `\\u${(ch.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`,
  );
}

function codePoint(text: string, re: RegExp): string {
  const ch = re.exec(text)?.[0] ?? '';
  return `U+${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Refuses a user name (turnusers_lt.name or admin_user.name) that either server would refuse. */
export function checkUserName(name: string): void {
  if (name === '') throw new AdminError('the user name is empty');
  const shown = quoted(name);
  if (CONTROL.test(name)) {
    throw new AdminError(`the user name ${shown} has a control character (${codePoint(name, CONTROL)})`);
  }
  let prepared: string;
  try {
    prepared = saslprep(name);
  } catch (error) {
    if (!(error instanceof SaslprepError)) throw error;
    throw new AdminError(`the user name ${shown} has a character that SASLprep (RFC 4013) prohibits`);
  }
  if (prepared !== name) {
    throw new AdminError(
      `the user name ${shown} changes under SASLprep (it becomes ${quoted(prepared)}); use that form`,
    );
  }
  if (COTURN_UNSAFE.test(name)) {
    throw new AdminError(
      `the user name ${shown} has a space, tab, quote or backslash, which coturn refuses in user names`,
    );
  }
  const lower = name.toLowerCase();
  if (lower.includes('union') && lower.includes('select')) {
    throw new AdminError(`the user name ${shown} contains both "union" and "select", which coturn refuses`);
  }
}

/**
 * coturn's turnadmin runs SASLprep over the UTF-8 bytes and refuses any byte 0x80-0x9F, so it
 * cannot manage many non-ASCII names (Ü is C3 9C). Turnpike can; say so, as a warning.
 */
export function coturnRefusesName(name: string): boolean {
  return [...Buffer.from(name, 'utf8')].some((b) => b >= 0x80 && b <= 0x9f);
}

export function checkRealm(realm: string): void {
  if (CONTROL.test(realm)) {
    throw new AdminError(`the realm ${quoted(realm)} has a control character (${codePoint(realm, CONTROL)})`);
  }
  if (realm.includes("'")) {
    // coturn's turnserver puts the realm into its SQL text; a quote breaks every lookup.
    throw new AdminError(`the realm ${quoted(realm)} has a quote ('), which coturn cannot look up`);
  }
}

/** The password must survive SASLprep, which the long-term key is computed over. */
export function checkPassword(password: string): void {
  if (password === '') throw new AdminError('the password is empty');
  try {
    saslprep(password);
  } catch (error) {
    if (!(error instanceof SaslprepError)) throw error;
    throw new AdminError('the password has a character that SASLprep (RFC 4013) prohibits (a control character?)');
  }
}
