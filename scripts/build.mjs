#!/usr/bin/env node
// Bundles every functions/<name>/handler.ts into dist/<name>/index.mjs (ESM, for the Node version of
// the Lambda runtime functions.json names, AWS SDK bundled, source map) and a deployable
// dist/<name>.zip. Zips are byte-for-byte reproducible:
// fixed entry order, timestamps and permissions, so an unchanged source keeps its hash and
// `terraform plan` stays quiet.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { zipSync } from 'fflate';
import { esbuildTarget, lambdaRuntime } from './build/target.mjs';
import { trimSourceMap } from './build/trim-source-map.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const functionsDir = join(root, 'functions');
const distDir = join(root, 'dist');
// 1980-01-01T00:00:00 local: the earliest time a zip header can hold, so nothing varies with the clock.
const ZIP_TIME = new Date(1980, 0, 1, 0, 0, 0);
// Some bundled CommonJS dependencies call require() for Node built-ins; give the ESM bundle one.
const REQUIRE_SHIM =
  "import { createRequire as __fanoutCreateRequire } from 'node:module';\nconst require = __fanoutCreateRequire(import.meta.url);";

/** What the function bundles are compiled for: the deployed Lambda runtime's Node version. */
export const FUNCTION_TARGET = esbuildTarget(lambdaRuntime());

export function functionNames() {
  return readdirSync(functionsDir)
    .filter((name) => statSync(join(functionsDir, name, 'handler.ts'), { throwIfNoEntry: false })?.isFile())
    .sort();
}

// What a function bundle and the backend bundle share: one ESM file for Node, minified, with a source
// map (without sources: the trimmed map stays small). A container runs the Node the Lambda functions
// run, so the backend gets the same target.
const NODE_BUNDLE = {
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  target: FUNCTION_TARGET,
  format: 'esm',
  mainFields: ['module', 'main'],
  sourcemap: true,
  sourcesContent: false,
  minify: true,
  keepNames: true,
  legalComments: 'none',
  banner: { js: REQUIRE_SHIM },
  logLevel: 'warning',
};

// The SDK's default credential chain, replaced by the environment provider: the only one a
// function uses in Lambda (see build/lambda-credentials.mjs).
const lambdaCredentials = {
  name: 'lambda-credentials',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^@aws-sdk\/credential-provider-node$/ }, () => ({
      path: join(root, 'scripts', 'build', 'lambda-credentials.mjs'),
    }));
  },
};

// The manifest baked into the function bundles, checked once here rather than on every cold start
// (shared/deployment/manifest.ts): evaluating the module checks it, and throws on a malformed one.
// `manifestPath` stands in for functions.json (a test's broken copy).
export async function checkManifest(manifestPath) {
  const redirect = {
    name: 'manifest-path',
    setup(pluginBuild) {
      pluginBuild.onResolve({ filter: /functions\.json$/ }, () => ({ path: manifestPath }));
    },
  };
  const out = await build({
    absWorkingDir: root,
    entryPoints: [join(root, 'shared', 'deployment', 'manifest.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    write: false,
    logLevel: 'silent',
    plugins: manifestPath ? [redirect] : [],
  });
  const module = { exports: {} };
  // The bundle is pure (zod and the JSON): nothing to require.
  new Function('module', 'exports', out.outputFiles[0].text)(module, module.exports);
}

async function bundle(name) {
  const zipPath = join(distDir, `${name}.zip`);
  const bytes = await bundleFunction(join(functionsDir, name, 'handler.ts'), join(distDir, name), zipPath);
  const zip = readFileSync(zipPath);
  return { name, zipPath, bytes, sha256: createHash('sha256').update(zip).digest('hex') };
}

/**
 * Bundles one function entry into `outDir`/index.mjs and its zip at `zipPath`, as every deployed
 * function is bundled (the benchmark builds its variant of the fan-out with it too); resolves to the
 * zip's size in bytes.
 */
export async function bundleFunction(entry, outDir, zipPath) {
  rmSync(outDir, { recursive: true, force: true });
  await build({
    ...NODE_BUNDLE,
    define: { FANOUT_MANIFEST_CHECKED_AT_BUILD: 'true' },
    plugins: [lambdaCredentials],
    entryPoints: [entry],
    outfile: join(outDir, 'index.mjs'),
  });
  const mapPath = join(outDir, 'index.mjs.map');
  const map = JSON.parse(readFileSync(mapPath, 'utf8'));
  writeFileSync(mapPath, JSON.stringify(trimSourceMap(map, (source) => !source.includes('node_modules/'))));
  const files = readdirSync(outDir).sort();
  const entries = Object.fromEntries(
    files.map((file) => [file, [readFileSync(join(outDir, file)), { mtime: ZIP_TIME, level: 9 }]]),
  );
  const zip = zipSync(entries, { mtime: ZIP_TIME });
  writeFileSync(zipPath, zip);
  return zip.byteLength;
}

// `fanout backend` as one file for a container image (docs/architecture.md, "Routes on your own HTTP
// backend"): node dist/backend/index.mjs. The SDK's whole credential chain stays in, since a container
// gets its role from the ECS or EC2 endpoints rather than from the environment.
async function bundleBackend() {
  const outfile = join(distDir, 'backend', 'index.mjs');
  rmSync(join(distDir, 'backend'), { recursive: true, force: true });
  await build({ ...NODE_BUNDLE, entryPoints: [join(root, 'backend', 'bin.ts')], outfile });
  console.log(`  ${relative(root, outfile)}`);
}

// The local dashboard's and inspector's scripts, bundled for browsers with uPlot and its stylesheet
// (the dev server serves them from dist/dashboard; nothing comes from a CDN).
async function bundleDashboard() {
  const outdir = join(distDir, 'dashboard');
  await build({
    absWorkingDir: root,
    entryPoints: {
      dashboard: join(root, 'local', 'dashboard', 'app.ts'),
      inspector: join(root, 'local', 'dashboard', 'inspector.ts'),
    },
    outdir,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    sourcemap: true,
    logLevel: 'warning',
  });
  console.log(`  ${relative(root, outdir)}/{dashboard,inspector}.{js,css}`);
}

async function main() {
  const names = functionNames();
  if (names.length === 0) throw new Error(`no functions/<name>/handler.ts found under ${functionsDir}`);
  mkdirSync(distDir, { recursive: true });
  const started = Date.now();
  await checkManifest();
  const results = [];
  for (const name of names) {
    results.push(await bundle(name));
    const last = results[results.length - 1];
    console.log(
      `  ${relative(root, last.zipPath).padEnd(24)} ${(last.bytes / 1024).toFixed(0).padStart(6)} KiB  sha256:${last.sha256.slice(0, 16)}`,
    );
  }
  await bundleBackend();
  await bundleDashboard();
  console.log(
    `built ${results.length} functions, the backend and the dashboard in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.error(`build failed: ${err.message}`);
    process.exit(1);
  });
}
