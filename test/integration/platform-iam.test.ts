/**
 * Least privilege, proved on the running functions: the local platform puts each function behind an
 * IAM guard that allows exactly the actions its functions.json statements grant to its code (the
 * module's role policies are built from the same statements), refuses any other with
 * AccessDeniedException and records every call. One run through every path the code has (connect,
 * subscribe with and without `since`, unsubscribe, ping, delivery in pages, a retry, a prune, dead
 * letters, disconnect) must then show each function calling every action it is granted and being
 * refused none.
 */
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { MAX_MESSAGE_BYTES } from '@fanout/protocol';
import { codeActions, FUNCTION_NAMES, functionSpec } from '../../shared/deployment/manifest';
import { type PlatformHarness, startHarness, waitUntil } from '../support/platform';

let h: PlatformHarness;

beforeAll(async () => {
  // One audience member a page: every event goes out in page messages (sqs:SendMessage). No grace:
  // a 410 prunes at once, however young the connection.
  h = await startHarness({
    overrides: { settings: { FANOUT_PAGE_SIZE: 1, FANOUT_CONNECTING_GRACE_SECONDS: 0 } },
  });
}, 60_000);

afterAll(async () => {
  await h?.close();
});

const drained = () =>
  waitUntil(
    async () =>
      (await h.queueDepth(h.config.queueUrl)) === 0 && h.platform.poller.stats().inFlightBatches === 0,
    'the fan-out queue to drain',
    20_000,
  );

