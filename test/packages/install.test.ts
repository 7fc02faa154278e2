/**
 * The SDKs as a user gets them: each publishable package packed with `npm pack`, the tarballs
 * installed into an empty project outside the repository, and the README's examples run from there,
 * unchanged, against the local platform. Nothing here resolves to the repository's sources: the
 * project under test has only its own node_modules.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import type { Browser } from 'playwright-core';
import { waitUntil } from '../../local/test/support/wait';
import { browserAvailability, launchChromium } from '../support/browser';
import { killAll, runProcess } from '../support/cli';
import { type PlatformHarness, ROOT_DIR, startHarness } from '../support/platform';

const run = promisify(execFile);

/** The packages a user installs, in dependency order. */
const PACKAGES = ['protocol', 'client', 'publisher', 'cli'] as const;

let workDir: string;
let appDir: string;
let harness: PlatformHarness;

/** The fenced `js` block that follows `<!-- example: NAME -->` in the README. */
function readmeExample(name: string): string {
  const readme = readFileSync(join(ROOT_DIR, 'README.md'), 'utf8');
  const match = new RegExp(
    `<!-- example: ${name.replace('.', '\\.')} -->\\s*\`\`\`js\\n([\\s\\S]*?)\`\`\``,
  ).exec(readme);
  if (!match?.[1]) throw new Error(`README.md has no example named ${name}`);
  return match[1];
}

/** Environment for the examples: the local platform's endpoints, as a user would export them. */
function exampleEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const { config } = harness;
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    AWS_REGION: config.region,
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_EVENTBRIDGE: config.eventBridgeEndpoint,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...extra,
  };
}

/** Runs a command in the installed project. */
function start(command: string, args: string[], env: NodeJS.ProcessEnv) {
  return runProcess(command, args, { cwd: appDir, env });
}

async function cliToken(sub: string, topics: string): Promise<string> {
  const { stdout } = await run(
    join(appDir, 'node_modules/.bin/fanout'),
    ['token', '--secret', harness.config.jwtSecret, '--sub', sub, '--topics', topics],
    { cwd: appDir, env: exampleEnv({}) },
  );
  return stdout.trim();
}

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'fanout-packages-'));
  const tarballs = join(workDir, 'tarballs');
  appDir = join(workDir, 'app');
  mkdirSync(tarballs);
  mkdirSync(appDir);
  // One compiler run for every package (project references), then `npm pack` finds them built.
  await run(join(ROOT_DIR, 'node_modules/.bin/tsc'), ['-b', 'sdk/tsconfig.build.json'], { cwd: ROOT_DIR });
  const workspaces = PACKAGES.flatMap((name) => ['-w', `sdk/${name}`]);
  await run('npm', ['pack', ...workspaces, '--pack-destination', tarballs, '--silent'], { cwd: ROOT_DIR });
  writeFileSync(
    join(appDir, 'package.json'),
    JSON.stringify({
      name: 'fanout-sdk-user',
      private: true,
      type: 'module',
      dependencies: {
        ...Object.fromEntries(
          PACKAGES.map((name) => [`@fanout/${name}`, `file:../tarballs/fanout-${name}-0.1.0.tgz`]),
        ),
        ws: '^8.23.0',
      },
    }),
  );
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: appDir,
  });
  for (const name of ['dashboard.mjs', 'publish.mjs']) writeFileSync(join(appDir, name), readmeExample(name));
  harness = await startHarness();
}, 180_000);

