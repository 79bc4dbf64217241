// A self-signed certificate made for the test run, so nothing expires in the repository.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface TestCertificate {
  readonly dir: string;
  readonly cert: string;
  readonly key: string;
  remove(): void;
}

export function makeCertificate(commonName = 'localhost'): TestCertificate {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'turnpike-cert-'));
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${commonName}`,
  ], { stdio: 'ignore' });
  return { dir, cert, key, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
