/**
 * Every write sequence of the DynamoDB store, stopped at each of its steps (a Lambda that dies, a
 * call that times out) and then retried, on dynalite and on DynamoDB Local: the retry leaves the rows
 * exactly as META says, and at no step in between does a subscription acknowledged before the call stop
 * receiving events.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { audiencePatterns, matches } from '@fanout/protocol';
import type { ConnectionStore } from '../../shared/store/store.js';
import { DynamoDbConnectionStore } from '../../shared/store/store-dynamodb.js';
import { describeEachEngine } from '../support/dynamodb-engines.js';
import { Crash, crashingClient, expectConsistent, reaches, rows, topicOf } from '../support/store-crash.js';

const CONNECTED_AT = Date.UTC(2026, 11, 1, 10, 0, 0);

interface Scenario {
  name: string;
  /** Subscriptions held before the call, acknowledged. */
  before: string[];
  run: (store: ConnectionStore) => Promise<unknown>;
  /** Whether the connection is gone afterwards (disconnect, prune). */
  removes?: boolean;
  /** A call made after the set-up that stopped at write `at` and has not been retried yet. */
  stoppedBefore?: { run: (store: ConnectionStore) => Promise<unknown>; at: number };
  /** Topics checked besides one under each pattern held before. */
  topics?: string[];
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
  {
    // The subscribe put cs/* in META and stopped before its rows; the unsubscribe rewrites the lists,
    // which then name cs/*: its row must exist before they do, or an event on cs/x skips the
    // connection at `*` (its list says cs/* delivers) and finds nothing at cs/*.
    name: 'unsubscribe while a subscribe that stopped after its META update awaits its retry',
    before: ['*', 'a/b'],
    stoppedBefore: { run: (store) => store.subscribe('c', ['cs/*'], 50), at: 2 },
    run: (store) => store.unsubscribe('c', ['a/b']),
    topics: ['cs/x'],
  },
];

describeEachEngine((_engine, db) => {
  describe.each(SCENARIOS)(
    'the DynamoDB store, stopped at every write of "$name" and retried',
    (scenario) => {
      it('converges to the rows META names and never loses a subscription held before the call', async () => {
        const { client } = db();
        // How many writes the call makes when nothing stops it.
        const probeTable = await db().createTable('crash');
        await setUp(client, probeTable, scenario);
        const probe = crashingClient(client, Number.POSITIVE_INFINITY);
        await scenario.run(new DynamoDbConnectionStore(probe.client, probeTable));
        const steps = probe.writes();
        expect(steps).toBeGreaterThan(1);

        for (let crashAt = 1; crashAt <= steps; crashAt++) {
          const tableName = await db().createTable('crash');
          const healthy = new DynamoDbConnectionStore(client, tableName);
          await setUp(client, tableName, scenario);
          const crashing = crashingClient(client, crashAt);
          await expect(scenario.run(new DynamoDbConnectionStore(crashing.client, tableName))).rejects.toThrow(
            Crash,
          );

          if (!scenario.removes) {
            // Stopped half-way: what was held all along still arrives, through its topic and to its user.
            const stillHeld = scenario.before.filter((p) => !scenarioDrops(scenario).includes(p));
            for (const topic of [...scenario.before.map(topicOf), ...(scenario.topics ?? [])]) {
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
          const all = await rows(client, tableName);
          expectConsistent(all);
          if (scenario.removes)
            expect(all.filter((row) => row.pk === 'CONN#c' || row.sk === 'c')).toEqual([]);
        }
      }, 60_000);
    },
  );
});

/** The patterns a scenario's call removes (unsubscribe), which may stop arriving mid-call. */
function scenarioDrops(scenario: Scenario): string[] {
  if (scenario.name.startsWith('unsubscribe one')) return ['a/b'];
  if (scenario.name.startsWith('unsubscribe a pattern')) return ['cs/x'];
  if (scenario.name.startsWith('unsubscribe while')) return ['a/b'];
  return [];
}

/** Connection `c` of user `u`, holding `before`, and the scenario's stopped call if it has one. */
async function setUp(client: DynamoDBDocumentClient, tableName: string, scenario: Scenario): Promise<void> {
  const store = new DynamoDbConnectionStore(client, tableName);
  await store.registerConnection({
    connectionId: 'c',
    connectedAt: CONNECTED_AT,
    userId: 'u',
    allowedTopics: ['*'],
  });
  await store.subscribe('c', scenario.before, 50);
  // Sanity: the set-up itself reaches every pattern.
  for (const pattern of scenario.before) expect(audiencePatterns(topicOf(pattern))).toContain(pattern);
  if (scenario.stoppedBefore) {
    const { run, at } = scenario.stoppedBefore;
    const crashing = crashingClient(client, at);
    await expect(run(new DynamoDbConnectionStore(crashing.client, tableName))).rejects.toThrow(Crash);
  }
}
