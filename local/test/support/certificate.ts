/**
 * Self-signed certificates for tests, made with the `openssl` command (Node cannot issue X.509
 * certificates). A leaf (CA:FALSE) that clients trust by passing it as their `ca`: OpenSSL and Node take
 * a self-signed certificate they are given as its own trust anchor, and servers do not warn about a
 * server certificate that is a CA.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';

export const OPENSSL_PATH = '/usr/bin/openssl';

export interface TestCertificate {
  certFile: string;
  keyFile: string;
  cert: Buffer;
  key: Buffer;
}

export type ToolAvailability =
  | { run: true }
  | { run: false; reason: string }
  /** Missing on CI, which installs it (.ci/run): the tests must fail, not skip. */
  | { run: true; missing: string };

/** Whether openssl is here; without it tests skip on a developer machine and fail when `CI` is set. */
export function opensslAvailability(): ToolAvailability {
  if (existsSync(OPENSSL_PATH)) return { run: true };
  const missing = `openssl is not installed at ${OPENSSL_PATH} (apt-get install -y openssl)`;
  return process.env.CI ? { run: true, missing } : { run: false, reason: missing };
}

/**
 * A P-256 certificate for `names` (DNS names and IP addresses, the first is also the CN), valid for
 * two days, written to `<dir>/<file>.pem` and `<dir>/<file>.key`.
 */
export function makeCertificate(dir: string, file: string, names: readonly string[]): TestCertificate {
  const availability = opensslAvailability();
  if ('missing' in availability) throw new Error(`CI is set but ${availability.missing}`);
  const [commonName] = names;
  if (commonName === undefined) throw new Error('a certificate needs at least one name');
  const certFile = join(dir, `${file}.pem`);
  const keyFile = join(dir, `${file}.key`);
  const altNames = names.map((name) => (isIP(name) ? `IP:${name}` : `DNS:${name}`)).join(',');
  execFileSync(
    OPENSSL_PATH,
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '2',
      '-subj',
      `/CN=${commonName}`,
      '-addext',
      `subjectAltName=${altNames}`,
      '-addext',
      'basicConstraints=critical,CA:FALSE',
      '-addext',
      'keyUsage=critical,digitalSignature',
      '-addext',
      'extendedKeyUsage=serverAuth',
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 },
  );
  return { certFile, keyFile, cert: readFileSync(certFile), key: readFileSync(keyFile) };
}
