/**
 * TLS connections run by the stream addon (native/tls-stream.c over native/stream-conn.c, with the
 * node binary's OpenSSL; docs/native-tls.md): native-stream.ts's connections with a handshake
 * first. Where the addon is not there, or TURNPIKE_TLS=node, TLS connections are tls.TLSSocket
 * as before (tls-terminator.ts chooses).
 */
import type { Unavailable } from './native-addon.js';
import { nativeStreams, type NativeStreams, type NativeStreamSocket } from './native-stream.js';

export type { Endpoints, NativeTlsContext, SecureHandlers } from './native-stream.js';
export type NativeTls = NativeStreams;
export type NativeTlsSocket = NativeStreamSocket;

/** This thread's native TLS, or why there is none. */
export function nativeTls(): { readonly tls: NativeTls } | Unavailable {
  if (process.env.TURNPIKE_TLS === 'node') return { unavailable: 'TURNPIKE_TLS=node' };
  const native = nativeStreams();
  return 'streams' in native ? { tls: native.streams } : native;
}
