// Types of build.mjs, for the tests that import it.
export const FUNCTION_TARGET: string;
export function functionNames(): string[];
