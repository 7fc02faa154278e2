/**
 * Delivery throughput: one event to N subscribers with real sockets, through five systems in turn in
 * the same world — fan-out through the whole local pipeline (PutEvents → EventBridge → SQS → poller →
 * the bundle in the Lambda runner), the same bundle in a process of its own (its handler called with
 * the SQS record), that bundle built with the plain SDK `@connections` client instead of the lean
 * signed one (bench/fanout-sdk), and the two baselines (bench/deliverer.ts) — each with the same injected latency
 * or throttle on `@connections`.
 */
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { TokenBucket } from '../../local/gateway/throttle.js';
import type { GatewayFaults } from '../../local/gateway/types.js';
import { sdkFanoutBundle } from '../fanout-sdk/bundle.js';
import { type DelivererResult, type DelivererRun, type System, WARM_UP } from '../lib/deliverer-protocol.js';
import type { DeliveryRow } from '../lib/results.js';
import {
  awaitFrames,
  eventBridgeEvent,
  pipelineOptions,
  putEvent,
  runDeliverer,
  type World,
} from '../world.js';

/** `fanout-sdk`: the fan-out bundle with the plain SDK `@connections` client, in-process like `fanout`. */
export type DeliverySystem = 'pipeline' | 'fanout-sdk' | System;

export interface DeliveryCase {
  n: number;
  latencyMs: number;
  /** @connections calls per second the account allows (429 LimitExceededException beyond). */
  throttle?: number;
  systems: DeliverySystem[];
  /** FANOUT_CONCURRENCY of the in-process fan-out (the pipeline keeps the platform's). */
  concurrency?: number;
  /** FANOUT_PAGE_SIZE of the in-process fan-out. */
  pageSize?: number;
  /**
   * Runs of a system in this case (1 when not named), interleaved with the other systems' runs: a
   * target on a figure that one slow spell of the shared machine can move reads their median.
   */
  runs?: Partial<Record<DeliverySystem, number>>;
}

/**
 * The faults of one case: latency on every call, and an account-wide token bucket when throttled,
 * `onThrottled` told of every call it answers 429.
 */
export function faultsFor(
  latencyMs: number,
  throttle?: number,
  onThrottled: () => void = () => {},
): GatewayFaults | undefined {
  if (!latencyMs && !throttle) return undefined;
  // A tenth of a second of burst: API Gateway's account limits are a token bucket too.
  const bucket = throttle
    ? new TokenBucket({ burstLimit: Math.max(1, Math.round(throttle / 10)), rateLimit: throttle })
    : undefined;
  return {
    ...(latencyMs ? { latencyMs } : {}),
    ...(bucket
      ? {
          beforeConnectionsCall: () => {
            if (bucket.take()) return undefined;
            onThrottled();
            return { status: 429, errorType: 'LimitExceededException', message: 'Rate exceeded' };
          },
        }
      : {}),
  };
}

export const frameOf = (id: string, topic: string, sentAt: number): string =>
  JSON.stringify({
    type: 'event',
    id,
    topic,
    subscription: topic,
    source: 'bench',
    detailType: 'BenchEvent',
    time: new Date().toISOString(),
    data: { sentAt },
  });

