/**
 * Offline Terraform checker: what `terraform fmt -check` and most of `terraform validate` would
 * report, without providers. Each `.tf` file is parsed with @cdktf/hcl2json, its layout compared
 * with `terraform fmt` (the binary when it is on the PATH, else @cdktf/hcl-tools; see format.ts),
 * and every resource, data source, reference, function call and module call checked against the
 * vendored hashicorp/aws schema and the module's own declarations. It cannot check values, types
 * or anything only a plan knows.
 */
import { existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import {
  analyze,
  attributeAfter,
  INDEX,
  isTemplate,
  type Reference,
  SPLAT,
  soleExpression,
} from './expressions.js';
import { defaultFormatter, type Formatter } from './format.js';
import { TERRAFORM_FUNCTIONS } from './functions.js';
import {
  type Block,
  blockLine,
  escapeRegExp,
  isBlockList,
  isObject,
  type Json,
  type JsonObject,
  lineOf,
  loadModule,
  localValues,
  moduleDirectories,
  oneLabelBlocks,
  type TfFile,
  type TfModule,
  twoLabelBlocks,
} from './hcl.js';
import { readableNames, type Schema, type SchemaKind, type SchemaNode } from './schema.js';

export const RULES = {
  parse: 'the file is not valid HCL',
  format: 'the file is not laid out as `terraform fmt` lays it out (the binary, or hcl-tools without one)',
  'unknown-resource-type': 'a resource type hashicorp/aws 6.25.0 does not have',
  'unknown-data-type': 'a data source type hashicorp/aws 6.25.0 does not have',
  'schema-not-vendored':
    'a real type whose schema is not vendored yet (run scripts/terraform/vendor-schema.mjs)',
  'unknown-argument': 'an argument or block the type does not have',
  'block-as-argument': 'a nested block written as an argument (`x = {...}` instead of `x {...}`)',
  'missing-required-argument': 'a required argument, block or module input left out',
  'unknown-attribute': 'a reference to an attribute the type does not export',
  'instance-key': 'an index missing on a resource with count/for_each, or present on one without',
  'dangling-reference': 'a reference to a resource, data source, variable, local or module not declared here',
  'unknown-function': 'a function that is not a Terraform 1.5 built-in',
  'unknown-module-input': 'an argument of a module call that the module has no variable for',
  'unknown-module-output': 'a reference to an output the called module does not have',
  'variable-without-type': 'a variable without `type`',
  'variable-without-description': 'a variable without `description`',
  'output-without-description': 'an output without `description`',
  'undeclared-variable': 'a value in a .tfvars file for a variable the module does not declare',
  'unread-attribute':
    'a .tfvars attribute of a variable read attribute by attribute (`var.x.y`) that nothing reads',
  'missing-file':
    'a file the module reads from `path.module` by a literal name (file(), templatefile(), ...) that is not there',
} as const;

/**
 * A read of a file named relative to the module, `file("${path.module}/backend-contract.json")` and
 * the like: only such literal names can be checked before plan (a bundle under var.artifacts_dir
 * exists only after `make build`). Terraform itself fails on a missing one only at plan.
 */
const MODULE_FILE_READ =
  /\b(file|templatefile|filebase64|filebase64sha256|filebase64sha512|filemd5|filesha1|filesha256|filesha512)\(\s*"\$\{path\.module\}\/([^"$]+)"/g;

export type RuleId = keyof typeof RULES;

export interface Finding {
  /** Path relative to the checked root. */
  file: string;
  line?: number;
  rule: RuleId;
  message: string;
}

export interface CheckOptions {
  schema: Schema;
  /** Findings name files relative to this directory (default: the checked directory). */
  baseDir?: string;
  /** How files should be laid out (default: terraform fmt when on the PATH, else hcl-tools). */
  formatter?: Formatter;
}

export function formatFinding(finding: Finding): string {
  const where = finding.line === undefined ? finding.file : `${finding.file}:${finding.line}`;
  return `${where}: [${finding.rule}] ${finding.message}`;
}

