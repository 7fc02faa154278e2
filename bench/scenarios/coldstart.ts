/**
 * Cold start: each function's zip and the time a fresh Node process takes to import its bundle (the
 * module-load part of a Lambda init), against a minimal handler bundled the same way.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { zipSync } from 'fflate';
import { functionEnvironment, readStackSettings } from '../../local/dev/settings.js';
import { FUNCTION_NAMES } from '../../shared/deployment/manifest.js';
import { SDK_FANOUT_ZIP, sdkFanoutBundle } from '../fanout-sdk/bundle.js';
import type { ColdStartRow } from '../lib/results.js';
import { median } from '../lib/stats.js';
import { ROOT } from '../world.js';

const REQUIRE_SHIM =
  "import { createRequire as __fanoutCreateRequire } from 'node:module';\nconst require = __fanoutCreateRequire(import.meta.url);";

/**
 * The minimal handlers, bundled as scripts/build.mjs bundles the functions (ESM, minified, SDK
 * inside): `minimal` is the AWS sample's `sendmessage` (DynamoDB Scan + PostToConnection, SDK v3),
 * `empty` returns at once.
 */
async function bundleMinimal(name: 'minimal' | 'empty'): Promise<{ bundle: string; zipBytes: number }> {
  const outDir = join(ROOT, 'bench', '.build', name);
  mkdirSync(outDir, { recursive: true });
  const outfile = join(outDir, 'index.mjs');
  await build({
    absWorkingDir: ROOT,
    entryPoints: [join(ROOT, 'bench', 'minimal', `${name}.ts`)],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    mainFields: ['module', 'main'],
    minify: true,
    keepNames: true,
    legalComments: 'none',
    banner: { js: REQUIRE_SHIM },
    logLevel: 'warning',
  });
  const zip = zipSync({ 'index.mjs': [readFileSync(outfile), { level: 9 }] });
  writeFileSync(join(outDir, `${name}.zip`), zip);
  return { bundle: outfile, zipBytes: zip.byteLength };
}

/** One fresh process's import time of `bundle`, ms. */
function loadOnce(bundle: string, env: Record<string, string>): number {
  const script = `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(bundle).href)}); process.stdout.write(String(performance.now() - t));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
  });
  return Number(out);
}

/**
 * Median import time of each bundle over `runs` rounds, every round loading each bundle once in
 * turn: on a shared machine a slow spell then slows every bundle alike, and the ratios to the
 * minimal handler stay fair (one bundle's runs back to back would all land in the same spell).
 */
function loadTimes(
  bundles: readonly { bundle: string; env: Record<string, string> }[],
  runs: number,
): number[] {
  const times = bundles.map((): number[] => []);
  for (let round = 0; round < runs; round++) {
    for (const [i, { bundle, env }] of bundles.entries()) times[i]?.push(loadOnce(bundle, env));
  }
  return times.map(median);
}

export async function runColdStart(runs: number): Promise<ColdStartRow[]> {
  const settings = readStackSettings(join(ROOT, 'terraform/modules/fanout'));
  const lambdaEnv = {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  const wired = {
    table_name: 'bench-table',
    fanout_queue_url: 'http://127.0.0.1:9/queue/bench',
    fanout_dlq_url: 'http://127.0.0.1:9/queue/bench-dlq',
    management_endpoint: 'http://127.0.0.1:9/bench',
    auth_jwt_secret: 'x'.repeat(32),
    auth_jwt_secret_parameter: undefined,
    auth_jwt_secret_version: undefined,
    auth_jwks_url: undefined,
    auth_issuer: undefined,
    auth_audience: undefined,
  };
  const bundles: { name: string; bundle: string; env: Record<string, string>; zipBytes: number }[] = [];
  for (const fn of FUNCTION_NAMES) {
    const bundle = join(ROOT, 'dist', fn, 'index.mjs');
    statSync(bundle);
    bundles.push({
      name: fn,
      bundle,
      env: { ...lambdaEnv, ...functionEnvironment(fn, settings, wired) },
      zipBytes: statSync(join(ROOT, 'dist', `${fn}.zip`)).size,
    });
  }
  // The same function with the plain SDK `@connections` client: what the lean path saves at load.
  const fanout = bundles.find((b) => b.name === 'fanout');
  if (fanout) {
    bundles.push({
      name: 'fanout, plain SDK client (bench/fanout-sdk)',
      bundle: await sdkFanoutBundle(),
      env: fanout.env,
      zipBytes: statSync(SDK_FANOUT_ZIP).size,
    });
  }
  for (const name of ['minimal', 'empty'] as const) {
    const { bundle, zipBytes } = await bundleMinimal(name);
    bundles.push({
      name: `${name} (bench/minimal)`,
      bundle,
      env: { ...lambdaEnv, TABLE_NAME: 'bench-table' },
      zipBytes,
    });
  }
  const times = loadTimes(bundles, runs);
  const rows: ColdStartRow[] = bundles.map(({ name, zipBytes }, i) => ({
    name,
    zipBytes,
    loadMs: times[i] ?? Number.NaN,
  }));
  for (const row of rows)
    process.stdout.write(
      `  ${row.name.padEnd(22)} ${(row.zipBytes / 1024).toFixed(0)} KiB, load ${row.loadMs.toFixed(1)} ms\n`,
    );
  return rows;
}
