/**
 * What only the real terraform binary can prove, run when one is on the PATH (it needs no provider:
 * `fmt` and `console` work offline): that hcl-tools, the formatter used without it, lays out every
 * file as `terraform fmt` does, and that the offline evaluator the policy tests rely on computes
 * manifest.tf's values as Terraform does.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { evaluate, moduleScope, toJson } from '../../scripts/terraform/evaluate.js';
import { hclTools, terraformFmt, terraformOnPath } from '../../scripts/terraform/format.js';
import { type Json, loadModule, parseFile } from '../../scripts/terraform/hcl.js';
import { moduleDir, repoRoot, terraformDir } from './stack.js';

const binary = terraformOnPath();
const title = 'with the terraform binary';
const suite = binary === undefined ? describe.skip : describe;
if (binary === undefined) {
  // Written straight to the terminal: jest shows no console output of a file whose tests all skip.
  process.stderr.write(
    'test/terraform/terraform-binary.test.ts: skipped, no terraform on the PATH (it proves hcl-tools lays files out as terraform fmt does, and that the offline evaluator agrees with Terraform on manifest.tf)\n',
  );
}

function terraformFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      if (name.startsWith('.')) return [];
      if (statSync(path).isDirectory()) return terraformFiles(path);
      return name.endsWith('.tf') || name.endsWith('.tfvars') ? [path] : [];
    });
}

const outcome = (promise: Promise<string>): Promise<{ laidOut: string } | { invalid: true }> =>
  promise.then(
    (laidOut) => ({ laidOut }),
    () => ({ invalid: true }),
  );

suite(binary === undefined ? `${title} (skipped: no terraform on the PATH)` : title, () => {
  const terraform = binary as string;
  let work: string;

  beforeAll(() => {
    // manifest.tf refers to no resource, so it runs as a root module of its own, without providers.
    work = mkdtempSync(join(tmpdir(), 'fanout-manifest-'));
    for (const file of ['manifest.tf', 'variables.tf', 'functions.json']) {
      copyFileSync(join(moduleDir, file), join(work, file));
    }
    execFileSync(terraform, ['init', '-input=false', '-no-color'], { cwd: work, stdio: 'ignore' });
  }, 60_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  function run(args: string[], inputs: Record<string, Json>, stdin?: string) {
    writeFileSync(join(work, 'inputs.tfvars.json'), JSON.stringify({ artifacts_dir: 'dist', ...inputs }));
    return spawnSync(terraform, [...args, '-no-color', '-var-file=inputs.tfvars.json'], {
      cwd: work,
      encoding: 'utf8',
      input: stdin ?? '',
      timeout: 60_000,
    });
  }

  it('lays out every valid Terraform file of the repository as hcl-tools does', async () => {
    const files = [...terraformFiles(terraformDir), ...terraformFiles(join(__dirname, 'fixtures'))];
    expect(files.length).toBeGreaterThan(30);
    const fmt = terraformFmt(terraform);
    for (const file of files) {
      const source = readFileSync(file, 'utf8');
      // terraform refuses to lay out what does not parse (the checker reports it as a parse error).
      if ((await parseFile(file, file, source)).error !== undefined) {
        await expect(fmt.format(source)).rejects.toThrow(/terraform fmt failed/);
        continue;
      }
      const [byTerraform, byHclTools] = await Promise.all([
        outcome(fmt.format(source)),
        outcome(hclTools.format(source)),
      ]);
      expect({ file: relative(repoRoot, file), layout: byHclTools }).toEqual({
        file: relative(repoRoot, file),
        layout: byTerraform,
      });
      // And the stack itself is laid out already.
      if (file.startsWith(terraformDir))
        expect({ file, formatted: byTerraform }).toEqual({ file, formatted: { laidOut: source } });
    }
  }, 60_000);

  it.each([
    ['the defaults', {}],
    [
      'overrides',
      {
        settings: { FANOUT_CONCURRENCY: '64', MAX_SUBSCRIPTIONS: 100 },
        functions: { fanout: { timeout: 300, memory_size: 1769 }, connect: { memory_size: 512 } },
        fanout_queue: { batching_window_seconds: 5, maximum_concurrency: 200 },
      },
    ],
    [
      'overrides functions.json does not allow',
      {
        settings: { FANOUT_CONCURRENCY: '0', FANOUT_PAGE_SIZE: '2.5', NOT_A_SETTING: 'x' },
        functions: { nope: { timeout: 5 } },
        fanout_queue: { batch_sise: 20, maximum_concurrency: 1 },
      },
    ],
    [
      'route_backend = "http", sizing a route function it does not create',
      {
        route_backend: 'http',
        backend_url: 'https://backend.example.com',
        backend_proof: 'p'.repeat(32),
        functions: { connect: { memory_size: 512 } },
      },
    ],
  ] as [string, Record<string, Json>][])(
    'computes manifest.tf from %s as the offline evaluator does',
    async (_, inputs) => {
      const names = [
        'routes',
        'route_functions',
        'functions',
        'function_settings',
        'fanout_queue',
        'fanout_queue_visibility_timeout',
        'setting_problems',
        'function_problems',
        'fanout_queue_problems',
      ];
      const expression = `jsonencode({ ${names.map((name) => `${name} = local.${name}`).join(', ')} })`;
      const result = run(['console'], inputs, `${expression}\n`);
      const line = result.stdout
        .split('\n')
        .map((text) => text.trim())
        .filter((text) => text.startsWith('"'))
        .pop();
      expect(line).toBeDefined();
      const byTerraform: unknown = JSON.parse(JSON.parse(line ?? '""'));
      const scope = moduleScope(await loadModule(moduleDir), inputs);
      const offline = Object.fromEntries(
        names.map((name) => [name, toJson(evaluate(`\${local.${name}}`, scope))]),
      );
      expect(offline).toEqual(byTerraform);
    },
    60_000,
  );

  it('fails the plan on an override functions.json does not allow, naming it', () => {
    const plan = run(['plan', '-input=false'], {
      settings: { FANOUT_CONCURRENCY: '0' },
      fanout_queue: { batch_sise: 20 },
    });
    expect(plan.status).not.toBe(0);
    const message = plan.stderr.replace(/[│\s]+/g, ' ');
    expect(message).toContain('settings.FANOUT_CONCURRENCY must be an integer from 1 to 1000, got "0".');
    expect(message).toContain('fanout_queue.batch_sise is not a setting of the fan-out queue');
    expect(run(['plan', '-input=false'], { settings: { FANOUT_CONCURRENCY: '64' } }).status).toBe(0);
  }, 60_000);

  it("refuses an HTTP route backend's inputs as the offline policy tests expect", () => {
    const message = (inputs: Record<string, Json>) => {
      const plan = run(['plan', '-input=false'], inputs);
      return { status: plan.status, errors: plan.stderr.replace(/[│\s]+/g, ' ') };
    };
    const http = {
      route_backend: 'http',
      backend_url: 'https://backend.example.com',
      backend_proof: 'p'.repeat(32),
    };
    expect(message(http).status).toBe(0);
    expect(message({ route_backend: 'ecs' }).errors).toContain('route_backend must be "lambda" or "http".');
    const bare = message({ route_backend: 'http' }).errors;
    expect(bare).toContain('route_backend = "http" needs backend_url');
    expect(bare).toContain('route_backend = "http" needs the gateway\'s proof');
    expect(message({ ...http, backend_url: 'http://backend.example.com' }).errors).toContain(
      'backend_url must be https:// unless the integrations go through a VPC link',
    );
    expect(
      message({ ...http, backend_url: 'http://nlb.internal:8080', backend_vpc_link_id: 'abc123' }).status,
    ).toBe(0);
    expect(message({ ...http, backend_url: 'https://backend.example.com/' }).errors).toContain(
      'backend_url must be an http(s):// URL without a query, a fragment or a trailing slash',
    );
    expect(message({ ...http, backend_proof: "has'quote".repeat(4) }).errors).toContain(
      'backend_proof must be 32 to 512 characters',
    );
    expect(message({ ...http, backend_integration_timeout_ms: 29_001 }).errors).toContain(
      'backend_integration_timeout_ms must be a whole number of milliseconds from 50 to 29000',
    );
  }, 120_000);
});
