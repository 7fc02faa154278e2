import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GetConnectionCommand,
  GoneException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { startGateway } from '../gateway/index.js';
import type { GatewayHandle } from '../gateway/types.js';

let gateway: GatewayHandle;
let sdk: ApiGatewayManagementApiClient;

beforeEach(async () => {
  gateway = await startGateway({ integrations: { $connect: async () => ({ statusCode: 200 }) } });
  sdk = new ApiGatewayManagementApiClient({
    endpoint: gateway.managementEndpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
});

afterEach(async () => {
  sdk.destroy();
  await gateway.close();
});

const post = (connectionId: string) =>
  sdk.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.from('{"n":1}') }));

describe('socket-less counting connections', () => {
  it('accept posts through the real SDK and count each connection once or more', async () => {
    const [a, b, c] = gateway.counting.add(3);
    if (!a || !b || !c) throw new Error('expected three ids');
    await post(a);
    await post(b);
    await post(b);
    const stats = gateway.counting.stats();
    expect(stats).toMatchObject({ connections: 3, posts: 3, missing: 1, duplicated: 1 });
    expect(stats.lastPostAt).toBeGreaterThan(0);
    expect(gateway.connections()).toEqual([]);
  });

  it('describe themselves to GetConnection and end on DeleteConnection, after which posts are 410 Gone', async () => {
    const [id] = gateway.counting.add(1);
    if (!id) throw new Error('expected an id');
    const described = await sdk.send(new GetConnectionCommand({ ConnectionId: id }));
    expect(described.Identity?.SourceIp).toBe('127.0.0.1');
    await sdk.send(new DeleteConnectionCommand({ ConnectionId: id }));
    await expect(post(id)).rejects.toBeInstanceOf(GoneException);
  });

  it('start again from zero after reset, and are gone after clear', async () => {
    const [id] = gateway.counting.add(1);
    if (!id) throw new Error('expected an id');
    await post(id);
    gateway.counting.reset();
    expect(gateway.counting.stats()).toMatchObject({ posts: 0, missing: 1, lastPostAt: 0 });
    gateway.counting.clear();
    expect(gateway.counting.stats().connections).toBe(0);
    await expect(post(id)).rejects.toBeInstanceOf(GoneException);
  });

  it('refuse a count that is not a whole number', () => {
    expect(() => gateway.counting.add(-1)).toThrow(/whole number/);
    expect(() => gateway.counting.add(1.5)).toThrow(/whole number/);
  });
});
