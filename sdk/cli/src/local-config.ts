import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { LOCAL_ENDPOINTS_FILE, type PlatformEndpoints, parseEndpoints } from '@fanout/protocol';

/**
 * `.fanout/local.json`, written by `fanout dev`: where the local platform listens. Undefined when
 * there is no such file (no local platform started from this directory).
 */
export function readLocalConfig(path = LOCAL_ENDPOINTS_FILE): PlatformEndpoints | undefined {
  const file = resolve(path);
  if (!existsSync(file)) return undefined;
  return parseEndpoints(JSON.parse(readFileSync(file, 'utf8')), file);
}
