/**
 * `tsx deploy/apache/render.ts <aws|local> [options]` (or `make apache-config`): renders the Apache
 * virtual host for fanout from `terraform output -json` or from .fanout/local.json. The work is in
 * vhost.ts; this file only wires it to the process.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { main } from './vhost.js';

// tsx runs this file as CommonJS or ESM depending on the caller; argv[1] is the script either way.
const templateDir = dirname(resolve(process.argv[1] ?? 'deploy/apache/render.ts'));

process.exitCode = main(
  process.argv.slice(2),
  {
    out: (text) => process.stdout.write(text),
    err: (line) => process.stderr.write(`${line}\n`),
    readFile: (path) => readFileSync(path, 'utf8'),
    writeFile: (path, text) => writeFileSync(path, text),
    readStdin: () => readFileSync(0, 'utf8'),
  },
  templateDir,
);
