/**
 * The local gateway behind a reverse proxy of one's own (deploy/apache): the client's address comes
 * from `X-Forwarded-For` only when the TCP peer is a trusted proxy; and the gateway serving TLS itself,
 * with API Gateway's SNI requirement, to stand in for an execute-api endpoint.
 *
 * Every peer here is on loopback: clients pick their source address in 127.0.0.0/8 (`localAddress`),
 * so "the proxy" (127.0.0.1) and "a client that is not the proxy" (127.0.0.2) are different peers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import WebSocket from 'ws';
import { clientAddress, forwardedChain, parseTrustedProxies } from '../gateway/forwarded.js';
import { startGateway } from '../gateway/index.js';
import type { GatewayHandle, GatewayLogLine, GatewayOptions } from '../gateway/types.js';
import { makeCertificate, opensslAvailability, type TestCertificate } from './support/certificate.js';
import { openClient, type TestClient } from './support/ws-client.js';

type Event = Record<string, unknown>;

let gateways: GatewayHandle[] = [];
let clients: TestClient[] = [];

afterEach(async () => {
  for (const client of clients) client.ws.terminate();
  await Promise.all(gateways.map((g) => g.close({ fireDisconnect: false })));
  gateways = [];
  clients = [];
});

const allow = (event: Event) => ({
  principalId: 'alice',
  policyDocument: {
    Version: '2012-10-17',
    Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: String(event.methodArn) }],
  },
});

/** A gateway whose authorizer, `$connect` and `$default` record their events; `$default` echoes. */
async function gateway(options: Partial<GatewayOptions> = {}) {
  const events: Record<'authorizer' | '$connect' | '$default', Event[]> = {
    authorizer: [],
    $connect: [],
    $default: [],
  };
  const logs: GatewayLogLine[] = [];
  const gw = await startGateway({
    integrations: {
      $connect: async (event) => {
        events.$connect.push(event as Event);
        return { statusCode: 200 };
      },
      $default: async (event) => {
        events.$default.push(event as Event);
        return { statusCode: 200, body: String((event as Event).body) };
      },
    },
    twoWayRoutes: ['$default'],
    authorizer: {
      identitySource: 'route.request.querystring.token',
      invoke: async (event) => {
        events.authorizer.push(event as Event);
        return allow(event as Event);
      },
    },
    log: (line) => logs.push(line),
    ...options,
  });
  gateways.push(gw);
  return { gw, events, logs };
}

async function connect(url: string, options: WebSocket.ClientOptions = {}): Promise<TestClient> {
  const client = await openClient(url, options);
  clients.push(client);
  return client;
}

const identityOf = (event: Event | undefined) =>
  (event?.requestContext as { identity?: { sourceIp?: string } } | undefined)?.identity?.sourceIp;
const connectionIdOf = (event: Event | undefined) =>
  String((event?.requestContext as { connectionId?: string } | undefined)?.connectionId);
const headersOf = (event: Event | undefined) => (event?.headers ?? {}) as Record<string, string>;

describe('trusted proxies: parsing', () => {
  it('accepts IPv4 and IPv6 addresses and CIDR ranges', () => {
    const trusted = parseTrustedProxies(['127.0.0.1', '10.0.0.0/8', '::1', 'fd00::/8', ' 192.0.2.1 ']);
    expect(trusted.any).toBe(true);
    for (const address of ['127.0.0.1', '10.200.3.4', '::1', 'fd12::7', '192.0.2.1', '::ffff:10.1.1.1']) {
      expect([address, trusted.trusts(address)]).toEqual([address, true]);
    }
    for (const address of ['127.0.0.2', '11.0.0.1', '::2', 'fe80::1', 'not-an-ip', '']) {
      expect([address, trusted.trusts(address)]).toEqual([address, false]);
    }
  });

  it('trusts nobody by default', () => {
    const trusted = parseTrustedProxies();
    expect(trusted.any).toBe(false);
    expect(trusted.trusts('127.0.0.1')).toBe(false);
  });

  it.each(['localhost', '10.0.0.0/33', '::/129', '10.0.0.0/8/1', '10.0.0.0/', '10.0.0.0/x', '', '1.2.3'])(
    'refuses %j as a trusted proxy, naming it',
    (entry) => {
      expect(() => parseTrustedProxies([entry])).toThrow(`invalid trusted proxy "${entry}"`);
    },
  );

  it('refuses to start a gateway with an invalid trusted proxy', async () => {
    await expect(gateway({ trustedProxies: ['proxy.internal'] })).rejects.toThrow(
      'invalid trusted proxy "proxy.internal"',
    );
  });
});

