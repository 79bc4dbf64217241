/**
 * What `turnpike serve` does around the server's life as a system service: give up root once
 * the sockets are bound, then tell systemd it is ready; tell it again when stopping.
 */
import type { ServerOptions } from '../config/server-options.js';
import type { Logger } from '../log/logger-interface.js';
import { dropPrivileges, PrivilegeDropError } from './privileges.js';
import { SystemdNotifier } from './systemd-notify.js';

export { dropPrivileges, PrivilegeDropError, type Identity, type PrivilegeTarget } from './privileges.js';
export { SystemdNotifier } from './systemd-notify.js';

let notifier: SystemdNotifier | undefined;
const notifierFor = (logger: Logger): SystemdNotifier => (notifier ??= new SystemdNotifier(logger));

export { ConfigReloader } from './reload.js';
export { Drain } from './drain.js';
export { ProcessSignals } from './signals.js';
export { isDaemonChild, reportDaemonReady, startDaemon } from './daemon.js';

/** The kernel ties a port's SO_REUSEPORT group to the uid that bound it (docs/relay-workers.md). */
const UNPINNED_AFTER_SWITCH = 'relay-threads with proc-user: UDP clients are not pinned to the worker holding their allocation ' +
  '(per-session sockets cannot join the listening ports\' groups, bound by another user); a worker that stops moves other workers\' clients (437)';

/**
 * Call once every listener is bound: switches to proc-user/proc-group. False, with the reason
 * logged, when the switch fails: the caller must then stop at once, since serving on as root
 * after the operator asked otherwise is worse than a pidfile left behind.
 */
export function dropPrivilegesOrRefuse(options: ServerOptions, logger: Logger): boolean {
  const uidBefore = process.geteuid!();
  try {
    const identity = dropPrivileges({ user: options.procUser, group: options.procGroup });
    if (identity) logger.info(`running as uid ${identity.uid}, gid ${identity.gid}, groups ${identity.groups.join(',')}`);
    if (identity && identity.uid !== uidBefore && (options.relayThreads ?? 1) > 1) logger.warn(UNPINNED_AFTER_SWITCH);
    return true;
  } catch (error) {
    if (!(error instanceof PrivilegeDropError)) throw error;
    logger.error(`cannot drop privileges: ${error.message}; refusing to run on`);
    return false;
  }
}

/** Call when the server serves (listeners, privileges, admin interface): READY=1 to systemd. */
export async function notifyReady(options: ServerOptions, logger: Logger): Promise<void> {
  await notifierFor(logger).ready(`serving STUN/TURN on port ${options.listeningPort}`);
}

/** Call when shutdown begins, before the listeners close. */
export async function beforeStopping(logger: Logger): Promise<void> {
  await notifierFor(logger).stopping();
}
