/**
 * Loads native/udp-io.c's addon (built at `npm ci` by native/build.mjs), once per thread: each
 * relay worker thread gets its own instance on its own event loop. Where it is not there, or
 * TURNPIKE_UDP_IO=dgram forces it off, the relay uses `dgram` as before and says why.
 */
import { loadAddon, type Unavailable } from '../native-addon.js';
import { NativeUdpIo, type UdpIoAddon } from './io.js';

export type NativeUdpState = { readonly io: NativeUdpIo } | Unavailable;

let state: NativeUdpState | undefined;

/** The native I/O of this thread, or why there is none. */
export function nativeUdp(): NativeUdpState {
  return (state ??= load());
}

/** The native I/O of this thread if it is already loaded: reading a counter loads nothing. */
export const loadedNativeUdpIo = (): NativeUdpIo | undefined => (state && 'io' in state ? state.io : undefined);

/** The native I/O of this thread, when there is one. */
export const nativeUdpIo = (): NativeUdpIo | undefined => {
  const current = nativeUdp();
  return 'io' in current ? current.io : undefined;
};

/** TURNPIKE_UDP_RELAY=js: every channel's packets are relayed by JS, none by the addon's routes. */
export const routesChannelsInC = (): boolean => process.env.TURNPIKE_UDP_RELAY !== 'js';

/** TURNPIKE_UDP_BINDING=js: every Binding request is answered by JS, none by the addon (native/udp-binding.c). */
export const answersBindingsInC = (): boolean => process.env.TURNPIKE_UDP_BINDING !== 'js';

function load(): NativeUdpState {
  if (process.env.TURNPIKE_UDP_IO === 'dgram') return { unavailable: 'TURNPIKE_UDP_IO=dgram' };
  return loadAddon('udp-io', (addon: UdpIoAddon) => ({ io: new NativeUdpIo(addon) }));
}
