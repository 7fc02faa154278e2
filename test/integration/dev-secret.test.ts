/**
 * `fanout dev --secret <too short>` as a user runs it: it exits 2 (a usage error) with a message
 * naming the minimum, prints no "ready" banner and writes no .fanout/local.json (defect 9).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MIN_SECRET_BYTES } from '../../shared/auth/config';
import { ROOT_DIR } from '../support/platform';

let workDir: string;

beforeAll(() => {
  workDir = mkdtempSync(join(tmpdir(), 'fanout-dev-secret-'));
});

afterAll(() => {
  rmSync(workDir, { recursive: true, force: true });
});

it('refuses a secret shorter than the authorizer accepts, with a clear message, a stable code and exit code 2', async () => {
  const proc = spawn(
    process.execPath,
    [join(ROOT_DIR, 'sdk/cli/bin/fanout.mjs'), 'dev', '--secret', 'short', '--port', '0', '--no-dashboard'],
    { cwd: workDir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  proc.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  proc.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const code = await new Promise<number | null>((done) => proc.once('exit', (exitCode) => done(exitCode)));

  expect(code).toBe(2);
  expect(stderr).toContain(`fanout dev: invalid_value: --secret must be at least ${MIN_SECRET_BYTES} bytes`);
  expect(stderr).toContain('got 5');
  expect(stdout).not.toContain('fanout is running');
  expect(stdout).not.toContain('starting the local platform');
  expect(existsSync(join(workDir, '.fanout/local.json'))).toBe(false);
}, 30_000);
