// Types of build.mjs, for the tests that import it.
export const FUNCTION_TARGET: string;
export function functionNames(): string[];
/** Checks functions.json (or the file at `manifestPath`) as the build does; rejects when malformed. */
export function checkManifest(manifestPath?: string): Promise<void>;
/** Bundles one function entry as the build bundles every function; resolves to the zip's bytes. */
export function bundleFunction(entry: string, outDir: string, zipPath: string): Promise<number>;
