/**
 * The dashboard server's routes for the pages (local/dev/dashboard-server.ts): the defaults it gives
 * the page, the inspector's JSON routes and every way they refuse. The inspector behind them is a
 * stand-in here; test/e2e/dashboard.test.ts runs the real one in a browser.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Publisher } from '@fanout/publisher';
import { InspectError } from '../../sdk/cli/src/inspect';
import { type DashboardServer, DEMO_GRANTS, DEMO_USER, startDashboardServer } from '../dev/dashboard-server';
import { type LocalInspector, LogBuffer } from '../dev/inspector';

const DASHBOARD_DIR = join(__dirname, '../dashboard');

function bundles(files = ['dashboard.js', 'dashboard.css', 'inspector.js']): string {
  const dir = mkdtempSync(join(tmpdir(), 'fanout-dashboard-'));
  for (const file of files) writeFileSync(join(dir, file), `/* ${file} */`);
  return join(dir, 'dashboard.js');
}

const publisher = { publish: async () => 'event-1' } as unknown as Publisher;

function inspector(redrive: LocalInspector['redrive']): LocalInspector {
  const logs = new LogBuffer(3);
  for (const line of ['one', 'two', 'three', 'four'])
    logs.push({ functionName: 'f', stream: 'stdout', line, logStream: 's' }, 7);
  return {
    snapshot: async () => ({ takenAt: 'now' }) as unknown as Awaited<ReturnType<LocalInspector['snapshot']>>,
    redrive,
    logLines: (limit) => logs.recent(limit),
    close: () => {},
  };
}

describe('dashboard server', () => {
  let server: DashboardServer | undefined;
  const start = async (withInspector?: LocalInspector) => {
    server = await startDashboardServer({
      dashboardDir: DASHBOARD_DIR,
      scriptPath: bundles(),
      websocketUrl: 'ws://127.0.0.1:9/local',
      jwtSecret: 'x'.repeat(32),
      publisher,
      ...(withInspector ? { inspector: withInspector } : {}),
    });
    return server.url;
  };
  const json = async (url: string, init?: RequestInit) => {
    const response = await fetch(url, init);
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const post = (url: string, body: unknown) =>
    json(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('gives the page the user and grants of the banner’s token', async () => {
    const url = await start();
    await expect(json(`${url}config`)).resolves.toEqual({
      status: 200,
      body: { websocketUrl: 'ws://127.0.0.1:9/local', user: DEMO_USER, grants: [...DEMO_GRANTS] },
    });
    expect(DEMO_USER).toBe('demo');
  });

  it('serves both pages and the bundles beside the dashboard’s script', async () => {
    const url = await start();
    for (const [path, type] of [
      ['', 'text/html'],
      ['inspector', 'text/html'],
      ['dashboard.js', 'text/javascript'],
      ['dashboard.css', 'text/css'],
      ['inspector.js', 'text/javascript'],
    ]) {
      const response = await fetch(`${url}${path}`);
      expect([path, response.status, response.headers.get('content-type')?.split(';')[0]]).toEqual([
        path,
        200,
        type,
      ]);
    }
  });

  it('refuses to start when a bundle is missing, saying to build', async () => {
    await expect(
      startDashboardServer({
        dashboardDir: DASHBOARD_DIR,
        scriptPath: bundles(['dashboard.js', 'dashboard.css']),
        websocketUrl: 'ws://x',
        jwtSecret: 'x'.repeat(32),
        publisher,
      }),
    ).rejects.toThrow(/inspector\.js is missing: run `make build` first/);
  });

  it('answers the inspector routes with no_inspector when it has none', async () => {
    const url = await start();
    await expect(json(`${url}api/inspect`)).resolves.toMatchObject({
      status: 404,
      body: { code: 'no_inspector' },
    });
  });

  it('serves the snapshot and the newest fan-out log lines', async () => {
    const url = await start(inspector(async (ids) => [...ids]));
    await expect(json(`${url}api/inspect`)).resolves.toEqual({ status: 200, body: { takenAt: 'now' } });
    const { body } = await json(`${url}api/fanout-logs?limit=2`);
    expect(body.lines).toEqual([
      { message: 'three', timestamp: 7, logStream: 's' },
      { message: 'four', timestamp: 7, logStream: 's' },
    ]);
    await expect(json(`${url}api/fanout-logs?limit=0`)).resolves.toMatchObject({
      status: 400,
      body: { code: 'bad_request' },
    });
  });

  it('redrives the letters asked for', async () => {
    const url = await start(inspector(async (ids) => [...ids]));
    await expect(post(`${url}api/dlq/redrive`, { ids: ['m1'] })).resolves.toEqual({
      status: 200,
      body: { moved: ['m1'] },
    });
  });

  it('refuses a redrive without letter ids', async () => {
    const url = await start(inspector(async () => []));
    for (const body of [{}, { ids: [] }, { ids: [1] }, { ids: [''] }]) {
      await expect(post(`${url}api/dlq/redrive`, body)).resolves.toMatchObject({
        status: 400,
        body: { code: 'bad_request' },
      });
    }
  });

  it('answers 404 letter_not_found for a letter that is not there, and 502 when the redrive fails', async () => {
    let error = new InspectError('letter_not_found', 'no letter m9');
    const url = await start(
      inspector(async () => {
        throw error;
      }),
    );
    await expect(post(`${url}api/dlq/redrive`, { ids: ['m9'] })).resolves.toEqual({
      status: 404,
      body: { code: 'letter_not_found', message: 'no letter m9' },
    });
    error = new InspectError('redrive_failed', 'moved 0 of 1');
    await expect(post(`${url}api/dlq/redrive`, { ids: ['m9'] })).resolves.toMatchObject({
      status: 502,
      body: { code: 'redrive_failed' },
    });
  });
});
