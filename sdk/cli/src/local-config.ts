import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { LOCAL_ENDPOINTS_FILE, type PlatformEndpoints, parseEndpoints } from '@fanout/protocol';
import { CommandError } from './errors.js';

/**
 * `.fanout/local.json`, written by `fanout dev`: where the local platform listens. Undefined when
 * there is no such file (no local platform started from this directory).
 */
export function readLocalConfig(path = LOCAL_ENDPOINTS_FILE): PlatformEndpoints | undefined {
  const file = resolve(path);
  if (!existsSync(file)) return undefined;
  return parseEndpoints(JSON.parse(readFileSync(file, 'utf8')), file);
}

/** Whether process `pid` exists: signal 0 checks without sending anything (EPERM: it exists, not ours). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The endpoints of a local platform that is still running. A `fanout dev` killed without its Ctrl+C
 * (kill -9, a closed terminal) leaves its file behind; its recorded process id tells, so the command
 * says so rather than failing later with `connect ECONNREFUSED`.
 */
export function liveLocalConfig(
  config: PlatformEndpoints | undefined,
  path = LOCAL_ENDPOINTS_FILE,
): PlatformEndpoints | undefined {
  if (config?.pid !== undefined && !processAlive(config.pid)) {
    throw new CommandError(
      'config_stale',
      `${path} was left by a \`fanout dev\` (process ${config.pid}) that is no longer running: start it again (\`make dev\`), or delete the file`,
    );
  }
  return config;
}

/**
 * The local platform's endpoints for a command: `--config FILE` must exist when named (`required`),
 * the default file may be absent; a file that cannot be read is `config_invalid`, and with `live`
 * one left by a platform that is gone is `config_stale`.
 */
export function localPlatform(
  path: string | undefined,
  { required = true, live = true }: { required?: boolean; live?: boolean } = {},
): PlatformEndpoints | undefined {
  const file = path ?? LOCAL_ENDPOINTS_FILE;
  if (path !== undefined && required && !existsSync(resolve(path))) {
    throw new CommandError('config_not_found', `${path} does not exist (\`fanout dev\` writes it)`);
  }
  let config: PlatformEndpoints | undefined;
  try {
    config = readLocalConfig(file);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new CommandError(
      'config_invalid',
      err instanceof SyntaxError ? `${file} is not JSON: ${message}` : message,
    );
  }
  return live ? liveLocalConfig(config, file) : config;
}
