// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the stand-in terraform is a bash script
/**
 * `make plan` and `make apply` agree about the plan file: scripts/terraform/tf.sh run in a copy of the
 * stack's layout, with a stand-in `terraform` first on the PATH that records its arguments (and writes
 * the plan file `-out` names), so no provider, backend or AWS is needed.
 */
import { spawnSync } from 'node:child_process';
import {
  appendFileSync,
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './stack.js';

let work: string;
const log = () => join(work, 'terraform.log');
const calls = (): string[][] =>
  existsSync(log())
    ? readFileSync(log(), 'utf8')
        .trim()
        .split('\n')
        .map((line) => line.split(' '))
    : [];

beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'fanout-tfsh-'));
  mkdirSync(join(work, 'scripts', 'terraform'), { recursive: true });
  copyFileSync(join(repoRoot, 'scripts/terraform/tf.sh'), join(work, 'scripts/terraform/tf.sh'));
  mkdirSync(join(work, 'terraform', 'envs'), { recursive: true });
  writeFileSync(join(work, 'terraform/main.tf'), 'locals {}\n');
  writeFileSync(join(work, 'terraform/envs/dev.tfvars'), 'region = "eu-west-1"\n');
  writeFileSync(
    join(work, 'terraform/envs/dev.s3.tfbackend'),
    'bucket = "state"\nkey = "fanout/dev/terraform.tfstate"\nregion = "eu-west-1"\n',
  );
  mkdirSync(join(work, 'dist'));
  writeFileSync(join(work, 'dist/fanout.zip'), 'bundle');
  mkdirSync(join(work, 'bin'));
  // Records every call; `plan -out=F` writes F in the -chdir directory, as terraform does.
  const fake = [
    '#!/usr/bin/env bash',
    `echo "$*" >> "${log()}"`,
    'dir=.',
    'for arg in "$@"; do',
    '  case $arg in -chdir=*) dir=${arg#-chdir=} ;; -out=*) echo plan > "$dir/${arg#-out=}" ;; esac',
    'done',
  ].join('\n');
  writeFileSync(join(work, 'bin/terraform'), `${fake}\n`);
  chmodSync(join(work, 'bin/terraform'), 0o755);
});

afterEach(() => rmSync(work, { recursive: true, force: true }));

function tf(command: 'plan' | 'apply') {
  return spawnSync('bash', [join(work, 'scripts/terraform/tf.sh'), command, 'dev'], {
    cwd: work,
    encoding: 'utf8',
    timeout: 20_000,
    env: {
      PATH: `${join(work, 'bin')}:${process.env.PATH ?? ''}`,
      TF_VAR_auth_jwt_secret: 'x'.repeat(32),
    },
  });
}

const applies = () => calls().filter((args) => args.includes('apply'));

it('applies the plan make plan saved, once, when nothing it was made from has changed', () => {
  expect(tf('plan').status).toBe(0);
  expect(existsSync(join(work, 'terraform/dev.tfplan'))).toBe(true);
  const applied = tf('apply');
  expect(applied.status).toBe(0);
  expect(applies()).toEqual([['-chdir=terraform', 'apply', '-input=false', 'dev.tfplan']]);
  // Applied once: the next apply plans again.
  expect(existsSync(join(work, 'terraform/dev.tfplan'))).toBe(false);
  expect(tf('apply').status).toBe(0);
  expect(applies()[1]).toEqual(['-chdir=terraform', 'apply', '-var-file=envs/dev.tfvars']);
});

it.each([
  ['a Terraform file', 'terraform/main.tf'],
  ['the tfvars', 'terraform/envs/dev.tfvars'],
  ['a bundle', 'dist/fanout.zip'],
])('refuses a saved plan that is stale because %s changed, applying nothing', (_, file) => {
  expect(tf('plan').status).toBe(0);
  appendFileSync(join(work, file), '# changed\n');
  const applied = tf('apply');
  expect(applied.status).not.toBe(0);
  expect(applied.stderr).toContain('terraform/dev.tfplan is stale');
  expect(applied.stderr).toContain("Run 'make plan ENV=dev' again");
  expect(applies()).toEqual([]);
});

it('plans and applies in one go, asking first, when no plan was saved', () => {
  expect(tf('apply').status).toBe(0);
  expect(applies()).toEqual([['-chdir=terraform', 'apply', '-var-file=envs/dev.tfvars']]);
});
