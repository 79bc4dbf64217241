/** `turnpike admin` / `turnadmin`: coturn's user and key management (see docs/turnadmin.md). */
import { runAdmin, type AdminIo } from '../admin/index.js';

const processIo: AdminIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

export async function admin(argv: readonly string[]): Promise<number> {
  return runAdmin(argv, processIo);
}