it('has each function call exactly the actions functions.json grants its code, and be refused none', async () => {
  const alice = await h.connect('alice', ['demo/*', 'users/{sub}/*']);
  const bob = await h.connect('bob', ['demo/*']);
  await h.subscribe(alice, ['demo/*']);
  await h.subscribe(bob, ['demo/*']);
  expect(await alice.request({ action: 'ping' })).toMatchObject({ type: 'pong' });

  // Delivered in pages, with one post throttled until it goes to a retry message.
  let throttle = 3;
  h.platform.gateway.setFaults({
    beforeConnectionsCall: ({ method, connectionId }) =>
      method === 'POST' && connectionId === bob.connectionId && throttle-- > 0
        ? { status: 429, errorType: 'LimitExceededException', message: 'Rate exceeded' }
        : undefined,
  });
  const [first] = await h.publish({ detail: { topics: ['demo/one'], data: 1 } });
  const seen = await alice.waitFor((f) => f.type === 'event' && f.id === first, 'the first event');
  await bob.waitFor((f) => f.type === 'event' && f.id === first, 'the first event, retried');
  h.platform.gateway.setFaults({});
  const [direct] = await h.publish({ detail: { users: ['alice'], data: 'direct' } });
  await alice.waitFor((f) => f.id === direct, 'the direct event');

  // A recovery: alice comes back with `since` and gets what she missed.
  await alice.close();
  const [missed] = await h.publish({ detail: { topics: ['demo/two'], data: 2 } });
  await bob.waitFor((f) => f.type === 'event' && f.id === missed, 'the missed event on bob');
  const back = await h.connect('alice', ['demo/*']);
  const reply = await back.request({
    action: 'subscribe',
    topics: ['demo/*'],
    since: { 'demo/*': seen.position },
  });
  expect(reply).toMatchObject({ type: 'subscribed', recovered: true });
  expect(await back.request({ action: 'unsubscribe', topics: ['demo/*'] })).toMatchObject({
    type: 'unsubscribed',
  });

  // A connection that vanished without $disconnect answers 410 and is pruned.
  h.platform.gateway.setFaults({ dropDisconnect: (id) => id === bob.connectionId });
  bob.ws.terminate();
  await waitUntil(() => bob.isClosed(), 'bob gone');
  await h.publish({ detail: { topics: ['demo/three'], data: 3 } });
  await waitUntil(async () => (await h.rowsOf(bob.connectionId)).length === 0, "bob's rows pruned", 20_000);

  // Dead letters: an event too large to deliver, and a work message that does not parse.
  await h.publish({ detail: { topics: ['demo/big'], data: 'x'.repeat(MAX_MESSAGE_BYTES) } });
  await h.sqs.send(new SendMessageCommand({ QueueUrl: h.config.queueUrl, MessageBody: '{"kind":"nope"}' }));
  await h.receiveDeadLetters(2);
  await drained();
  await back.close();

  // The index's rare paths, made to happen by slowing one function's row writes: a subscribe racing
  // an unsubscribe of one of its patterns deletes that pattern's rows after it (DeleteItem), and a
  // subscribe or an unsubscribe whose connection is removed while it writes deletes what it wrote
  // (BatchWriteItem).
  // Every function runs here (route functions too): each has its guard.
  const guard = (fn: (typeof FUNCTION_NAMES)[number]) => {
    const found = h.platform.iam[fn];
    if (!found) throw new Error(`no IAM guard for ${fn}`);
    return found;
  };
  const PUT = 'dynamodb:PutItem';
  /** Sends `frame`, then waits until `fn` is writing rows (its first, slowed, PutItem arrived). */
  const writing = async (
    fn: 'subscribe' | 'unsubscribe',
    client: { send(f: object): Promise<void> },
    frame: object,
  ) => {
    const before = guard(fn).count(PUT);
    await client.send(frame);
    await waitUntil(() => guard(fn).count(PUT) > before, `${fn} writing rows`, 15_000, 10);
  };
  guard('subscribe').delay(PUT, 1_000);
  const carol = await h.connect('carol', ['race/*']);
  await writing('subscribe', carol, { action: 'subscribe', topics: ['race/a', 'race/b'], id: 'r1' });
  await carol.send({ action: 'unsubscribe', topics: ['race/a'], id: 'r2' });
  await carol.waitFor((f) => f.id === 'r1', 'the racing subscribe', 15_000);
  await carol.waitFor((f) => f.id === 'r2', 'the racing unsubscribe', 15_000);
  const dave = await h.connect('dave', ['race/*']);
  await writing('subscribe', dave, { action: 'subscribe', topics: ['race/c'], id: 'r3' });
  await dave.close();
  await waitUntil(
    () => guard('subscribe').called().includes('dynamodb:BatchWriteItem'),
    'subscribe cleaning up',
    15_000,
  );
  guard('subscribe').delay(PUT, undefined);
  guard('unsubscribe').delay(PUT, 1_000);
  const erin = await h.connect('erin', ['race/*']);
  await h.subscribe(erin, ['race/d']);
  await writing('unsubscribe', erin, { action: 'unsubscribe', topics: ['race/d'], id: 'r4' });
  await erin.close();
  await waitUntil(
    () => guard('unsubscribe').called().includes('dynamodb:BatchWriteItem'),
    'unsubscribe cleaning up',
    15_000,
  );
  guard('unsubscribe').delay(PUT, undefined);
  await carol.close();
  await waitUntil(async () => (await h.connectionRows()).length === 0, 'every connection row gone', 20_000);

  const calls = (fn: (typeof FUNCTION_NAMES)[number]) => ({
    called: guard(fn).called(),
    denied: guard(fn).denied(),
  });
  expect(Object.fromEntries(FUNCTION_NAMES.map((fn) => [fn, calls(fn)]))).toEqual(
    Object.fromEntries(FUNCTION_NAMES.map((fn) => [fn, { called: codeActions(fn), denied: [] }])),
  );
}, 90_000);

it("grants the rest of each role's actions to the Lambda service and the event source mapping only", () => {
  for (const fn of FUNCTION_NAMES) {
    const others = functionSpec(fn)
      .policy.filter((statement) => statement.used_by !== undefined)
      .map((statement) => [statement.used_by, statement.actions.join(',')]);
    const expected: [string, string][] = [['lambda', 'logs:CreateLogStream,logs:PutLogEvents']];
    // Lambda's SQS event source needs these three on the queue ("Using Lambda with Amazon SQS").
    if (fn === 'fanout')
      expected.push(['event_source_mapping', 'sqs:ReceiveMessage,sqs:DeleteMessage,sqs:GetQueueAttributes']);
    expect({ fn, others }).toEqual({ fn, others: expected });
  }
});
