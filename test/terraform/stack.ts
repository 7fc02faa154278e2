/** The parsed Terraform stack, and accessors the policy tests share. */
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { soleExpression } from '../../scripts/terraform/expressions.js';
import {
  type Block,
  isBlockList,
  isObject,
  type Json,
  type JsonObject,
  loadModule,
  localValues,
  moduleDirectories,
  oneLabelBlocks,
  plainBlocks,
  type TfModule,
  twoLabelBlocks,
} from '../../scripts/terraform/hcl.js';

export const repoRoot = resolve(__dirname, '..', '..');
export const terraformDir = join(repoRoot, 'terraform');
export const moduleDir = join(terraformDir, 'modules', 'fanout');

export interface Stack {
  /** terraform/modules/fanout */
  module: TfModule;
  /** terraform/ (the root stack) */
  root: TfModule;
  /** Every module directory under terraform/ (root, module, examples). */
  all: TfModule[];
}

export async function loadStack(): Promise<Stack> {
  const all = await Promise.all(moduleDirectories(terraformDir).map((dir) => loadModule(dir)));
  const find = (dir: string): TfModule => {
    const found = all.find((module) => module.dir === dir);
    if (!found) throw new Error(`no Terraform files in ${dir}`);
    return found;
  };
  return { module: find(moduleDir), root: find(terraformDir), all };
}

export function resources(module: TfModule, type: string): Block[] {
  return twoLabelBlocks(module, 'resource').filter((block) => block.labels[0] === type);
}

export function resource(module: TfModule, type: string, name: string): JsonObject {
  const block = resources(module, type).find((b) => b.labels[1] === name);
  if (!block) throw new Error(`no resource ${type}.${name}`);
  return block.body;
}

export function dataSource(module: TfModule, type: string, name: string): JsonObject {
  const block = twoLabelBlocks(module, 'data').find((b) => b.labels[0] === type && b.labels[1] === name);
  if (!block) throw new Error(`no data source ${type}.${name}`);
  return block.body;
}

export function local(module: TfModule, name: string): Json {
  const found = localValues(module).find((value) => value.name === name);
  if (!found) throw new Error(`no local value ${name}`);
  return found.value;
}

export function variable(module: TfModule, name: string): JsonObject {
  const block = oneLabelBlocks(module, 'variable').find((b) => b.labels[0] === name);
  if (!block) throw new Error(`no variable ${name}`);
  return block.body;
}

export function terraformBlock(module: TfModule): JsonObject {
  const block = plainBlocks(module, 'terraform')[0];
  if (!block) throw new Error(`no terraform block in ${module.dir}`);
  return block.body;
}

/** First (only) nested block `name` of a body. */
export function nested(body: JsonObject, name: string): JsonObject {
  const list = body[name];
  if (!isBlockList(list) || !list[0]) throw new Error(`no nested block ${name}`);
  return list[0];
}

export function asObject(value: Json | undefined, what: string): JsonObject {
  if (!isObject(value)) throw new Error(`${what} is not an object: ${JSON.stringify(value)}`);
  return value;
}

export const strings = (value: Json | undefined): string[] =>
  Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];

/** `${var.x}` → `var.x`; a literal stays as it is. */
export const expression = (value: Json | undefined): string | undefined =>
  typeof value === 'string' ? (soleExpression(value) ?? value) : undefined;

export interface Statement {
  /** `data.aws_iam_policy_document.<name>` */
  document: string;
  module: string;
  sid?: string;
  effect: string;
  actions: string[];
  notActions: string[];
  resources: string[];
  notResources: string[];
  principals: { type: string; identifiers: string[] }[];
  conditions: { test: string; variable: string; values: string[] }[];
}

/** Every statement of every aws_iam_policy_document in the given modules. */
export function statements(modules: TfModule[]): Statement[] {
  const out: Statement[] = [];
  for (const module of modules) {
    for (const block of twoLabelBlocks(module, 'data')) {
      const [type, name] = block.labels;
      if (type !== 'aws_iam_policy_document') continue;
      const list = block.body.statement;
      if (!isBlockList(list)) continue;
      for (const statement of list) {
        const principals = isBlockList(statement.principals) ? statement.principals : [];
        const conditions = isBlockList(statement.condition) ? statement.condition : [];
        out.push({
          document: `data.aws_iam_policy_document.${name}`,
          module: module.dir,
          ...(typeof statement.sid === 'string' ? { sid: statement.sid } : {}),
          effect: typeof statement.effect === 'string' ? statement.effect : 'Allow',
          actions: strings(statement.actions),
          notActions: strings(statement.not_actions),
          resources: strings(statement.resources),
          notResources: strings(statement.not_resources),
          principals: principals.map((p) => ({ type: String(p.type), identifiers: strings(p.identifiers) })),
          conditions: conditions.map((c) => ({
            test: String(c.test),
            variable: String(c.variable),
            values: strings(c.values),
          })),
        });
      }
    }
  }
  return out;
}

/** Verbs that only read; anything else (and any wildcard) counts as a write. */
export function isReadOnlyAction(action: string): boolean {
  const verb = action.split(':')[1] ?? '';
  return !verb.includes('*') && /^(Get|List|Describe|BatchGet|Query|Scan|Head|View|Search|Lookup)/.test(verb);
}

/** Function directories with a handler, as scripts/build.mjs finds them. */
export function functionNames(): string[] {
  const dir = join(repoRoot, 'functions');
  return readdirSync(dir)
    .filter((name) => statSync(join(dir, name, 'handler.ts'), { throwIfNoEntry: false })?.isFile())
    .sort();
}
