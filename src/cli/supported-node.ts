/**
 * The Node.js Turnpike runs on, checked before anything else is loaded: the rest imports
 * node:sqlite, which an older Node refuses with ERR_UNKNOWN_BUILTIN_MODULE before any code
 * could explain. So this module imports nothing, and the commands load the rest after it.
 */

/** The LTS line the suite and the benchmarks run on (`engines` in package.json says the same). */
export const REQUIRED_NODE_MAJOR = 24;

/** Why this Node cannot run `command`, or undefined when it can. */
export function unsupportedNode(command: string, version: string, execPath: string): string | undefined {
  if (Number(version.split('.')[0]) >= REQUIRED_NODE_MAJOR) return undefined;
  return (
    `${command}: needs Node.js ${REQUIRED_NODE_MAJOR} or later; this is Node.js v${version} (${execPath}).\n` +
    `${command}: \`npm ci\` in Turnpike's folder puts Node.js ${REQUIRED_NODE_MAJOR} in node_modules/.bin: ` +
    `run node_modules/.bin/node dist/cli/${command}.js (npm start and npm test use it)\n`
  );
}

/** Exits 1, saying why, when this Node is too old. */
export function exitUnlessSupportedNode(command: string): void {
  const reason = unsupportedNode(command, process.versions.node, process.execPath);
  if (reason === undefined) return;
  process.stderr.write(reason);
  process.exit(1);
}
