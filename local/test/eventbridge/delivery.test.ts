import { Deliveries, type DeliveryJob } from '../../eventbridge/delivery.js';
import type { LogEntry } from '../../eventbridge/log.js';

function job(send: DeliveryJob['send']): DeliveryJob {
  return { eventId: 'e1', busName: 'bus', ruleName: 'rule', target: 'queue-url', body: '{}', send };
}

describe('Deliveries', () => {
  it('is idle at once when nothing was dispatched', async () => {
    await expect(
      new Deliveries({ maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1 }, () => {}).idle(),
    ).resolves.toBe(undefined);
  });

  it('gives up after the last attempt, logging each failure and the final one as an error', async () => {
    const logs: LogEntry[] = [];
    const deliveries = new Deliveries({ maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 }, (entry) =>
      logs.push(entry),
    );
    const send = jest.fn(async () => {
      throw new Error('AccessDenied');
    });

    deliveries.dispatch(job(send));
    await deliveries.idle();

    expect(send).toHaveBeenCalledTimes(3);
    expect(deliveries.stats()).toMatchObject({
      delivered: 0,
      failedAttempts: 3,
      retried: 2,
      dropped: 1,
      pending: 0,
    });
    expect(deliveries.stats().failures.map((failure) => [failure.attempt, failure.final])).toEqual([
      [1, false],
      [2, false],
      [3, true],
    ]);
    expect(logs.map((entry) => entry.level)).toEqual(['warn', 'warn', 'error']);
    expect(logs[2]).toMatchObject({
      eventId: 'e1',
      ruleName: 'rule',
      target: 'queue-url',
      error: 'Error: AccessDenied',
    });
  });

  it('cancels scheduled retries on close and counts their deliveries as dropped', async () => {
    const deliveries = new Deliveries({ maxAttempts: 5, baseDelayMs: 60_000, maxDelayMs: 60_000 }, () => {});
    const send = jest.fn(async () => {
      throw new Error('down');
    });

    deliveries.dispatch(job(send));
    await new Promise((resolve) => setImmediate(resolve));
    deliveries.close();
    await deliveries.idle();

    expect(send).toHaveBeenCalledTimes(1);
    expect(deliveries.stats()).toMatchObject({ dropped: 1, pending: 0 });
  });
});