const RESOURCE_META = new Set([
  'count',
  'for_each',
  'depends_on',
  'provider',
  'lifecycle',
  'provisioner',
  'connection',
]);
const DATA_META = new Set(['count', 'for_each', 'depends_on', 'provider', 'lifecycle']);
const NO_META = new Set<string>();
const MODULE_META = new Set(['source', 'version', 'count', 'for_each', 'providers', 'depends_on']);
const BUILTIN_ROOTS = new Set(['each', 'count', 'self', 'path', 'terraform']);

interface ModuleInterface {
  variables: Map<string, { required: boolean }>;
  outputs: Set<string>;
}

interface Where {
  file: TfFile;
  line?: number;
}

const isLocalSource = (source: string): boolean => source.startsWith('./') || source.startsWith('../');

async function moduleInterface(dir: string): Promise<ModuleInterface | undefined> {
  const module = await loadModule(dir);
  if (module.files.length === 0) return undefined;
  const variables = new Map<string, { required: boolean }>();
  for (const block of oneLabelBlocks(module, 'variable')) {
    variables.set(block.labels[0] as string, { required: !('default' in block.body) });
  }
  return {
    variables,
    outputs: new Set(oneLabelBlocks(module, 'output').map((block) => block.labels[0] as string)),
  };
}

class ModuleChecker {
  private readonly findings: Finding[] = [];
  private readonly resources = new Map<string, Block>();
  private readonly dataSources = new Map<string, Block>();
  private readonly variables = new Set<string>();
  private readonly locals = new Set<string>();
  private readonly modules = new Map<string, ModuleInterface | undefined>();
  /** How each variable is read: attribute by attribute (`var.x.y`), or whole somewhere. */
  private readonly variableUse = new Map<string, { whole: boolean; attributes: Set<string> }>();
  /** The variable whose own validation is being scanned: reading itself there says nothing. */
  private validating: string | undefined;

  constructor(
    private readonly module: TfModule,
    private readonly schema: Schema,
    private readonly baseDir: string,
    private readonly formatter: Formatter,
  ) {}

  private report(file: TfFile, rule: RuleId, message: string, line?: number): void {
    const path = relative(this.baseDir, file.path) || file.name;
    const duplicate = this.findings.some(
      (f) => f.file === path && f.rule === rule && f.message === message && f.line === line,
    );
    if (!duplicate)
      this.findings.push({ file: path, rule, message, ...(line === undefined ? {} : { line }) });
  }

  /** hcl2json errors read `parse config: [main.tf:2,9-3,1: Invalid expression; ...]`. */
  private reportParseError(file: TfFile, error: string): void {
    const line = new RegExp(`${escapeRegExp(file.name)}:(\\d+),`).exec(error)?.[1];
    const message = error
      .replace(/^parse config: \[|\]$/g, '')
      .replace(/\s+/g, ' ')
      .trim();
    this.report(file, 'parse', message, line === undefined ? undefined : Number(line));
  }

  async run(): Promise<Finding[]> {
    // All at once: terraform fmt is a process per file.
    const layouts = await Promise.all(
      this.module.files.map((file) =>
        file.error === undefined ? this.formatter.format(file.source) : undefined,
      ),
    );
    for (const [position, file] of this.module.files.entries()) {
      if (file.error !== undefined) {
        this.reportParseError(file, file.error);
        continue;
      }
      const formatted = layouts[position];
      if (formatted !== undefined && formatted !== file.source) {
        const expected = formatted.split('\n');
        const actual = file.source.split('\n');
        const index = actual.findIndex((line, i) => line !== expected[i]);
        const line = index < 0 ? actual.length : index + 1;
        this.report(file, 'format', 'not formatted (make tf-fmt rewrites it)', line);
      }
    }
    this.index();
    await this.resolveModules();
    this.checkVariables();
    this.checkOutputs();
    for (const local of localValues(this.module)) {
      this.scan(local.value, new Set(), {
        file: local.file,
        line: lineOf(local.file.source, new RegExp(`^\\s*${escapeRegExp(local.name)}\\s*=`)),
      });
    }
    for (const block of oneLabelBlocks(this.module, 'provider')) {
      const where = { file: block.file, line: blockLine(block.file, 'provider', block.labels) };
      for (const [key, value] of Object.entries(block.body))
        if (key !== 'alias') this.scan(value, new Set(), where);
    }
    for (const block of twoLabelBlocks(this.module, 'resource')) this.checkTyped('resource', block);
    for (const block of twoLabelBlocks(this.module, 'data')) this.checkTyped('data', block);
    await this.checkTfvars();
    return this.findings;
  }

