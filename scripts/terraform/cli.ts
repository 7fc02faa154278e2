/**
 * Offline Terraform tooling, run with tsx from the repository root:
 *
 *   tsx scripts/terraform/cli.ts check [dir...]     checker findings (default dir: terraform/); exit 1 on any
 *   tsx scripts/terraform/cli.ts fmt [--check] [dir...]   lay out .tf/.tfvars with `terraform fmt` (the binary
 *                                                   when it is on the PATH, else hcl-tools)
 *   tsx scripts/terraform/cli.ts docs [--check]     regenerate the inputs/outputs tables of the READMEs
 *   tsx scripts/terraform/cli.ts contract [--check] write the module's backend-contract.json from
 *                                                   shared/backend/contract.ts
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { CONTRACT_COMMAND, CONTRACT_FILE, renderBackendContract } from './backend-contract.js';
import { checkTree, formatFinding, RULES } from './check.js';
import { docsStatus, REFRESH_COMMAND, writeDocs } from './docs.js';
import { defaultFormatter } from './format.js';
import { Schema } from './schema.js';

const root = resolve(dirname(process.argv[1] ?? '.'), '..', '..');

function terraformFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (name.startsWith('.') || name === 'node_modules') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...terraformFiles(path));
    else if (name.endsWith('.tf') || name.endsWith('.tfvars')) out.push(path);
  }
  return out;
}

async function check(dirs: string[]): Promise<number> {
  const schema = Schema.load(root);
  let total = 0;
  for (const dir of dirs) {
    const findings = await checkTree(resolve(dir), { schema, baseDir: root });
    for (const finding of findings) console.log(formatFinding(finding));
    total += findings.length;
  }
  console.log(
    total === 0
      ? `terraform check: no findings (${Object.keys(RULES).length} rules, ${schema.label} schema)`
      : `terraform check: ${total} finding(s)`,
  );
  return total === 0 ? 0 : 1;
}

async function fmt(dirs: string[], checkOnly: boolean): Promise<number> {
  const formatter = defaultFormatter();
  console.log(`formatting with ${formatter.name}`);
  let changed = 0;
  for (const file of dirs.flatMap((dir) => terraformFiles(resolve(dir)))) {
    const source = readFileSync(file, 'utf8');
    const formatted = await formatter.format(source);
    if (formatted === source) continue;
    changed++;
    console.log(`${checkOnly ? 'not formatted' : 'formatted'}: ${relative(root, file)}`);
    if (!checkOnly) writeFileSync(file, formatted);
  }
  return checkOnly && changed > 0 ? 1 : 0;
}

async function docs(checkOnly: boolean): Promise<number> {
  if (!checkOnly) {
    const written = await writeDocs(root);
    for (const path of written) console.log(`updated ${relative(root, path)}`);
    if (written.length === 0) console.log('Terraform READMEs are up to date');
    return 0;
  }
  const stale = (await docsStatus(root)).filter((status) => status.current !== status.expected);
  for (const status of stale) console.log(`stale: ${relative(root, status.readme)} (run ${REFRESH_COMMAND})`);
  if (stale.length === 0) console.log('Terraform READMEs are up to date');
  return stale.length === 0 ? 0 : 1;
}

function contract(checkOnly: boolean): number {
  const path = join(root, CONTRACT_FILE);
  const expected = renderBackendContract();
  let current: string | undefined;
  try {
    current = readFileSync(path, 'utf8');
  } catch {
    current = undefined;
  }
  if (current === expected) {
    console.log(`${CONTRACT_FILE} is up to date`);
    return 0;
  }
  if (checkOnly) {
    console.log(`stale: ${CONTRACT_FILE} (run ${CONTRACT_COMMAND})`);
    return 1;
  }
  writeFileSync(path, expected);
  console.log(`updated ${CONTRACT_FILE}`);
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const checkOnly = rest.includes('--check');
  const dirs = rest.filter((arg) => !arg.startsWith('--'));
  const targets = dirs.length > 0 ? dirs : [join(root, 'terraform')];
  switch (command) {
    case 'check':
      return check(targets);
    case 'fmt':
      return fmt(targets, checkOnly);
    case 'docs':
      return docs(checkOnly);
    case 'contract':
      return contract(checkOnly);
    default:
      console.error(
        'usage: tsx scripts/terraform/cli.ts check [dir...] | fmt [--check] [dir...] | docs [--check] | contract [--check]',
      );
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  },
);
