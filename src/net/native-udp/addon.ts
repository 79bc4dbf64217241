/**
 * Loads native/udp-io.c's addon (built at `npm ci` by native/build.mjs), once per thread: each
 * relay worker thread gets its own instance on its own event loop. Where it is not there, or
 * TURNPIKE_UDP_IO=dgram forces it off, the relay uses `dgram` as before and says why.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NativeUdpIo, type UdpIoAddon } from './io.js';

const BUILD = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../native/build');

export type NativeUdpState = { readonly io: NativeUdpIo } | { readonly unavailable: string };

let state: NativeUdpState | undefined;

/** The native I/O of this thread, or why there is none. */
export function nativeUdp(): NativeUdpState {
  return (state ??= load());
}

/** The native I/O of this thread, when there is one. */
export const nativeUdpIo = (): NativeUdpIo | undefined => {
  const current = nativeUdp();
  return 'io' in current ? current.io : undefined;
};

function load(): NativeUdpState {
  if (process.env.TURNPIKE_UDP_IO === 'dgram') return { unavailable: 'TURNPIKE_UDP_IO=dgram' };
  const file = path.join(BUILD, 'udp-io.node');
  if (!fs.existsSync(file)) return { unavailable: notBuiltReason() };
  try {
    const addon = createRequire(import.meta.url)(file) as UdpIoAddon;
    return { io: new NativeUdpIo(addon) };
  } catch (error) {
    return { unavailable: `cannot load ${file}: ${error instanceof Error ? error.message : String(error)}` };
  }
}

function notBuiltReason(): string {
  try {
    return fs.readFileSync(path.join(BUILD, 'unavailable.txt'), 'utf8').trim();
  } catch {
    return 'not built (run `node native/build.mjs`)';
  }
}
