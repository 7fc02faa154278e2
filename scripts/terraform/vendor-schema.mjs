#!/usr/bin/env node
// Vendors the part of the hashicorp/aws provider schema the offline Terraform checker needs into
// test/terraform/schema/, so the checks never read anything outside the repository at run time.
//
//   node scripts/terraform/vendor-schema.mjs [path/to/aws-provider-schema-6.25.0.json]
//
// The source (default ../shared/terraform/aws-provider-schema-6.25.0.json beside the repository) is a
// compact schema extracted from the jsii assembly of @cdktf/provider-aws@21.22.1. The output keeps:
//   - the full schema (arguments, blocks, attributes) of every resource and data type used under
//     terraform/, plus a few types a change to this stack is likely to reach for (COMMON below);
//   - the names of every other resource and data type, so the checker tells "not a type of the
//     provider" apart from "a real type whose schema is not vendored yet" (rerun this script then).
// Rerun it after adding a resource or data type to the stack; it rewrites PROVENANCE.md too.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const source = process.argv[2] ?? join(root, '..', 'shared', 'terraform', 'aws-provider-schema-6.25.0.json');
const outDir = join(root, 'test', 'terraform', 'schema');
const outFile = join(outDir, 'aws-provider-6.25.0.subset.json');

/** Types likely to be added next to this stack (custom domains, KMS, secrets, dashboards). */
const COMMON = {
  resource: [
    'aws_acm_certificate',
    'aws_apigatewayv2_api_mapping',
    'aws_apigatewayv2_domain_name',
    'aws_cloudwatch_dashboard',
    'aws_kms_alias',
    'aws_kms_key',
    'aws_lambda_alias',
    'aws_route53_record',
    'aws_s3_bucket',
    'aws_secretsmanager_secret',
    'aws_secretsmanager_secret_version',
    'aws_sns_topic_policy',
    'aws_ssm_parameter',
  ],
  data: [
    'aws_caller_identity',
    'aws_iam_policy',
    'aws_kms_key',
    'aws_route53_zone',
    'aws_secretsmanager_secret_version',
    'aws_sns_topic',
    'aws_ssm_parameter',
  ],
};

function tfFiles(dir) {
  const out = [];
  for (const entry of readdirSync(dir).sort()) {
    if (entry === '.terraform') continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...tfFiles(path));
    else if (entry.endsWith('.tf')) out.push(path);
  }
  return out;
}

/** Resource and data types declared in the stack (block headers only: `resource "type" "name" {`). */
function usedTypes() {
  const used = { resource: new Set(COMMON.resource), data: new Set(COMMON.data) };
  const header = /^\s*(resource|data)\s+"([^"]+)"\s+"[^"]+"/gm;
  for (const file of tfFiles(join(root, 'terraform'))) {
    for (const match of readFileSync(file, 'utf8').matchAll(header)) {
      const [, kind, type] = match;
      if (type?.startsWith('aws_')) used[kind].add(type);
    }
  }
  return used;
}

function main() {
  if (!existsSync(source)) {
    console.error(
      `schema source not found: ${source}\nusage: node scripts/terraform/vendor-schema.mjs <schema.json>`,
    );
    process.exit(1);
  }
  const raw = readFileSync(source);
  const schema = JSON.parse(raw.toString('utf8'));
  const used = usedTypes();
  const subset = {
    provider: schema.provider,
    generatedFrom: schema.generatedFrom,
    note: 'Subset of the hashicorp/aws provider schema; see PROVENANCE.md. Regenerate with scripts/terraform/vendor-schema.mjs.',
    resourceTypes: Object.keys(schema.resource).sort(),
    dataTypes: Object.keys(schema.data).sort(),
    resource: {},
    data: {},
  };
  for (const kind of ['resource', 'data']) {
    for (const type of [...used[kind]].sort()) {
      const node = schema[kind][type];
      if (!node) throw new Error(`${kind} type ${type} is not in ${source}`);
      subset[kind][type] = node;
    }
  }
  mkdirSync(outDir, { recursive: true });
  writeFileSync(outFile, `${JSON.stringify(subset, null, 2)}\n`);
  // Keep `biome check .` quiet: let biome lay out the JSON the way it formats every other file.
  const biome = join(root, 'node_modules', '.bin', 'biome');
  if (existsSync(biome)) execFileSync(biome, ['format', '--write', outFile], { stdio: 'ignore' });
  const json = readFileSync(outFile, 'utf8');

  const sha = (buffer) => createHash('sha256').update(buffer).digest('hex');
  const list = (types) => types.map((type) => `\`${type}\``).join(', ');
  const provenance = `# Vendored AWS provider schema (subset)

\`aws-provider-6.25.0.subset.json\` is test data for the offline Terraform checker
(\`scripts/terraform/check.ts\`); nothing else reads it.

- provider: \`${schema.provider.name}\` ${schema.provider.version}
- extracted from: the jsii assembly of the npm package \`${schema.generatedFrom}\` (the last release of
  the CDKTF AWS bindings)
- extracted by: \`gen-aws-provider-schema.js\` (project tooling, run outside this repository) into
  \`aws-provider-schema-6.25.0.json\`, sha256 \`${sha(raw)}\`
- subset written by: \`scripts/terraform/vendor-schema.mjs\` on ${new Date().toISOString().slice(0, 10)},
  sha256 \`${sha(Buffer.from(json))}\`

Shape: \`resource\` and \`data\` map a type to \`{ args: { name: 1 (required) | 0 (optional) }, blocks:
{ name: node (+ required) }, attrs: [readable attributes] }\`; \`resourceTypes\` and \`dataTypes\` list
every type of the provider (${subset.resourceTypes.length} resource types, ${subset.dataTypes.length} data
types), of which only the ones below carry a schema.

Limits (from the source): argument values, enums, types and conflicts are not in it; \`id\` and
\`tags_all\` appear as optional arguments because the bindings expose them; nothing newer than
provider 6.25.0.

Vendored resource types (${Object.keys(subset.resource).length}): ${list(Object.keys(subset.resource))}.

Vendored data types (${Object.keys(subset.data).length}): ${list(Object.keys(subset.data))}.

To add a type: use it under \`terraform/\` (or add it to \`COMMON\` in the script), then run
\`node scripts/terraform/vendor-schema.mjs <path to aws-provider-schema-6.25.0.json>\`.
`;
  writeFileSync(join(outDir, 'PROVENANCE.md'), provenance);
  console.log(
    `wrote ${relative(root, outFile)}: ${Object.keys(subset.resource).length} resource and ${Object.keys(subset.data).length} data schemas`,
  );
}

main();
