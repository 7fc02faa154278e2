#!/usr/bin/env node
// Checks what `make build` produced, as Lambda will see it: every function functions.json lists has a
// zip; each zip's index.mjs, unpacked alone, imports under plain node and exports `handler`; a function
// started without a variable it requires, or with a setting out of range, fails at load naming the
// variable; and a second build is byte-identical.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { unzipSync } from 'fflate';
import { functionNames } from './build.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
// The deployment manifest, which Terraform and the handlers read too: what each function reads.
const manifest = JSON.parse(
  readFileSync(join(root, 'terraform', 'modules', 'fanout', 'functions.json'), 'utf8'),
);
const EXPECTED = Object.keys(manifest.functions).sort();

// A value for everything the module wires in; none makes a network call at import time.
const WIRED = {
  table_name: 'fanout-check',
  fanout_queue_url: 'http://127.0.0.1:9/000000000000/fanout',
  fanout_dlq_url: 'http://127.0.0.1:9/000000000000/fanout-dlq',
  management_endpoint: 'http://127.0.0.1:9/check',
  auth_jwt_secret: 'check-bundles-secret-0123456789abcdef',
};

/** A complete configuration of one function: its wired variables set, its settings left to their defaults. */
function configOf(name) {
  const env = { AWS_REGION: 'us-east-1' };
  const group = manifest.functions[name].exactly_one_of ?? [];
  for (const [variable, spec] of Object.entries(manifest.functions[name].environment)) {
    if (spec.from === undefined) continue;
    // Of a group that needs exactly one, the first that has a value.
    if (group.includes(variable) && group.some((other) => other !== variable && env[other] !== undefined))
      continue;
    if (WIRED[spec.from] !== undefined) env[variable] = WIRED[spec.from];
  }
  return env;
}

/**
 * What each function must refuse to start with, and the variables the refusal must name: without each
 * required variable, without all of an exactly-one-of group, and with each setting above its range.
 */
function refusalsOf(name) {
  const fn = manifest.functions[name];
  const refusals = [];
  for (const [variable, spec] of Object.entries(fn.environment)) {
    if (spec.required)
      refusals.push({ label: `without ${variable}`, drop: [variable], set: {}, names: [variable] });
    if (spec.type === 'integer') {
      const bad = String(spec.max + 1);
      refusals.push({
        label: `with ${variable}=${bad}`,
        drop: [],
        set: { [variable]: bad },
        names: [variable],
      });
    }
  }
  if (fn.exactly_one_of) {
    const group = fn.exactly_one_of;
    refusals.push({ label: `without ${group.join(' or ')}`, drop: group, set: {}, names: group });
  }
  return refusals;
}

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
  `functions/ holds the ${EXPECTED.length} functions functions.json lists`,
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
    const config = configOf(name);
    const missing = Object.entries(manifest.functions[name].environment)
      .filter(([variable, spec]) => spec.required && config[variable] === undefined)
      .map(([variable, spec]) => `${variable} (from ${spec.from})`);
    check(
      `${name}: the check has a value for every variable it requires`,
      missing.length === 0,
      missing.join(', '),
    );
    const ok = importBundle(dir, config);
    check(
      `${name}: index.mjs imports under plain node and exports handler`,
      ok.status === 0,
      ok.stderr.trim().split('\n').slice(-3).join(' | '),
    );
    for (const refusal of refusalsOf(name)) {
      const env = { ...config, ...refusal.set };
      for (const variable of refusal.drop) delete env[variable];
      const bad = importBundle(dir, env);
      check(
        `${name}: refuses to load ${refusal.label}`,
        bad.status !== 0 && refusal.names.every((variable) => bad.stderr.includes(variable)),
        `exit ${bad.status}`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// The fan-out posts through its own signed path (shared/gateway/gateway-signed.ts): the SDK's Management
// API client, its middleware stack and serializers, has no place in its bundle.
{
  const bundled = readFileSync(join(root, 'dist', 'fanout', 'index.mjs'), 'utf8');
  check(
    'fanout: index.mjs holds no Management API client (the lean @connections path only)',
    !bundled.includes('ApiGatewayManagementApi'),
  );
}

// `fanout backend`'s bundle, alone in a directory as in a container image: it loads, and refuses a
// configuration without its proof and the routes' table, naming both, before it listens.
const backendBundle = join(root, 'dist', 'backend', 'index.mjs');
const backendHash = sha(backendBundle);
{
  const dir = mkdtempSync(join(tmpdir(), 'fanout-backend-'));
  try {
    writeFileSync(join(dir, 'index.mjs'), readFileSync(backendBundle));
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, AWS_REGION: 'us-east-1' };
    const run = (args) =>
      spawnSync(process.execPath, ['index.mjs', ...args], {
        cwd: dir,
        env,
        encoding: 'utf8',
        timeout: 30_000,
      });
    const help = run(['--help']);
    check('backend: index.mjs runs alone under plain node (--help)', help.status === 0, help.stderr.trim());
    const refused = run(['--port', '0']);
    check(
      'backend: refuses to start without FANOUT_BACKEND_PROOF and TABLE_NAME, naming both',
      refused.status === 1 &&
        refused.stderr.includes('configuration_invalid') &&
        ['FANOUT_BACKEND_PROOF', 'TABLE_NAME'].every((variable) => refused.stderr.includes(variable)),
      `exit ${refused.status}: ${refused.stderr.trim().slice(0, 300)}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log('rebuilding to compare hashes...');
execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { stdio: 'ignore' });
for (const name of names) {
  check(`${name}.zip is byte-identical after a rebuild`, firstHashes[name] === sha(zipOf(name)));
}
check('backend/index.mjs is byte-identical after a rebuild', backendHash === sha(backendBundle));

console.log(`${passed} passed, ${failures.length} failed`);
process.exit(failures.length === 0 ? 0 : 1);
