/**
 * `fanout dev --secret <too short>` as a user runs it: it exits 2 (a usage error) with a message
 * naming the minimum, prints no "ready" banner and writes no .fanout/local.json (defect 9).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MIN_SECRET_BYTES } from '../../shared/auth/config';
import { killAll, runFanout } from '../support/cli';

let workDir: string;

beforeAll(() => {
  workDir = mkdtempSync(join(tmpdir(), 'fanout-dev-secret-'));
});

afterAll(async () => {
  await killAll();
  rmSync(workDir, { recursive: true, force: true });
});

it('refuses a secret shorter than the authorizer accepts, with a clear message, a stable code and exit code 2', async () => {
  const run = runFanout(['dev', '--secret', 'short', '--port', '0', '--no-dashboard'], { cwd: workDir });
  const code = await run.exit();
  const stdout = run.stdout();
  const stderr = run.stderr();

  expect(code).toBe(2);
  expect(stderr).toContain(`fanout dev: invalid_value: --secret must be at least ${MIN_SECRET_BYTES} bytes`);
  expect(stderr).toContain('got 5');
  expect(stdout).not.toContain('fanout is running');
  expect(stdout).not.toContain('starting the local platform');
  expect(existsSync(join(workDir, '.fanout/local.json'))).toBe(false);
}, 30_000);
