/**
 * Generates the Requirements / Modules / Resources / Inputs / Outputs section of a Terraform
 * README from the module's `.tf` files (as terraform-docs would), between the markers
 * `<!-- BEGIN_TF_DOCS -->` and `<!-- END_TF_DOCS -->`. Tables are padded the way biome formats
 * Markdown, so `make lint` and the generator agree.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { soleExpression } from './expressions.js';
import {
  type Block,
  isBlockList,
  isObject,
  type Json,
  loadModule,
  oneLabelBlocks,
  plainBlocks,
  type TfModule,
  twoLabelBlocks,
} from './hcl.js';

export const BEGIN = '<!-- BEGIN_TF_DOCS -->';
export const END = '<!-- END_TF_DOCS -->';

/** Module directories (relative to the repository root) whose README.md carries generated tables. */
export const DOCUMENTED_MODULES = ['terraform', join('terraform', 'modules', 'fanout')];

export const REFRESH_COMMAND = 'make tf-docs (or: node_modules/.bin/tsx scripts/terraform/cli.ts docs)';

const cell = (text: string): string => text.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|').trim();
const code = (text: string): string => `\`${text}\``;
const width = (text: string): number => [...text].length;

/** A Markdown table with every column padded to its widest cell. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) =>
    Math.max(3, width(title), ...rows.map((row) => width(row[column] ?? ''))),
  );
  const line = (cells: string[]): string =>
    `| ${cells.map((text, column) => text + ' '.repeat((widths[column] ?? 0) - width(text))).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** `${list(string)}` → `list(string)`, with runs of white space collapsed. */
function typeText(type: Json | undefined): string {
  if (typeof type !== 'string') return 'any';
  return (soleExpression(type) ?? type).replace(/\s+/g, ' ');
}

function defaultText(value: Json): string {
  if (typeof value === 'string') return JSON.stringify(value);
  return JSON.stringify(value) ?? 'null';
}

function requirements(module: TfModule): string[][] {
  const rows: string[][] = [];
  for (const block of plainBlocks(module, 'terraform')) {
    const version = block.body.required_version;
    if (typeof version === 'string') rows.push([code('terraform'), code(version)]);
    const providers = block.body.required_providers;
    if (!isBlockList(providers)) continue;
    for (const entry of providers) {
      for (const [name, spec] of Object.entries(entry)) {
        if (isObject(spec)) {
          rows.push([
            code(`${name}`),
            code(`${String(spec.source ?? name)} ${String(spec.version ?? '')}`.trim()),
          ]);
        }
      }
    }
  }
  return rows;
}

function resourceRows(module: TfModule): string[][] {
  const repeat = (block: Block): string =>
    'for_each' in block.body ? ' (for_each)' : 'count' in block.body ? ' (count)' : '';
  const rows = [
    ...twoLabelBlocks(module, 'resource').map((block) => [
      code(block.labels.join('.')),
      `resource${repeat(block)}`,
    ]),
    ...twoLabelBlocks(module, 'data').map((block) => [code(`data.${block.labels.join('.')}`), 'data source']),
  ];
  return rows.sort((a, b) => (a[0] ?? '').localeCompare(b[0] ?? ''));
}

/** The generated section (markers included) for the module in `dir`. */
export async function renderDocs(dir: string): Promise<string> {
  const module = await loadModule(dir);
  const broken = module.files.find((file) => file.error !== undefined);
  if (broken) throw new Error(`${broken.path}: ${broken.error}`);
  const parts: string[] = [
    BEGIN,
    '',
    '## Requirements',
    '',
    table(['Name', 'Version'], requirements(module)),
  ];

  const calls = oneLabelBlocks(module, 'module');
  if (calls.length > 0) {
    parts.push(
      '',
      '## Modules',
      '',
      table(
        ['Name', 'Source'],
        calls.map((block) => [code(block.labels[0] as string), code(String(block.body.source))]),
      ),
    );
  }
  const resources = resourceRows(module);
  if (resources.length > 0) parts.push('', '## Resources', '', table(['Name', 'Type'], resources));

  const variables = oneLabelBlocks(module, 'variable').sort((a, b) => {
    const required = Number('default' in a.body) - Number('default' in b.body);
    return required || (a.labels[0] ?? '').localeCompare(b.labels[0] ?? '');
  });
  parts.push(
    '',
    '## Inputs',
    '',
    table(
      ['Name', 'Description', 'Type', 'Default', 'Required'],
      variables.map((block) => {
        const hasDefault = 'default' in block.body;
        const sensitive = block.body.sensitive === true ? ' (sensitive)' : '';
        return [
          code(block.labels[0] as string),
          cell(`${String(block.body.description ?? '')}${sensitive}`),
          code(cell(typeText(block.body.type))),
          hasDefault ? code(cell(defaultText(block.body.default ?? null))) : 'n/a',
          hasDefault ? 'no' : 'yes',
        ];
      }),
    ),
  );

  const outputs = oneLabelBlocks(module, 'output').sort((a, b) =>
    (a.labels[0] ?? '').localeCompare(b.labels[0] ?? ''),
  );
  parts.push(
    '',
    '## Outputs',
    '',
    table(
      ['Name', 'Description'],
      outputs.map((block) => [code(block.labels[0] as string), cell(String(block.body.description ?? ''))]),
    ),
    '',
    END,
  );
  return parts.join('\n');
}

/** `readme` with the text between the markers replaced by `section`. */
export function replaceSection(readme: string, section: string): string {
  const start = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error(`the README has no ${BEGIN} ... ${END} markers`);
  return readme.slice(0, start) + section + readme.slice(end + END.length);
}

export interface DocsStatus {
  readme: string;
  current: string;
  expected: string;
}

/** Every documented README with its current text and the text the generator would write. */
export async function docsStatus(root: string): Promise<DocsStatus[]> {
  return Promise.all(
    DOCUMENTED_MODULES.map(async (dir) => {
      const readme = join(root, dir, 'README.md');
      const current = readFileSync(readme, 'utf8');
      return { readme, current, expected: replaceSection(current, await renderDocs(join(root, dir))) };
    }),
  );
}

/** Rewrites the stale READMEs; returns their paths. */
export async function writeDocs(root: string): Promise<string[]> {
  const stale = (await docsStatus(root)).filter((status) => status.current !== status.expected);
  for (const status of stale) writeFileSync(status.readme, status.expected);
  return stale.map((status) => status.readme);
}
