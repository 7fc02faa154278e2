/**
 * SQS redelivery and the dead-letter queue, end to end: a fan-out record that fails is received again
 * after the visibility timeout, and after maxReceiveCount receives the queue's redrive policy moves it
 * to the DLQ, where the real SQS client reads it. Timeouts are shortened so this takes seconds.
 */
import { resolve } from 'node:path';
import type { GatewayFaults } from '../../local/gateway/types';
import { type PlatformHarness, ROOT_DIR, startHarness, waitUntil } from '../support/platform';

const MAX_RECEIVE_COUNT = 2;
const overrides = {
  functions: { fanout: { timeout: 1 } },
  fanout_queue: { max_receive_count: MAX_RECEIVE_COUNT, visibility_timeout_seconds: 1 },
};

describe('a fan-out function that throws', () => {
  let h: PlatformHarness;

  beforeAll(async () => {
    h = await startHarness({
      overrides,
      bundles: { fanout: resolve(ROOT_DIR, 'local/test/fixtures/lambdas/throws.mjs') },
    });
  }, 60_000);

  afterAll(async () => {
    await h?.close();
  });

  it('is invoked again on each redelivery and its event lands on the DLQ after maxReceiveCount receives', async () => {
    const [eventId] = await h.publish({ detail: { topics: ['demo/doomed'], data: { attempt: 'any' } } });

    const [letter] = await h.receiveDeadLetters(1);
    const envelope: unknown = JSON.parse(letter?.body ?? 'null');
    expect(envelope).toMatchObject({
      id: eventId,
      'detail-type': 'TestEvent',
      source: 'tests',
      detail: { topics: ['demo/doomed'], data: { attempt: 'any' } },
    });
    // The queue moved it (no fan-out reason attribute: the function never got to dead-letter it).
    expect(letter?.attributes).toEqual({});

    // The second invocation may still be finishing when the third receive moves the message.
    await waitUntil(
      () => h.platform.poller.stats().batchesFailed === MAX_RECEIVE_COUNT,
      'the poller to count the failed invocations',
    );
    expect(h.invocations('fanout')).toBe(MAX_RECEIVE_COUNT);
    expect(h.platform.poller.stats()).toMatchObject({
      messagesReceived: MAX_RECEIVE_COUNT,
      batchesInvoked: MAX_RECEIVE_COUNT,
      batchesFailed: MAX_RECEIVE_COUNT,
      messagesDeleted: 0,
    });
    const failed = h.pollerLogs.filter((line) => line.includes('invocation failed'));
    expect(failed).toHaveLength(MAX_RECEIVE_COUNT);
    expect(failed.every((line) => line.includes('ValidationError: bad input'))).toBe(true);
    expect(await h.queueDepth(h.config.queueUrl)).toBe(0);
  });
});

describe('the real fan-out function when @connections answers 403 to every post', () => {
  const forbidden: GatewayFaults = {
    beforeConnectionsCall: ({ method }) =>
      method === 'POST' ? { status: 403, errorType: 'ForbiddenException', message: 'Forbidden' } : undefined,
  };
  let h: PlatformHarness;

  beforeAll(async () => {
    h = await startHarness({ overrides, faults: forbidden });
  }, 60_000);

  afterAll(async () => {
    await h?.close();
  });

  it('reports the record in batchItemFailures on each receive, and the event lands on the DLQ after maxReceiveCount receives', async () => {
    const client = await h.connect('fred', ['demo/*']);
    await h.subscribe(client, ['demo/*']);

    const [eventId] = await h.publish({ detail: { topics: ['demo/eu/5'], data: 'never delivered' } });
    const [letter] = await h.receiveDeadLetters(1);
    expect(JSON.parse(letter?.body ?? 'null')).toMatchObject({
      id: eventId,
      detail: { topics: ['demo/eu/5'] },
    });

    // Each receive was a successful invocation that named the record as failed.
    await waitUntil(
      () => h.platform.poller.stats().itemFailures === MAX_RECEIVE_COUNT,
      'the poller to count the item failures',
    );
    expect(h.platform.poller.stats()).toMatchObject({
      messagesReceived: MAX_RECEIVE_COUNT,
      batchesInvoked: MAX_RECEIVE_COUNT,
      batchesFailed: 0,
      itemFailures: MAX_RECEIVE_COUNT,
      messagesDeleted: 0,
    });
    const redelivered = h
      .jsonLogs('fanout')
      .filter((line) => line.message === 'record could not be handled; SQS will redeliver it');
    expect(redelivered).toHaveLength(MAX_RECEIVE_COUNT);
    expect(redelivered.every((line) => line.eventId === eventId)).toBe(true);
    expect(client.events()).toEqual([]);
    expect(await h.queueDepth(h.config.queueUrl)).toBe(0);
  });
});
