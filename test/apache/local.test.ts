/**
 * Apache in front of the local platform, as on a shared development host: a real Apache httpd on
 * loopback high ports with the shipped `local` virtual host, rendered by deploy/apache from the
 * .fanout/local.json of a real `fanout dev --trusted-proxy 127.0.0.1 --public-url …`, and the client
 * SDK connecting through `wss://`. Timeouts are shortened in the rendering (and the SDK's ping
 * interval with them) so that "idle longer than Apache's Timeout" takes seconds.
 *
 * The client connects from 127.0.0.2 (a source address of its own on loopback) so that the address the
 * gateway reports can only be right if it came from Apache's X-Forwarded-For: Apache itself connects
 * from 127.0.0.1.
 *
 * Apache runs with the prefork MPM here (the API Gateway test runs Debian's default, event): a stop
 * cuts prefork's tunnels after GracefulShutdownTimeout, while event's wait about 10 s for httpd's
 * SIGKILL (test/support/apache.ts), which would make the restart test slow, not different.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ApiGatewayManagementApiClient, GetConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { type EventFrame, FanoutClient } from '@fanout/client';
import type { PlatformEndpoints } from '@fanout/protocol';
import { Publisher, signToken } from '@fanout/publisher';
import { main as renderMain } from '../../deploy/apache/vhost';
import { DEMO_GRANTS, DEMO_USER } from '../../local/dev/dashboard-server';
import { makeCertificate, type TestCertificate } from '../../local/test/support/certificate';
import { openClient, type TestClient } from '../../local/test/support/ws-client';
import {
  type ApacheServer,
  apacheAvailability,
  freePorts,
  PUBLIC_NAME,
  socketThroughApache,
  startApache,
  throughApache,
} from '../support/apache';
import { ROOT_DIR, waitUntil } from '../support/platform';

const availability = apacheAvailability();
const describeApache = availability.run ? describe : describe.skip;
if (!availability.run) console.warn(`Apache tests skipped: ${availability.reason}`);

/** Apache cuts a silent tunnel after max(Timeout, ProxyTimeout) = 2 s; the SDK pings 4 times as often. */
const TIMEOUT_SECONDS = 2;
const PING_INTERVAL_MS = 500;
const CLIENT_ADDRESS = '127.0.0.2';
const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
const DELIVERY_MS = 10_000;

