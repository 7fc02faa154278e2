/**
 * `fanout dev` started, stopped and started again as a user does, through the real bin: with
 * --data-dir the token secret is kept beside the table (mode 0600), so a token minted for the first
 * start connects to the second; a `.fanout/local.json` left by a killed platform is replaced with a
 * line saying so, one whose platform still runs is refused; a port in use names the option (and the
 * `make dev` variable) that changes it; `make dev PORT= DASHBOARD_PORT=` passes them on; and none of
 * it prints the AWS SDK's Node-version warning.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { PlatformEndpoints } from '@fanout/protocol';
import { signToken } from '@fanout/publisher';
import { handshakeStatus } from '../../local/test/support/ws-client';
import { killAll, type Run, runFanout } from '../support/cli';
import { ROOT_DIR } from '../support/platform';

let workDir: string;
const servers: Server[] = [];

beforeAll(() => {
  workDir = mkdtempSync(join(tmpdir(), 'fanout-dev-restart-'));
});

afterAll(async () => {
  await killAll();
  await Promise.all(servers.map((server) => new Promise((done) => server.close(done))));
  rmSync(workDir, { recursive: true, force: true });
});

/** A port something else listens on. */
async function busyPort(): Promise<number> {
  const server = createServer();
  servers.push(server);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Starts `fanout dev` in `cwd` on free ports and waits for its endpoints file. */
async function startDev(cwd: string, extra: string[] = []): Promise<{ run: Run; config: PlatformEndpoints }> {
  const run = runFanout(['dev', '--port', '0', '--no-dashboard', ...extra], { cwd });
  await run.waitFor('Press Ctrl+C to stop.', 30_000);
  const config = JSON.parse(readFileSync(join(cwd, '.fanout/local.json'), 'utf8')) as PlatformEndpoints;
  return { run, config };
}

async function stopDev(run: Run): Promise<void> {
  run.child.kill('SIGINT');
  expect(await run.exit(15_000)).toBe(0);
}

const warnings = (run: Run) => `${run.stdout()}${run.stderr()}`.match(/NodeVersionSupportWarning/g) ?? [];

it('keeps the token secret in --data-dir (0600) across a restart, and replaces a file left by a killed platform', async () => {
  const cwd = join(workDir, 'persist');
  const dataDir = join(cwd, 'data');
  mkdirSync(join(cwd, '.fanout'), { recursive: true });
  // What a platform killed with SIGKILL leaves: its file, naming a process that is gone.
  const gone = spawn(process.execPath, ['-e', '']);
  await new Promise((done) => gone.once('exit', done));
  writeFileSync(
    join(cwd, '.fanout/local.json'),
    JSON.stringify({ pid: gone.pid, websocketUrl: 'ws://127.0.0.1:9/x' }),
  );

  const first = await startDev(cwd, ['--data-dir', dataDir]);
  expect(first.run.stdout()).toContain(
    `fanout: replacing .fanout/local.json, left by a fanout dev (process ${gone.pid}) that is no longer running`,
  );
  expect(first.config.pid).toBe(first.run.child.pid);
  expect(first.run.stdout()).toContain(
    `The token secret is kept in ${dataDir}/jwt-secret: tokens outlive a restart.`,
  );
  const secretFile = join(dataDir, 'jwt-secret');
  expect(readFileSync(secretFile, 'utf8').trim()).toBe(first.config.jwtSecret);
  expect(statSync(secretFile).mode & 0o777).toBe(0o600);
  const token = await signToken({ secret: first.config.jwtSecret, sub: 'kept', topics: ['demo/*'] });
  await stopDev(first.run);

  const second = await startDev(cwd, ['--data-dir', dataDir]);
  expect(second.run.stdout()).toContain('(kept from an earlier start)');
  expect(second.config.jwtSecret).toBe(first.config.jwtSecret);
  expect(await handshakeStatus(`${second.config.websocketUrl}?token=${token}`)).toMatchObject({
    status: 101,
  });
  await stopDev(second.run);

  // The kept secret is left as it was (the explicit --secret that wins over it: dev-secret.test.ts).
  expect(readFileSync(secretFile, 'utf8').trim()).toBe(first.config.jwtSecret);
  for (const run of [first.run, second.run]) expect(warnings(run)).toEqual([]);
}, 120_000);

it('refuses to start over a platform that still runs from the same directory', async () => {
  const cwd = join(workDir, 'running');
  mkdirSync(join(cwd, '.fanout'), { recursive: true });
  writeFileSync(join(cwd, '.fanout/local.json'), JSON.stringify({ pid: process.pid }));
  const run = runFanout(['dev', '--port', '0', '--no-dashboard'], { cwd });
  expect(await run.exit()).toBe(1);
  expect(run.stderr()).toBe(
    `fanout dev: already_running: a fanout dev (process ${process.pid}) is already running from this directory (.fanout/local.json): stop it first (if that process is no fanout dev, delete the file), or run this one from another directory\n`,
  );
  expect(run.stdout()).not.toContain('starting the local platform');
}, 30_000);

it('says which option to change when the port is in use', async () => {
  const port = await busyPort();
  const run = runFanout(['dev', '--port', String(port), '--no-dashboard'], { cwd: workDir });
  expect(await run.exit(30_000)).toBe(1);
  // The dashboard's port is named the same way (local/test/dev-secret.test.ts).
  expect(run.stderr()).toBe(
    `fanout dev: port_in_use: port ${port} (the WebSocket API) is in use, by another fanout dev or another program: pass --port N (\`make dev PORT=N\`), or --port 0 for any free port\n`,
  );
}, 30_000);

it('passes make dev PORT= and DASHBOARD_PORT= on as --port and --dashboard-port', async () => {
  const { stdout } = await promisify(execFile)('make', ['-n', 'dev', 'PORT=4610', 'DASHBOARD_PORT=4611'], {
    cwd: ROOT_DIR,
  });
  expect(stdout).toMatch(/^node sdk\/cli\/bin\/fanout\.mjs dev --port 4610 --dashboard-port 4611\s*$/m);
  // A PORT exported for something else does not move the platform.
  const fromEnv = await promisify(execFile)('make', ['-n', 'dev'], {
    cwd: ROOT_DIR,
    env: { ...process.env, PORT: '3000' },
  });
  expect(fromEnv.stdout).toMatch(/^node sdk\/cli\/bin\/fanout\.mjs dev\s*$/m);
});
