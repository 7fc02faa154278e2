/**
 * Large audiences on one topic: socket-less counting connections in the local gateway (2 cores
 * cannot hold 100k sockets), the real pipeline with page splitting and the poller's
 * maximum_concurrency, 20 ms injected on every `@connections` call.
 */
import type { LargeRow } from '../lib/results.js';
import { putEvent, seedTopic, type World } from '../world.js';
import { faultsFor } from './delivery.js';

export async function seedLarge(world: World, sizes: readonly number[]): Promise<void> {
  const ids = world.platform.gateway.counting.add(Math.max(...sizes));
  for (const n of sizes) await seedTopic(world, `bench/large${n}`, ids.slice(0, n));
}

export async function runLarge(
  world: World,
  n: number,
  invocations: number,
  concurrency: number,
  latencyMs: number,
): Promise<LargeRow> {
  const { gateway } = world.platform;
  gateway.counting.reset();
  gateway.setFaults(faultsFor(latencyMs));
  const before = world.platform.poller.stats();
  const startedAt = performance.timeOrigin + performance.now();
  await putEvent(world, `bench/large${n}`, { sentAt: startedAt });
  let quietSince = Date.now();
  let lastPosts = -1;
  for (;;) {
    const { posts } = gateway.counting.stats();
    if (posts >= n) break;
    if (posts !== lastPosts) {
      lastPosts = posts;
      quietSince = Date.now();
    } else if (Date.now() - quietSince > 10_000) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  gateway.setFaults(undefined);
  const stats = gateway.counting.stats();
  const seconds = (stats.lastPostAt - startedAt) / 1000;
  const after = world.platform.poller.stats();
  const row: LargeRow = {
    n,
    invocations,
    concurrency,
    latencyMs,
    seconds,
    // Every counting connection beyond the first n is outside the audience: none of them should get a frame.
    delivered: stats.connections - stats.missing,
    missing: n - (stats.connections - stats.missing),
    duplicates: stats.duplicated,
    batches: after.batchesInvoked - before.batchesInvoked,
    maxInFlight: after.maxInFlightBatches,
    rate: stats.posts / seconds,
    limit: (invocations * concurrency * 1000) / latencyMs,
  };
  process.stdout.write(
    `  large N=${n} × ${invocations} invocations: ${seconds.toFixed(2)} s (${row.rate.toFixed(0)}/s of ${row.limit}/s), ${row.missing} missing, ${row.duplicates} duplicated, ${row.batches} batches\n`,
  );
  return row;
}