describeApache('Apache in front of the local platform', () => {
  jest.setTimeout(90_000);

  let dir = '';
  let certificate: TestCertificate;
  let httpsPort = 0;
  let httpPort = 0;
  let dev: ChildProcess | undefined;
  const devOutput: string[] = [];
  let endpoints: PlatformEndpoints;
  let apache: ApacheServer | undefined;
  let publisher: Publisher;
  let eventBridge: EventBridgeClient;
  let dynamodb: DynamoDBClient;
  let management: ApiGatewayManagementApiClient;
  const clients: FanoutClient[] = [];
  const rawClients: TestClient[] = [];
  /** Every token handed out, to check that none reached Apache's logs. */
  const tokens: string[] = [];
  let userCounter = 0;

  const publicUrl = () => `wss://${PUBLIC_NAME}:${httpsPort}/live`;

  async function token(sub: string, topics: string[]): Promise<string> {
    const signed = await signToken({ secret: endpoints.jwtSecret, sub, topics, expiresInSeconds: 600 });
    tokens.push(signed);
    return signed;
  }

  /** A FanoutClient through Apache, recording its events and states. */
  async function sdkClient(sub: string, topics: string[]) {
    const events: EventFrame[] = [];
    const states: string[] = [];
    const client = new FanoutClient({
      url: publicUrl(),
      token: () => token(sub, topics),
      WebSocket: socketThroughApache({ ca: certificate.cert, localAddress: CLIENT_ADDRESS }),
      pingIntervalMs: PING_INTERVAL_MS,
      requestTimeoutMs: 5_000,
      minReconnectDelayMs: 100,
      maxReconnectDelayMs: 400,
    });
    clients.push(client);
    client.on('event', (event) => events.push(event));
    client.on('state', (state) => states.push(state));
    client.on('error', () => {}); // reconnect attempts while Apache is down fail by design
    await client.connect();
    return { client, events, states };
  }

  const publish = (topic: string, data: unknown) => publisher.publish({ topics: [topic], data });

  const waitForEvent = (events: EventFrame[], id: string, what: string) =>
    waitUntil(() => events.find((event) => event.id === id), what, DELIVERY_MS, 20).catch((err: Error) => {
      throw new Error(`${err.message}\n${recentOutput()}`);
    });

  const recentOutput = () => `fanout dev:\n${devOutput.join('').slice(-4000)}\n${apache?.logs() ?? ''}`;

  /** The connection rows of a user (META), as the connect function wrote them. */
  async function connectionsOf(userId: string): Promise<{ connectionId: string; sourceIp?: string }[]> {
    const page = await dynamodb.send(new ScanCommand({ TableName: endpoints.tableName }));
    return (page.Items ?? [])
      .filter((item) => item.sk?.S === 'META' && item.userId?.S === userId)
      .map((item) => ({
        connectionId: (item.pk?.S ?? '').replace(/^CONN#/, ''),
        ...(item.sourceIp?.S ? { sourceIp: item.sourceIp.S } : {}),
      }));
  }

  async function subscriptionsOf(connectionId: string): Promise<string[]> {
    const page = await dynamodb.send(new ScanCommand({ TableName: endpoints.tableName }));
    return (page.Items ?? [])
      .filter((item) => item.pk?.S === `CONN#${connectionId}` && item.sk?.S?.startsWith('SUB#'))
      .map((item) => (item.sk?.S ?? '').replace(/^SUB#/, ''));
  }

  const nextUser = (name: string) => {
    userCounter += 1;
    return `${name}-${userCounter}`;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fanout-apache-local-'));
    certificate = makeCertificate(dir, 'dash', [PUBLIC_NAME, '127.0.0.1']);
    [httpsPort = 0, httpPort = 0] = await freePorts(2);

    // `fanout dev` as a user starts it behind Apache, in a directory of its own.
    const devDir = join(dir, 'dev');
    mkdirSync(devDir);
    const proc = spawn(
      process.execPath,
      [
        join(ROOT_DIR, 'sdk/cli/bin/fanout.mjs'),
        'dev',
        '--port',
        '0',
        '--dashboard-port',
        '0',
        '--trusted-proxy',
        '127.0.0.1',
        '--public-url',
        publicUrl(),
      ],
      { cwd: devDir, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    dev = proc;
    proc.stdout?.on('data', (chunk: Buffer) => devOutput.push(chunk.toString('utf8')));
    proc.stderr?.on('data', (chunk: Buffer) => devOutput.push(chunk.toString('utf8')));
    const endpointsFile = join(devDir, '.fanout/local.json');
    await waitUntil(
      () => {
        if (proc.exitCode !== null) throw new Error(`fanout dev exited early:\n${devOutput.join('')}`);
        return existsSync(endpointsFile) && devOutput.join('').includes('Press Ctrl+C');
      },
      'fanout dev to write .fanout/local.json',
      // The CLI runs its TypeScript source through tsx: seconds here, far more on a busy machine.
      60_000,
      50,
    );
    endpoints = JSON.parse(readFileSync(endpointsFile, 'utf8')) as PlatformEndpoints;

    // Render exactly as `make apache-config FOR=local` would, with the test's ports, logs and timeouts.
    const vhostFile = join(dir, 'fanout-local.conf');
    const rendered: string[] = [];
    const status = renderMain(
      [
        'local',
        '--endpoints',
        endpointsFile,
        '--cert',
        certificate.certFile,
        '--key',
        certificate.keyFile,
        '--http-port',
        String(httpPort),
        '--listen',
        '127.0.0.1',
        '--log-dir',
        dir,
        '--timeout',
        String(TIMEOUT_SECONDS),
        '--proxy-timeout',
        String(TIMEOUT_SECONDS),
        '--ping-interval',
        String(PING_INTERVAL_MS / 1000),
        '--out',
        vhostFile,
      ],
      {
        out: (text) => rendered.push(text),
        err: (line) => rendered.push(line),
        readFile: (path) => readFileSync(path, 'utf8'),
        writeFile: (path, text) => writeFileSync(path, text),
        readStdin: () => '',
      },
      join(ROOT_DIR, 'deploy/apache'),
    );
    if (status !== 0) throw new Error(`render failed: ${rendered.join('\n')}`);

    eventBridge = new EventBridgeClient({
      endpoint: endpoints.eventBridgeEndpoint,
      region: endpoints.region,
      credentials: CREDENTIALS,
    });
    publisher = new Publisher({ eventBusName: endpoints.eventBusName, source: 'tests', client: eventBridge });
    dynamodb = new DynamoDBClient({
      endpoint: endpoints.dynamodbEndpoint,
      region: endpoints.region,
      credentials: CREDENTIALS,
    });
    management = new ApiGatewayManagementApiClient({
      endpoint: endpoints.managementEndpoint,
      region: endpoints.region,
      credentials: CREDENTIALS,
    });

    // Warm every route function directly on the gateway first: a cold authorizer and `$connect` could
    // otherwise take longer than the test's 2 s ProxyTimeout to answer the first handshake.
    const warm = await openClient(`${endpoints.websocketUrl}?token=${await token('warm-up', ['warm/*'])}`);
    await warm.send('{"action":"subscribe","topics":["warm/up"],"id":"w1"}');
    await warm.next(DELIVERY_MS);
    await warm.send('{"action":"ping","id":"w2"}');
    await warm.next(DELIVERY_MS);
    warm.ws.close(1000);
    await warm.closed;

    apache = await startApache({ dir, include: [vhostFile], ports: [httpsPort, httpPort], mpm: 'prefork' });
  }, 60_000);

  afterAll(async () => {
    for (const client of clients) client.close();
    for (const raw of rawClients) raw.ws.terminate();
    await apache?.stop();
    if (dev && dev.exitCode === null && dev.signalCode === null) {
      const exited = new Promise((resolve) => dev?.once('exit', resolve));
      dev.kill('SIGINT');
      const killer = setTimeout(() => dev?.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    }
    eventBridge?.destroy();
    dynamodb?.destroy();
    management?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it('through wss:// the SDK connects with a token, subscribes and receives a published event', async () => {
    const { client, events } = await sdkClient(nextUser('alice'), ['orders/*']);
    expect(await client.subscribe('orders/*')).toEqual(['orders/*']);
    const id = await publish('orders/eu/1', { status: 'shipped' });
    const event = await waitForEvent(events, id, 'the event through Apache');
    expect(event).toMatchObject({
      topic: 'orders/eu/1',
      subscription: 'orders/*',
      data: { status: 'shipped' },
    });
  });

  it('the gateway takes the client address from the X-Forwarded-For Apache sends: the connection row and GetConnection', async () => {
    const user = nextUser('bob');
    await sdkClient(user, ['orders/*']);
    const [connection] = await waitUntil(async () => {
      const found = await connectionsOf(user);
      return found.length === 1 ? found : undefined;
    }, `the connection row of ${user}`);
    expect(connection?.sourceIp).toBe(CLIENT_ADDRESS);
    const described = await management.send(
      new GetConnectionCommand({ ConnectionId: connection?.connectionId }),
    );
    expect(described.Identity?.SourceIp).toBe(CLIENT_ADDRESS);
  });

  it('an X-Forwarded-For the client forges is not believed: the gateway sees the address Apache saw', async () => {
    const user = nextUser('mallory');
    const raw = await openClient(`${publicUrl()}?token=${await token(user, [])}`, {
      ...throughApache({ ca: certificate.cert, localAddress: '127.0.0.3' }),
      headers: { 'X-Forwarded-For': '203.0.113.66' },
    });
    rawClients.push(raw);
    const [connection] = await waitUntil(async () => {
      const found = await connectionsOf(user);
      return found.length === 1 ? found : undefined;
    }, `the connection row of ${user}`);
    expect(connection?.sourceIp).toBe('127.0.0.3');
    raw.ws.close(1000);
  });

  it("an idle SDK client outlives Apache's Timeout on its pings, while a client that never sends is cut", async () => {
    const user = nextUser('carol');
    const { client, events, states } = await sdkClient(user, ['idle/*']);
    await client.subscribe('idle/*');
    const silent = await openClient(`${publicUrl()}?token=${await token(nextUser('silent'), [])}`, {
      ...throughApache({ ca: certificate.cert, localAddress: CLIENT_ADDRESS }),
    });
    rawClients.push(silent);
    const opened = Date.now();
    let cut: { code: number; afterMs: number } | undefined;
    void silent.closed.then(({ code }) => {
      cut = { code, afterMs: Date.now() - opened };
    });

    await new Promise((resolve) => setTimeout(resolve, (TIMEOUT_SECONDS + 1) * 1000));
    // Apache ended the silent tunnel without a close frame (1006), no sooner than its timeout.
    expect(cut).toMatchObject({ code: 1006 });
    expect(cut?.afterMs).toBeGreaterThanOrEqual(TIMEOUT_SECONDS * 1000 - 200);
    // The SDK's connection never closed, and still delivers.
    expect(states).not.toContain('reconnecting');
    const id = await publish('idle/after', { idle: true });
    await waitForEvent(events, id, 'an event after the idle period');
  });

  it('a graceful restart keeps open connections on the old children: the same connection still delivers', async () => {
    const { client, events, states } = await sdkClient(nextUser('dave'), ['graceful/*']);
    await client.subscribe('graceful/*');
    await apache?.graceful();
    const id = await publish('graceful/kept', { kept: true });
    await waitForEvent(events, id, 'an event after a graceful restart');
    expect(states).not.toContain('reconnecting');
    // And the restarted Apache takes new connections.
    const fresh = await sdkClient(nextUser('erin'), ['graceful/*']);
    await fresh.client.subscribe('graceful/*');
  });

  it('after Apache stops gracefully and starts again, the SDK reconnects, resubscribes and receives events again', async () => {
    const user = nextUser('frank');
    const { client, events, states } = await sdkClient(user, ['restart/*']);
    await client.subscribe('restart/*');

    // graceful-stop: Apache waits GracefulShutdownTimeout (1 s) for the tunnel, then cuts it.
    await apache?.gracefulStop();
    await waitUntil(() => states.includes('reconnecting'), 'the SDK to see its connection end');
    // Published while the client has no connection: the resubscribe recovers it (since).
    const missedWhileDown = await publish('restart/missed', { missed: true });

    await apache?.start();
    const reconnected = await waitUntil(
      async () => {
        const rows = await connectionsOf(user);
        if (rows.length !== 1 || states.at(-1) !== 'open') return undefined;
        const [row] = rows;
        return row && (await subscriptionsOf(row.connectionId)).includes('restart/*') ? row : undefined;
      },
      'the SDK to reconnect through the restarted Apache and resubscribe',
      DELIVERY_MS,
    );
    expect(reconnected.sourceIp).toBe(CLIENT_ADDRESS);

    await waitForEvent(events, missedWhileDown, 'the event published while Apache was down');
    const id = await publish('restart/after', { after: true });
    await waitForEvent(events, id, 'an event after the restart');
  });

  it('serves the dashboard at / and tells the page the WebSocket URL through Apache', async () => {
    const page = await get(`https://${PUBLIC_NAME}:${httpsPort}/`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('<script');
    const config = await get(`https://${PUBLIC_NAME}:${httpsPort}/config`);
    expect(JSON.parse(config.body)).toEqual({
      websocketUrl: publicUrl(),
      user: DEMO_USER,
      grants: [...DEMO_GRANTS],
    });
  });

  it('redirects plain HTTP to HTTPS, path and query kept', async () => {
    const response = await get(`http://127.0.0.1:${httpPort}/live?topic=x`);
    expect(response.status).toBe(301);
    expect(response.headers.location).toBe(`https://${PUBLIC_NAME}:${httpsPort}/live?topic=x`);
  });

  it('wscat, as the README runs it with --ca, connects through wss:// and gets a pong', async () => {
    const signed = await token(nextUser('wscat'), []);
    const { stdout } = await promisify(execFile)(
      join(ROOT_DIR, 'node_modules/.bin/wscat'),
      [
        '--ca',
        certificate.certFile,
        '-c',
        `wss://127.0.0.1:${httpsPort}/live?token=${signed}`,
        '-x',
        '{"action":"ping","id":"r1"}',
        '-w',
        '1',
      ],
      { timeout: 15_000 },
    );
    expect(stdout).toMatch(/{"type":"pong","id":"r1","position":"\d{13}"}/);
  });

  it("keeps every token out of Apache's access and error logs, which record the WebSocket path", () => {
    const logs = ['fanout-local-access.log', 'fanout-local-error.log', 'main-error.log']
      .map((file) => join(dir, file))
      .filter((file) => existsSync(file))
      .map((file) => readFileSync(file, 'utf8'));
    const access = readFileSync(join(dir, 'fanout-local-access.log'), 'utf8');
    expect(access).toMatch(/^127\.0\.0\.2 - - \[[^\]]+\] "GET \/live HTTP\/1\.1" 101 /m);
    expect(tokens.length).toBeGreaterThan(5);
    for (const text of logs) {
      for (const signed of tokens) expect(text).not.toContain(signed);
      expect(text).not.toContain('token=');
    }
  });

  async function get(url: string) {
    return new Promise<{
      status: number;
      headers: Record<string, string | string[] | undefined>;
      body: string;
    }>((resolve, reject) => {
      const secure = url.startsWith('https:');
      const options = secure ? throughApache({ ca: certificate.cert }) : {};
      const req = (secure ? httpsRequest : httpRequest)(url, options, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      });
      req.setTimeout(10_000, () => req.destroy(new Error(`${url} timed out`)));
      req.on('error', reject);
      req.end();
    });
  }
});
