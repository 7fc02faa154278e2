/**
 * The hashicorp/aws provider schema vendored under test/terraform/schema/ (see PROVENANCE.md there):
 * arguments, nested blocks and readable attributes of the resource and data types the stack uses,
 * and the names of every other type of the provider.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SchemaNode {
  /** Argument name → 1 when required, 0 when optional. */
  args: Record<string, 0 | 1>;
  blocks: Record<string, SchemaNode & { required?: boolean }>;
  /** Attributes readable in a reference (top-level nodes only). */
  attrs?: string[];
}

export interface ProviderSchema {
  provider: { name: string; version: string };
  generatedFrom: string;
  resourceTypes: string[];
  dataTypes: string[];
  resource: Record<string, SchemaNode>;
  data: Record<string, SchemaNode>;
}

export type SchemaKind = 'resource' | 'data';

export const SCHEMA_FILE = join('test', 'terraform', 'schema', 'aws-provider-6.25.0.subset.json');

/** Resources of Terraform's built-in provider, which the AWS schema does not hold. */
const BUILTIN: Record<SchemaKind, Record<string, SchemaNode>> = {
  resource: {
    terraform_data: {
      args: { input: 0, triggers_replace: 0 },
      blocks: {},
      attrs: ['id', 'input', 'output', 'triggers_replace'],
    },
  },
  data: {
    terraform_remote_state: {
      args: { backend: 1, config: 0, defaults: 0, workspace: 0 },
      blocks: {},
      attrs: ['backend', 'config', 'defaults', 'outputs', 'workspace'],
    },
  },
};

export class Schema {
  private readonly known: Record<SchemaKind, ReadonlySet<string>>;

  constructor(readonly raw: ProviderSchema) {
    this.known = { resource: new Set(raw.resourceTypes), data: new Set(raw.dataTypes) };
  }

  /** Reads the vendored subset; `root` is the repository root. */
  static load(root: string, file = SCHEMA_FILE): Schema {
    return new Schema(JSON.parse(readFileSync(join(root, file), 'utf8')) as ProviderSchema);
  }

  get label(): string {
    return `${this.raw.provider.name.replace('registry.terraform.io/', '')} ${this.raw.provider.version}`;
  }

  /** The type's schema, or undefined when the type is unknown or not vendored. */
  node(kind: SchemaKind, type: string): SchemaNode | undefined {
    return BUILTIN[kind][type] ?? this.raw[kind][type];
  }

  /** True when the provider (or Terraform itself) has this type, vendored or not. */
  exists(kind: SchemaKind, type: string): boolean {
    return BUILTIN[kind][type] !== undefined || this.known[kind].has(type);
  }
}

/** Names readable on an instance: attributes, arguments and nested blocks (e.g. `block[0].attr`). */
export function readableNames(node: SchemaNode): Set<string> {
  return new Set([...(node.attrs ?? []), ...Object.keys(node.args), ...Object.keys(node.blocks), 'id']);
}
