import type { Output } from './commands.js';

/** What `@fanout/local` offers the CLI: it owns `fanout dev`, its options and its output. */
interface LocalRuntime {
  devMain(argv: readonly string[], io: Output): Promise<number>;
}

/**
 * `fanout dev`: the local runtime is loaded by package name only when asked for, so the CLI (and
 * `fanout publish` against AWS) installs and runs without it.
 */
export async function runDev(argv: readonly string[], io: Output): Promise<number> {
  let local: LocalRuntime;
  try {
    local = (await import('@fanout/local')) as LocalRuntime;
  } catch (err) {
    const missing = err instanceof Error && /Cannot find (module|package)/.test(err.message);
    if (!missing) throw err;
    throw new Error(
      '`fanout dev` needs the local runtime (@fanout/local), which comes with a clone of the fanout repository: run `make dev` there',
    );
  }
  return local.devMain(argv, io);
}

/** What `@fanout/backend` offers the CLI: `fanout backend`, its options and its output. */
interface BackendRuntime {
  backendMain(argv: readonly string[], io: Output): Promise<number>;
}

/**
 * `fanout backend`: loaded by package name only when asked for, as `fanout dev` is, so the CLI
 * installs and runs without the server code.
 */
export async function runBackend(argv: readonly string[], io: Output): Promise<number> {
  let backend: BackendRuntime;
  try {
    backend = (await import('@fanout/backend')) as BackendRuntime;
  } catch (err) {
    const missing = err instanceof Error && /Cannot find (module|package)/.test(err.message);
    if (!missing) throw err;
    throw new Error(
      '`fanout backend` needs @fanout/backend, which comes with a clone of the fanout repository (or run the dist/backend bundle `make build` writes)',
    );
  }
  return backend.backendMain(argv, io);
}
