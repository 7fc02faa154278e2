/**
 * The lean `@connections` client against the local API Gateway emulator, which answers as AWS does
 * (status, `x-amzn-ErrorType`, JSON body): every answer becomes the kind the fan-out engine acts on.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startGateway } from '../../local/gateway/index.js';
import type { GatewayHandle } from '../../local/gateway/types.js';
import { openClient, type TestClient } from '../../local/test/support/ws-client.js';
import { GatewayError } from '../../shared/gateway/gateway.js';
import { SignedConnectionGateway } from '../../shared/gateway/gateway-signed.js';

let gw: GatewayHandle;
let lean: SignedConnectionGateway;
const connected: string[] = [];

beforeAll(async () => {
  gw = await startGateway({
    integrations: {
      $connect: async (event) => {
        connected.push((event as { requestContext: { connectionId: string } }).requestContext.connectionId);
        return { statusCode: 200 };
      },
    },
  });
  lean = new SignedConnectionGateway({
    endpoint: gw.managementEndpoint,
    region: 'us-east-1',
    credentials: async () => ({ accessKeyId: 'local', secretAccessKey: 'local' }),
    maxSockets: 4,
    requestTimeoutMs: 500,
  });
});

afterAll(async () => {
  lean?.destroy();
  await gw?.close();
});

async function open(): Promise<{ client: TestClient; id: string }> {
  const before = connected.length;
  const client = await openClient(gw.url);
  const id = connected[before];
  if (!id) throw new Error('no $connect');
  return { client, id };
}

const kindOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 'delivered',
    (err: unknown) => (err instanceof GatewayError ? err.kind : `not a GatewayError: ${String(err)}`),
  );

describe('the lean @connections client', () => {
  it('delivers a frame to a live connection, and the same frame to many', async () => {
    const { client, id } = await open();
    const frame = new TextEncoder().encode('{"type":"event","id":"e1"}');
    await lean.post(id, frame);
    await lean.post(id, frame);
    expect((await client.next()).text).toBe('{"type":"event","id":"e1"}');
    expect((await client.next()).text).toBe('{"type":"event","id":"e1"}');
    client.ws.close();
  });

  it('answers gone for a connection that closed', async () => {
    const { client, id } = await open();
    client.ws.close();
    await client.closed;
    expect(await kindOf(lean.post(id, new Uint8Array([123, 125])))).toBe('gone');
  });

  it('answers too_large for a frame over 128 KB', async () => {
    const { client, id } = await open();
    expect(await kindOf(lean.post(id, new Uint8Array(128 * 1024 + 1).fill(32)))).toBe('too_large');
    client.ws.close();
  });

  it.each([
    [{ status: 429, errorType: 'LimitExceededException' }, 'throttled'],
    [{ status: 403, errorType: 'ForbiddenException' }, 'forbidden'],
    [{ status: 400, errorType: 'BadRequestException' }, 'invalid'],
    [{ status: 500, errorType: 'InternalServerErrorException' }, 'other'],
  ])('classifies %j as %s', async (fault, kind) => {
    const { client, id } = await open();
    gw.setFaults({ beforeConnectionsCall: () => ({ ...fault, message: 'injected' }) });
    try {
      expect(await kindOf(lean.post(id, new Uint8Array([123, 125])))).toBe(kind);
    } finally {
      gw.setFaults({});
      client.ws.close();
    }
  });

  it('gives up on an answer slower than its request timeout, as a retryable failure', async () => {
    const { client, id } = await open();
    gw.setFaults({ latencyMs: 2_000 });
    const started = Date.now();
    try {
      expect(await kindOf(lean.post(id, new Uint8Array([123, 125])))).toBe('other');
      expect(Date.now() - started).toBeLessThan(1_500);
    } finally {
      gw.setFaults({});
      client.ws.close();
    }
  });

  it('reads the error type from a JSON body when no header names it, and a bare status otherwise', async () => {
    const bodies: [number, string][] = [
      [410, '{"__type":"com.amazonaws#GoneException","message":"gone"}'],
      [410, ''],
      [429, 'not json'],
    ];
    const server: Server = createServer((req, res) => {
      const [status, body] = bodies.shift() ?? [500, ''];
      req.resume();
      res.writeHead(status, { 'content-type': 'application/json' }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const bare = new SignedConnectionGateway({
      endpoint: `http://127.0.0.1:${port}/stage`,
      region: 'us-east-1',
      credentials: async () => ({ accessKeyId: 'local', secretAccessKey: 'local' }),
      maxSockets: 1,
      requestTimeoutMs: 1_000,
    });
    try {
      expect(await kindOf(bare.post('c', new Uint8Array([1])))).toBe('gone');
      expect(await kindOf(bare.post('c', new Uint8Array([1])))).toBe('gone');
      expect(await kindOf(bare.post('c', new Uint8Array([1])))).toBe('throttled');
    } finally {
      bare.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('fails as other, not as a crash, when nothing listens at the endpoint', async () => {
    const nowhere = new SignedConnectionGateway({
      endpoint: 'http://127.0.0.1:9/stage',
      region: 'us-east-1',
      credentials: async () => ({ accessKeyId: 'local', secretAccessKey: 'local' }),
      maxSockets: 1,
      requestTimeoutMs: 1_000,
    });
    expect(await kindOf(nowhere.post('c', new Uint8Array([1])))).toBe('other');
    nowhere.destroy();
  });
});
