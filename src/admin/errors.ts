/**
 * The two ways turnadmin fails: bad input or an unusable database (exit 1), and a command
 * line it cannot make sense of (exit 2, with the usage line). Both carry the whole message
 * the user sees, so nothing above them needs a stack trace.
 */

/** Exit status 1: the request was understood but cannot be carried out. */
export class AdminError extends Error {
  override readonly name = 'AdminError';
}

/** Exit status 2: unknown flag, no command, two commands, a flag without its value. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
