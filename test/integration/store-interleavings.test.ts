/**
 * The DynamoDB store under random sequences of subscribe, unsubscribe, disconnect and prune on one
 * connection, each call possibly stopped at a random write (a Lambda that dies) and retried later,
 * on dynalite (docs/architecture.md, "Guarantees": every write sequence can stop at any step and be
 * retried). The model is what the connection was told: a subscription acknowledged and not since
 * unsubscribed is held. At every step a held subscription is reached, through its topic and to its
 * user, by the fan-out's worst-case reading; once every stopped call has been retried, the rows are
 * exactly what META says. store-crash.test.ts stops one call at each of its writes; this test mixes
 * them.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { matches } from '@fanout/protocol';
import fc from 'fast-check';
import { type LocalDynamoDb, startLocalDynamoDb } from '../../local/dynamodb/dynamodb';
import { createActiveTable } from '../../local/dynamodb/tables';
import {
  type AudienceMember,
  type AudienceSource,
  audienceSources,
  deliveredByEarlierSource,
} from '../../shared/domain/audience';
import type { ConnectionStore } from '../../shared/store/store';
import { DynamoDbConnectionStore } from '../../shared/store/store-dynamodb';
import { createTableInput } from '../../shared/store/table';
import { checkProperty } from '../support/properties';
import { Crash, crashingClient, expectConsistent, rows } from '../support/store-crash';

/** Few runs of a few calls: every step costs a handful of DynamoDB round trips. */
const RUNS = 25;
const MAX_CALLS = 8;
/** Patterns that overlap: exact topics under wildcards, so de-duplication has lists to trust. */
const PATTERNS = ['*', 'a/*', 'a/b', 'a/b/*', 'a/b/c', 'b', 'cs/*', 'cs/x'];
/** Topics the events of the checks are on: under each pattern, beside them, and under none but `*`. */
const TOPICS = ['a', 'a/b', 'a/b/c', 'a/b/t', 'a/t', 'b', 'cs/x', 'cs/t', 'zz'];

let server: LocalDynamoDb;
let raw: DynamoDBClient;
let client: DynamoDBDocumentClient;
let tables = 0;