  private index(): void {
    for (const block of twoLabelBlocks(this.module, 'resource'))
      this.resources.set(block.labels.join('.'), block);
    for (const block of twoLabelBlocks(this.module, 'data'))
      this.dataSources.set(block.labels.join('.'), block);
    for (const block of oneLabelBlocks(this.module, 'variable'))
      this.variables.add(block.labels[0] as string);
    for (const local of localValues(this.module)) this.locals.add(local.name);
  }

  private async resolveModules(): Promise<void> {
    for (const block of oneLabelBlocks(this.module, 'module')) {
      const name = block.labels[0] as string;
      const line = blockLine(block.file, 'module', block.labels);
      const where = { file: block.file, line };
      const source = block.body.source;
      let iface: ModuleInterface | undefined;
      if (typeof source !== 'string') {
        this.report(
          block.file,
          'missing-required-argument',
          `module.${name}: missing required argument "source"`,
          line,
        );
      } else if (isLocalSource(source)) {
        const dir = resolve(this.module.dir, source);
        iface = existsSync(dir) ? await moduleInterface(dir) : undefined;
        if (!iface) {
          this.report(
            block.file,
            'dangling-reference',
            `module.${name}: no Terraform module at "${source}"`,
            line,
          );
        }
      }
      this.modules.set(name, iface);
      for (const [key, value] of Object.entries(block.body)) {
        if (key === 'source' || key === 'version' || key === 'providers') continue;
        if (!MODULE_META.has(key) && iface && !iface.variables.has(key)) {
          this.report(
            block.file,
            'unknown-module-input',
            `module.${name}: the module at "${String(source)}" has no variable "${key}"`,
            lineOf(block.file.source, new RegExp(`^\\s*${escapeRegExp(key)}\\s*=`), line) ?? line,
          );
        }
        this.scan(value, new Set(), where);
      }
      if (iface) {
        for (const [variable, { required }] of iface.variables) {
          if (required && !(variable in block.body)) {
            this.report(
              block.file,
              'missing-required-argument',
              `module.${name}: missing required input "${variable}" (the module's variable has no default)`,
              line,
            );
          }
        }
      }
    }
  }

  private checkVariables(): void {
    for (const block of oneLabelBlocks(this.module, 'variable')) {
      const name = block.labels[0] as string;
      const line = blockLine(block.file, 'variable', block.labels);
      if (!('type' in block.body)) {
        this.report(block.file, 'variable-without-type', `variable "${name}" has no type`, line);
      }
      const description = block.body.description;
      if (typeof description !== 'string' || description.trim() === '') {
        this.report(
          block.file,
          'variable-without-description',
          `variable "${name}" has no description`,
          line,
        );
      }
      const validations = block.body.validation;
      if (isBlockList(validations)) {
        this.validating = name;
        for (const validation of validations) this.scan(validation, new Set(), { file: block.file, line });
        this.validating = undefined;
      }
    }
  }

  private checkOutputs(): void {
    for (const block of oneLabelBlocks(this.module, 'output')) {
      const name = block.labels[0] as string;
      const line = blockLine(block.file, 'output', block.labels);
      const description = block.body.description;
      if (typeof description !== 'string' || description.trim() === '') {
        this.report(block.file, 'output-without-description', `output "${name}" has no description`, line);
      }
      for (const [key, value] of Object.entries(block.body)) {
        if (key !== 'description') this.scan(value, new Set(), { file: block.file, line });
      }
    }
  }

  private checkTyped(kind: SchemaKind, block: Block): void {
    const [type, name] = block.labels as [string, string];
    const line = blockLine(block.file, kind, block.labels);
    const where = { file: block.file, line };
    const label = kind === 'data' ? `data.${type}.${name}` : `${type}.${name}`;
    const meta = kind === 'data' ? DATA_META : RESOURCE_META;
    if (!this.schema.exists(kind, type)) {
      const rule = kind === 'data' ? 'unknown-data-type' : 'unknown-resource-type';
      this.report(block.file, rule, `${label}: ${this.schema.label} has no ${kind} type "${type}"`, line);
      this.scan(block.body, new Set(), where);
      return;
    }
    const node = this.schema.node(kind, type);
    if (!node) {
      this.report(
        block.file,
        'schema-not-vendored',
        `${label}: the schema of "${type}" is not vendored; run scripts/terraform/vendor-schema.mjs`,
        line,
      );
      this.scan(block.body, new Set(), where);
      return;
    }
    this.checkBody(block.body, node, label, where, new Set(), meta);
  }

