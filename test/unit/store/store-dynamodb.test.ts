import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { FanoutError } from '../../../shared/domain/errors.js';
import { rowExpiry } from '../../../shared/domain/limits.js';
import { DynamoDbConnectionStore } from '../../../shared/store/store-dynamodb.js';

const TABLE = 'connections';
const CONNECTED_AT = Date.UTC(2026, 10, 24, 10, 0, 0);
const EXPIRES = rowExpiry(CONNECTED_AT);

const ddb = mockClient(DynamoDBDocumentClient);
const client = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
let delays: number[];

/** The store's clock: when lists are written. */
const LISTED_AT = CONNECTED_AT + 30_000;

function makeStore(): DynamoDbConnectionStore {
  return new DynamoDbConnectionStore(client, TABLE, {
    now: () => LISTED_AT,
    retry: {
      sleep: async (ms) => {
        delays.push(ms);
      },
    },
  });
}

const meta = (subscriptions: string[], rev: number, extra: Record<string, unknown> = {}) => ({
  Item: {
    pk: 'CONN#c1',
    sk: 'META',
    connectedAt: CONNECTED_AT,
    userId: 'u1',
    allowedTopics: ['*'],
    subscriptions,
    rev,
    expiresAt: EXPIRES,
    ...extra,
  },
});

const conditionFailed = () =>
  new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

/** Inputs of every call of one command, in order. */
const inputs = <T>(command: new (input: T) => unknown): T[] =>
  ddb.commandCalls(command as never).map((call) => call.args[0].input as T);

/** Position of a call among all calls sent, to check ordering across command types. */
const callIndex = (predicate: (input: Record<string, unknown>) => boolean): number =>
  ddb.calls().findIndex((call) => predicate(call.args[0].input as Record<string, unknown>));

const keyOf = (input: Record<string, unknown>): string => {
  const key = (input.Item ?? input.Key) as { pk?: unknown; sk?: unknown } | undefined;
  return `${String(key?.pk)}/${String(key?.sk)}`;
};

beforeEach(() => {
  ddb.reset();
  delays = [];
});

afterEach(() => {
  expect(ddb).not.toHaveReceivedCommand(ScanCommand);
});

