/**
 * End-to-end latency through the local pipeline: PutEvents (the publisher's clock) to the frame
 * arriving at each client (the farm's clock; same machine), at a steady event rate.
 */
import type { LatencyRow } from '../lib/results.js';
import { type StageRow, splitStages } from '../lib/stages.js';
import { quantile } from '../lib/stats.js';
import { awaitFrames, putEvent, reports, type World } from '../world.js';

/** Untimed events sent at once before a run: as many as the event source mapping runs batches at once. */
export const WARM_UP_EVENTS = 8;

/**
 * A steady stream on AWS finds warm environments; a run that starts on cold ones measures cold
 * starts (their own benchmark, coldstart.ts) in its first seconds. A burst of untimed events, each
 * waited for, brings up the environments the run will use.
 */
async function warmUp(world: World, topic: string, audience: number): Promise<void> {
  const ids = await Promise.all(
    Array.from({ length: WARM_UP_EVENTS }, (_, i) => putEvent(world, topic, { warmUp: i })),
  );
  for (const id of ids) await awaitFrames(world, id, audience);
}

/** The recorder's timestamps and the farm's arrivals, split by stage. */
async function stageSplit(world: World, sentAt: Map<string, number>, ids: string[]): Promise<StageRow[]> {
  const reply = await world.farm?.request({ type: 'arrivals', eventIds: ids });
  const arrivals = reply?.type === 'arrivals' ? reply.arrivals : [];
  const { stages } = world;
  return splitStages({
    sentAt,
    enqueued: stages.enqueued,
    received: stages.received,
    invoked: stages.invoked,
    answered: stages.answered,
    arrived: arrivals.map((a) => ({
      eventId: a.eventId,
      connectionId: world.clientIds[a.client] ?? '',
      at: a.at,
    })),
  });
}

export async function runLatency(
  world: World,
  topic: string,
  audience: number,
  perSecond: number,
  seconds: number,
): Promise<LatencyRow> {
  await warmUp(world, topic, audience);
  const count = Math.max(1, Math.round(perSecond * seconds));
  const intervalMs = 1000 / perSecond;
  const ids: string[] = [];
  const sentAt = new Map<string, number>();
  world.stages.start();
  const started = performance.now();
  const sends: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    // Scheduled against the start, so a slow PutEvents does not stretch the rate.
    const due = started + i * intervalMs;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const at = performance.timeOrigin + performance.now();
    sends.push(
      putEvent(world, topic, { sentAt: at, seq: i }).then((id) => {
        ids.push(id);
        sentAt.set(id, at);
      }),
    );
  }
  await Promise.all(sends);
  // Until every frame is in, or nothing more arrives for ten seconds: on a loaded machine a backlog
  // stalls for seconds, and a run cut short would leave its frames to arrive in the next one's.
  let lastReceived = -1;
  let quietSince = Date.now();
  for (;;) {
    const got = (await reports(world, ids, audience)).reduce((s, r) => s + r.received, 0);
    if (got >= ids.length * audience) break;
    if (got !== lastReceived) {
      lastReceived = got;
      quietSince = Date.now();
    } else if (Date.now() - quietSince > 10_000) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  world.stages.stop();
  const rs = await reports(world, ids, audience);
  const reply = await world.farm?.request({ type: 'latencies', eventIds: ids });
  const values = reply?.type === 'latencies' ? reply.values : [];
  const row: LatencyRow = {
    audience,
    perSecond,
    events: ids.length,
    frames: values.length,
    missing: rs.reduce((s, r) => s + r.missing, 0),
    duplicates: rs.reduce((s, r) => s + r.duplicates, 0),
    p50: quantile(values, 0.5),
    p95: quantile(values, 0.95),
    p99: quantile(values, 0.99),
    max: quantile(values, 1),
    stages: await stageSplit(world, sentAt, ids),
  };
  for (const s of row.stages ?? [])
    process.stdout.write(
      `    ${s.stage.padEnd(9)} p50 ${s.p50.toFixed(0)} p99 ${s.p99.toFixed(0)} ms; own p50 ${s.ownP50.toFixed(1)} p99 ${s.ownP99.toFixed(1)} ms (${s.count})\n`,
    );
  process.stdout.write(
    `  latency ${audience} × ${perSecond}/s: p50 ${row.p50.toFixed(0)} p95 ${row.p95.toFixed(0)} p99 ${row.p99.toFixed(0)} max ${row.max.toFixed(0)} ms (${row.frames} frames, ${row.missing} missing)\n`,
  );
  return row;
}