describe('trusted proxies: which address is the client', () => {
  const trusted = parseTrustedProxies(['127.0.0.1', '10.0.0.0/8']);

  it('is the peer when the peer is not a trusted proxy, whatever X-Forwarded-For says', () => {
    expect(clientAddress('198.51.100.9', ['203.0.113.7'], trusted)).toBe('198.51.100.9');
  });

  it('is the address a trusted peer forwarded for', () => {
    expect(clientAddress('127.0.0.1', ['203.0.113.7'], trusted)).toBe('203.0.113.7');
  });

  it('is the trusted peer itself when it forwarded nothing', () => {
    expect(clientAddress('::ffff:127.0.0.1', [], trusted)).toBe('127.0.0.1');
  });

  it('walks past every trusted hop, right to left, to the first untrusted one', () => {
    expect(clientAddress('127.0.0.1', ['203.0.113.7', '10.1.2.3', '10.9.9.9'], trusted)).toBe('203.0.113.7');
  });

  it('ignores what the client wrote itself, left of the address its first proxy saw', () => {
    // The client sent "X-Forwarded-For: 1.1.1.1, 10.0.0.5" to look like it came through a trusted hop.
    expect(clientAddress('127.0.0.1', ['1.1.1.1', '10.0.0.5', '203.0.113.7'], trusted)).toBe('203.0.113.7');
  });

  it('is the leftmost entry when every hop is trusted', () => {
    expect(clientAddress('127.0.0.1', ['10.0.0.1', '10.0.0.2'], trusted)).toBe('10.0.0.1');
  });

  it('stops at the trusted proxy that passed on an entry that is not an address', () => {
    expect(clientAddress('127.0.0.1', ['203.0.113.7', 'unknown'], trusted)).toBe('127.0.0.1');
    expect(clientAddress('127.0.0.1', ['203.0.113.7', '_hidden', '10.0.0.1'], trusted)).toBe('10.0.0.1');
  });

  it('reads repeated X-Forwarded-For fields as one list', () => {
    expect(forwardedChain(['203.0.113.7, 10.0.0.1', ' 10.0.0.2 ,,'])).toEqual([
      '203.0.113.7',
      '10.0.0.1',
      '10.0.0.2',
    ]);
    expect(forwardedChain(undefined)).toEqual([]);
  });
});

describe('trusted proxies: what the routes see', () => {
  it('without trusted proxies, a forged X-Forwarded-For changes nothing but the header, as on AWS', async () => {
    const { gw, events } = await gateway();
    await connect(`${gw.url}?token=t`, { headers: { 'X-Forwarded-For': '203.0.113.7' } });
    const [connectEvent] = events.$connect;
    expect(identityOf(events.authorizer[0])).toBe('127.0.0.1');
    expect(identityOf(connectEvent)).toBe('127.0.0.1');
    expect(headersOf(connectEvent)['X-Forwarded-For']).toBe('203.0.113.7, 127.0.0.1');
  });

  it('behind a trusted proxy, the authorizer, $connect, messages and GetConnection see the forwarded client', async () => {
    const { gw, events } = await gateway({ trustedProxies: ['127.0.0.1'] });
    const client = await connect(`${gw.url}?token=t`, {
      localAddress: '127.0.0.1',
      headers: { 'X-Forwarded-For': '203.0.113.7' },
    });
    await client.send('{"action":"hello"}');
    expect((await client.next()).text).toBe('{"action":"hello"}');

    expect(identityOf(events.authorizer[0])).toBe('203.0.113.7');
    expect(identityOf(events.$connect[0])).toBe('203.0.113.7');
    expect(identityOf(events.$default[0])).toBe('203.0.113.7');
    // The header still lists every hop, the proxy last, as API Gateway appends its peer.
    expect(headersOf(events.$connect[0])['X-Forwarded-For']).toBe('203.0.113.7, 127.0.0.1');

    const connectionId = connectionIdOf(events.$connect[0]);
    const response = await fetch(`${gw.managementEndpoint}/@connections/${encodeURIComponent(connectionId)}`);
    expect(await response.json()).toMatchObject({ identity: { sourceIp: '203.0.113.7' } });
  });

  it('a peer that is not a trusted proxy is the client, and its X-Forwarded-For is not believed', async () => {
    const { gw, events } = await gateway({ trustedProxies: ['127.0.0.1'] });
    await connect(`${gw.url}?token=t`, {
      localAddress: '127.0.0.2',
      headers: { 'X-Forwarded-For': '203.0.113.7' },
    });
    expect(identityOf(events.authorizer[0])).toBe('127.0.0.2');
    expect(identityOf(events.$connect[0])).toBe('127.0.0.2');
    expect(headersOf(events.$connect[0])['X-Forwarded-For']).toBe('203.0.113.7, 127.0.0.2');
  });

  it('through several trusted hops, with X-Forwarded-For split over two fields, the client is the first untrusted address', async () => {
    const { gw, events } = await gateway({ trustedProxies: ['127.0.0.1', '10.0.0.0/8'] });
    // A raw handshake: `ws` cannot send one header twice.
    const socket = await rawUpgrade(gw.port, gw.url, [
      'X-Forwarded-For: 198.51.100.1, 203.0.113.7',
      'X-Forwarded-For: 10.1.2.3',
    ]);
    socket.destroy();
    expect(identityOf(events.$connect[0])).toBe('203.0.113.7');
    expect(headersOf(events.$connect[0])['X-Forwarded-For']).toBe(
      '198.51.100.1, 203.0.113.7, 10.1.2.3, 127.0.0.1',
    );
  });

  it('logs the peer beside the client it forwarded for', async () => {
    const { gw, logs } = await gateway({ trustedProxies: ['127.0.0.1'] });
    await connect(`${gw.url}?token=t`, { headers: { 'X-Forwarded-For': '203.0.113.7' } });
    expect(logs).toContainEqual(
      expect.objectContaining({ msg: 'upgrade request', sourceIp: '203.0.113.7', peerIp: '127.0.0.1' }),
    );
  });
});

