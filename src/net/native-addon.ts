/**
 * Loads an addon native/build.mjs built at `npm ci` (native/build/NAME.node). Where it is not
 * there, or does not load, the caller gets why (the build's own reason when it could not build),
 * says so once, and uses its JS path.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BUILD = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../native/build');

export interface Unavailable {
  readonly unavailable: string;
}

/** `use(exports)` of native/build/NAME.node, or why there is none (`use` throwing included). */
export function loadAddon<Exports, Loaded extends object>(name: string, use: (exports: Exports) => Loaded, dir = BUILD): Loaded | Unavailable {
  const file = path.join(dir, `${name}.node`);
  if (!fs.existsSync(file)) return { unavailable: notBuiltReason(dir, name) };
  try {
    return use(createRequire(import.meta.url)(file) as Exports);
  } catch (error) {
    return { unavailable: `cannot load ${file}: ${error instanceof Error ? error.message : String(error)}` };
  }
}

function notBuiltReason(dir: string, name: string): string {
  try {
    return fs.readFileSync(path.join(dir, `${name}.unavailable.txt`), 'utf8').trim();
  } catch {
    return 'not built (run `node native/build.mjs`)';
  }
}
