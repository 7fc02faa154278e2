import { TokenBucket } from '../../../local/gateway/throttle';
import { Pacer } from '../../../shared/concurrency';
import { FanoutEngine } from '../../../shared/fanout/engine';
import { MemoryConnectionGateway } from '../../../shared/gateway/gateway-memory';
import { MemoryLog, MemoryMetrics } from '../../../shared/observability/ports';
import { MemoryWorkQueue } from '../../../shared/queue/queue-memory';
import { addConnection, envelopeBody, TrackingStore } from './fixtures';

/** An engine on memory adapters with `connections` subscribers of t/x, behind a token bucket of `perSecond` and `burst`. */
async function throttledAccount(connections: number, perSecond: number, burst: number) {
  const store = new TrackingStore({ now: () => Date.now() - 60_000 });
  const gateway = new MemoryConnectionGateway();
  const queue = new MemoryWorkQueue();
  const engine = new FanoutEngine(
    { store, gateway, queue, log: new MemoryLog(), metrics: new MemoryMetrics() },
    { concurrency: 32 },
  );
  for (let i = 0; i < connections; i++) await addConnection({ store, gateway }, `c${i}`, ['t/x']);
  // The account's token bucket, as API Gateway throttles `@connections` calls (the local gateway's).
  const bucket = new TokenBucket({ burstLimit: burst, rateLimit: perSecond });
  gateway.fault = () => (bucket.take() ? undefined : 'throttled');
  return { store, gateway, queue, engine };
}

describe('delivery under an account throttle (real time)', () => {
  it('paces to the rate the account admits and delivers every post in the record, with no retry message', async () => {
    const { gateway, queue, engine } = await throttledAccount(300, 500, 25);

    const started = performance.now();
    await engine.handleRecord(envelopeBody({ topics: ['t/x'] }));
    const seconds = (performance.now() - started) / 1000;

    expect(gateway.deliveredCount()).toBe(300);
    expect(queue.sent).toEqual([]);
    // 300 posts at 500/s after a burst of 25: over half a second, and well under the retry path's seconds.
    expect(seconds).toBeGreaterThan(0.4);
    expect(seconds).toBeLessThan(5);
  }, 15_000);

  it('keeps the pace it learnt from a large record through a throttle in a record of two connections', async () => {
    const { store, gateway, queue, engine } = await throttledAccount(300, 500, 25);
    for (const id of ['p1', 'p2']) await addConnection({ store, gateway }, id, ['t/pair']);

    // The first record teaches the pacer the account's rate.
    await engine.handleRecord(envelopeBody({ topics: ['t/x'] }, 'evt-1'));
    // Past the estimator's window and the pacing's quiet time: two posts, one of them throttled.
    await new Promise((done) => setTimeout(done, Math.max(Pacer.WINDOW_MS, Pacer.QUIET_MS) + 200));
    gateway.failNext('p1', 'throttled');
    await engine.handleRecord(envelopeBody({ topics: ['t/pair'] }, 'evt-2'));
    expect(gateway.received('p1')).toHaveLength(1);

    // Paced at what those two posts "admitted", 300 posts would take seconds and be handed over at
    // the deadline; at the account's rate they take well under one.
    const started = performance.now();
    await engine.handleRecord(envelopeBody({ topics: ['t/x'] }, 'evt-3'), { deadline: Date.now() + 4_000 });
    const seconds = (performance.now() - started) / 1000;

    expect(queue.sent).toEqual([]);
    expect(gateway.deliveredCount()).toBe(2 + 2 * 300);
    expect(seconds).toBeLessThan(2);
  }, 20_000);

  it('hands over, before the deadline, the posts whose paced slots would fall after it', async () => {
    // An account that admits 2 posts a second: most posts are throttled, however they are paced, and
    // what cannot be delivered by the deadline must be handed over before it, not lost to the timeout.
    const { gateway, queue, engine } = await throttledAccount(60, 2, 2);

    const deadline = Date.now() + 3_000;
    await engine.handleRecord(envelopeBody({ topics: ['t/x'] }), { deadline });

    expect(Date.now()).toBeLessThan(deadline);
    // Whatever was not delivered went to one retry message; nothing was dropped.
    const handedOver = queue.sent.flatMap((message) =>
      message.kind === 'fanout.retry' ? message.targets.flatMap((t) => t.connectionIds) : [],
    );
    expect(gateway.deliveredCount() + handedOver.length).toBe(60);
    expect(handedOver.length).toBeGreaterThan(0);
  }, 30_000);
});