  private argumentLine(where: Where, key: string): number | undefined {
    return (
      lineOf(where.file.source, new RegExp(`^\\s*${escapeRegExp(key)}\\s*(=|\\{)`), where.line) ?? where.line
    );
  }

  private checkBody(
    body: JsonObject,
    node: SchemaNode,
    path: string,
    where: Where,
    bound: ReadonlySet<string>,
    meta: ReadonlySet<string>,
  ): void {
    const dynamicBlocks = new Set<string>();
    for (const [key, value] of Object.entries(body)) {
      if (meta.has(key)) {
        this.checkMeta(key, value, where, bound);
      } else if (key === 'dynamic') {
        for (const name of this.checkDynamic(value, node, path, where, bound)) dynamicBlocks.add(name);
      } else if (key in node.args) {
        this.scan(value, bound, where);
      } else if (node.blocks[key] !== undefined) {
        const blockNode = node.blocks[key];
        const line = this.argumentLine(where, key);
        if (!isBlockList(value)) {
          this.report(
            where.file,
            'block-as-argument',
            `${path}: "${key}" is a nested block; write \`${key} { ... }\`, not \`${key} = ...\``,
            line,
          );
          this.scan(value, bound, where);
          continue;
        }
        for (const item of value)
          this.checkBody(item, blockNode, `${path}.${key}`, { ...where, line }, bound, NO_META);
      } else {
        this.report(
          where.file,
          'unknown-argument',
          `${path}: unknown argument or block "${key}" (not in ${this.schema.label})`,
          this.argumentLine(where, key),
        );
        this.scan(value, bound, where);
      }
    }
    for (const [arg, required] of Object.entries(node.args)) {
      if (required === 1 && !(arg in body)) {
        this.report(
          where.file,
          'missing-required-argument',
          `${path}: missing required argument "${arg}"`,
          where.line,
        );
      }
    }
    for (const [name, blockNode] of Object.entries(node.blocks)) {
      if (blockNode.required && !(name in body) && !dynamicBlocks.has(name)) {
        this.report(
          where.file,
          'missing-required-argument',
          `${path}: missing required block "${name}"`,
          where.line,
        );
      }
    }
  }

  private checkMeta(key: string, value: Json, where: Where, bound: ReadonlySet<string>): void {
    if (key === 'provider') return;
    if (key !== 'lifecycle') {
      this.scan(value, bound, where);
      return;
    }
    if (!isBlockList(value)) return;
    for (const lifecycle of value) {
      // ignore_changes lists attribute names, not references.
      for (const part of ['replace_triggered_by', 'precondition', 'postcondition']) {
        const content = lifecycle[part];
        if (content !== undefined) this.scan(content, bound, where);
      }
    }
  }

  /** Checks `dynamic "name" { for_each, iterator, content {} }` blocks; returns the names generated. */
  private checkDynamic(
    value: Json,
    node: SchemaNode,
    path: string,
    where: Where,
    bound: ReadonlySet<string>,
  ): string[] {
    if (!isObject(value)) return [];
    const names: string[] = [];
    for (const [name, list] of Object.entries(value)) {
      names.push(name);
      if (!isBlockList(list)) continue;
      const line = lineOf(
        where.file.source,
        new RegExp(`^\\s*dynamic\\s+"${escapeRegExp(name)}"`),
        where.line,
      );
      for (const dynamic of list) {
        const { for_each: forEach, iterator, labels, content } = dynamic;
        if (forEach !== undefined) this.scan(forEach, bound, where);
        if (labels !== undefined) this.scan(labels, bound, where);
        const blockNode = node.blocks[name];
        if (!blockNode) {
          this.report(
            where.file,
            'unknown-argument',
            `${path}: dynamic "${name}" is not a nested block of the type (not in ${this.schema.label})`,
            line,
          );
          continue;
        }
        const iteratorName = typeof iterator === 'string' ? (soleExpression(iterator) ?? iterator) : name;
        const inner = new Set([...bound, iteratorName]);
        if (isBlockList(content)) {
          for (const item of content) {
            this.checkBody(item, blockNode, `${path}.${name}`, { ...where, line }, inner, NO_META);
          }
        }
      }
    }
    return names;
  }

