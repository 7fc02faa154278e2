import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The file, inside `--data-dir`, that keeps the token secret beside the table. */
export const SECRET_FILE = 'jwt-secret';

/** What a data directory's secret file gave: the secret, and whether this start created it. */
export interface PersistedSecret {
  secret: string;
  file: string;
  created: boolean;
  /** The file was readable by others and has been made owner-only again. */
  tightened: boolean;
}

/**
 * The token secret kept in `dataDir`: read when a previous start wrote it, else made (32 random
 * bytes) and written owner-only (mode 0600), so that tokens minted for one start, and the banner's
 * wscat line, still work after a restart with the same data. `wx` makes two starts racing for the
 * same directory agree: the second reads what the first wrote.
 */
export function persistedSecret(dataDir: string): PersistedSecret {
  const file = join(dataDir, SECRET_FILE);
  mkdirSync(dataDir, { recursive: true });
  let created = false;
  try {
    writeFileSync(file, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
    created = true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  // A copied or restored directory may have lost the mode: a secret others can read is no secret.
  const tightened = (statSync(file).mode & 0o077) !== 0;
  if (tightened) chmodSync(file, 0o600);
  return { secret: readFileSync(file, 'utf8').trim(), file, created, tightened };
}
