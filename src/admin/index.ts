/**
 * `turnpike admin …` and the `turnadmin` bin: coturn's turnadmin commands, plus Turnpike's
 * `credentials` subcommand (TURN REST API credentials) when the first word is `credentials`.
 */
import { runCredentials } from './credentials.js';
import { runTurnadmin, type AdminIo } from './turnadmin.js';

export type { AdminIo } from './turnadmin.js';
export { runCredentials } from './credentials.js';
export { runTurnadmin } from './turnadmin.js';
export { encryptPassword, verifyEncryptedPassword } from './encrypted-password.js';

/** Returns the exit status: 0 done, 1 bad input or database trouble, 2 bad command line. */
export function runAdmin(argv: readonly string[], io: AdminIo): Promise<number> {
  if (argv[0] === 'credentials') return runCredentials(argv.slice(1), io);
  return runTurnadmin(argv, io);
}
