// Builds native/udp-io.c into native/build/udp-io.node at `npm ci`, offline: gcc against the
// headers of the Node that runs the install (the `node` devDependency's, as the bench does).
// It never fails the install: where it cannot build (no compiler, not Linux), it writes why to
// native/build/unavailable.txt, and the server says so once at start and uses dgram.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(here, 'build');
const addon = path.join(out, 'udp-io.node');
const why = path.join(out, 'unavailable.txt');

function nodeHeaders() {
  const candidates = [
    path.resolve(process.execPath, '../../include/node'),
    path.resolve(process.execPath, `../../node_modules/node-${process.platform}-${process.arch}/include/node`),
  ];
  return candidates.find((dir) => fs.existsSync(path.join(dir, 'node_api.h')));
}

function build() {
  // recvmmsg and sendmmsg are Linux system calls.
  if (process.platform !== 'linux') return `recvmmsg/sendmmsg are Linux-only (this is ${process.platform})`;
  const headers = nodeHeaders();
  if (!headers) return `no node_api.h next to ${process.execPath}`;
  const compiler = process.env.CC || 'gcc';
  try {
    execFileSync(compiler, ['-O2', '-Wall', '-Wextra', '-shared', '-fPIC', '-DNODE_GYP_MODULE_NAME=udp_io', `-I${headers}`,
      '-o', addon, path.join(here, 'udp-io.c')], { stdio: 'pipe' });
    return undefined;
  } catch (error) {
    const stderr = String(error.stderr ?? '').trim();
    return `${compiler} failed: ${(stderr || error.message).split('\n')[0]}`;
  }
}

fs.mkdirSync(out, { recursive: true });
fs.rmSync(why, { force: true });
const reason = build();
if (reason) {
  fs.rmSync(addon, { force: true });
  fs.writeFileSync(why, `${reason}\n`);
  console.warn(`turnpike: native UDP I/O not built (${reason}); the server will use dgram`);
}
