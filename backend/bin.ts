// The entry of the dist/backend/index.mjs bundle: `node dist/backend/index.mjs [--port N] [--host H]`.
import { backendMain } from './main.js';

process.exitCode = await backendMain(process.argv.slice(2));