export async function runDeliveryCase(
  world: World,
  c: DeliveryCase,
  topicOf: (n: number) => string,
  chatTableOf: (n: number) => string,
  pipelineConcurrency: number,
): Promise<DeliveryRow[]> {
  const rows: DeliveryRow[] = [];
  const topic = topicOf(c.n);
  // Built before any timing starts (once per run).
  const sdkBundle = c.systems.includes('fanout-sdk') ? await sdkFanoutBundle() : undefined;
  const runsOf = (system: DeliverySystem): number => c.runs?.[system] ?? 1;
  const rounds = Math.max(...c.systems.map(runsOf));
  for (let r = 0; r < rounds; r++) {
    for (const system of c.systems) {
      const runs = runsOf(system);
      if (r >= runs) continue;
      // Every call the throttle refused: each one is a request the delivering function made and waited on.
      let throttledCalls = 0;
      const faults = faultsFor(c.latencyMs, c.throttle, () => {
        throttledCalls++;
      });
      let eventId: string;
      let startedAt: number;
      let result: DelivererResult | undefined;
      const dlqBefore = system === 'pipeline' ? await deadLetters(world) : 0;
      if (system === 'pipeline') {
        world.platform.gateway.setFaults(faults);
        startedAt = performance.timeOrigin + performance.now();
        eventId = await putEvent(world, topic, { sentAt: startedAt });
      } else {
        const sentAt = performance.timeOrigin + performance.now();
        const event = eventBridgeEvent(topic, { sentAt }, world.platform.config.region);
        eventId = event.id;
        const sdk = system === 'fanout-sdk';
        result = await runDeliverer(
          world,
          sdk ? 'fanout' : system,
          {
            body: event.body,
            frame: frameOf(event.id, topic, sentAt),
            chatTable: chatTableOf(c.n),
            settings: {
              ...(c.concurrency ? { FANOUT_CONCURRENCY: c.concurrency } : {}),
              ...(c.pageSize ? { FANOUT_PAGE_SIZE: c.pageSize } : {}),
            },
          },
          sdk && sdkBundle ? { BENCH_FANOUT_BUNDLE: sdkBundle } : {},
          { run: warmUpRun(world), beforeRun: () => world.platform.gateway.setFaults(faults) },
        );
        startedAt = result.startedAt;
      }
      // Retries under a throttle come seconds later (SQS delays): wait longer for silence.
      const report = await awaitFrames(world, eventId, c.n, c.throttle ? 15_000 : 3_000);
      world.platform.gateway.setFaults(undefined);
      const seconds = Math.max(
        0.001,
        ((report.lastAt || performance.timeOrigin + performance.now()) - startedAt) / 1000,
      );
      const concurrency =
        system === 'pipeline' ? pipelineConcurrency : (c.concurrency ?? pipelineConcurrency);
      // The pipeline hands pages beyond the first to other invocations, which post at the same time.
      const parallel = system === 'pipeline' ? pipelineInvocations(world, c.n) : 1;
      const limit =
        c.throttle ?? (c.latencyMs ? parallel * limitOf(system, concurrency, c.latencyMs, c.n) : undefined);
      const rate = report.received / seconds;
      rows.push({
        system,
        n: c.n,
        latencyMs: c.latencyMs,
        ...(c.throttle ? { throttle: c.throttle, throttledCalls } : {}),
        concurrency: system === 'sample' ? c.n : system === 'sequential' ? 1 : concurrency,
        ...(c.pageSize && result ? { pageSize: c.pageSize } : {}),
        ...(parallel > 1 ? { parallel } : {}),
        seconds,
        delivered: report.received,
        missing: report.missing,
        duplicates: report.duplicates,
        rate,
        ...(limit ? { limit, ratio: rate / limit } : {}),
        ...(result
          ? {
              cpuMicrosPerDelivery: result.cpuMicros / Math.max(1, report.received),
              invocations: result.invocations,
              deadLettered: result.deadLettered,
            }
          : {}),
        ...(system === 'pipeline' ? { deadLettered: (await deadLetters(world)) - dlqBefore } : {}),
        ...(runs > 1 ? { run: { index: r + 1, of: runs } } : {}),
      });
      const of = runs > 1 ? ` run ${r + 1}/${runs}` : '';
      process.stdout.write(
        `  ${system.padEnd(10)} N=${c.n} ${c.latencyMs} ms${c.throttle ? ` ${c.throttle}/s` : ''}: ${report.received}/${c.n} in ${seconds.toFixed(2)} s (${rate.toFixed(0)}/s)${result ? ` cpu ${(result.cpuMicros / Math.max(1, report.received)).toFixed(0)} µs/delivery` : ''}${of}\n`,
      );
    }
  }
  return rows;
}

/** The untimed run a delivering child makes first (WARM_UP), with no faults injected. */
function warmUpRun(world: World): Omit<DelivererRun, 'type'> {
  const event = eventBridgeEvent(WARM_UP.topic, { sentAt: 0 }, world.platform.config.region);
  return { body: event.body, frame: frameOf(event.id, WARM_UP.topic, 0), chatTable: WARM_UP.chatTable };
}

/** Messages on the platform's fan-out dead-letter queue. */
async function deadLetters(world: World): Promise<number> {
  const { Attributes = {} } = await world.platform.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: world.platform.config.dlqUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(Attributes.ApproximateNumberOfMessages ?? 0) +
    Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0)
  );
}

/** Invocations the pipeline runs at once for one event to n: its pages, up to the poller's maximum. */
function pipelineInvocations(world: World, n: number): number {
  const { pageSize } = pipelineOptions(world);
  return Math.min(Math.ceil(n / pageSize), world.platform.poller.maximumConcurrency);
}

/** The concurrency/latency bound: in-flight posts over the time each one takes. */
function limitOf(system: DeliverySystem, concurrency: number, latencyMs: number, n: number): number {
  if (system === 'sequential') return 1000 / latencyMs;
  if (system === 'sample') return (n * 1000) / latencyMs;
  return (concurrency * 1000) / latencyMs;
}
