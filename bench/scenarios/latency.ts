/**
 * End-to-end latency through the local pipeline: PutEvents (the publisher's clock) to the frame
 * arriving at each client (the farm's clock; same machine), at a steady event rate.
 */
import type { LatencyRow } from '../lib/results.js';
import { quantile } from '../lib/stats.js';
import { putEvent, reports, type World } from '../world.js';

export async function runLatency(
  world: World,
  topic: string,
  audience: number,
  perSecond: number,
  seconds: number,
): Promise<LatencyRow> {
  const count = Math.max(1, Math.round(perSecond * seconds));
  const intervalMs = 1000 / perSecond;
  const ids: string[] = [];
  const started = performance.now();
  const sends: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    // Scheduled against the start, so a slow PutEvents does not stretch the rate.
    const due = started + i * intervalMs;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const sentAt = performance.timeOrigin + performance.now();
    sends.push(putEvent(world, topic, { sentAt, seq: i }).then((id) => void ids.push(id)));
  }
  await Promise.all(sends);
  // Until every frame is in, or nothing more arrives for three seconds.
  let lastReceived = -1;
  let quietSince = Date.now();
  for (;;) {
    const got = (await reports(world, ids, audience)).reduce((s, r) => s + r.received, 0);
    if (got >= ids.length * audience) break;
    if (got !== lastReceived) {
      lastReceived = got;
      quietSince = Date.now();
    } else if (Date.now() - quietSince > 3_000) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
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
  };
  process.stdout.write(
    `  latency ${audience} × ${perSecond}/s: p50 ${row.p50.toFixed(0)} p95 ${row.p95.toFixed(0)} p99 ${row.p99.toFixed(0)} max ${row.max.toFixed(0)} ms (${row.frames} frames, ${row.missing} missing)\n`,
  );
  return row;
}
