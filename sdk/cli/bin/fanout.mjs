#!/usr/bin/env node
// `fanout ...`. Installed from a package, it runs the compiled CLI in ../dist. In a clone of the
// repository (where ../src exists and dist is not built) it runs the TypeScript source through tsx,
// with the repository's tsconfig so that `@fanout/*` resolve to their sources too.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const source = new URL('../src/main.ts', import.meta.url);
const repoTsconfig = fileURLToPath(new URL('../../../tsconfig.json', import.meta.url));
let main;
if (existsSync(source) && existsSync(repoTsconfig)) {
  const { tsImport } = await import('tsx/esm/api');
  ({ main } = await tsImport(source.href, { parentURL: import.meta.url, tsconfig: repoTsconfig }));
} else {
  ({ main } = await import('../dist/main.js'));
}
process.exitCode = await main(process.argv.slice(2));
