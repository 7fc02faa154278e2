import { relative } from 'node:path';
import { BEGIN, docsStatus, END, REFRESH_COMMAND, renderDocs, table } from '../../scripts/terraform/docs.js';
import { moduleDir, repoRoot } from './stack.js';

describe('the Terraform READMEs', () => {
  it('carry the inputs and outputs tables generated from the .tf files', async () => {
    for (const status of await docsStatus(repoRoot)) {
      const readme = relative(repoRoot, status.readme);
      if (status.current !== status.expected) {
        throw new Error(
          `${readme} is stale: its inputs/outputs tables differ from the .tf files. Run ${REFRESH_COMMAND}.`,
        );
      }
    }
  });

  it('lists every variable and output of the module', async () => {
    const section = await renderDocs(moduleDir);
    expect(section.startsWith(BEGIN)).toBe(true);
    expect(section.endsWith(END)).toBe(true);
    expect(section).toContain('## Inputs');
    expect(section).toMatch(
      /\| `artifacts_dir` +\| Directory holding the function bundles .* \| `string` +\| n\/a +\| yes +\|/,
    );
    expect(section).toMatch(/\| `auth_jwt_secret` +\| .*\(sensitive\) +\| `string` +\| `null` +\| no +\|/);
    expect(section).toMatch(/\| `websocket_url` +\| URL dashboards connect to/);
    expect(section).toMatch(/\| `aws_lambda_function\.this` +\| resource \(for_each\) +\|/);
  });

  it('pads tables the way the formatter does', () => {
    expect(table(['Name', 'Description'], [['`a`', 'x | y'.replace('|', '\\|')]])).toBe(
      ['| Name | Description |', '| ---- | ----------- |', '| `a`  | x \\| y      |'].join('\n'),
    );
  });
});