  /** Checks every reference and function call in a value (strings, lists, objects, object keys). */
  private scan(value: Json, bound: ReadonlySet<string>, where: Where): void {
    if (typeof value === 'string') {
      this.scanString(value, bound, where);
    } else if (Array.isArray(value)) {
      for (const item of value) this.scan(item, bound, where);
    } else if (isObject(value)) {
      for (const [key, item] of Object.entries(value)) {
        if (isTemplate(key)) this.scanString(key, bound, where);
        this.scan(item, bound, where);
      }
    }
  }

  private scanString(value: string, bound: ReadonlySet<string>, where: Where): void {
    if (!isTemplate(value)) return;
    const { references, functions } = analyze(value, bound);
    for (const [, fn, name] of value.matchAll(MODULE_FILE_READ)) {
      if (name === undefined || existsSync(join(where.file.path, '..', name))) continue;
      this.report(
        where.file,
        'missing-file',
        `${fn}() reads \${path.module}/${name}, which is not in the module's directory`,
        lineOf(where.file.source, name, where.line) ?? where.line,
      );
    }
    for (const fn of functions) {
      if (!TERRAFORM_FUNCTIONS.has(fn)) {
        this.report(
          where.file,
          'unknown-function',
          `${fn}() is not a Terraform 1.5 built-in function`,
          lineOf(where.file.source, `${fn}(`, where.line) ?? where.line,
        );
      }
    }
    for (const reference of references) this.checkReference(reference, where);
  }

  private checkReference(reference: Reference, where: Where): void {
    const { steps, text } = reference;
    const [root, second] = steps as [string, ...string[]];
    const line = lineOf(where.file.source, text, where.line) ?? where.line;
    const dangling = (message: string): void => this.report(where.file, 'dangling-reference', message, line);
    const isName = (step: string | undefined): step is string =>
      step !== undefined && step !== INDEX && step !== SPLAT;

    if (BUILTIN_ROOTS.has(root)) return;
    if (root === 'var') {
      if (!isName(second) || !this.variables.has(second)) {
        dangling(`${text}: no variable "${second}" is declared`);
      } else if (second !== this.validating) {
        const use = this.variableUse.get(second) ?? { whole: false, attributes: new Set<string>() };
        const attribute = steps[2];
        if (isName(attribute)) use.attributes.add(attribute);
        else use.whole = true;
        this.variableUse.set(second, use);
      }
      return;
    }
    if (root === 'local') {
      if (!isName(second) || !this.locals.has(second))
        dangling(`${text}: no local value "${second}" is declared`);
      return;
    }
    if (root === 'module') {
      if (!isName(second) || !this.modules.has(second)) {
        dangling(`${text}: no module "${second}" is called here`);
        return;
      }
      const iface = this.modules.get(second);
      const output = attributeAfter(steps, 2);
      if (iface && output !== undefined && !iface.outputs.has(output)) {
        this.report(
          where.file,
          'unknown-module-output',
          `${text}: module "${second}" has no output "${output}"`,
          line,
        );
      }
      return;
    }
    if (root === 'data') {
      const [, type, name] = steps;
      if (!isName(type) || !isName(name) || !this.dataSources.has(`${type}.${name}`)) {
        dangling(`${text}: no data source "${type}" "${name}" is declared`);
        return;
      }
      this.checkInstance(
        'data',
        this.dataSources.get(`${type}.${name}`) as Block,
        steps.slice(1),
        text,
        where,
        line,
      );
      return;
    }
    if (!isName(second)) {
      dangling(`${text}: "${root}" is not a variable, local, resource or other name in scope`);
      return;
    }
    const block = this.resources.get(`${root}.${second}`);
    if (!block) {
      dangling(`${text}: no resource "${root}" "${second}" is declared in this module`);
      return;
    }
    this.checkInstance('resource', block, steps, text, where, line);
  }

