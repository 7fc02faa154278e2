import type { Output } from './commands.js';
import { CommandError } from './errors.js';

/**
 * `fanout dev`'s options, as the command table (spec.ts) parses them. The local runtime takes
 * exactly these (a test holds its `DEV_OPTION_KEYS` and this shape to the table).
 */
export interface DevOptions {
  port?: string | undefined;
  dashboardPort?: string | undefined;
  noDashboard?: boolean | undefined;
  dataDir?: string | undefined;
  secret?: string | undefined;
  verbose?: boolean | undefined;
  trustedProxy?: string[] | undefined;
  publicUrl?: string | undefined;
  maxConnectionSeconds?: string | undefined;
  routeBackend?: string | undefined;
}

/**
 * What `@fanout/local` offers the CLI: it runs `fanout dev` and prints its output. What it throws
 * carries a stable `code` (and `usage: true` when the command line is at fault), which the CLI prints.
 */
export interface LocalRuntime {
  devCommand(options: DevOptions, io: Output): Promise<number>;
}

/**
 * `fanout dev`: the local runtime is loaded by package name only when asked for, so the CLI (and
 * `fanout publish` against AWS) installs and runs without it.
 */
export async function runDev(options: DevOptions, io: Output): Promise<number> {
  let local: LocalRuntime;
  try {
    local = (await import('@fanout/local')) as LocalRuntime;
  } catch (err) {
    const missing = err instanceof Error && /Cannot find (module|package)/.test(err.message);
    if (!missing) throw err;
    throw new CommandError(
      'local_runtime_missing',
      '`fanout dev` needs the local runtime (@fanout/local), which comes with a clone of the fanout repository: run `make dev` there',
    );
  }
  return local.devCommand(options, io);
}

/** `fanout backend`'s options, as the command table (spec.ts) parses them. */
export interface BackendOptions {
  port?: string | undefined;
  host?: string | undefined;
}

/** What `@fanout/backend` offers the CLI: `fanout backend`, its options and its output. */
interface BackendRuntime {
  backendMain(argv: readonly string[], io: Output): Promise<number>;
}

/**
 * `fanout backend`: loaded by package name only when asked for, as `fanout dev` is, so the CLI
 * installs and runs without the server code.
 */
export async function runBackend(options: BackendOptions, io: Output): Promise<number> {
  let backend: BackendRuntime;
  try {
    backend = (await import('@fanout/backend')) as BackendRuntime;
  } catch (err) {
    const missing = err instanceof Error && /Cannot find (module|package)/.test(err.message);
    if (!missing) throw err;
    throw new CommandError(
      'backend_missing',
      '`fanout backend` needs @fanout/backend, which comes with a clone of the fanout repository (or run the dist/backend bundle `make build` writes)',
    );
  }
  const argv = [
    ...(options.port === undefined ? [] : ['--port', options.port]),
    ...(options.host === undefined ? [] : ['--host', options.host]),
  ];
  return backend.backendMain(argv, io);
}