describe('DynamoDbConnectionStore requests', () => {
  it('registers a connection with one batch: META at revision 0 and the USER row', async () => {
    ddb.on(BatchWriteCommand).resolves({});
    await makeStore().registerConnection({
      connectionId: 'c1',
      connectedAt: CONNECTED_AT,
      userId: 'u1',
      sourceIp: '203.0.113.7',
      allowedTopics: ['orders/*'],
    });

    expect(ddb).toHaveReceivedCommandTimes(BatchWriteCommand, 1);
    expect(ddb).toHaveReceivedCommandWith(BatchWriteCommand, {
      RequestItems: {
        [TABLE]: [
          {
            PutRequest: {
              Item: {
                pk: 'CONN#c1',
                sk: 'META',
                connectedAt: CONNECTED_AT,
                userId: 'u1',
                sourceIp: '203.0.113.7',
                allowedTopics: ['orders/*'],
                subscriptions: [],
                rev: 0,
                expiresAt: EXPIRES,
              },
            },
          },
          {
            PutRequest: {
              Item: {
                pk: 'USER#u1',
                sk: 'c1',
                userId: 'u1',
                subscriptions: [],
                rev: 0,
                connectedAt: CONNECTED_AT,
                expiresAt: EXPIRES,
              },
            },
          },
        ],
      },
    });
  });

  it('writes no USER row for an anonymous connection', async () => {
    ddb.on(BatchWriteCommand).resolves({});
    await makeStore().registerConnection({
      connectionId: 'c2',
      connectedAt: CONNECTED_AT,
      allowedTopics: [],
    });
    const [input] = inputs(BatchWriteCommand);
    expect(input?.RequestItems?.[TABLE]).toHaveLength(1);
  });

  it('reads a connection with a consistent GetItem on CONN#id/META, and refuses one it does not find', async () => {
    ddb.on(GetCommand).resolves({});

    await expect(makeStore().subscribe('c1', ['a'], 10)).rejects.toMatchObject({ code: 'internal' });
    expect(ddb).not.toHaveReceivedCommand(UpdateCommand);
    expect(ddb).toHaveReceivedCommandWith(GetCommand, {
      TableName: TABLE,
      Key: { pk: 'CONN#c1', sk: 'META' },
      ConsistentRead: true,
    });
  });

  describe('subscribe', () => {
    it('updates META on its revision, creates SUB and untrusted TOPIC rows of every held pattern, then writes every list trusted', async () => {
      ddb
        .on(GetCommand)
        .resolvesOnce(meta(['a'], 3))
        .resolves(meta(['a', 'b'], 4));
      ddb.on(UpdateCommand).resolves({});
      ddb.on(PutCommand).resolves({});

      expect(await makeStore().subscribe('c1', ['b', 'a', 'b'], 10)).toEqual({
        subscriptions: ['b', 'a'],
        total: 2,
      });

      expect(ddb).toHaveReceivedCommandWith(UpdateCommand, {
        Key: { pk: 'CONN#c1', sk: 'META' },
        ConditionExpression: '#rev = :expected',
        ExpressionAttributeValues: { ':subscriptions': ['a', 'b'], ':next': 4, ':expected': 3 },
      });
      const untrusted = {
        ConditionExpression: 'attribute_not_exists(#rev) OR #rev < :rev',
        ExpressionAttributeNames: { '#rev': 'rev' },
        ExpressionAttributeValues: { ':rev': 4 },
      };
      const trusted = {
        ConditionExpression:
          'attribute_not_exists(#rev) OR #rev < :rev OR (#rev = :rev AND attribute_not_exists(#listedAt))',
        ExpressionAttributeNames: { '#rev': 'rev', '#listedAt': 'listedAt' },
        ExpressionAttributeValues: { ':rev': 4 },
      };
      const list = { subscriptions: ['a', 'b'], rev: 4, connectedAt: CONNECTED_AT, expiresAt: EXPIRES };
      expect(ddb).toHaveReceivedCommandWith(PutCommand, {
        Item: { pk: 'CONN#c1', sk: 'SUB#b', expiresAt: EXPIRES },
      });
      // The new row first, its list not yet to be trusted: the rows it names may not all exist.
      expect(ddb).toHaveReceivedCommandWith(PutCommand, {
        Item: { pk: 'TOPIC#b', sk: 'c1', userId: 'u1', ...list },
        ...untrusted,
      });
      for (const pk of ['TOPIC#b', 'TOPIC#a']) {
        expect(ddb).toHaveReceivedCommandWith(PutCommand, {
          Item: { pk, sk: 'c1', userId: 'u1', ...list, listedAt: LISTED_AT },
          ...trusted,
        });
      }
      expect(ddb).toHaveReceivedCommandWith(PutCommand, {
        Item: { pk: 'USER#u1', sk: 'c1', userId: 'u1', ...list, listedAt: LISTED_AT },
        ...trusted,
      });
      // SUB and untrusted TOPIC rows for the held pattern too: an earlier call may have stopped before
      // creating them.
      expect(ddb).toHaveReceivedCommandWith(PutCommand, {
        Item: { pk: 'TOPIC#a', sk: 'c1', userId: 'u1', ...list },
        ...untrusted,
      });
      expect(ddb).toHaveReceivedCommandTimes(PutCommand, 7);
      // The new row exists before any trusted list names it.
      const firstWrite = (key: string, listed: boolean) =>
        callIndex(
          (i) => keyOf(i) === key && ((i.Item as { listedAt?: number }).listedAt !== undefined) === listed,
        );
      expect(firstWrite('TOPIC#b/c1', false)).toBeLessThan(firstWrite('TOPIC#a/c1', true));
      expect(firstWrite('TOPIC#b/c1', false)).toBeLessThan(firstWrite('USER#u1/c1', true));
      expect(firstWrite('TOPIC#b/c1', false)).toBeLessThan(firstWrite('TOPIC#b/c1', true));
      // META is read again at the end to check nobody overtook this write.
      expect(ddb).toHaveReceivedCommandTimes(GetCommand, 2);
    });

    it('re-reads and retries the META update after a ConditionalCheckFailed', async () => {
      ddb
        .on(GetCommand)
        .resolvesOnce(meta(['a'], 3))
        .resolvesOnce(meta(['a', 'x'], 4))
        .resolves(meta(['a', 'x', 'b'], 5));
      ddb.on(UpdateCommand).rejectsOnce(conditionFailed()).resolves({});
      ddb.on(PutCommand).resolves({});

      expect(await makeStore().subscribe('c1', ['b'], 10)).toEqual({ subscriptions: ['b'], total: 3 });

      const updates = inputs(UpdateCommand);
      expect(updates.map((u) => u.ExpressionAttributeValues)).toEqual([
        { ':subscriptions': ['a', 'b'], ':next': 4, ':expected': 3 },
        { ':subscriptions': ['a', 'x', 'b'], ':next': 5, ':expected': 4 },
      ]);
      expect(delays).toHaveLength(1);
      expect(ddb).toHaveReceivedCommandWith(PutCommand, {
        Item: expect.objectContaining({ pk: 'TOPIC#x', subscriptions: ['a', 'x', 'b'], rev: 5 }),
      });
    });

    it('gives up with internal after five conflicting updates, writing no index row', async () => {
      ddb.on(GetCommand).resolves(meta(['a'], 3));
      ddb.on(UpdateCommand).rejects(conditionFailed());

      const error = await makeStore()
        .subscribe('c1', ['b'], 10)
        .catch((e: unknown) => e);

      expect(error).toBeInstanceOf(FanoutError);
      expect(error).toMatchObject({ code: 'internal' });
      expect(ddb).toHaveReceivedCommandTimes(UpdateCommand, 5);
      expect(ddb).not.toHaveReceivedCommand(PutCommand);
    });

    it('keeps retrying conflicting updates until its deadline, then succeeds', async () => {
      ddb.on(GetCommand).resolves(meta(['a'], 3));
      let conflicts = 8;
      ddb.on(UpdateCommand).callsFake(() => {
        if (conflicts-- > 0) throw conditionFailed();
        return {};
      });
      ddb.on(PutCommand).resolves({});
      const store = makeStore();
      await expect(store.subscribe('c1', ['b'], 10, { deadline: LISTED_AT + 60_000 })).resolves.toEqual({
        subscriptions: ['b'],
        total: 2,
      });
      expect(ddb).toHaveReceivedCommandTimes(UpdateCommand, 9);
    });

    it('gives up with internal, writing no index row, once its deadline has passed', async () => {
      ddb.on(GetCommand).resolves(meta(['a'], 3));
      ddb.on(UpdateCommand).rejects(conditionFailed());
      await expect(makeStore().subscribe('c1', ['b'], 10, { deadline: LISTED_AT - 1 })).rejects.toMatchObject(
        {
          code: 'internal',
        },
      );
      expect(ddb).toHaveReceivedCommandTimes(UpdateCommand, 1);
      expect(ddb).not.toHaveReceivedCommand(PutCommand);
    });

    it('throws too_many_subscriptions and writes nothing', async () => {
      ddb.on(GetCommand).resolves(meta(['a', 'b'], 2));

      await expect(makeStore().subscribe('c1', ['c', 'd'], 3)).rejects.toMatchObject({
        code: 'too_many_subscriptions',
        details: { limit: 3 },
      });
      expect(ddb.calls().map((call) => call.args[0].constructor.name)).toEqual(['GetCommand']);
    });

    it('throws internal for an unregistered connection', async () => {
      ddb.on(GetCommand).resolves({});
      await expect(makeStore().subscribe('c1', ['a'], 3)).rejects.toMatchObject({ code: 'internal' });
      expect(ddb).not.toHaveReceivedCommand(UpdateCommand);
    });

    it('treats ConditionalCheckFailed on index rows as a newer revision having written them', async () => {
      ddb
        .on(GetCommand)
        .resolvesOnce(meta(['a'], 3))
        .resolves(meta(['a', 'b'], 4));
      ddb.on(UpdateCommand).resolves({});
      ddb.on(PutCommand).rejects(conditionFailed());
      for (const sk of ['SUB#a', 'SUB#b']) {
        ddb.on(PutCommand, { Item: { pk: 'CONN#c1', sk, expiresAt: EXPIRES } }).resolves({});
      }

      await expect(makeStore().subscribe('c1', ['b'], 10)).resolves.toEqual({
        subscriptions: ['b'],
        total: 2,
      });
    });

    it('fails when an index write fails for another reason', async () => {
      ddb
        .on(GetCommand)
        .resolvesOnce(meta(['a'], 3))
        .resolves(meta(['a', 'b'], 4));
      ddb.on(UpdateCommand).resolves({});
      ddb.on(PutCommand).rejects(new Error('throttled'));

      await expect(makeStore().subscribe('c1', ['b'], 10)).rejects.toThrow('throttled');
    });

    it('re-creates the requested rows when nothing changed, repairing a crashed earlier call', async () => {
      ddb.on(GetCommand).resolves(meta(['a'], 3));
      ddb.on(PutCommand).resolves({});

      expect(await makeStore().subscribe('c1', ['a'], 10)).toEqual({ subscriptions: ['a'], total: 1 });

      expect(ddb).not.toHaveReceivedCommand(UpdateCommand);
      expect(ddb).toHaveReceivedCommandWith(PutCommand, {
        Item: expect.objectContaining({ pk: 'TOPIC#a', sk: 'c1', rev: 3 }),
        ConditionExpression: 'attribute_not_exists(#rev) OR #rev < :rev',
      });
    });

    it('rewrites the rows it touched from the newest revision when overtaken', async () => {
      ddb
        .on(GetCommand)
        .resolvesOnce(meta(['a'], 3))
        // Meanwhile another call removed `b` again (revision 5).
        .resolvesOnce(meta(['a'], 5))
        .resolves(meta(['a'], 5));
      ddb.on(UpdateCommand).resolves({});
      ddb.on(PutCommand).resolves({});
      ddb.on(DeleteCommand).resolves({});

      await makeStore().subscribe('c1', ['b'], 10);

      expect(ddb).toHaveReceivedCommandWith(DeleteCommand, {
        Key: { pk: 'TOPIC#b', sk: 'c1' },
        ConditionExpression: 'attribute_not_exists(#rev) OR #rev <= :rev',
        ExpressionAttributeValues: { ':rev': 5 },
      });
      expect(ddb).toHaveReceivedCommandWith(DeleteCommand, { Key: { pk: 'CONN#c1', sk: 'SUB#b' } });
      expect(ddb).toHaveReceivedCommandWith(PutCommand, {
        Item: expect.objectContaining({ pk: 'TOPIC#a', subscriptions: ['a'], rev: 5 }),
      });
      expect(ddb).toHaveReceivedCommandWith(PutCommand, {
        Item: expect.objectContaining({ pk: 'USER#u1', subscriptions: ['a'], rev: 5 }),
      });
    });

    it('deletes the rows it wrote when the connection was removed meanwhile', async () => {
      ddb
        .on(GetCommand)
        .resolvesOnce(meta(['a'], 3))
        .resolves({});
      ddb.on(UpdateCommand).resolves({});
      ddb.on(PutCommand).resolves({});
      ddb.on(BatchWriteCommand).resolves({});

      await makeStore().subscribe('c1', ['b'], 10);

      const [batch] = inputs(BatchWriteCommand);
      expect(batch?.RequestItems?.[TABLE]?.map((r) => keyOf(r.DeleteRequest ?? {})).sort()).toEqual([
        'CONN#c1/SUB#a',
        'CONN#c1/SUB#b',
        'TOPIC#a/c1',
        'TOPIC#b/c1',
        'USER#u1/c1',
      ]);
    });
  });

  describe('unsubscribe', () => {
    it('updates META, refreshes the remaining rows, then deletes the removed ones', async () => {
      ddb
        .on(GetCommand)
        .resolvesOnce(meta(['a', 'b'], 3))
        .resolves(meta(['a'], 4));
      ddb.on(UpdateCommand).resolves({});
      ddb.on(PutCommand).resolves({});
      ddb.on(DeleteCommand).resolves({});

      expect(await makeStore().unsubscribe('c1', ['b', 'nope'])).toEqual(['b']);

      expect(ddb).toHaveReceivedCommandWith(UpdateCommand, {
        ExpressionAttributeValues: { ':subscriptions': ['a'], ':next': 4, ':expected': 3 },
      });
      expect(ddb).toHaveReceivedCommandWith(DeleteCommand, {
        Key: { pk: 'TOPIC#b', sk: 'c1' },
        ExpressionAttributeValues: { ':rev': 4 },
      });
      expect(ddb).toHaveReceivedCommandWith(DeleteCommand, { Key: { pk: 'CONN#c1', sk: 'SUB#b' } });
      const lastRefresh = Math.max(
        callIndex((i) => keyOf(i) === 'TOPIC#a/c1'),
        callIndex((i) => keyOf(i) === 'USER#u1/c1'),
      );
      expect(lastRefresh).toBeLessThan(callIndex((i) => keyOf(i) === 'TOPIC#b/c1'));
    });
  });

  describe('audiencePage', () => {
    it('queries one partition consistently, one row past the limit, and round-trips ExclusiveStartKey through the cursor', async () => {
      const lastKey = { pk: 'TOPIC#orders/*', sk: 'c2' };
      ddb
        .on(QueryCommand)
        .resolvesOnce({
          Items: [
            {
              sk: 'c1',
              userId: 'u1',
              subscriptions: ['orders/*'],
              listedAt: LISTED_AT,
              connectedAt: CONNECTED_AT,
            },
            { sk: 'c2', subscriptions: ['orders/*', 'x'] },
          ],
          LastEvaluatedKey: lastKey,
        })
        .resolves({ Items: [{ sk: 'c3', subscriptions: ['orders/*'] }] });
      const store = makeStore();
      const source = { kind: 'pattern', pattern: 'orders/*', topic: 'orders/eu' } as const;

      const first = await store.audiencePage(source, 2);
      expect(first.members).toEqual([
        {
          connectionId: 'c1',
          userId: 'u1',
          subscriptions: ['orders/*'],
          listedAt: LISTED_AT,
          connectedAt: CONNECTED_AT,
        },
        { connectionId: 'c2', subscriptions: ['orders/*', 'x'] },
      ]);
      expect(first.cursor).toEqual(expect.any(String));
      const second = await store.audiencePage(source, 2, first.cursor);
      expect(second).toEqual({ members: [{ connectionId: 'c3', subscriptions: ['orders/*'] }] });

      const [q1, q2] = inputs(QueryCommand);
      expect(q1).toEqual({
        TableName: TABLE,
        KeyConditionExpression: '#pk = :pk',
        ProjectionExpression: '#sk, #userId, #subscriptions, #listedAt, #connectedAt',
        ExpressionAttributeNames: {
          '#pk': 'pk',
          '#sk': 'sk',
          '#userId': 'userId',
          '#subscriptions': 'subscriptions',
          '#listedAt': 'listedAt',
          '#connectedAt': 'connectedAt',
        },
        ExpressionAttributeValues: { ':pk': 'TOPIC#orders/*' },
        Limit: 3,
        ConsistentRead: true,
      });
      expect(q2?.ExclusiveStartKey).toEqual(lastKey);
    });

    it('ends a page at the limit with a cursor after its last member when the extra row came back', async () => {
      ddb
        .on(QueryCommand)
        .resolvesOnce({
          Items: [
            { sk: 'c1', subscriptions: [] },
            { sk: 'c2', subscriptions: [] },
            { sk: 'c3', subscriptions: [] },
          ],
          LastEvaluatedKey: { pk: 'TOPIC#orders/*', sk: 'c3' },
        })
        .resolves({ Items: [{ sk: 'c3', subscriptions: [] }] });
      const store = makeStore();
      const source = { kind: 'pattern', pattern: 'orders/*', topic: 'orders/eu' } as const;

      const first = await store.audiencePage(source, 2);
      expect(first.members.map((m) => m.connectionId)).toEqual(['c1', 'c2']);
      const second = await store.audiencePage(source, 2, first.cursor);
      expect(second).toEqual({ members: [{ connectionId: 'c3', subscriptions: [] }] });
      const [, q2] = inputs(QueryCommand);
      expect(q2?.ExclusiveStartKey).toEqual({ pk: 'TOPIC#orders/*', sk: 'c2' });
    });

    it('reads a range again with a key condition up to the sort key its through cursor names', async () => {
      ddb.on(QueryCommand).resolves({ Items: [{ sk: 'c1', subscriptions: [] }] });
      const store = makeStore();
      const source = { kind: 'pattern', pattern: 'orders/*', topic: 'orders/eu' } as const;
      const through = Buffer.from(JSON.stringify({ pk: 'TOPIC#orders/*', sk: 'c2' })).toString('base64url');
      const foreign = Buffer.from(JSON.stringify({ pk: 'USER#bob', sk: 'c1' })).toString('base64url');

      const page = await store.audiencePage(source, 2, undefined, through);

      expect(page).toEqual({ members: [{ connectionId: 'c1', subscriptions: [] }] });
      expect(ddb).toHaveReceivedCommandWith(QueryCommand, {
        KeyConditionExpression: '#pk = :pk AND #sk <= :through',
        ExpressionAttributeValues: { ':pk': 'TOPIC#orders/*', ':through': 'c2' },
        Limit: 3,
      });
      await expect(store.audiencePage(source, 2, undefined, foreign)).rejects.toThrow(
        /belongs to USER#bob, not TOPIC#orders\/\*/,
      );
    });

    it('reads a user source from its USER# partition', async () => {
      ddb.on(QueryCommand).resolves({ Items: [{ sk: 'c1', userId: 'alice', subscriptions: [] }] });
      const page = await makeStore().audiencePage({ kind: 'user', userId: 'alice' }, 10);
      expect(page).toEqual({ members: [{ connectionId: 'c1', userId: 'alice', subscriptions: [] }] });
      expect(ddb).toHaveReceivedCommandWith(QueryCommand, {
        ExpressionAttributeValues: { ':pk': 'USER#alice' },
      });
    });

    it('rejects a malformed cursor, or one from another source, without querying', async () => {
      const store = makeStore();
      const source = { kind: 'user', userId: 'alice' } as const;
      const foreign = Buffer.from(JSON.stringify({ pk: 'USER#bob', sk: 'c1' })).toString('base64url');
      const extraKeys = Buffer.from(JSON.stringify({ pk: 'USER#alice', sk: 'c1', x: 1 })).toString(
        'base64url',
      );

      await expect(store.audiencePage(source, 10, '%%%not-a-cursor')).rejects.toThrow(
        /invalid audience cursor/,
      );
      await expect(store.audiencePage(source, 10, Buffer.from('[1]').toString('base64url'))).rejects.toThrow(
        /not a key object/,
      );
      await expect(store.audiencePage(source, 10, extraKeys)).rejects.toThrow(/exactly string pk and sk/);
      await expect(store.audiencePage(source, 10, foreign)).rejects.toThrow(
        /belongs to USER#bob, not USER#alice/,
      );
      await expect(store.audiencePage(source, 0)).rejects.toThrow(RangeError);
      expect(ddb).not.toHaveReceivedCommand(QueryCommand);
    });
  });

  describe('removeConnection', () => {
    const patterns = Array.from({ length: 30 }, (_, i) => `p${i}`);

    it('pages through CONN#id and deletes every row in chunks of 25, index rows first', async () => {
      ddb
        .on(QueryCommand)
        .resolvesOnce({
          Items: [
            { sk: 'META', userId: 'u1', subscriptions: patterns },
            ...patterns.slice(0, 15).map((p) => ({ sk: `SUB#${p}` })),
          ],
          LastEvaluatedKey: { pk: 'CONN#c1', sk: 'SUB#p14' },
        })
        // `extra` has a SUB# row but is missing from META's list: still cleaned up.
        .resolvesOnce({ Items: [...patterns.slice(15), 'extra'].map((p) => ({ sk: `SUB#${p}` })) })
        // The sweep after the deletes finds the partition empty.
        .resolves({ Items: [] });
      ddb.on(BatchWriteCommand).resolves({});

      await makeStore().removeConnection('c1');

      const queries = inputs(QueryCommand);
      expect(queries).toHaveLength(3);
      expect(queries[2]?.ExclusiveStartKey).toBeUndefined();
      expect(queries[0]).toMatchObject({
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeValues: { ':pk': 'CONN#c1' },
        ConsistentRead: true,
      });
      expect(queries[0]?.ExclusiveStartKey).toBeUndefined();
      expect(queries[1]?.ExclusiveStartKey).toEqual({ pk: 'CONN#c1', sk: 'SUB#p14' });

      const batches = inputs(BatchWriteCommand).map(
        (input) => input.RequestItems?.[TABLE]?.map((r) => keyOf(r.DeleteRequest ?? {})) ?? [],
      );
      expect(batches.map((b) => b.length)).toEqual([25, 7, 25, 7]);
      const indexRows = [...patterns, 'extra'].map((p) => `TOPIC#${p}/c1`).concat('USER#u1/c1');
      const ownRows = ['CONN#c1/META', ...[...patterns, 'extra'].map((p) => `CONN#c1/SUB#${p}`)];
      expect(batches.slice(0, 2).flat().sort()).toEqual(indexRows.sort());
      expect(batches.slice(2).flat().sort()).toEqual(ownRows.sort());
    });

    it('sweeps the partition again after its deletes, removing the rows a racing subscribe wrote meanwhile', async () => {
      ddb
        .on(QueryCommand)
        .resolvesOnce({ Items: [{ sk: 'META', userId: 'u1', subscriptions: ['a'] }, { sk: 'SUB#a' }] })
        // A subscribe wrote `late` after the first read and saw META still there, so it kept its rows.
        .resolvesOnce({ Items: [{ sk: 'SUB#late' }] })
        .resolves({ Items: [] });
      ddb.on(BatchWriteCommand).resolves({});

      await makeStore().removeConnection('c1');

      const batches = inputs(BatchWriteCommand).map(
        (input) => input.RequestItems?.[TABLE]?.map((r) => keyOf(r.DeleteRequest ?? {})) ?? [],
      );
      expect(batches).toEqual([
        ['TOPIC#a/c1', 'USER#u1/c1'],
        ['CONN#c1/META', 'CONN#c1/SUB#a'],
        // The sweep: the late pattern's index row, the user's again (the subscribe rewrote its list).
        ['TOPIC#late/c1', 'USER#u1/c1'],
        ['CONN#c1/SUB#late'],
      ]);
    });

    it('retries UnprocessedItems, with growing delays, until they drain', async () => {
      ddb
        .on(QueryCommand)
        .resolvesOnce({ Items: [{ sk: 'META', subscriptions: ['a', 'b'] }] })
        .resolves({ Items: [] });
      const leftover = { DeleteRequest: { Key: { pk: 'TOPIC#b', sk: 'c1' } } };
      ddb
        .on(BatchWriteCommand)
        .resolvesOnce({ UnprocessedItems: { [TABLE]: [leftover] } })
        .resolvesOnce({ UnprocessedItems: { [TABLE]: [leftover] } })
        .resolves({ UnprocessedItems: {} });

      await makeStore().removeConnection('c1');

      const batches = inputs(BatchWriteCommand).map((input) => input.RequestItems?.[TABLE]);
      expect(batches).toHaveLength(4);
      expect(batches[0]).toHaveLength(2);
      expect(batches[1]).toEqual([leftover]);
      expect(batches[2]).toEqual([leftover]);
      expect(batches[3]).toEqual([{ DeleteRequest: { Key: { pk: 'CONN#c1', sk: 'META' } } }]);
      expect(delays).toHaveLength(2);
      // Equal jitter: each delay lies in [base·2^n / 2, base·2^n] for the 25 ms default base.
      expect(delays[0]).toBeGreaterThanOrEqual(12.5);
      expect(delays[0]).toBeLessThanOrEqual(25);
      expect(delays[1]).toBeGreaterThanOrEqual(25);
      expect(delays[1]).toBeLessThanOrEqual(50);
    });

    it('throws when UnprocessedItems never drain, before deleting the connection rows', async () => {
      ddb.on(QueryCommand).resolves({ Items: [{ sk: 'META', subscriptions: ['a'] }] });
      ddb.on(BatchWriteCommand).callsFake((input: { RequestItems: Record<string, unknown[]> }) => ({
        UnprocessedItems: input.RequestItems,
      }));

      await expect(makeStore().removeConnection('c1')).rejects.toThrow(
        'BatchWriteItem on connections: 1 of 1 writes still unprocessed after 8 attempts',
      );
      expect(ddb).toHaveReceivedCommandTimes(BatchWriteCommand, 8);
      expect(delays).toHaveLength(7);
      expect(Math.max(...delays)).toBeLessThanOrEqual(1000);
    });

    it('sends no write for a connection that has no rows', async () => {
      ddb.on(QueryCommand).resolves({ Items: [] });
      await makeStore().removeConnection('ghost');
      expect(ddb).not.toHaveReceivedCommand(BatchWriteCommand);
    });
  });
});