/** Sends an upgrade request by hand and resolves once the 101 arrives. */
function rawUpgrade(port: number, url: string, extraHeaders: string[]): Promise<Socket> {
  const path = `${new URL(url).pathname}?token=t`;
  return new Promise<Socket>((resolve, reject) => {
    const socket = createConnection({ port, host: '127.0.0.1' }, () => {
      socket.write(
        [
          `GET ${path} HTTP/1.1`,
          `Host: 127.0.0.1:${port}`,
          'Upgrade: websocket',
          'Connection: Upgrade',
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
          'Sec-WebSocket-Version: 13',
          ...extraHeaders,
          '',
          '',
        ].join('\r\n'),
      );
    });
    let received = '';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (received.startsWith('HTTP/1.1 101')) resolve(socket);
      else if (received.includes('\r\n')) reject(new Error(`upgrade refused: ${received.split('\r\n')[0]}`));
    });
    socket.on('error', reject);
  });
}

const openssl = opensslAvailability();
const describeTls = openssl.run ? describe : describe.skip;
if (!openssl.run) console.warn(`gateway TLS tests skipped: ${openssl.reason}`);

describeTls('TLS, as an execute-api endpoint serves it', () => {
  let dir = '';
  let certificate: TestCertificate;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'fanout-gateway-tls-'));
    certificate = makeCertificate(dir, 'upstream', ['localhost', '127.0.0.1']);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const tlsGateway = (serverName?: string) =>
    gateway({
      tls: { cert: certificate.cert, key: certificate.key, ...(serverName ? { serverName } : {}) },
    });

  it('serves wss:// and https:// on its server name, and says https in X-Forwarded-Proto', async () => {
    const { gw, events, logs } = await tlsGateway('localhost');
    expect(gw.url).toBe(`wss://localhost:${gw.port}/local`);
    expect(gw.managementEndpoint).toBe(`https://localhost:${gw.port}/local`);

    const client = await connect(`${gw.url}?token=t`, { ca: certificate.cert });
    await client.send('over tls');
    expect((await client.next()).text).toBe('over tls');
    expect(headersOf(events.$connect[0])).toMatchObject({
      Host: `localhost:${gw.port}`,
      'X-Forwarded-Proto': 'https',
      'X-Forwarded-Port': String(gw.port),
    });
    expect(logs).toContainEqual(expect.objectContaining({ msg: 'upgrade request', servername: 'localhost' }));

    const connectionId = connectionIdOf(events.$connect[0]);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        `${gw.managementEndpoint}/@connections/${encodeURIComponent(connectionId)}`,
        { ca: certificate.cert },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(200);
  });

  it('refuses a TLS handshake that names another server', async () => {
    const { gw, logs } = await tlsGateway('localhost');
    const error = await tlsFailure(gw.port, 'dash.example.com');
    expect(error).toMatch(/alert|before secure TLS connection was established|ECONNRESET/i);
    expect(logs).toContainEqual(
      expect.objectContaining({
        msg: 'TLS handshake refused: wrong server name',
        servername: 'dash.example.com',
      }),
    );
  });

  it('cuts a TLS connection that names no server (no SNI), as API Gateway does not serve those', async () => {
    const { gw, logs } = await tlsGateway('localhost');
    // An IP address as the host: Node, like Apache, then sends no SNI.
    const error = await handshakeError(`wss://127.0.0.1:${gw.port}/local?token=t`, { ca: certificate.cert });
    expect(error).toMatch(/socket hang up|ECONNRESET|closed/i);
    expect(logs).toContainEqual(
      expect.objectContaining({ msg: 'TLS connection refused: no server name (SNI)' }),
    );
  });

  it('without a server name, accepts any SNI or none and names its bound host in its URLs', async () => {
    const { gw } = await tlsGateway();
    expect(gw.url).toBe(`wss://127.0.0.1:${gw.port}/local`);
    const client = await connect(`${gw.url}?token=t`, { ca: certificate.cert });
    await client.send('no sni');
    expect((await client.next()).text).toBe('no sni');
  });
});

function tlsFailure(port: number, servername: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ port, host: '127.0.0.1', servername, rejectUnauthorized: false });
    socket.once('secureConnect', () => {
      socket.destroy();
      reject(new Error(`the handshake for ${servername} succeeded`));
    });
    socket.once('error', (err) => resolve(err.message));
  });
}

function handshakeError(url: string, options: WebSocket.ClientOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options);
    ws.once('open', () => {
      ws.terminate();
      reject(new Error(`${url} opened`));
    });
    ws.once('error', (err) => resolve(err.message));
  });
}
