/**
 * Apache in front of the deployed stack, with the shipped `aws` virtual host as rendered from
 * `terraform output -json`. No AWS account is reachable here, so the local gateway stands in for the
 * execute-api endpoint: it serves TLS itself under its own name (localhost) and, as API Gateway does,
 * refuses handshakes whose SNI is not that name, and reports its TCP peer (Apache) as
 * `identity.sourceIp`. Apache runs with Debian's default MPM (event); the local-platform test runs the
 * other one.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main as renderMain } from '../../deploy/apache/vhost';
import { startGateway } from '../../local/gateway/index';
import type { GatewayHandle, GatewayLogLine } from '../../local/gateway/types';
import { makeCertificate, type TestCertificate } from '../../local/test/support/certificate';
import { handshakeStatus, openClient, type TestClient } from '../../local/test/support/ws-client';
import {
  type ApacheServer,
  apacheAvailability,
  freePorts,
  PUBLIC_NAME,
  startApache,
  throughApache,
} from '../support/apache';
import { ROOT_DIR, waitUntil } from '../support/platform';

const availability = apacheAvailability();
const describeApache = availability.run ? describe : describe.skip;
if (!availability.run) console.warn(`Apache tests skipped: ${availability.reason}`);

const TOKEN = 'a-token-only-the-stand-in-authorizer-knows';
const CLIENT_ADDRESS = '127.0.0.2';

type Event = Record<string, unknown>;
const headersOf = (event: Event | undefined) => (event?.headers ?? {}) as Record<string, string>;
const contextOf = (event: Event | undefined) => (event?.requestContext ?? {}) as Record<string, unknown>;

describeApache('Apache in front of API Gateway (the local gateway standing in, over TLS)', () => {
  jest.setTimeout(20_000);

  let dir = '';
  let front: TestCertificate;
  let upstream: TestCertificate;
  let gateway: GatewayHandle | undefined;
  let apache: ApacheServer | undefined;
  let httpsPort = 0;
  let httpPort = 0;
  const connects: Event[] = [];
  const authorizations: Event[] = [];
  const gatewayLogs: GatewayLogLine[] = [];
  const clients: TestClient[] = [];
  const publicUrl = () => `wss://${PUBLIC_NAME}:${httpsPort}/live`;

  /** Renders the aws virtual host from these outputs, as `make apache-config FOR=aws` would. */
  function render(outputs: object, upstreamCa: string): string {
    const outputsFile = join(dir, 'outputs.json');
    writeFileSync(outputsFile, JSON.stringify(outputs));
    const vhostFile = join(dir, 'fanout-aws.conf');
    const messages: string[] = [];
    const status = renderMain(
      [
        'aws',
        '--terraform-output',
        outputsFile,
        '--server-name',
        PUBLIC_NAME,
        '--cert',
        front.certFile,
        '--key',
        front.keyFile,
        '--https-port',
        String(httpsPort),
        '--http-port',
        String(httpPort),
        '--listen',
        '127.0.0.1',
        '--log-dir',
        dir,
        '--upstream-ca',
        upstreamCa,
        '--out',
        vhostFile,
      ],
      {
        out: (text) => messages.push(text),
        err: (line) => messages.push(line),
        readFile: (path) => readFileSync(path, 'utf8'),
        writeFile: (path, text) => writeFileSync(path, text),
        readStdin: () => '',
      },
      join(ROOT_DIR, 'deploy/apache'),
    );
    if (status !== 0) throw new Error(`render failed: ${messages.join('\n')}`);
    return vhostFile;
  }

  const terraformOutputs = () => ({
    websocket_url: { sensitive: false, type: 'string', value: gateway?.url },
    stage_name: { sensitive: false, type: 'string', value: 'prod' },
  });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fanout-apache-aws-'));
    front = makeCertificate(dir, 'dash', [PUBLIC_NAME, '127.0.0.1']);
    upstream = makeCertificate(dir, 'execute-api', ['localhost']);
    [httpsPort = 0, httpPort = 0] = await freePorts(2);
    gateway = await startGateway({
      stage: 'prod',
      apiId: 'abc123defg',
      tls: { cert: upstream.cert, key: upstream.key, serverName: 'localhost' },
      integrations: {
        $connect: async (event) => {
          connects.push(event as Event);
          return { statusCode: 200 };
        },
        $default: async (event) => ({ statusCode: 200, body: `echo:${String((event as Event).body)}` }),
      },
      twoWayRoutes: ['$default'],
      authorizer: {
        identitySource: 'route.request.querystring.token',
        invoke: async (event) => {
          const authorization = event as Event & { methodArn: string };
          authorizations.push(authorization);
          const query = authorization.queryStringParameters as Record<string, string> | undefined;
          if (query?.token !== TOKEN) throw new Error('Unauthorized');
          return {
            principalId: 'alice',
            policyDocument: {
              Version: '2012-10-17',
              Statement: [
                { Action: 'execute-api:Invoke', Effect: 'Allow', Resource: authorization.methodArn },
              ],
            },
          };
        },
      },
      log: (line) => gatewayLogs.push(line),
    });
    // The stand-in's own URL is what `terraform output -json` would say of the real endpoint.
    expect(gateway.url).toBe(`wss://localhost:${gateway.port}/prod`);
    const vhostFile = render(terraformOutputs(), upstream.certFile);
    apache = await startApache({ dir, include: [vhostFile], ports: [httpsPort, httpPort] });
  }, 30_000);

  afterAll(async () => {
    for (const client of clients) client.ws.terminate();
    await apache?.stop();
    await gateway?.close({ fireDisconnect: false });
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 20_000);

  it('carries a wss:// connection to the upstream, which saw its own name in SNI and Host and the client in X-Forwarded-For', async () => {
    const client = await openClient(`${publicUrl()}?token=${TOKEN}`, {
      ...throughApache({ ca: front.cert, localAddress: CLIENT_ADDRESS }),
    });
    clients.push(client);
    await client.send('{"action":"hello"}');
    expect((await client.next(5_000)).text).toBe('echo:{"action":"hello"}');

    const connect = connects.at(-1);
    const headers = headersOf(connect);
    // Host and SNI name the upstream, never dash.fanout.test (API Gateway would not find the API).
    expect(headers.Host).toBe(`localhost:${gateway?.port}`);
    expect(contextOf(connect).domainName).toBe(`localhost:${gateway?.port}`);
    expect(gatewayLogs).toContainEqual(
      expect.objectContaining({
        msg: 'upgrade request',
        servername: 'localhost',
        host: `localhost:${gateway?.port}`,
      }),
    );
    // Apache passed the client on; the gateway, like API Gateway, appended its peer (Apache) and
    // reports that peer as the source.
    expect(headers['X-Forwarded-For']).toBe(`${CLIENT_ADDRESS}, 127.0.0.1`);
    expect(headers['X-Forwarded-Host']).toBe(`${PUBLIC_NAME}:${httpsPort}`);
    expect(contextOf(connect).identity).toMatchObject({ sourceIp: '127.0.0.1' });
    // The token reached the authorizer in the query string, as the stage expects it.
    expect(authorizations.at(-1)?.queryStringParameters).toEqual({ token: TOKEN });
    client.ws.close(1000);
    expect(await client.closed).toMatchObject({ code: 1000 });
  });

  it("answers a refused token with the upstream's own status", async () => {
    const refused = await handshakeStatus(`${publicUrl()}?token=wrong`, {
      ...throughApache({ ca: front.cert }),
    });
    expect(refused.status).toBe(401);
  });

  it('keeps the tokens out of its logs, which record the WebSocket path once each connection ends', async () => {
    const read = (file: string) => readFileSync(join(dir, file), 'utf8');
    // Apache writes a line when its connection ends, which for the refused one may come a moment later.
    await waitUntil(
      () => / 101 /.test(read('fanout-access.log')) && / 401 /.test(read('fanout-access.log')),
      'the 101 and the 401 in the access log',
    );
    const logs = ['fanout-access.log', 'fanout-error.log'].map(read);
    expect(logs[0]).toMatch(/^127\.0\.0\.2 - - \[[^\]]+\] "GET \/live HTTP\/1\.1" 101 /m);
    expect(logs[0]).toMatch(/"GET \/live HTTP\/1\.1" 401 /);
    for (const text of logs) {
      expect(text).not.toContain(TOKEN);
      expect(text).not.toContain('token=');
    }
  });

  it("verifies the upstream's certificate: trusting another CA, it refuses to connect", async () => {
    render(terraformOutputs(), front.certFile);
    await apache?.graceful();
    const refused = await handshakeStatus(`${publicUrl()}?token=${TOKEN}`, {
      ...throughApache({ ca: front.cert }),
    });
    // mod_proxy answers 500 when its TLS handshake with the upstream fails.
    expect(refused.status).toBe(500);
    const errors = readFileSync(join(dir, 'fanout-error.log'), 'utf8');
    expect(errors).toContain('AH02039: Certificate Verification: Error');
    // The error log names the path, not the query string that holds the token.
    expect(errors).toContain('Error during SSL Handshake with remote server returned by /live');
    expect(errors).not.toContain(TOKEN);
  });
});
