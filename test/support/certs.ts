// Certificates made for the test run, so nothing expires in the repository: self-signed ones
// (which can act as a CA), and ones a CA issues.
import { execFileSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface TestCertificate {
  readonly dir: string;
  readonly cert: string;
  readonly key: string;
  remove(): void;
}

const NEW_P256_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
const NEW_RSA_KEY = ['-newkey', 'rsa:2048', '-nodes'];

function certificateFiles(): TestCertificate {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'turnpike-cert-'));
  return { dir, cert: path.join(dir, 'cert.pem'), key: path.join(dir, 'key.pem'), remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Self-signed, with OpenSSL's CA extensions (CA:TRUE): it can issue others with issueCertificate. */
export function makeCertificate(commonName = 'localhost'): TestCertificate {
  const files = certificateFiles();
  execFileSync('openssl', ['req', '-x509', ...NEW_P256_KEY, '-keyout', files.key, '-out', files.cert, '-days', '2', '-subj', `/CN=${commonName}`], { stdio: 'ignore' });
  return files;
}

export interface IssueOptions {
  /** X.509v3 extension lines, e.g. `basicConstraints=critical,CA:TRUE`. */
  readonly extensions?: readonly string[];
  /** An RSA key instead of EC P-256. */
  readonly rsa?: boolean;
}

/** A certificate that `issuer` signs. */
export function issueCertificate(issuer: TestCertificate, commonName: string, { extensions = [], rsa = false }: IssueOptions = {}): TestCertificate {
  const files = certificateFiles();
  const request = path.join(files.dir, 'request.pem');
  const newKey = rsa ? NEW_RSA_KEY : NEW_P256_KEY;
  execFileSync('openssl', ['req', '-new', ...newKey, '-keyout', files.key, '-out', request, '-subj', `/CN=${commonName}`], { stdio: 'ignore' });
  const sign = ['x509', '-req', '-in', request, '-CA', issuer.cert, '-CAkey', issuer.key, '-set_serial', String(randomInt(1, 2 ** 47)), '-days', '2', '-out', files.cert];
  if (extensions.length > 0) {
    const extfile = path.join(files.dir, 'extensions.cnf');
    fs.writeFileSync(extfile, `${extensions.join('\n')}\n`);
    sign.push('-extfile', extfile);
  }
  execFileSync('openssl', sign, { stdio: 'ignore' });
  return files;
}
