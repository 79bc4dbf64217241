/** `turnpike admin` / `turnadmin`: coturn's user and key management (not implemented yet). */
export async function admin(_argv: readonly string[]): Promise<number> {
  process.stderr.write('turnadmin: not yet implemented in this version of Turnpike\n');
  return 1;
}
