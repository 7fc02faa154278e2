/** The parsed Terraform stack, and accessors the policy tests share. */
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  evaluate,
  moduleScope,
  type Scope,
  toJson,
  type Value,
  withBindings,
} from '../../scripts/terraform/evaluate.js';
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
  /** `data.aws_iam_policy_document.<name>`, or `...<name>["<key>"]` for an instance of a for_each. */
  document: string;
  /** The for_each key of the document's instance (a function's name), when it has one. */
  key?: string;
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

/** The instances of a block: one without `each`, or one per key of its for_each. */
export function instances(scope: Scope, body: JsonObject): { key?: string; scope: Scope }[] {
  if (body.for_each === undefined) return [{ scope }];
  const forEach = evaluate(body.for_each, scope);
  const entries: [string, Value][] = Array.isArray(forEach)
    ? forEach.map((item) => [String(item), item])
    : Object.entries(asObject(toJson(forEach), 'for_each')).map(([key]) => [
        key,
        (forEach as Record<string, Value>)[key] ?? null,
      ]);
  return entries.map(([key, value]) => ({ key, scope: withBindings(scope, { each: { key, value } }) }));
}

/** The nested blocks `name` of a body, evaluated: the literal ones, then those its `dynamic` makes. */
export function expandBlocks(body: JsonObject, name: string, scope: Scope): JsonObject[] {
  const literal = isBlockList(body[name]) ? body[name] : [];
  const out = literal.map((block) => asObject(toJson(evaluate(block, scope)), name));
  const dynamic = isObject(body.dynamic) ? body.dynamic[name] : undefined;
  for (const generator of isBlockList(dynamic) ? dynamic : []) {
    const iterator = expression(generator.iterator) ?? name;
    const content = isBlockList(generator.content) ? generator.content[0] : undefined;
    const forEach = evaluate(generator.for_each, scope);
    const items: [Value, Value][] = Array.isArray(forEach)
      ? forEach.map((item, index) => [index, item])
      : Object.entries(forEach as Record<string, Value>);
    for (const [key, value] of items) {
      const inner = withBindings(scope, { [iterator]: { key, value } });
      out.push(asObject(toJson(evaluate(content ?? {}, inner)), `dynamic "${name}"`));
    }
  }
  return out;
}

/** Every statement of every aws_iam_policy_document (each instance of each) in the given modules. */
export function statements(modules: TfModule[]): Statement[] {
  const out: Statement[] = [];
  for (const module of modules) {
    const scope = moduleScope(module);
    for (const block of twoLabelBlocks(module, 'data')) {
      const [type, name] = block.labels;
      if (type !== 'aws_iam_policy_document') continue;
      for (const instance of instances(scope, block.body)) {
        const suffix = instance.key === undefined ? '' : `[${JSON.stringify(instance.key)}]`;
        for (const statement of expandBlocks(block.body, 'statement', instance.scope)) {
          const principals = isBlockList(statement.principals) ? statement.principals : [];
          const conditions = isBlockList(statement.condition) ? statement.condition : [];
          out.push({
            document: `data.aws_iam_policy_document.${name}${suffix}`,
            ...(instance.key === undefined ? {} : { key: instance.key }),
            module: module.dir,
            ...(typeof statement.sid === 'string' ? { sid: statement.sid } : {}),
            effect: typeof statement.effect === 'string' ? statement.effect : 'Allow',
            actions: strings(statement.actions),
            notActions: strings(statement.not_actions),
            resources: strings(statement.resources),
            notResources: strings(statement.not_resources),
            principals: principals.map((p) => ({
              type: String(p.type),
              identifiers: strings(p.identifiers),
            })),
            conditions: conditions.map((c) => ({
              test: String(c.test),
              variable: String(c.variable),
              values: strings(c.values),
            })),
          });
        }
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