  /** `steps` starts at the type: [type, name, (index), attribute, ...]. */
  private checkInstance(
    kind: SchemaKind,
    block: Block,
    steps: readonly string[],
    text: string,
    where: Where,
    line: number | undefined,
  ): void {
    const [type] = block.labels as [string, string];
    const label = kind === 'data' ? `data.${block.labels.join('.')}` : block.labels.join('.');
    const repeated = 'count' in block.body || 'for_each' in block.body;
    const next = steps[2];
    if (repeated && next !== undefined && next !== INDEX && next !== SPLAT) {
      const how = 'for_each' in block.body ? 'for_each' : 'count';
      this.report(
        where.file,
        'instance-key',
        `${text}: ${label} has ${how}; pick an instance (${label}[...]) before ".${next}"`,
        line,
      );
      return;
    }
    if (!repeated && next === INDEX) {
      this.report(
        where.file,
        'instance-key',
        `${text}: ${label} has neither count nor for_each; drop the index`,
        line,
      );
      return;
    }
    const attribute = attributeAfter(steps, 2);
    const node = this.schema.node(kind, type);
    if (node && attribute !== undefined && !readableNames(node).has(attribute)) {
      this.report(where.file, 'unknown-attribute', `${text}: ${type} has no attribute "${attribute}"`, line);
    }
  }

  /**
   * An object given to a variable the module only ever reads attribute by attribute (the root stack's
   * `fanout`, of type any): an attribute no `var.<name>.<attribute>` reads is a typo Terraform would
   * silently drop.
   */
  private checkUnreadAttributes(file: TfFile, key: string, value: Json): void {
    const use = this.variableUse.get(key);
    if (!isObject(value) || use === undefined || use.whole || use.attributes.size === 0) return;
    const keyLine = lineOf(file.source, new RegExp(`^\\s*${escapeRegExp(key)}\\s*=`));
    for (const attribute of Object.keys(value)) {
      if (use.attributes.has(attribute)) continue;
      this.report(
        file,
        'unread-attribute',
        `${key}.${attribute}: nothing reads var.${key}.${attribute}; the configuration reads ${[...use.attributes].sort().join(', ')}`,
        lineOf(file.source, new RegExp(`^\\s*${escapeRegExp(attribute)}\\s*=`), keyLine),
      );
    }
  }

  /** `*.tfvars` beside the module and in its `envs/` folder: formatted, and only declared variables. */
  private async checkTfvars(): Promise<void> {
    for (const dir of [this.module.dir, join(this.module.dir, 'envs')]) {
      const tfvars = await loadModule(dir, '.tfvars');
      for (const file of tfvars.files) {
        if (file.error !== undefined || !file.json) {
          this.reportParseError(file, file.error ?? 'unreadable');
          continue;
        }
        const formatted = await this.formatter.format(file.source);
        if (formatted !== file.source) this.report(file, 'format', 'not formatted (make tf-fmt rewrites it)');
        for (const [key, value] of Object.entries(file.json)) {
          this.checkUnreadAttributes(file, key, value);
          if (!this.variables.has(key)) {
            this.report(
              file,
              'undeclared-variable',
              `"${key}" is not a variable of ${relative(this.baseDir, this.module.dir) || '.'}`,
              lineOf(file.source, new RegExp(`^\\s*${escapeRegExp(key)}\\s*=`)),
            );
          }
        }
      }
    }
  }
}

/** Checks one module directory (its `.tf` files, and `.tfvars` beside it or in `envs/`). */
export async function checkModule(dir: string, options: CheckOptions): Promise<Finding[]> {
  const module = await loadModule(dir);
  const formatter = options.formatter ?? defaultFormatter();
  return sortFindings(
    await new ModuleChecker(module, options.schema, options.baseDir ?? dir, formatter).run(),
  );
}

/** Checks every module directory under `root` (root stack, modules, examples). */
export async function checkTree(root: string, options: CheckOptions): Promise<Finding[]> {
  const findings: Finding[] = [];
  for (const dir of moduleDirectories(root)) {
    findings.push(...(await checkModule(dir, { ...options, baseDir: options.baseDir ?? root })));
  }
  return sortFindings(findings);
}

function sortFindings(findings: Finding[]): Finding[] {
  return [...findings].sort(
    (a, b) => a.file.localeCompare(b.file) || (a.line ?? 0) - (b.line ?? 0) || a.rule.localeCompare(b.rule),
  );
}
