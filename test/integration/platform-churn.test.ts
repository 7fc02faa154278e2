/**
 * Churn against the whole local platform (issue 8): a storm of clients leaving at once. Each close runs
 * `$disconnect`; they queue for the account's warm environments instead of starting a cold environment
 * each (which timed out in their init phase by the hundred and left their rows behind), so once the
 * storm settles no row is left and no init phase timed out. And TTL: a row nobody cleans up (a lost
 * `$disconnect`) is deleted by the local DynamoDB's TTL sweeper once its `expiresAt` has passed.
 */
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { TABLE_KEY } from '../../shared/store/table';
import { type PlatformClient, type PlatformHarness, startHarness, waitUntil } from '../support/platform';

const CLIENTS = 200;
/** Every client has META and USER#<sub>; one in four also subscribes (SUB#demo/*, TOPIC#demo/*). */
const SUBSCRIBING_EVERY = 4;
const ROWS = CLIENTS * 2 + (CLIENTS / SUBSCRIBING_EVERY) * 2;
const TTL_SWEEP_MS = 200;

let h: PlatformHarness;

beforeAll(async () => {
  h = await startHarness({ ttlSweepIntervalMs: TTL_SWEEP_MS });
}, 60_000);

afterAll(async () => {
  await h?.close();
});

const platformLines = (): string[] =>
  h.logs.filter((entry) => entry.stream === 'platform').map((entry) => entry.line);

it(`leaves no row behind and no init phase timed out after ${CLIENTS} clients leave at once`, async () => {
  const clients: PlatformClient[] = [];
  for (let i = 0; i < CLIENTS; i += 1) clients.push(await h.connect(`churn${i}`, ['demo/*']));
  const subscribing = clients.filter((_, i) => i % SUBSCRIBING_EVERY === 0);
  await Promise.all(subscribing.map((client) => h.subscribe(client, ['demo/*'])));
  expect(await h.connectionRows()).toHaveLength(ROWS);
  const disconnectsBefore = h.invocations('disconnect');

  // All at once: half with a close frame, half vanishing (the gateway sees 1006).
  for (const [i, client] of clients.entries()) {
    if (i % 2 === 0) client.ws.close(1000);
    else client.ws.terminate();
  }

  await waitUntil(
    async () => (await h.connectionRows()).length === 0,
    'every connection row to be removed',
    90_000,
    500,
  ).catch(async (err: Error) => {
    throw new Error(`${err.message}: ${(await h.connectionRows()).length} rows left\n${h.recentLogs()}`);
  });
  expect(h.invocations('disconnect') - disconnectsBefore).toBe(CLIENTS);
  const lines = platformLines();
  expect(lines.filter((line) => line.includes('Phase: init') && line.includes('Status: timeout'))).toEqual(
    [],
  );
  expect(lines.filter((line) => line.includes('Task timed out'))).toEqual([]);
  const stats = h.platform.lambdaAccount.stats();
  expect(stats.throttled).toBe(0);
  expect(stats.peakEnvironments).toBeLessThanOrEqual(h.platform.lambdaAccount.maxEnvironments);
}, 180_000);

it('deletes a row whose expiresAt has passed and keeps a fresh one (the TTL sweeper)', async () => {
  const nowSeconds = Math.floor(Date.now() / 1000);
  const row = (pk: string, expiresAt: number) =>
    new PutItemCommand({
      TableName: h.config.tableName,
      Item: {
        [TABLE_KEY.partitionKey]: { S: pk },
        [TABLE_KEY.sortKey]: { S: 'META' },
        [TABLE_KEY.ttlAttribute]: { N: String(expiresAt) },
      },
    });
  await h.dynamodb.send(row('CONN#lost-disconnect', nowSeconds - 1));
  await h.dynamodb.send(row('CONN#still-open', nowSeconds + 7200));

  await waitUntil(
    async () => !(await h.connectionRows()).some((r) => r.pk === 'CONN#lost-disconnect'),
    'the expired row to be swept',
    10_000,
  );
  expect((await h.connectionRows()).map((r) => r.pk)).toEqual(['CONN#still-open']);
});