beforeAll(async () => {
  server = await startLocalDynamoDb({ tableName: 'interleave-0', region: 'us-east-1' });
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

/** A call that stopped part-way, waiting for its retry. */
type Stopped =
  | { kind: 'subscribe'; patterns: string[] }
  | { kind: 'unsubscribe'; patterns: string[] }
  | { kind: 'remove' };

interface Model {
  /** No disconnect or prune has started: the client is there to send frames and to resend them. */
  open: boolean;
  /** Subscriptions acknowledged and not unsubscribed since (nor removed with the connection). */
  held: Set<string>;
  stopped: Stopped[];
}

interface Real {
  tableName: string;
  healthy: ConnectionStore;
  /** What happened, for the failure message. */
  trace: string[];
}

/** Runs `call` on a store whose document client dies at write `crashAt`; whether it stopped there. */
async function attempt(
  real: Real,
  crashAt: number | undefined,
  call: (store: ConnectionStore) => Promise<unknown>,
): Promise<'done' | 'stopped'> {
  const crashing = crashingClient(client, crashAt ?? Number.POSITIVE_INFINITY);
  try {
    await call(new DynamoDbConnectionStore(crashing.client, real.tableName));
    return 'done';
  } catch (err) {
    if (err instanceof Crash) return 'stopped';
    throw err;
  }
}

const run = (store: ConnectionStore, call: Stopped): Promise<unknown> => {
  if (call.kind === 'subscribe') return store.subscribe('c', call.patterns, 50);
  if (call.kind === 'unsubscribe') return store.unsubscribe('c', call.patterns);
  return store.removeConnection('c');
};

const describeCall = (call: Stopped): string =>
  call.kind === 'remove' ? 'remove' : `${call.kind}(${call.patterns.join(',')})`;

/**
 * How the fan-out would read the table right now, trusting every stamped list (the worst case for
 * de-duplication, as `reaches` in support/store-crash.ts): whether an event reaches connection `c`.
 * Each source is read once per check, however many topics share it.
 */
function reading(store: ConnectionStore): (topic: string, users: string[]) => Promise<boolean> {
  const pages = new Map<string, Promise<AudienceMember | undefined>>();
  const memberIn = (source: AudienceSource): Promise<AudienceMember | undefined> => {
    const key = source.kind === 'user' ? `user ${source.userId}` : `pattern ${source.pattern}`;
    let page = pages.get(key);
    if (!page) {
      page = store.audiencePage(source, 100).then((p) => p.members.find((m) => m.connectionId === 'c'));
      pages.set(key, page);
    }
    return page;
  };
  const trustAll = { startedAt: Number.POSITIVE_INFINITY, complete: new Set<number>() };
  return async (topic, users) => {
    const sources = audienceSources({ topics: [topic], users });
    for (const [index, source] of sources.entries()) {
      const member = await memberIn(source);
      if (member && !deliveredByEarlierSource(member, sources, index, trustAll)) return true;
    }
    return false;
  };
}

/**
 * What the model promises the connection, checked against the table as the fan-out reads it: while
 * it is open, every event on a topic a held pattern matches, and every event to its user (whatever
 * topics it also has), reaches it.
 */
async function expectReached(model: Model, real: Real): Promise<void> {
  if (!model.open) return;
  const reaches = reading(real.healthy);
  const missed: string[] = [];
  for (const topic of TOPICS) {
    const holder = [...model.held].find((pattern) => matches(pattern, topic));
    if (holder && !(await reaches(topic, []))) missed.push(`${topic} (held as ${holder})`);
    if (!(await reaches(topic, ['u']))) missed.push(`${topic} to user u`);
  }
  if (missed.length > 0) {
    throw new Error(
      `connection c holds ${[...model.held].join(', ') || 'nothing'} but misses ${missed.join('; ')}\nafter\n  ${real.trace.join('\n  ')}`,
    );
  }
}

/** A client or platform call, stopped at write `crashAt` when that many writes happen. */
abstract class StoreCall implements fc.AsyncCommand<Model, Real> {
  constructor(readonly crashAt: number | undefined) {}
  abstract call(): Stopped;
  abstract check(model: Readonly<Model>): boolean;
  /** The model's change as the call starts (what may stop arriving at once). */
  abstract begin(model: Model): void;
  /** The model's change once the call returned. */
  abstract acknowledge(model: Model): void;

  async run(model: Model, real: Real): Promise<void> {
    this.begin(model);
    const outcome = await attempt(real, this.crashAt, (store) => run(store, this.call()));
    real.trace.push(`${this.toString()}: ${outcome}`);
    if (outcome === 'done') this.acknowledge(model);
    else model.stopped.push(this.call());
    await expectReached(model, real);
  }

  toString(): string {
    return `${describeCall(this.call())}${this.crashAt === undefined ? '' : ` stopped at write ${this.crashAt}`}`;
  }
}

class Subscribe extends StoreCall {
  constructor(
    readonly patterns: string[],
    crashAt: number | undefined,
  ) {
    super(crashAt);
  }
  call(): Stopped {
    return { kind: 'subscribe', patterns: this.patterns };
  }
  check(model: Readonly<Model>): boolean {
    return model.open;
  }
  begin(): void {}
  acknowledge(model: Model): void {
    for (const pattern of this.patterns) model.held.add(pattern);
  }
}

class Unsubscribe extends StoreCall {
  constructor(
    readonly patterns: string[],
    crashAt: number | undefined,
  ) {
    super(crashAt);
  }
  call(): Stopped {
    return { kind: 'unsubscribe', patterns: this.patterns };
  }
  check(model: Readonly<Model>): boolean {
    return model.open;
  }
  // Being removed, a pattern may stop arriving as soon as the call starts.
  begin(model: Model): void {
    for (const pattern of this.patterns) model.held.delete(pattern);
  }
  acknowledge(): void {}
}

/** `$disconnect` (once, from the gateway) or a prune after a 410 (the fan-out, any number of times). */
class Remove extends StoreCall {
  constructor(
    readonly why: 'disconnect' | 'prune',
    crashAt: number | undefined,
  ) {
    super(crashAt);
  }
  call(): Stopped {
    return { kind: 'remove' };
  }
  check(model: Readonly<Model>): boolean {
    return this.why === 'prune' || model.open;
  }
  // The client is gone: its stopped frames are never resent, and nothing it held is owed any more.
  begin(model: Model): void {
    model.open = false;
    model.held.clear();
    model.stopped = model.stopped.filter((call) => call.kind === 'remove');
  }
  acknowledge(): void {}
  override toString(): string {
    return `${this.why}${this.crashAt === undefined ? '' : ` stopped at write ${this.crashAt}`}`;
  }
}

/**
 * Retries a stopped call on the healthy store. The retry is the call made again, and changes the model
 * as the call does: an unsubscribe drops its patterns as it starts (even one a later subscribe had
 * acknowledged meanwhile), a subscribe adds its patterns once it returns.
 */
async function retry(model: Model, real: Real, call: Stopped, what: string): Promise<void> {
  if (call.kind === 'unsubscribe') for (const pattern of call.patterns) model.held.delete(pattern);
  await run(real.healthy, call);
  real.trace.push(`${what} ${describeCall(call)}: done`);
  if (call.kind === 'subscribe') for (const pattern of call.patterns) model.held.add(pattern);
}

/** The retry of a stopped call: the client resends its frame, API Gateway or the fan-out its removal. */
class Retry implements fc.AsyncCommand<Model, Real> {
  constructor(readonly pick: number) {}
  check(model: Readonly<Model>): boolean {
    return model.stopped.length > 0;
  }
  async run(model: Model, real: Real): Promise<void> {
    const [call] = model.stopped.splice(this.pick % model.stopped.length, 1);
    if (!call) return;
    await retry(model, real, call, 'retry');
    await expectReached(model, real);
  }
  toString(): string {
    return `retry #${this.pick}`;
  }
}

const patternsArb = fc.uniqueArray(fc.constantFrom(...PATTERNS), { minLength: 1, maxLength: 3 });
/**
 * Half of the calls stop at one of their writes: a subscribe or unsubscribe makes up to about ten, a
 * removal two or three (its deletes go in batches).
 */
const stopsAt = (writes: number) => fc.oneof(fc.constant(undefined), fc.integer({ min: 1, max: writes }));

// The connection mostly subscribes and unsubscribes; its removal, which ends what can be checked, is rare.
const callsArb = fc.commands(
  [
    fc.oneof(
      {
        weight: 4,
        arbitrary: fc.tuple(patternsArb, stopsAt(10)).map(([patterns, at]) => new Subscribe(patterns, at)),
      },
      {
        weight: 3,
        arbitrary: fc.tuple(patternsArb, stopsAt(10)).map(([patterns, at]) => new Unsubscribe(patterns, at)),
      },
      { weight: 3, arbitrary: fc.nat(4).map((pick) => new Retry(pick)) },
      { weight: 1, arbitrary: stopsAt(3).map((at) => new Remove('disconnect', at)) },
      { weight: 1, arbitrary: stopsAt(3).map((at) => new Remove('prune', at)) },
    ),
  ],
  { maxCommands: MAX_CALLS, size: 'max' },
);

describe('the DynamoDB store under interleaved calls stopped at random writes', () => {
  it('keeps every held subscription reached at every step, and ends with the rows META names', async () => {
    await checkProperty(
      fc.asyncProperty(callsArb, async (calls) => {
        tables += 1;
        const tableName = `interleave-${tables}`;
        await createActiveTable(raw, createTableInput(tableName));
        const healthy = new DynamoDbConnectionStore(client, tableName);
        await healthy.registerConnection({
          connectionId: 'c',
          connectedAt: Date.UTC(2026, 11, 1, 10, 0, 0),
          userId: 'u',
          allowedTopics: ['*'],
        });
        const model: Model = { open: true, held: new Set(), stopped: [] };
        const real: Real = { tableName, healthy, trace: [] };
        await fc.asyncModelRun(() => ({ model, real }), calls);

        // The dust settles: every call still stopped is retried once.
        for (const call of model.stopped.splice(0)) await retry(model, real, call, 'final retry');
        await expectReached(model, real);
        expectConsistent(await rows(client, tableName));
      }),
      RUNS,
    );
  }, 120_000);
});
