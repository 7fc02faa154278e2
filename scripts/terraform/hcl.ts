/**
 * Reading Terraform configuration without Terraform: every `.tf` file of a directory parsed with
 * @cdktf/hcl2json (HCL → JSON, WebAssembly), plus accessors for the blocks a checker walks.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from '@cdktf/hcl2json';

export type Json = null | boolean | number | string | Json[] | JsonObject;
export interface JsonObject {
  [key: string]: Json;
}

export interface TfFile {
  /** Absolute path. */
  path: string;
  /** File name within its directory. */
  name: string;
  source: string;
  /** Parsed configuration, or undefined when the file is not valid HCL (see `error`). */
  json?: JsonObject;
  error?: string;
}

export interface TfModule {
  dir: string;
  files: TfFile[];
}

/** A labelled block: `resource "type" "name" {}` has labels [type, name]. */
export interface Block {
  file: TfFile;
  labels: string[];
  body: JsonObject;
}

export const isObject = (value: Json | undefined): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Blocks come out of hcl2json as arrays of objects (one entry per block of that name). */
export const isBlockList = (value: Json | undefined): value is JsonObject[] =>
  Array.isArray(value) && value.every((item) => isObject(item));

/** Parses are slow (Go compiled to WebAssembly) and a module is read by each module calling it. */
const parsed = new Map<string, Promise<JsonObject>>();

function parseCached(name: string, source: string): Promise<JsonObject> {
  const key = `${name}\0${source}`;
  let result = parsed.get(key);
  if (!result) {
    result = parse(name, source) as Promise<JsonObject>;
    parsed.set(key, result);
  }
  return result;
}

export async function parseFile(path: string, name: string, source: string): Promise<TfFile> {
  try {
    // A fresh copy, so that callers may not change what the next caller reads.
    const json = structuredClone(await parseCached(name, source));
    return { path, name, source, json };
  } catch (error) {
    return { path, name, source, error: error instanceof Error ? error.message : String(error) };
  }
}

/** Every `*.tf` file of one directory (a Terraform module is one directory, not a tree). */
export async function loadModule(dir: string, extension = '.tf'): Promise<TfModule> {
  const names = existsSync(dir)
    ? readdirSync(dir)
        .filter((name) => name.endsWith(extension) && statSync(join(dir, name)).isFile())
        .sort()
    : [];
  const files = await Promise.all(
    names.map((name) => parseFile(join(dir, name), name, readFileSync(join(dir, name), 'utf8'))),
  );
  return { dir, files };
}

/** Directories under `root` (itself included) that hold `.tf` files, skipping `.terraform`. */
export function moduleDirectories(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    const entries = readdirSync(dir).sort();
    if (entries.some((name) => name.endsWith('.tf') && statSync(join(dir, name)).isFile())) out.push(dir);
    for (const name of entries) {
      if (name === '.terraform' || name === 'node_modules' || name.startsWith('.')) continue;
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
    }
  };
  walk(root);
  return out;
}

/** Blocks with two labels (`resource`, `data`) of every file. */
export function twoLabelBlocks(module: TfModule, kind: 'resource' | 'data'): Block[] {
  const out: Block[] = [];
  for (const file of module.files) {
    const byType = file.json?.[kind];
    if (!isObject(byType)) continue;
    for (const [type, byName] of Object.entries(byType)) {
      if (!isObject(byName)) continue;
      for (const [name, bodies] of Object.entries(byName)) {
        if (!isBlockList(bodies)) continue;
        for (const body of bodies) out.push({ file, labels: [type, name], body });
      }
    }
  }
  return out;
}

/** Blocks with one label (`variable`, `output`, `module`, `provider`) of every file. */
export function oneLabelBlocks(
  module: TfModule,
  kind: 'variable' | 'output' | 'module' | 'provider',
): Block[] {
  const out: Block[] = [];
  for (const file of module.files) {
    const byName = file.json?.[kind];
    if (!isObject(byName)) continue;
    for (const [name, bodies] of Object.entries(byName)) {
      if (!isBlockList(bodies)) continue;
      for (const body of bodies) out.push({ file, labels: [name], body });
    }
  }
  return out;
}

/** Unlabelled blocks (`locals`, `terraform`) of every file. */
export function plainBlocks(module: TfModule, kind: 'locals' | 'terraform'): Block[] {
  const out: Block[] = [];
  for (const file of module.files) {
    const bodies = file.json?.[kind];
    if (!isBlockList(bodies)) continue;
    for (const body of bodies) out.push({ file, labels: [], body });
  }
  return out;
}

export interface LocalValue {
  file: TfFile;
  name: string;
  value: Json;
}

export function localValues(module: TfModule): LocalValue[] {
  return plainBlocks(module, 'locals').flatMap((block) =>
    Object.entries(block.body).map(([name, value]) => ({ file: block.file, name, value })),
  );
}

/** 1-based line of the first match of `pattern` at or after line `from`, or undefined. */
export function lineOf(source: string, pattern: RegExp | string, from = 1): number | undefined {
  const lines = source.split('\n');
  for (let index = Math.max(0, from - 1); index < lines.length; index++) {
    const line = lines[index] as string;
    if (typeof pattern === 'string' ? line.includes(pattern) : pattern.test(line)) return index + 1;
  }
  return undefined;
}

export const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Line of a block header such as `resource "aws_sqs_queue" "fanout" {`. */
export function blockLine(file: TfFile, kind: string, labels: readonly string[]): number | undefined {
  const label = labels.map((l) => `\\s+"${escapeRegExp(l)}"`).join('');
  return lineOf(file.source, new RegExp(`^\\s*${escapeRegExp(kind)}${label}\\s*\\{`));
}
