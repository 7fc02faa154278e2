import { TokenBucket } from '../../../local/gateway/throttle';
import { Limiter, Pacer } from '../../../shared/concurrency';
import { type Delivery, type DeliveryDeps, deliver } from '../../../shared/fanout/deliver';
import { EventFrames } from '../../../shared/fanout/frames';
import { MemoryConnectionGateway } from '../../../shared/gateway/gateway-memory';
import { MemoryLog } from '../../../shared/observability/ports';
import { MemoryConnectionStore } from '../../../shared/store/store-memory';

const TOPIC = 't/x';
const START = 1_000_000;

/** deliver() on memory adapters, a real pacer and a clock that only the sleeps move. */
function world(options: { maxAttempts: number; baseDelayMs?: number; ids: number }) {
  let clock = START;
  const sleeps: number[] = [];
  const now = () => clock;
  const sleep = async (ms: number) => {
    sleeps.push(ms);
    clock += ms;
  };
  const gateway = new MemoryConnectionGateway();
  const deliveries: Delivery[] = [];
  for (let i = 0; i < options.ids; i++) {
    gateway.connect(`c${i}`);
    deliveries.push({ connectionId: `c${i}`, source: 0 });
  }
  const pacer = new Pacer({ now, sleep });
  const deps: DeliveryDeps = {
    store: new MemoryConnectionStore({ now }),
    gateway,
    limiter: new Limiter(1),
    pacer,
    log: new MemoryLog(),
    random: () => 1,
    sleep,
    now,
    options: {
      concurrency: 1,
      maxAttempts: options.maxAttempts,
      baseDelayMs: options.baseDelayMs ?? 50,
      maxDelayMs: options.baseDelayMs ?? 2_000,
      connectingGraceSeconds: 30,
    },
  };
  const event = {
    id: 'evt-1',
    source: 'test',
    detailType: 'test',
    time: new Date(START).toISOString(),
    topics: [TOPIC],
    users: [],
    data: { n: 1 },
  };
  const frames = new EventFrames(event, [{ kind: 'pattern', pattern: TOPIC, topic: TOPIC }]);
  /** The account's token bucket (the local gateway's) on the test's clock. */
  const throttleAt = (perSecond: number, burst: number) => {
    const tokens = new TokenBucket({ burstLimit: burst, rateLimit: perSecond }, now);
    gateway.fault = () => (tokens.take() ? undefined : 'throttled');
  };
  return { deps, deliveries, frames, gateway, pacer, sleeps, throttleAt, now };
}

describe('fan-out delivery under a throttle', () => {
  it('retries throttled posts at their paced slots, without a backoff of their own and without counting them as attempts', async () => {
    // maxAttempts 1: a throttle counted as a failed attempt would send the connection to a retry
    // message; a backoff would sleep baseDelayMs (5 s with this random).
    const w = world({ maxAttempts: 1, baseDelayMs: 5_000, ids: 200 });
    w.throttleAt(100, 20);

    const outcome = await deliver(w.deliveries, w.frames, w.deps, 'evt-1', START + 60_000);

    expect(outcome.delivered).toBe(200);
    expect(outcome.failed).toEqual([]);
    expect(outcome.unstarted).toEqual([]);
    expect(outcome.attempted).toBe(200);
    expect(outcome.throttled).toBeGreaterThan(0);
    expect(w.gateway.deliveredCount()).toBe(200);
    expect(Math.max(...w.sleeps)).toBeLessThan(5_000);
    // 180 posts after the burst of 20, at the bucket's 100 a second: close to 1.8 s, not far over.
    expect(w.now() - START).toBeGreaterThan(1_700);
    expect(w.now() - START).toBeLessThan(3_000);
  });

  it('hands a post whose first paced slot falls after the deadline over as unstarted, not as a failure', async () => {
    const w = world({ maxAttempts: 4, ids: 5 });
    // Taught the lowest rate: a slot every 1000 / MIN_RATE ms.
    for (let i = 0; i < Pacer.MIN_ANSWERS; i++) w.pacer.throttled();
    const slot = 1000 / Pacer.MIN_RATE;

    const outcome = await deliver(w.deliveries, w.frames, w.deps, 'evt-1', START + 2.5 * slot);

    expect(outcome.delivered).toBe(3);
    expect(outcome.attempted).toBe(3);
    expect(outcome.failed).toEqual([]);
    expect(outcome.unstarted.map((d) => d.connectionId)).toEqual(['c3', 'c4']);
  });

  it('hands a throttled post whose next paced slot falls after the deadline over as failed', async () => {
    const w = world({ maxAttempts: 4, ids: 1 });
    for (let i = 0; i < Pacer.MIN_ANSWERS; i++) w.pacer.throttled();
    w.gateway.failNext('c0', 'throttled', 1);
    const slot = 1000 / Pacer.MIN_RATE;

    const outcome = await deliver(w.deliveries, w.frames, w.deps, 'evt-1', START + slot / 2);

    expect(outcome.attempted).toBe(1);
    expect(outcome.throttled).toBe(1);
    expect(outcome.failed.map((d) => d.connectionId)).toEqual(['c0']);
    expect(outcome.unstarted).toEqual([]);
  });
});
