/**
 * `fanout inspect` against the local platform: the CLI reads the table and the queues of
 * `.fanout/local.json` through their AWS APIs, and the fan-out's invocations from the dev server,
 * which keeps the function's log lines (test/unit/sdk/cli-inspect.test.ts covers the AWS side).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '@fanout/cli';
import { type PlatformHarness, startHarness, waitUntil } from '../support/platform';

let h: PlatformHarness;
let dir: string;

beforeAll(async () => {
  h = await startHarness({ dashboardPort: 0 });
  dir = mkdtempSync(join(tmpdir(), 'fanout-inspect-'));
}, 30_000);

afterAll(async () => {
  await h?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function inspectJson(
  config: object,
): Promise<{ code: number; snapshot: Record<string, unknown>; err: string[] }> {
  const file = join(dir, `local-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(config));
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['inspect', '--json', '--config', file], {
    out: (line) => out.push(line),
    err: (line) => err.push(line),
  });
  return { code, snapshot: JSON.parse(out.join('\n')), err };
}

it('shows the connection, its pattern, and the invocation that delivered to it', async () => {
  const client = await h.connect('alice', ['demo/*']);
  await h.subscribe(client, ['demo/*']);
  const [eventId] = await h.publish({ detail: { topics: ['demo/a'], data: { n: 1 } } });
  await client.waitFor((frame) => frame.id === eventId, 'the event');

  const { code, snapshot, err } = await waitUntil(
    async () => {
      const result = await inspectJson(h.config);
      const invocations = result.snapshot.invocations as { delivered: number; durationMs: number | null }[];
      return invocations.some((i) => i.delivered === 1 && i.durationMs !== null) ? result : undefined;
    },
    'an inspected invocation that delivered the event',
    10_000,
  );
  expect(err).toEqual([]);
  expect(code).toBe(0);
  expect(snapshot).toMatchObject({
    mode: 'local',
    tableName: h.config.tableName,
    connections: {
      count: 1,
      truncated: false,
      items: [
        {
          connectionId: client.connectionId,
          userId: 'alice',
          sourceIp: '127.0.0.1',
          subscriptions: ['demo/*'],
        },
      ],
    },
    patterns: [{ pattern: 'demo/*', subscribers: 1, atLeast: false }],
    queue: { url: h.config.queueUrl },
    dlq: { url: h.config.dlqUrl, letters: [] },
  });
  expect(snapshot.invocations).toContainEqual(
    expect.objectContaining({ records: 1, audience: 1, delivered: 1, pruned: 0, retried: 0, error: null }),
  );

  const file = join(dir, 'local-text.json');
  writeFileSync(file, JSON.stringify(h.config));
  const out: string[] = [];
  await expect(main(['inspect', '--config', file], { out: (l) => out.push(l), err: () => {} })).resolves.toBe(
    0,
  );
  const text = out.join('\n');
  expect(text).toMatch(/^fanout inspect \(local\) at \S+, table /);
  expect(text).toContain('connections: 1');
  expect(text).toMatch(
    new RegExp(`${client.connectionId.replace(/[+=/]/g, '.')} +alice +\\d+s +127\\.0\\.0\\.1 +demo/\\*`),
  );
  expect(text).toContain('demo/*  1 subscriber(s)');
  expect(text).toMatch(
    /STARTED +DURATION +RECORDS +AUDIENCE +DELIVERED +PRUNED +THROTTLED +RETRIED +FAILED +ERROR/,
  );
  await h.closeClients();
});

it('shows the rest and exits 1 with telemetry_unavailable when the dev server is not there', async () => {
  const { dashboardUrl: _, ...withoutDashboard } = h.config;
  const { code, snapshot, err } = await inspectJson(withoutDashboard);
  expect(code).toBe(1);
  expect(err).toEqual([
    expect.stringMatching(/^fanout inspect: telemetry_unavailable: invocations: .*--no-dashboard/),
  ]);
  expect(snapshot).toMatchObject({ connections: { count: expect.any(Number) }, invocations: [] });
});

it('reports every part with its code, and exits 1, when the platform of local.json is gone', async () => {
  // Port 9 (discard) listens nowhere here: a platform killed without removing its local.json.
  const gone = 'http://127.0.0.1:9';
  const { code, snapshot, err } = await inspectJson({
    ...h.config,
    dynamodbEndpoint: gone,
    sqsEndpoint: gone,
    dashboardUrl: `${gone}/`,
    queueUrl: `${gone}/000000000000/q`,
    dlqUrl: `${gone}/000000000000/dlq`,
  });
  expect(code).toBe(1);
  expect((snapshot.problems as { part: string; code: string }[]).map((p) => [p.part, p.code])).toEqual([
    ['connections', 'table_unreachable'],
    ['queue', 'queue_unreachable'],
    ['dlq', 'dlq_unreachable'],
    ['invocations', 'telemetry_unavailable'],
  ]);
  expect(err).toHaveLength(4);
  expect(err[0]).toMatch(/^fanout inspect: table_unreachable: connections: .*ECONNREFUSED/);
}, 20_000);
