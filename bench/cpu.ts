/**
 * `make bench-cpu`: only the CPU-per-delivery case of issue 9 (one event to N = 10,000 real sockets,
 * no injected latency), the fan-out bundle in a process of its own against the Scan + Promise.all
 * sample, runs alternating so that both see the same load. Minutes instead of `make bench`'s ten.
 *
 *   tsx bench/cpu.ts [--n 10000] [--runs 3] [--sample] [--bundle label=path/to/index.mjs ...]
 *
 * Without --bundle it runs dist/fanout/index.mjs; several --bundle compare builds of the function in
 * one world (a build kept from before a change against the current one). --sample adds the AWS
 * sample's algorithm to the rotation. BENCH_CPU_PROF=<dir> writes a V8 CPU profile of every
 * delivering child there (world.ts). Prints each run, then the median per system, with the load
 * average (the cores are shared: the figures only compare within one run).
 */
import { loadavg } from 'node:os';
import { parseCpuArgs } from './lib/cpu-args.js';
import { median } from './lib/stats.js';
import { frameOf } from './scenarios/delivery.js';
import {
  awaitFrames,
  eventBridgeEvent,
  openClients,
  ROOT,
  runDeliverer,
  seedChatTable,
  seedTopic,
  startWorld,
} from './world.js';

const load = (): string =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

async function main(): Promise<void> {
  const args = parseCpuArgs(process.argv.slice(2), ROOT);
  const world = await startWorld();
  try {
    const ms = await openClients(world, args.n);
    process.stdout.write(`opened ${args.n} sockets in ${(ms / 1000).toFixed(1)} s; load ${load()}\n`);
    const topic = `bench/n${args.n}`;
    const chatTable = `bench-chat-${args.n}`;
    await seedTopic(world, topic, world.clientIds);
    if (args.contenders.some((c) => c.system === 'sample'))
      await seedChatTable(world, chatTable, world.clientIds);
    const figures = new Map<string, number[]>(args.contenders.map((c) => [c.label, []]));
    for (let run = 1; run <= args.runs; run++) {
      for (const contender of args.contenders) {
        const sentAt = performance.timeOrigin + performance.now();
        const event = eventBridgeEvent(topic, { sentAt }, world.platform.config.region);
        const before = load();
        const result = await runDeliverer(
          world,
          contender.system,
          { body: event.body, frame: frameOf(event.id, topic, sentAt), chatTable },
          contender.bundle ? { BENCH_FANOUT_BUNDLE: contender.bundle } : {},
        );
        const report = await awaitFrames(world, event.id, args.n);
        const perDelivery = result.cpuMicros / Math.max(1, report.received);
        figures.get(contender.label)?.push(perDelivery);
        const seconds = (report.lastAt - result.startedAt) / 1000;
        process.stdout.write(
          `run ${run} ${contender.label.padEnd(10)} ${report.received}/${args.n} (lost ${report.missing}, duplicated ${report.duplicates}) in ${seconds.toFixed(2)} s, cpu ${perDelivery.toFixed(0)} µs/delivery (system ${((result.systemMicros ?? 0) / Math.max(1, report.received)).toFixed(0)}); load ${before} → ${load()}\n`,
        );
      }
    }
    process.stdout.write('median CPU per delivery:\n');
    for (const [label, values] of figures) {
      process.stdout.write(
        `  ${label.padEnd(10)} ${median(values).toFixed(0)} µs (${values.map((v) => v.toFixed(0)).join(', ')})\n`,
      );
    }
  } finally {
    await world.close();
  }
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(
        `bench-cpu failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
      );
      process.exit(1);
    },
  );
}
