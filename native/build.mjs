// Builds the addons at `npm ci`, offline: gcc against the headers of the Node that runs the
// install (the `node` devDependency's, as the bench does). native/udp-io.c and its parts become
// native/build/udp-io.node (batched UDP I/O), native/dtls-aead.c native/build/dtls-aead.node
// (AES-GCM for DTLS records, with the OpenSSL the Node binary carries), native/dtls-keys.c
// native/build/dtls-keys.node (X25519, the TLS 1.2 PRF and the cookie HMAC of DTLS handshakes,
// the same way), native/tcp-accept.c native/build/tcp-accept.node (TCP accept, so that client
// sockets read into one reused buffer), native/tls-stream.c, stream-conn.c and stream-calls.c
// native/build/tls-stream.node (client connections run in C, TLS with the node binary's OpenSSL). An addon may be several C files
// (`sources`, the first named after it), compiled together into one .node.
// It never fails the install: where one cannot build (no compiler, not Linux), it writes why to
// native/build/NAME.unavailable.txt, and the server says so once at start and uses its JS path.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(here, 'build');

const ADDONS = [
  // recvmmsg and sendmmsg are Linux system calls.
  // With dtls-routes.c: a DTLS client's routed channels, OpenSSL from the node binary as below.
  // The addon's parts are udp-io.h's list.
  { name: 'udp-io', fallback: 'dgram', sources: ['udp-io.c', 'udp-receive.c', 'udp-send.c', 'udp-sockets.c', 'udp-relay-calls.c', 'udp-routes.c', 'dtls-routes.c', 'udp-binding.c', 'stun-answer.c'], linkFlags: ['-Wl,-z,now'] },
  // OpenSSL's symbols come from the node binary itself; -z now binds them all at load, so a
  // Node without them fails the load (and falls back) rather than a record later.
  { name: 'dtls-aead', fallback: 'node:crypto', linkFlags: ['-Wl,-z,now'] },
  // X25519, PRF and cookie HMAC for DTLS handshakes, OpenSSL from the node binary as above.
  { name: 'dtls-keys', fallback: 'node:crypto', linkFlags: ['-Wl,-z,now'] },
  // accept4 is Linux's; elsewhere net.Server accepts, as before.
  { name: 'tcp-accept', fallback: 'net.Server' },
  // Client connections run in C: the connection layer (plain TCP too) and the TLS layer, with the
  // node binary's OpenSSL (SSL_*), bound at load as above.
  { name: 'tls-stream', fallback: 'net.Socket and tls.TLSSocket', linkFlags: ['-Wl,-z,now'], sources: ['tls-stream.c', 'stream-conn.c', 'stream-calls.c'] },
];

function nodeHeaders() {
  const candidates = [
    path.resolve(process.execPath, '../../include/node'),
    path.resolve(process.execPath, `../../node_modules/node-${process.platform}-${process.arch}/include/node`),
  ];
  return candidates.find((dir) => fs.existsSync(path.join(dir, 'node_api.h')));
}

function build({ name, linkFlags = [], sources = [`${name}.c`] }, addon) {
  if (process.platform !== 'linux') return `built on Linux only (this is ${process.platform})`;
  const headers = nodeHeaders();
  if (!headers) return `no node_api.h next to ${process.execPath}`;
  const compiler = process.env.CC || 'gcc';
  try {
    execFileSync(compiler, ['-O2', '-Wall', '-Wextra', '-shared', '-fPIC', ...linkFlags, `-DNODE_GYP_MODULE_NAME=${name.replaceAll('-', '_')}`,
      `-I${headers}`, '-o', addon, ...sources.map((source) => path.join(here, source))], { stdio: 'pipe' });
    return undefined;
  } catch (error) {
    const stderr = String(error.stderr ?? '').trim();
    return `${compiler} failed: ${(stderr || error.message).split('\n')[0]}`;
  }
}

fs.mkdirSync(out, { recursive: true });
for (const spec of ADDONS) {
  const addon = path.join(out, `${spec.name}.node`);
  const why = path.join(out, `${spec.name}.unavailable.txt`);
  fs.rmSync(why, { force: true });
  const reason = build(spec, addon);
  if (reason) {
    fs.rmSync(addon, { force: true });
    fs.writeFileSync(why, `${reason}\n`);
    console.warn(`turnpike: native/${spec.name}.c not built (${reason}); the server will use ${spec.fallback}`);
  }
}
