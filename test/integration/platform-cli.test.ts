/**
 * `fanout dev` as a user runs it: a child process started from another directory, on ephemeral ports.
 * It must write `.fanout/local.json` (in its working directory) naming every endpoint, each of which
 * answers on loopback, and on Ctrl+C stop cleanly, exit 0 and remove the file.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PlatformEndpoints as LocalConfig } from '@fanout/protocol';
import { signToken } from '@fanout/publisher';
import { handshakeStatus } from '../../local/test/support/ws-client';
import { killAll, runFanout } from '../support/cli';
import { waitUntil } from '../support/platform';

let workDir: string;

beforeAll(() => {
  workDir = mkdtempSync(join(tmpdir(), 'fanout-dev-'));
});

afterAll(async () => {
  await killAll();
  rmSync(workDir, { recursive: true, force: true });
});

/** Any HTTP answer at all (a status code), or the network error. */
async function httpStatus(url: string): Promise<number> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  await response.arrayBuffer();
  return response.status;
}

it('runs `fanout dev` from any directory, lists every endpoint in .fanout/local.json, and on SIGINT exits 0 and removes it', async () => {
  const dev = runFanout(['dev', '--port', '0', '--dashboard-port', '0'], { cwd: workDir });
  const configPath = join(workDir, '.fanout/local.json');

  await waitUntil(
    () => {
      if (dev.child.exitCode !== null) throw new Error(`fanout dev exited early:\n${dev.output()}`);
      return existsSync(configPath);
    },
    `${configPath} to appear`,
    // The CLI runs its TypeScript source through tsx in a clone: about 2 s here, ten times that on a
    // machine whose cores other work keeps busy.
    60_000,
    100,
  ).catch((err: Error) => {
    throw new Error(`${err.message}\n${dev.output()}`);
  });

  const config = JSON.parse(readFileSync(configPath, 'utf8')) as LocalConfig;
  expect(config).toEqual(
    expect.objectContaining({
      region: expect.any(String),
      websocketUrl: expect.stringMatching(/^ws:\/\/127\.0\.0\.1:\d+\/\w+$/),
      managementEndpoint: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/\w+$/),
      eventBridgeEndpoint: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+/),
      sqsEndpoint: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+/),
      dynamodbEndpoint: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+/),
      dashboardUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+/),
      eventBusName: expect.any(String),
      jwtSecret: expect.stringMatching(/.{16,}/),
      token: expect.stringContaining('fanout token'),
    }),
  );

  // Every HTTP endpoint answers on loopback (any status: each speaks its own protocol).
  for (const url of [
    config.managementEndpoint,
    config.eventBridgeEndpoint,
    config.sqsEndpoint,
    config.dynamodbEndpoint,
    config.dashboardUrl ?? '',
  ]) {
    expect(new URL(url).hostname).toBe('127.0.0.1');
    await expect(httpStatus(url)).resolves.toEqual(expect.any(Number));
  }
  expect(await httpStatus(config.dashboardUrl ?? '')).toBe(200);
  // The WebSocket API accepts a token signed with the advertised secret, and refuses none.
  const token = await signToken({ secret: config.jwtSecret, sub: 'cli', topics: ['demo/*'] });
  expect(await handshakeStatus(`${config.websocketUrl}?token=${token}`)).toMatchObject({ status: 101 });
  expect(await handshakeStatus(config.websocketUrl)).toMatchObject({ status: 401 });

  // The dashboard connects by default as the user of the banner's token, with its grants.
  const banner = await waitUntil(
    () => /wscat -c "[^"]*\?token=([\w.-]+)"/.exec(dev.stdout()) ?? undefined,
    'the banner',
  );
  const claims = JSON.parse(Buffer.from(banner[1]?.split('.')[1] ?? '', 'base64url').toString('utf8'));
  const page = await (await fetch(new URL('config', config.dashboardUrl))).json();
  expect({ user: page.user, grants: page.grants }).toEqual({ user: claims.sub, grants: claims.topics });

  const stopping = Date.now();
  dev.child.kill('SIGINT');
  expect(await dev.exit(10_000)).toBe(0);
  expect(Date.now() - stopping).toBeLessThan(10_000);
  expect(existsSync(configPath)).toBe(false);
  expect(dev.stdout()).toContain('fanout: stopped.');
}, 90_000);
