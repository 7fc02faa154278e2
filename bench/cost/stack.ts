/**
 * What the cost model needs to know about the stack itself, read from where each fact lives: the
 * alarms from the module's alarms.tf, the custom metrics from the code that publishes them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isObject, loadModule, localValues } from '../../scripts/terraform/hcl.js';
import type { StackFigures } from './model.js';

const ROOT = join(__dirname, '..', '..');

/** The alarms `alarms_enabled` creates with the default (Lambda) route backend: the keys of `local.alarms`. */
export async function countAlarms(root = ROOT): Promise<number> {
  const dir = join(root, 'terraform', 'modules', 'fanout');
  const alarms = localValues(await loadModule(dir)).find((local) => local.name === 'alarms')?.value;
  if (!isObject(alarms)) throw new Error(`${dir}: no local.alarms map`);
  return Object.keys(alarms).length;
}

/**
 * The metric names a source file publishes: the literal names in the name argument of
 * `metrics.addMetric(name, ...)` (both branches of a conditional name) and of the engine's
 * `count(metrics, name, value)`.
 */
export const metricNames = (source: string): string[] =>
  [...source.matchAll(/(?:\.addMetric\(|\bcount\(\s*metrics\s*,)\s*([^,]+),/g)].flatMap((call) =>
    [...(call[1] ?? '').matchAll(/'(\w+)'/g)].map((literal) => literal[1] ?? ''),
  );

/**
 * Custom metrics the functions publish: each function has its own `service` dimension, so a name is
 * one metric per function that publishes it. The fan-out publishes what shared/fanout/ does; a route
 * function what its shared/routes/<name>.ts does, plus the error frames' metric when it answers with them.
 */
export function countCustomMetrics(root = ROOT): number {
  const read = (...parts: string[]) => readFileSync(join(root, ...parts), 'utf8');
  const functions = readdirSync(join(root, 'functions'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name);
  const errorFrames = metricNames(read('shared', 'routes', 'error-frames.ts'));
  let count = 0;
  for (const fn of functions) {
    const names = new Set<string>();
    if (fn === 'fanout') {
      for (const file of readdirSync(join(root, 'shared', 'fanout')).filter((f) => f.endsWith('.ts')))
        for (const name of metricNames(read('shared', 'fanout', file))) names.add(name);
    } else {
      const source = read('shared', 'routes', `${fn}.ts`);
      for (const name of metricNames(source)) names.add(name);
      if (source.includes("from './error-frames.js'")) for (const name of errorFrames) names.add(name);
    }
    count += names.size;
  }
  return count;
}

/** The stack's own figures, with Lambda's documented idle polling of the fan-out queue. */
export async function stackFigures(root = ROOT): Promise<StackFigures> {
  return {
    alarms: await countAlarms(root),
    customMetrics: countCustomMetrics(root),
    queuePollers: 5,
    pollWaitSeconds: 20,
  };
}
