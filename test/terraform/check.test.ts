import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { checkTree, formatFinding, RULES, type RuleId } from '../../scripts/terraform/check.js';
import { moduleDirectories } from '../../scripts/terraform/hcl.js';
import { Schema } from '../../scripts/terraform/schema.js';
import { repoRoot, terraformDir } from './stack.js';

const schema = Schema.load(repoRoot);
const fixturesDir = join(__dirname, 'fixtures');
const fixtures = readdirSync(fixturesDir, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();
/** `unknown-argument--nested` plants an `unknown-argument` error. */
const ruleOf = (fixture: string): string => fixture.split('--')[0] ?? fixture;

describe('the offline Terraform checker', () => {
  it('finds nothing wrong with the stack under terraform/', async () => {
    const findings = await checkTree(terraformDir, { schema, baseDir: repoRoot });
    expect(findings.map(formatFinding)).toEqual([]);
  });

  it('checks the root stack, the module and every example', () => {
    const dirs = moduleDirectories(terraformDir).map((dir) => relative(terraformDir, dir) || '.');
    expect(dirs).toEqual(
      expect.arrayContaining(['.', 'modules/fanout', 'examples/minimal', 'examples/jwks-alarms']),
    );
  });

  it('reads the vendored provider schema, not the shared folder', () => {
    expect(schema.raw.provider).toEqual({ name: 'registry.terraform.io/hashicorp/aws', version: '6.25.0' });
    expect(schema.raw.generatedFrom).toBe('@cdktf/provider-aws@21.22.1');
    expect(schema.exists('resource', 'aws_sfn_state_machine')).toBe(true);
    expect(schema.node('resource', 'aws_sfn_state_machine')).toBeUndefined();
  });

  it('has a negative fixture for every rule', () => {
    const covered = new Set(fixtures.map(ruleOf));
    expect(Object.keys(RULES).filter((rule) => !covered.has(rule))).toEqual([]);
    expect(fixtures.map(ruleOf).filter((rule) => !(rule in RULES))).toEqual([]);
  });

  it.each(fixtures)('reports exactly the error planted in fixtures/%s', async (fixture) => {
    const findings = await checkTree(join(fixturesDir, fixture), { schema, baseDir: repoRoot });
    expect(findings.map((finding) => finding.rule)).toEqual([ruleOf(fixture) as RuleId]);
    expect(findings[0]?.file.startsWith(`test/terraform/fixtures/${fixture}/`)).toBe(true);
  });

  it('points findings at the line of the planted error', async () => {
    const findings = await checkTree(join(fixturesDir, 'unknown-attribute'), { schema, baseDir: repoRoot });
    expect(findings.map(formatFinding)).toEqual([
      'test/terraform/fixtures/unknown-attribute/main.tf:11: [unknown-attribute] aws_lambda_function.function.invoke_arns: aws_lambda_function has no attribute "invoke_arns"',
    ]);
  });
});
