/**
 * `proc-user` / `proc-group`: give up root once every socket is bound, for good.
 *
 * Stricter than coturn, which changes only the ids it is given and keeps root's supplementary
 * groups (and gid 0 when only proc-user is set): here the supplementary groups become the
 * user's own (initgroups), the group defaults to the user's primary group, and a process
 * that could still become root again counts as a failure.
 */
import { execFileSync } from 'node:child_process';

export interface PrivilegeTarget {
  /** A user name or numeric uid (`proc-user`). */
  readonly user?: string | undefined;
  /** A group name or numeric gid (`proc-group`). */
  readonly group?: string | undefined;
}

export interface Identity {
  readonly uid: number;
  readonly gid: number;
  readonly groups: readonly number[];
}

/** The switch did not happen (or not completely): the caller must not go on serving. */
export class PrivilegeDropError extends Error {
  override readonly name = 'PrivilegeDropError';
}

/** initgroups(3); optional in @types/node because Windows lacks it. */
const initgroups = process.initgroups!;

/** Node takes names or numbers; a numeric string must become a number to mean an id. */
const asId = (value: string): string | number => (/^\d+$/.test(value) ? Number(value) : value);

/** The user's primary group, through NSS as login would see it (Node has no getpwnam). */
function primaryGroupOf(user: string): number {
  try {
    return Number(execFileSync('id', ['-g', '--', user], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim());
  } catch {
    throw new PrivilegeDropError(`proc-user ${user}: no such user`);
  }
}

/**
 * Switches to `target` and returns the identity now in force, or undefined when nothing was
 * asked. Supplementary groups first, then the group, then the user: after setuid the others
 * could no longer be changed. Throws PrivilegeDropError when any step fails.
 */
export function dropPrivileges(target: PrivilegeTarget): Identity | undefined {
  const { user, group } = target;
  if (!user && !group) return undefined;
  const wasRoot = process.geteuid!() === 0;
  const gid = group ? asId(group) : primaryGroupOf(user!);
  try {
    // Only root may set supplementary groups; anyone else keeps the ones they have.
    if (wasRoot) {
      if (user) initgroups(asId(user), gid);
      else process.setgroups!([gid]);
    }
    process.setgid!(gid);
    if (user) process.setuid!(asId(user));
  } catch (error) {
    const wanted = [user && `user ${user}`, `group ${group ?? gid}`].filter(Boolean).join(', ');
    throw new PrivilegeDropError(`cannot switch to ${wanted}: ${(error as Error).message}`);
  }
  if (wasRoot && user && process.getuid!() !== 0) assertRootIsGone();
  return { uid: process.getuid!(), gid: process.getgid!(), groups: process.getgroups!() };
}

/** setuid(2) from root sets the real, effective and saved uid: getting root back must fail. */
function assertRootIsGone(): void {
  try {
    process.setuid!(0);
  } catch {
    return;
  }
  throw new PrivilegeDropError('root privileges could be regained after switching user');
}
