/**
 * `fanout tail` as a user runs it, against the local platform: the real bin in a child process,
 * reading `.fanout/local.json` from its working directory and minting its own token, or given
 * `--url` and `--token` as against AWS. It prints the events it subscribed to (human lines, or JSON
 * lines with --json), survives a cut connection and says so on stderr with what it recovered, and
 * exits 0 on SIGINT.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killAll, runFanout } from '../support/cli';
import { type PlatformHarness, startHarness, waitUntil } from '../support/platform';

let h: PlatformHarness;
let workDir: string;

beforeAll(async () => {
  h = await startHarness();
  workDir = mkdtempSync(join(tmpdir(), 'fanout-tail-'));
  mkdirSync(join(workDir, '.fanout'));
  // As `fanout dev` writes it: this process stands for the platform's.
  writeFileSync(join(workDir, '.fanout/local.json'), JSON.stringify({ ...h.config, pid: process.pid }));
}, 60_000);

afterAll(async () => {
  await killAll();
  await h?.close();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

const lines = (text: string) => text.split('\n').filter(Boolean);

it('prints each event it subscribed to, recovers what a cut connection missed, and exits 0 on SIGINT', async () => {
  const human = runFanout(['tail', 'demo/*'], { cwd: workDir });
  const json = runFanout(['tail', 'demo/*', 'orders/eu', '--json', '--user', 'ops'], { cwd: workDir });
  await Promise.all([human.waitFor('subscribed to demo/*'), json.waitFor('subscribed to demo/*, orders/eu')]);

  const [first, , direct] = await h.publish(
    { detail: { topics: ['demo/hello'], data: { n: 1 } } },
    { detail: { topics: ['other/x'], data: { n: 2 } } },
    { detail: { users: ['ops'], data: { n: 3 } } },
  );
  await human.waitFor(`id ${first}`);
  await json.waitFor(`"id":"${direct}"`);
  expect(lines(human.stdout())).toEqual([
    expect.stringMatching(new RegExp(`^\\S+Z? demo/hello \\{"n":1\\}  id ${first} via demo/\\*$`)),
  ]);
  // A topic's events and a user's direct messages are separate streams: no order between them.
  const frames = lines(json.stdout())
    .map((line) => JSON.parse(line) as { data: { n: number } })
    .sort((a, b) => a.data.n - b.data.n);
  expect(frames).toEqual([
    expect.objectContaining({
      type: 'event',
      id: first,
      topic: 'demo/hello',
      subscription: 'demo/*',
      data: { n: 1 },
    }),
    expect.objectContaining({ type: 'event', id: direct, user: 'ops', data: { n: 3 } }),
  ]);

  // A cut like a gateway restart (1006, no close frame), and events published while it reconnects.
  expect(h.platform.gateway.dropConnections()).toBe(2);
  const missed = await h.publish(
    { detail: { topics: ['demo/a'], data: { n: 4 } } },
    { detail: { topics: ['demo/b/c'], data: { n: 5 } } },
  );
  for (const id of missed) await human.waitFor(`id ${id}`, 15_000);
  await human.waitFor('fanout tail: recovered: ');
  expect(human.stderr()).toMatch(/fanout tail: connection lost \(1006\); reconnecting in \d+\.\d s\n/);
  expect(human.stderr()).toContain('fanout tail: reconnected; getting back what was missed');
  // Each event once, whether it came live or sent again (two topics: two streams, no order between).
  const ids = lines(human.stdout()).map((line) => /id (\S+)/.exec(line)?.[1]);
  expect(ids[0]).toBe(first);
  expect(ids.slice(1).sort()).toEqual([...missed].sort());

  human.child.kill('SIGINT');
  json.child.kill('SIGTERM');
  expect(await human.exit(10_000)).toBe(0);
  expect(await json.exit(10_000)).toBe(0);
  expect(human.stderr()).toContain('fanout tail: SIGINT, stopped');
  // Nothing but tail's own lines on stderr: no AWS SDK warning, no stack.
  for (const run of [human, json]) {
    expect(lines(run.stderr()).filter((line) => !line.startsWith('fanout tail: '))).toEqual([]);
  }
}, 60_000);

it('connects with --url and --token as against AWS, stops quietly when its reader goes, and fails with subscribe_failed for a pattern the token does not allow', async () => {
  const token = await h.token({ sub: 'carol', topics: ['demo/*'] });
  const allowed = runFanout(['tail', 'demo/*', '--url', h.config.websocketUrl, '--token', token], {
    cwd: tmpdir(),
  });
  const refused = runFanout(['tail', 'orders/*', '--url', h.config.websocketUrl, '--token', token], {
    cwd: tmpdir(),
  });
  expect(await refused.exit()).toBe(1);
  expect(refused.stderr()).toMatch(/^fanout tail: subscribe_failed: forbidden: /);
  await allowed.waitFor('subscribed to demo/*');
  const [id] = await h.publish({ detail: { topics: ['demo/aws'], data: 'x' } });
  await allowed.waitFor(`id ${id}`);
  // As `fanout tail … | head -1` does once it has its line: the reader goes, and tail stops quietly.
  allowed.child.stdout?.destroy();
  await h.publish({ detail: { topics: ['demo/aws'], data: 'y' } });
  expect(await allowed.exit(10_000)).toBe(0);
  expect(allowed.stderr()).not.toContain('EPIPE');
  // Gone with its process: the gateway has no socket of theirs left open.
  await waitUntil(() => h.platform.gateway.connections().length === 0, 'the tails’ sockets to close', 10_000);
}, 60_000);
