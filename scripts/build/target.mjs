// The Node version the bundles are compiled for, from the one place the Lambda runtime is written:
// functions.json's "runtime", which Terraform deploys (`runtime = local.manifest.runtime`). A bundle
// built for a newer Node than the runtime could use syntax the runtime cannot parse; one built for an
// older one carries needless down-levelling.
import { readFileSync } from 'node:fs';

const MANIFEST = new URL('../../terraform/modules/fanout/functions.json', import.meta.url);

/** The Lambda runtime functions.json names, e.g. `nodejs22.x`. */
export function lambdaRuntime() {
  return JSON.parse(readFileSync(MANIFEST, 'utf8')).runtime;
}

/** esbuild's target for a Lambda runtime: `nodejs22.x` → `node22`. */
export function esbuildTarget(runtime) {
  const match = /^nodejs(\d+)\.x$/.exec(String(runtime));
  if (!match)
    throw new Error(
      `functions.json: "runtime" must be a Lambda Node.js runtime (nodejsNN.x), got ${runtime}`,
    );
  return `node${match[1]}`;
}
