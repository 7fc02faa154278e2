#!/usr/bin/env node
// `fanout ...`. Installed from a package, it runs the compiled CLI in ../dist. In a clone of the
// repository (where ../src exists and dist is not built) it runs the TypeScript source through tsx,
// with the repository's tsconfig so that `@fanout/*` resolve to their sources too.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// On Node 20 every AWS SDK client prints an 8-line NodeVersionSupportWarning (Node 20 support ends
// in January 2027) before the command's own output. It concerns the machine, not the command, so the
// CLI turns it off with the SDK's own switch ("January 2027: End of Support for Node.js 20.x in AWS
// SDK for JavaScript"), before any client exists; `fanout dev`'s functions inherit it. A value the
// user set is kept.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

// `fanout tail … | head`: once the reader has gone, there is nobody to print for; stop quietly
// rather than with an EPIPE stack.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const source = new URL('../src/main.ts', import.meta.url);
const repoTsconfig = fileURLToPath(new URL('../../../tsconfig.json', import.meta.url));
let main;
if (existsSync(source) && existsSync(repoTsconfig)) {
  const { tsImport } = await import('tsx/esm/api');
  ({ main } = await tsImport(source.href, { parentURL: import.meta.url, tsconfig: repoTsconfig }));
} else {
  ({ main } = await import('../dist/main.js'));
}
process.exitCode = await main(process.argv.slice(2), undefined, process.env, { version });
