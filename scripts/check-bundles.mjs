#!/usr/bin/env node
// Checks what `make build` produced, as Lambda will see it: every function has a zip; each zip's
// index.mjs, unpacked alone, imports under plain node and exports `handler`; a function started
// without its configuration fails at load naming the variable; and a second build is byte-identical.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { unzipSync } from 'fflate';
import { functionNames } from './build.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const EXPECTED = ['authorizer', 'connect', 'default', 'disconnect', 'fanout', 'subscribe', 'unsubscribe'];

// A complete configuration for every function; no value here makes a network call at import time.
const CONFIG = {
  AWS_REGION: 'us-east-1',
  TABLE_NAME: 'fanout-check',
  QUEUE_URL: 'http://127.0.0.1:9/000000000000/fanout',
  DLQ_URL: 'http://127.0.0.1:9/000000000000/fanout-dlq',
  MANAGEMENT_ENDPOINT: 'http://127.0.0.1:9/check',
  AUTH_JWT_SECRET: 'check-bundles-secret-0123456789abcdef',
};
// The variable each function must refuse to start without.
const REQUIRED = {
  authorizer: 'AUTH_JWT_SECRET',
  connect: 'TABLE_NAME',
  disconnect: 'TABLE_NAME',
  subscribe: 'TABLE_NAME',
  unsubscribe: 'TABLE_NAME',
  fanout: 'MANAGEMENT_ENDPOINT',
};

const failures = [];
let passed = 0;
function check(label, ok, detail = '') {
  if (ok) passed++;
  else failures.push(`${label}${detail ? `: ${detail}` : ''}`);
  console.log(`${ok ? '  ok  ' : '  FAIL'} ${label}${!ok && detail ? `\n        ${detail}` : ''}`);
}

const sha = (file) => createHash('sha256').update(readFileSync(file)).digest('hex');
const zipOf = (name) => join(root, 'dist', `${name}.zip`);

function importBundle(dir, env) {
  // The error is printed by the probe, message only: Node's own report of an uncaught error quotes
  // the minified source line (hundreds of KB), which can arrive cut off before the message.
  const probe = `let m;
    try { m = await import(${JSON.stringify(join(dir, 'index.mjs'))}); }
    catch (err) { console.error(err instanceof Error ? err.name + ': ' + err.message : String(err)); process.exit(2); }
    if (typeof m.handler !== 'function') { console.error('handler export is ' + typeof m.handler); process.exit(3); }`;
  const childEnv = { PATH: process.env.PATH, HOME: process.env.HOME, ...env };
  return spawnSync(process.execPath, ['--input-type=module', '-e', probe], {
    cwd: dir,
    env: childEnv,
    encoding: 'utf8',
    timeout: 30_000,
  });
}

const names = functionNames();
check(
  `functions/ holds the ${EXPECTED.length} functions`,
  JSON.stringify(names) === JSON.stringify(EXPECTED),
  names.join(','),
);

const firstHashes = {};
for (const name of names) {
  let entries;
  try {
    entries = unzipSync(readFileSync(zipOf(name)));
  } catch (err) {
    check(`${name}.zip unpacks`, false, err.message);
    continue;
  }
  firstHashes[name] = sha(zipOf(name));
  check(
    `${name}.zip holds index.mjs and its source map`,
    'index.mjs' in entries && 'index.mjs.map' in entries,
    Object.keys(entries).join(','),
  );
  const dir = mkdtempSync(join(tmpdir(), `fanout-${name}-`));
  try {
    for (const [file, bytes] of Object.entries(entries)) writeFileSync(join(dir, file), bytes);
    const ok = importBundle(dir, CONFIG);
    check(
      `${name}: index.mjs imports under plain node and exports handler`,
      ok.status === 0,
      ok.stderr.trim().split('\n').slice(-3).join(' | '),
    );
    const variable = REQUIRED[name];
    if (variable) {
      const { [variable]: _omitted, ...partial } = CONFIG;
      const bad = importBundle(dir, partial);
      check(
        `${name}: refuses to load without ${variable}`,
        bad.status !== 0 && bad.stderr.includes(variable),
        `exit ${bad.status}`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log('rebuilding to compare hashes...');
execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { stdio: 'ignore' });
for (const name of names) {
  check(`${name}.zip is byte-identical after a rebuild`, firstHashes[name] === sha(zipOf(name)));
}

console.log(`${passed} passed, ${failures.length} failed`);
process.exit(failures.length === 0 ? 0 : 1);
