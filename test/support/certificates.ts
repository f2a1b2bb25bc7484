// Test certificates made by openssl: a CA, and a certificate for 127.0.0.1 signed by it. Shared by
// the TLS tests of the nodes and the Kubernetes API stand-in.

import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Runs openssl in `dir`, quietly (a failure throws). */
export function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { stdio: 'ignore', cwd: dir });
}

/** Writes `ca.key`, `ca.pem` (subject `caName`) and `<leaf>.key`, `<leaf>.pem` (CN and SAN 127.0.0.1, signed by the CA) into `dir`. */
export function makeCertificates(dir: string, leaf: string, caName: string): void {
  openssl(dir, 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-keyout', 'ca.key', '-out', 'ca.pem', '-subj', `/CN=${caName}`);
  openssl(dir, 'req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${leaf}.key`, '-out', `${leaf}.csr`, '-subj', '/CN=127.0.0.1');
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  openssl(dir, 'x509', '-req', '-in', `${leaf}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-out', `${leaf}.pem`, '-extfile', 'san.ext');
}
