/**
 * The DynamoDB stores against two emulators, dynalite and DynamoDB Local: the ConnectionStore and
 * HistoryStore contracts, then what only this implementation promises about its rows.
 */
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { rowExpiry } from '../../shared/domain/limits.js';
import { DynamoDbHistoryStore } from '../../shared/store/history-dynamodb.js';
import { DynamoDbConnectionStore } from '../../shared/store/store-dynamodb.js';
import { TABLE_KEY } from '../../shared/store/table.js';
import { describeEachEngine } from '../support/dynamodb-engines.js';
import { describeHistoryStoreContract } from '../support/history-contract.js';
import { describeConnectionStoreContract } from '../support/store-contract.js';

describeEachEngine((engine, db) => {
  /** Every item in the table. Tests may scan; the store itself never does. */
  async function scanAll(tableName: string): Promise<Record<string, unknown>[]> {
    const { client } = db();
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await client.send(
        new ScanCommand({ TableName: tableName, ...(startKey ? { ExclusiveStartKey: startKey } : {}) }),
      );
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return items;
  }

  const createTable = (): Promise<string> => db().createTable('connections');

  describeConnectionStoreContract(`DynamoDbConnectionStore on ${engine.name}`, async () => {
    const tableName = await createTable();
    return {
      store: new DynamoDbConnectionStore(db().client, tableName),
      rowCount: async () => (await scanAll(tableName)).length,
      cleanup: async () => {
        await db().raw.send(new DeleteTableCommand({ TableName: tableName }));
      },
    };
  });

  describeHistoryStoreContract(`DynamoDbHistoryStore on ${engine.name}`, {
    make: async (retentionSeconds, clock) =>
      new DynamoDbHistoryStore(db().client, await createTable(), { retentionSeconds, now: () => clock.now }),
  });

  /** A connection's META row among `rows`: the source of truth for what it holds. */
  const metaRow = (rows: readonly Record<string, unknown>[], connectionId: string) =>
    rows.find((row) => row.pk === `CONN#${connectionId}` && row.sk === 'META');

  describe(`DynamoDbConnectionStore on ${engine.name}`, () => {
    const CONNECTED_AT = Date.UTC(2026, 10, 24, 10, 0, 0);

    it('stores a connection with its user, source ip, allowed topics, no subscriptions and its expiry', async () => {
      const tableName = await createTable();
      const store = new DynamoDbConnectionStore(db().client, tableName);
      const allowedTopics = ['orders/*', 'users/{sub}/*'];
      await store.registerConnection({
        connectionId: 'c1',
        connectedAt: CONNECTED_AT,
        userId: 'alice',
        sourceIp: '203.0.113.7',
        allowedTopics,
      });
      await store.registerConnection({ connectionId: 'c2', connectedAt: CONNECTED_AT, allowedTopics });

      const rows = await scanAll(tableName);
      expect(metaRow(rows, 'c1')).toEqual({
        pk: 'CONN#c1',
        sk: 'META',
        connectedAt: CONNECTED_AT,
        userId: 'alice',
        sourceIp: '203.0.113.7',
        allowedTopics,
        subscriptions: [],
        rev: 0,
        expiresAt: rowExpiry(CONNECTED_AT),
      });
      expect(metaRow(rows, 'c2')).toMatchObject({ subscriptions: [], expiresAt: rowExpiry(CONNECTED_AT) });
      expect(metaRow(rows, 'c2')).not.toHaveProperty('userId');
    });

    it('stamps every stored row with the connection expiry', async () => {
      const tableName = await createTable();
      const store = new DynamoDbConnectionStore(db().client, tableName);
      await store.registerConnection({
        connectionId: 'c1',
        connectedAt: CONNECTED_AT,
        userId: 'alice',
        allowedTopics: ['*'],
      });
      await store.subscribe('c1', ['a', 'b'], 10);
      await store.unsubscribe('c1', ['a']);

      const rows = await scanAll(tableName);
      expect(rows.length).toBeGreaterThan(0);
      for (const row of rows) expect(row).toMatchObject({ expiresAt: rowExpiry(CONNECTED_AT) });
    });

    it('leaves a numeric expiresAt on every item of the table', async () => {
      const tableName = await createTable();
      const store = new DynamoDbConnectionStore(db().client, tableName);
      const connectedAt = Date.now();
      for (const id of ['c1', 'c2', 'c3']) {
        await store.registerConnection({
          connectionId: id,
          connectedAt,
          userId: 'alice',
          allowedTopics: ['*'],
        });
        await store.subscribe(id, ['orders/*', `orders/${id}`, '*'], 50);
      }
      await store.unsubscribe('c2', ['*']);
      await store.removeConnection('c3');

      const items = await scanAll(tableName);
      expect(items).toHaveLength(2 * (1 + 2 * 3 + 1) - 2);
      for (const item of items) expect(typeof item[TABLE_KEY.ttlAttribute]).toBe('number');
    });

    it('removes a connection whose rows span several query pages and batch chunks', async () => {
      const tableName = await createTable();
      const store = new DynamoDbConnectionStore(db().client, tableName);
      await store.registerConnection({
        connectionId: 'big',
        connectedAt: Date.now(),
        userId: 'u',
        allowedTopics: ['*'],
      });
      const patterns = Array.from({ length: 60 }, (_, i) => `t/${i}`);
      for (let i = 0; i < patterns.length; i += 20)
        await store.subscribe('big', patterns.slice(i, i + 20), 100);
      expect(await scanAll(tableName)).toHaveLength(1 + 2 * 60 + 1);

      await store.removeConnection('big');

      expect(await scanAll(tableName)).toEqual([]);
    });

    it('leaves no orphan rows when subscribes, unsubscribes and a disconnect race', async () => {
      const tableName = await createTable();
      const store = new DynamoDbConnectionStore(db().client, tableName);
      const ids = ['r1', 'r2', 'r3', 'r4', 'r5', 'r6'];
      for (const [i, id] of ids.entries()) {
        await store.registerConnection({
          connectionId: id,
          connectedAt: Date.now(),
          userId: 'u',
          allowedTopics: ['*'],
        });
        await store.subscribe(id, ['base', 'gone'], 50);
        const race = [
          store.subscribe(id, ['p1'], 50),
          store.unsubscribe(id, ['gone']),
          store.subscribe(id, ['p2', 'gone'], 50),
          store.unsubscribe(id, ['p1']),
          // Every other connection disconnects mid-race; the calls that lose to it fail with `internal`.
          ...(i % 2 === 0 ? [store.removeConnection(id)] : []),
        ];
        await Promise.allSettled(race);
      }

      const items = await scanAll(tableName);
      for (const [i, id] of ids.entries()) {
        const rows = items.filter((item) => item.pk === `CONN#${id}` || item.sk === id);
        if (i % 2 === 0) {
          expect(rows).toEqual([]);
          continue;
        }
        const held = [...((metaRow(items, id)?.subscriptions as string[] | undefined) ?? [])].sort();
        const topicRows = rows.filter((row) => String(row.pk).startsWith('TOPIC#'));
        expect(topicRows.map((row) => String(row.pk).slice('TOPIC#'.length)).sort()).toEqual(held);
        for (const row of [...topicRows, ...rows.filter((row) => row.pk === 'USER#u')]) {
          expect([...(row.subscriptions as string[])].sort()).toEqual(held);
        }
        expect(rows).toHaveLength(1 + 2 * held.length + 1);
      }
    });
  });
});
