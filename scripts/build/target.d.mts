// Types of target.mjs, for the tests that import it.
export function lambdaRuntime(): string;
export function esbuildTarget(runtime: unknown): string;
