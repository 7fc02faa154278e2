#!/usr/bin/env node
// `npx fanout ...`: runs the CLI from its TypeScript source (no build step needed in a clone).
import { tsImport } from 'tsx/esm/api';

const { main } = await tsImport('../sdk/cli/main.ts', import.meta.url);
process.exitCode = await main(process.argv.slice(2));