afterAll(async () => {
  await killAll();
  await harness?.close();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe('the SDK packages, installed from their tarballs', () => {
  it('ship only their build, types, README and package.json', async () => {
    for (const name of PACKAGES) {
      const { stdout } = await run('tar', ['tzf', join(workDir, 'tarballs', `fanout-${name}-0.1.0.tgz`)]);
      const files = stdout.trim().split('\n');
      expect({ name, readme: files.includes('package/README.md') }).toEqual({ name, readme: true });
      expect(
        files.filter(
          (f) =>
            !/^package\/(dist\/.+\.(js|d\.ts|js\.map)|README\.md|package\.json|bin\/fanout\.mjs)$/.test(f),
        ),
      ).toEqual([]);
      expect(files.some((f) => f === 'package/dist/index.d.ts')).toBe(true);
    }
  });

  it("run the README's dashboard and publisher examples against the local platform", async () => {
    const token = await cliToken('demo', 'orders/*');
    const subscribedBefore = harness.jsonLogs('subscribe').length;
    const dashboard = start(
      'node',
      ['dashboard.mjs'],
      exampleEnv({ FANOUT_URL: harness.config.websocketUrl, FANOUT_TOKEN: token }),
    );
    await waitUntil(
      () => harness.jsonLogs('subscribe').length > subscribedBefore || dashboard.child.exitCode !== null,
      'the dashboard example to subscribe',
      15_000,
    );
    expect(dashboard.child.exitCode).toBeNull();

    const publish = start('node', ['publish.mjs'], exampleEnv({ FANOUT_BUS: harness.config.eventBusName }));
    expect(await publish.exit()).toBe(0);
    const eventId = /^published (\S+)$/m.exec(publish.stdout())?.[1];
    expect(eventId).toBeDefined();

    await waitUntil(
      () => dashboard.stdout().includes('orders/eu/1234 {"status":"shipped"}'),
      `the event on the dashboard's output (stderr: ${dashboard.stderr()})`,
      15_000,
    );
    expect(dashboard.stderr()).toBe('');
    dashboard.child.kill('SIGTERM');
  }, 60_000);

  it('tell a CLI user without the local runtime how to get `fanout dev`, with a failing exit code', async () => {
    const dev = start(join(appDir, 'node_modules/.bin/fanout'), ['dev'], exampleEnv({}));
    expect(await dev.exit()).toBe(1);
    expect(dev.stderr()).toContain('needs the local runtime (@fanout/local)');
  }, 30_000);

  const browserTest = browserAvailability().run ? it : it.skip;
  browserTest(
    'bundle the installed client for the browser with esbuild, and it receives events there',
    async () => {
      writeFileSync(
        join(appDir, 'browser.mjs'),
        `import { FanoutClient } from '@fanout/client';
const received = [];
window.received = received;
const client = new FanoutClient({ url: window.FANOUT_URL, token: window.FANOUT_TOKEN });
client.on('event', (event) => received.push(event));
await client.connect();
await client.subscribe('orders/*');
window.ready = true;
`,
      );
      const bundled = await build({
        absWorkingDir: appDir,
        entryPoints: ['browser.mjs'],
        bundle: true,
        platform: 'browser',
        format: 'esm',
        minify: true,
        write: false,
        logLevel: 'silent',
      });
      const script = bundled.outputFiles[0]?.text ?? '';
      // The protocol's zod/mini schemas keep the browser bundle small: the full zod alone is ~450 KB.
      expect(script.length).toBeLessThan(60 * 1024);

      const token = await cliToken('browser', 'orders/*');
      let browser: Browser | undefined;
      try {
        browser = await launchChromium();
        const page = await browser.newPage();
        await page.evaluate(
          ([url, tokenText]) => {
            Object.assign(window, { FANOUT_URL: url, FANOUT_TOKEN: tokenText });
          },
          [harness.config.websocketUrl, token] as const,
        );
        await page.addScriptTag({ content: script, type: 'module' });
        await page.waitForFunction(() => (window as { ready?: boolean }).ready === true, undefined, {
          timeout: 15_000,
        });
        const [eventId] = await harness.publish({ detail: { topics: ['orders/eu/7'], data: { n: 7 } } });
        const received = await page.waitForFunction(
          () => (window as { received?: { id: string; topic: string }[] }).received?.[0],
          undefined,
          { timeout: 15_000 },
        );
        expect(await received.jsonValue()).toMatchObject({
          id: eventId,
          topic: 'orders/eu/7',
          data: { n: 7 },
        });
      } finally {
        await browser?.close();
      }
    },
    60_000,
  );
});
