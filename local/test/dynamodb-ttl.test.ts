/**
 * TTL for the local DynamoDB (local/dynamodb/ttl.ts): dynalite has none, so a sweeper deletes the rows
 * whose `expiresAt` (shared/store/table.ts) is in the past, as DynamoDB's TTL does on AWS, and never a
 * row that has not expired.
 */
import {
  type AttributeValue,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { createTableInput, TABLE_KEY } from '../../shared/store/table.js';
import { type LocalDynamoDb, startLocalDynamoDb } from '../dynamodb/dynamodb.js';
import { createActiveTable } from '../dynamodb/tables.js';
import { startTtlSweeper } from '../dynamodb/ttl.js';
import { waitUntil } from './support/wait.js';

const TABLE = 'ttl-test';
const nowSeconds = () => Math.floor(Date.now() / 1000);

let db: LocalDynamoDb;
let client: DynamoDBClient;

beforeAll(async () => {
  db = await startLocalDynamoDb({ tableName: TABLE, region: 'us-east-1', ttlSweepIntervalMs: 100 });
  client = new DynamoDBClient({
    endpoint: db.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
});

afterAll(async () => {
  client?.destroy();
  await db?.stop();
});

const key = (pk: string, sk = 'META'): Record<string, AttributeValue> => ({
  [TABLE_KEY.partitionKey]: { S: pk },
  [TABLE_KEY.sortKey]: { S: sk },
});

/** Another table of the same shape, for a sweeper of its own (the timer-driven one sweeps TABLE). */
async function table(name: string): Promise<string> {
  await createActiveTable(client, createTableInput(name));
  return name;
}

async function put(pk: string, ttl?: AttributeValue, tableName = TABLE): Promise<void> {
  await client.send(
    new PutItemCommand({
      TableName: tableName,
      Item: { ...key(pk), ...(ttl ? { [TABLE_KEY.ttlAttribute]: ttl } : {}) },
    }),
  );
}

async function exists(pk: string, tableName = TABLE): Promise<boolean> {
  const { Item } = await client.send(
    new GetItemCommand({ TableName: tableName, Key: key(pk), ConsistentRead: true }),
  );
  return Item !== undefined;
}

describe('TTL on the local DynamoDB', () => {
  it('deletes an expired row on its interval and keeps a fresh one', async () => {
    await put('CONN#expired', { N: String(nowSeconds() - 60) });
    await put('CONN#fresh', { N: String(nowSeconds() + 3600) });

    await waitUntil(async () => !(await exists('CONN#expired')), 'the expired row to be deleted', 5_000);

    expect(await exists('CONN#fresh')).toBe(true);
    await db.sweepExpired();
    expect(await exists('CONN#fresh')).toBe(true);
  });

  it('expires an item only after its TTL second, and ignores what DynamoDB ignores', async () => {
    const name = await table('ttl-boundaries');
    const t = nowSeconds() + 10_000; // the sweeper's clock
    await put('CONN#before', { N: String(t - 1) }, name);
    await put('CONN#at', { N: String(t) }, name);
    await put('CONN#after', { N: String(t + 1) }, name);
    await put('CONN#no-ttl', undefined, name);
    await put('CONN#string-ttl', { S: String(t - 100) }, name);
    await put('CONN#ancient', { N: String(t - 6 * 365 * 24 * 3600) }, name);
    const sweeper = startTtlSweeper({
      client,
      tableName: name,
      partitionKey: TABLE_KEY.partitionKey,
      sortKey: TABLE_KEY.sortKey,
      ttlAttribute: TABLE_KEY.ttlAttribute,
      intervalMs: false,
      now: () => t * 1000,
    });

    const deleted = await sweeper.sweep();
    await sweeper.stop();

    expect(deleted).toBe(1);
    const left = {
      before: await exists('CONN#before', name),
      at: await exists('CONN#at', name),
      after: await exists('CONN#after', name),
      noTtl: await exists('CONN#no-ttl', name),
      stringTtl: await exists('CONN#string-ttl', name),
      ancient: await exists('CONN#ancient', name),
    };
    expect(left).toEqual({
      before: false,
      at: true,
      after: true,
      noTtl: true,
      stringTtl: true,
      ancient: true,
    });
  });

  it('keeps a row whose TTL moved forward between the scan and the delete', async () => {
    const name = await table('ttl-race');
    const t = nowSeconds() + 20_000;
    await put('CONN#renewed', { N: String(t - 5) }, name);
    // The row is renewed right before the sweeper's delete of it reaches the table.
    let renewed = false;
    const racing = {
      send: async (command: unknown) => {
        if (command instanceof DeleteItemCommand && !renewed) {
          renewed = true;
          await client.send(
            new UpdateItemCommand({
              TableName: name,
              Key: key('CONN#renewed'),
              UpdateExpression: 'SET #ttl = :later',
              ExpressionAttributeNames: { '#ttl': TABLE_KEY.ttlAttribute },
              ExpressionAttributeValues: { ':later': { N: String(t + 3600) } },
            }),
          );
        }
        return client.send(command as never);
      },
    } as unknown as DynamoDBClient;
    const sweeper = startTtlSweeper({
      client: racing,
      tableName: name,
      partitionKey: TABLE_KEY.partitionKey,
      sortKey: TABLE_KEY.sortKey,
      ttlAttribute: TABLE_KEY.ttlAttribute,
      intervalMs: false,
      now: () => t * 1000,
    });

    expect(await sweeper.sweep()).toBe(0);
    await sweeper.stop();
    expect(renewed).toBe(true);
    expect(await exists('CONN#renewed', name)).toBe(true);
  });

  it('refuses an interval that is not a positive number', () => {
    expect(() =>
      startTtlSweeper({
        client,
        tableName: TABLE,
        partitionKey: 'pk',
        sortKey: 'sk',
        ttlAttribute: 'expiresAt',
        intervalMs: 0,
      }),
    ).toThrow(/positive/);
  });
});
