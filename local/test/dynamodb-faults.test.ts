/**
 * Faults injected into the local DynamoDB (local/dynamodb/faults.ts): the real SDK client sees an
 * injected fault as DynamoDB's own error, by name and status, the table is not touched while it lasts,
 * and clearing the faults brings the table back as it was. Calls reach dynalite, in a worker thread,
 * through a forwarder in front of it.
 */

import { Agent, createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type AttributeValue,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { LOCAL_CREDENTIALS } from '../dev/clients.js';
import { forwardTo, type LocalDynamoDb, startLocalDynamoDb } from '../dynamodb/dynamodb.js';
import { type DynamoDbCall, SERVICE_UNAVAILABLE } from '../dynamodb/faults.js';

const TABLE = 'faults-test';
let db: LocalDynamoDb;
let client: DynamoDBClient;

/** One attempt: the tests look at what DynamoDB answered, not at the SDK's retries. */
const clientOf = (endpoint: string): DynamoDBClient =>
  new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });

beforeAll(async () => {
  db = await startLocalDynamoDb({ tableName: TABLE, region: 'us-east-1', ttlSweepIntervalMs: false });
  client = clientOf(db.endpoint);
});

afterEach(() => db.setFaults(undefined));

afterAll(async () => {
  client?.destroy();
  await db?.stop();
});

const key = (pk: string): Record<string, AttributeValue> => ({ pk: { S: pk }, sk: { S: 'META' } });
const put = (pk: string) => client.send(new PutItemCommand({ TableName: TABLE, Item: key(pk) }));
const get = async (pk: string) =>
  (await client.send(new GetItemCommand({ TableName: TABLE, Key: key(pk) }))).Item;

it('answers every call with the injected fault, which the SDK raises by name with its status', async () => {
  db.setFaults({ beforeCall: () => SERVICE_UNAVAILABLE });
  const error = await put('CONN#a').then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toMatchObject({
    name: 'ServiceUnavailable',
    message: 'The service is currently unavailable or busy.',
    $metadata: { httpStatusCode: 503 },
  });

  db.setFaults(undefined);
  expect(await get('CONN#a')).toBeUndefined();
});

it('names the operation of each call to the hook and lets calls it answers nothing for through', async () => {
  const calls: DynamoDbCall[] = [];
  db.setFaults({
    beforeCall: (call) => {
      calls.push(call);
      return call.operation === 'GetItem'
        ? { status: 500, errorType: 'InternalServerError', message: 'injected' }
        : undefined;
    },
  });
  await put('CONN#b');
  await expect(get('CONN#b')).rejects.toMatchObject({ name: 'InternalServerError', message: 'injected' });
  expect(calls).toEqual([{ operation: 'PutItem' }, { operation: 'GetItem' }]);

  db.setFaults(undefined);
  expect(await get('CONN#b')).toEqual(key('CONN#b'));
});

it('answers InternalServerError when the hook itself throws, so a broken test does not hang the call', async () => {
  db.setFaults({
    beforeCall: () => {
      throw new Error('hook bug');
    },
  });
  await expect(put('CONN#c')).rejects.toMatchObject({
    name: 'InternalServerError',
    $metadata: { httpStatusCode: 500 },
  });
});

it('delays every answer by latencyMs', async () => {
  db.setFaults({ latencyMs: 150 });
  const started = Date.now();
  await put('CONN#d');
  expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  expect(await get('CONN#d')).toEqual(key('CONN#d'));
});

/** Listens on an ephemeral loopback port; resolves with the port. */
async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** A forwarder to `port` where dynalite would be, and a client of it; `close` ends both. */
async function forwarderTo(port: number): Promise<{ client: DynamoDBClient; close: () => Promise<void> }> {
  const agent = new Agent({ keepAlive: true });
  const front = createServer(forwardTo(port, agent));
  const forwarder = clientOf(`http://127.0.0.1:${await listen(front)}`);
  return {
    client: forwarder,
    close: async () => {
      forwarder.destroy();
      agent.destroy();
      front.closeAllConnections();
      await new Promise((resolve) => front.close(resolve));
    },
  };
}

it('answers InternalServerError, as DynamoDB does for a call it failed, when dynalite is not there', async () => {
  // A port nobody listens on: where the worker's dynalite would be had it ended.
  const closed = createServer();
  const port = await listen(closed);
  await new Promise((resolve) => closed.close(resolve));
  const forwarder = await forwarderTo(port);
  try {
    await expect(
      forwarder.client.send(new GetItemCommand({ TableName: TABLE, Key: key('CONN#e') })),
    ).rejects.toMatchObject({
      name: 'InternalServerError',
      message: expect.stringContaining('the local DynamoDB did not answer'),
      $metadata: { httpStatusCode: 500 },
    });
  } finally {
    await forwarder.close();
  }
});

it("cuts the client off when dynalite's answer breaks off after its head, instead of leaving it waiting", async () => {
  // Stands in for a worker that dies mid-answer: the head, a tenth of the body, then the socket goes.
  const broken = createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'Content-Type': 'application/x-amz-json-1.0', 'Content-Length': 100 });
    res.write('{"Item":');
    setTimeout(() => res.socket?.destroy(), 10);
  });
  const forwarder = await forwarderTo(await listen(broken));
  try {
    await expect(
      forwarder.client.send(new GetItemCommand({ TableName: TABLE, Key: key('CONN#f') })),
    ).rejects.toThrow();
  } finally {
    await forwarder.close();
    broken.closeAllConnections();
    await new Promise((resolve) => broken.close(resolve));
  }
});
