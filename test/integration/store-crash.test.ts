/**
 * Every write sequence of the DynamoDB store, stopped at each of its steps (a Lambda that dies, a
 * call that times out) and then retried, on dynalite: the retry leaves the rows exactly as META says,
 * and at no step in between does a subscription acknowledged before the call stop receiving events.
 */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  PutCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { audiencePatterns, matches } from '@fanout/protocol';
import { type LocalDynamoDb, startLocalDynamoDb } from '../../local/dynamodb/dynamodb.js';
import {
  type AudienceSource,
  audienceSources,
  deliveredByEarlierSource,
} from '../../shared/domain/audience.js';
import type { ConnectionStore } from '../../shared/store/store.js';
import { DynamoDbConnectionStore } from '../../shared/store/store-dynamodb.js';
import { createTableInput } from '../../shared/store/table.js';

const CONNECTED_AT = Date.UTC(2026, 11, 1, 10, 0, 0);
const WRITES = [PutCommand, DeleteCommand, UpdateCommand, BatchWriteCommand];

let server: LocalDynamoDb;
let raw: DynamoDBClient;
let client: DynamoDBDocumentClient;
let tables = 0;

beforeAll(async () => {
  server = await startLocalDynamoDb({ tableName: 'crash-0', region: 'us-east-1' });
  raw = new DynamoDBClient({
    endpoint: server.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  client = DynamoDBDocumentClient.from(raw);
});

afterAll(async () => {
  raw?.destroy();
  await server?.stop();
});

class Crash extends Error {
  override readonly name = 'Crash';
}

/**
 * The document client, except that write number `crashAt` (counting from 1) and every call after it
 * throw before reaching the table: the process died there.
 */
function crashingClient(crashAt: number): { client: DynamoDBDocumentClient; writes: () => number } {
  let writes = 0;
  let dead = false;
  const send = client.send.bind(client) as (command: unknown) => Promise<unknown>;
  const proxy = new Proxy(client, {
    get(target, property, receiver) {
      if (property !== 'send') return Reflect.get(target, property, receiver);
      return async (command: unknown) => {
        if (dead) throw new Crash('the process is gone');
        if (WRITES.some((type) => command instanceof type)) {
          writes += 1;
          if (writes === crashAt) {
            dead = true;
            throw new Crash(`stopped at write ${crashAt}`);
          }
        }
        return send(command);
      };
    },
  });
  return { client: proxy, writes: () => writes };
}

async function newTable(): Promise<string> {
  tables += 1;
  const tableName = `crash-${tables}`;
  await raw.send(new CreateTableCommand(createTableInput(tableName)));
  return tableName;
}

type Row = Record<string, unknown> & { pk: string; sk: string };

async function rows(tableName: string): Promise<Row[]> {
  const items: Row[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await client.send(
      new ScanCommand({ TableName: tableName, ...(startKey ? { ExclusiveStartKey: startKey } : {}) }),
    );
    items.push(...((page.Items ?? []) as Row[]));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
}

/** A topic that `pattern` matches. */
const topicOf = (pattern: string): string => (pattern.endsWith('/*') ? `${pattern.slice(0, -2)}/t` : pattern);

/**
 * Whether an event on `topic` (and to `users`) reaches connection `c` as the fan-out would read the
 * table right now, trusting every list that has a stamp: the worst case for de-duplication.
 */
async function reaches(store: ConnectionStore, topic: string, users: string[]): Promise<boolean> {
  const sources: AudienceSource[] = audienceSources({ topics: [topic], users });
  for (let index = 0; index < sources.length; index++) {
    const source = sources[index];
    if (!source) continue;
    const page = await store.audiencePage(source, 100);
    const member = page.members.find((m) => m.connectionId === 'c');
    const reading = { startedAt: Number.POSITIVE_INFINITY, complete: new Set<number>() };
    if (member && !deliveredByEarlierSource(member, sources, index, reading)) return true;
  }
  return false;
}

/** The rows of connection `c` are exactly what its META row says. */
function expectConsistent(all: readonly Row[]): void {
  const meta = all.find((row) => row.pk === 'CONN#c' && row.sk === 'META');
  if (!meta) {
    expect(all.filter((row) => row.pk === 'CONN#c' || row.sk === 'c')).toEqual([]);
    return;
  }
  const held = [...(meta.subscriptions as string[])].sort();
  const subs = all
    .filter((row) => row.pk === 'CONN#c' && row.sk.startsWith('SUB#'))
    .map((row) => row.sk.slice(4));
  expect(subs.sort()).toEqual(held);
  const topicRows = all.filter((row) => row.pk.startsWith('TOPIC#') && row.sk === 'c');
  expect(topicRows.map((row) => row.pk.slice('TOPIC#'.length)).sort()).toEqual(held);
  for (const row of [...topicRows, ...all.filter((r) => r.pk === 'USER#u' && r.sk === 'c')]) {
    expect({ row: row.pk, list: [...(row.subscriptions as string[])].sort(), rev: row.rev }).toEqual({
      row: row.pk,
      list: held,
      rev: meta.rev,
    });
    expect({ row: row.pk, trusted: typeof row.listedAt === 'number' }).toEqual({
      row: row.pk,
      trusted: true,
    });
  }
}

interface Scenario {
  name: string;
  /** Subscriptions held before the call, acknowledged. */
  before: string[];
  run: (store: ConnectionStore) => Promise<unknown>;
  /** Whether the connection is gone afterwards (disconnect, prune). */
  removes?: boolean;
}

const SCENARIOS: Scenario[] = [
  {
    name: 'subscribe to two new patterns',
    before: ['a/*', 'b/c'],
    run: (store) => store.subscribe('c', ['a/b/*', 'z'], 50),
  },
  {
    name: 'unsubscribe one of three patterns',
    before: ['a/*', 'a/b', 'cs/x'],
    run: (store) => store.unsubscribe('c', ['a/b']),
  },
  {
    name: 'unsubscribe a pattern an earlier source delivers through',
    before: ['cs/*', 'cs/x'],
    run: (store) => store.unsubscribe('c', ['cs/x']),
  },
  { name: 'disconnect', before: ['a/*', 'b/c'], run: (store) => store.removeConnection('c'), removes: true },
];

describe.each(SCENARIOS)('the DynamoDB store, stopped at every write of "$name" and retried', (scenario) => {
  it('converges to the rows META names and never loses a subscription held before the call', async () => {
    // How many writes the call makes when nothing stops it.
    const probeTable = await newTable();
    await setUp(new DynamoDbConnectionStore(client, probeTable), scenario.before);
    const probe = crashingClient(Number.POSITIVE_INFINITY);
    await scenario.run(new DynamoDbConnectionStore(probe.client, probeTable));
    const steps = probe.writes();
    expect(steps).toBeGreaterThan(1);

    for (let crashAt = 1; crashAt <= steps; crashAt++) {
      const tableName = await newTable();
      const healthy = new DynamoDbConnectionStore(client, tableName);
      await setUp(healthy, scenario.before);
      const crashing = crashingClient(crashAt);
      await expect(scenario.run(new DynamoDbConnectionStore(crashing.client, tableName))).rejects.toThrow(
        Crash,
      );

      if (!scenario.removes) {
        // Stopped half-way: what was held all along still arrives, through its topic and to its user.
        const stillHeld = scenario.before.filter((p) => !scenarioDrops(scenario).includes(p));
        for (const topic of scenario.before.map(topicOf)) {
          // A direct message to the user always arrives; a topic event when a held pattern covers it.
          expect({ crashAt, topic, asUser: await reaches(healthy, topic, ['u']) }).toEqual({
            crashAt,
            topic,
            asUser: true,
          });
          if (!stillHeld.some((pattern) => matches(pattern, topic))) continue;
          expect({ crashAt, topic, reached: await reaches(healthy, topic, []) }).toEqual({
            crashAt,
            topic,
            reached: true,
          });
        }
      }

      // The retry, as the client resends the same frame (or API Gateway the same $disconnect).
      await scenario.run(healthy);
      const all = await rows(tableName);
      expectConsistent(all);
      if (scenario.removes) expect(all.filter((row) => row.pk === 'CONN#c' || row.sk === 'c')).toEqual([]);
    }
  }, 60_000);
});

/** The patterns a scenario's call removes (unsubscribe), which may stop arriving mid-call. */
function scenarioDrops(scenario: Scenario): string[] {
  if (scenario.name.startsWith('unsubscribe one')) return ['a/b'];
  if (scenario.name.startsWith('unsubscribe a pattern')) return ['cs/x'];
  return [];
}

async function setUp(store: ConnectionStore, patterns: readonly string[]): Promise<void> {
  await store.registerConnection({
    connectionId: 'c',
    connectedAt: CONNECTED_AT,
    userId: 'u',
    allowedTopics: ['*'],
  });
  await store.subscribe('c', patterns, 50);
  // Sanity: the set-up itself reaches every pattern.
  for (const pattern of patterns) expect(audiencePatterns(topicOf(pattern))).toContain(pattern);
}
