/**
 * `turnpike admin`: the commands for a running server (sessions, disconnect, reload, drain,
 * stats, loglevel; see docs/admin.md), else coturn's user and key management, as `turnadmin`
 * (see docs/turnadmin.md).
 */
import { runAdmin, type AdminIo } from '../admin/index.js';
import { standardError, standardOutput } from '../log/standard-streams.js';
import { ADMIN_COMMANDS, isAdminCommand, runAdminCommand } from '../control/index.js';

const processIo: AdminIo = {
  out: (line) => standardOutput.write(`${line}\n`),
  err: (line) => standardError.write(`${line}\n`),
};

/** `turnadmin`: coturn's commands only. */
export async function turnadmin(argv: readonly string[]): Promise<number> {
  return runAdmin(argv, processIo);
}

export async function admin(argv: readonly string[]): Promise<number> {
  if (isAdminCommand(argv[0])) return runAdminCommand(argv, processIo);
  const status = await runAdmin(argv, processIo);
  if (argv.length === 1 && (argv[0] === '-h' || argv[0] === '--help')) {
    processIo.out(`\nFor a running server: turnpike admin ${ADMIN_COMMANDS.join('|')} (turnpike admin sessions --help)`);
  }
  return status;
}
