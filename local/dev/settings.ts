import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  FUNCTION_NAMES,
  type FunctionName,
  functionSpec,
  manifest,
  visibilityTimeoutSeconds,
  type WiredSource,
} from '../../shared/deployment/manifest.js';

/**
 * The deployment settings the local runtime mirrors, from what the Terraform module reads too: the
 * deployment manifest (functions.json), the rule's pattern file and the stage throttling defaults of
 * variables.tf, so that local and AWS configure the functions, throttle clients, and route, batch and
 * redrive events, the same way.
 */

/**
 * The stage's default route throttling, by the module's variable names (`api.tf` sets them as the
 * stage's `default_route_settings`). Their defaults are written once, in variables.tf.
 */
export interface StageThrottlingSettings {
  stage_throttling_burst_limit: number;
  stage_throttling_rate_limit: number;
}

const STAGE_THROTTLING_VARIABLES = ['stage_throttling_burst_limit', 'stage_throttling_rate_limit'] as const;

/** The fan-out queue's consumer, by the names functions.json and the module's `fanout_queue` use. */
export interface FanoutQueueSettings {
  batch_size: number;
  batching_window_seconds: number;
  maximum_concurrency: number;
  max_receive_count: number;
  /** MaximumMessageSize of the fan-out queue and its DLQ, bytes (functions.json, as the module sets it). */
  max_message_size: number;
  /** functions.json's weighted sum (6 × the fan-out timeout + the batching window), unless overridden. */
  visibility_timeout_seconds: number;
}

export interface StackSettings {
  /** Memory (MB) and timeout (seconds) of each function. */
  functions: Record<FunctionName, { memory_size: number; timeout: number }>;
  /** Every setting a function reads, by environment variable: functions.json's default or the override. */
  settings: Record<string, number>;
  fanoutQueue: FanoutQueueSettings;
  stageThrottling: StageThrottlingSettings;
  eventPattern: unknown;
}

/**
 * What differs from functions.json, named as the Terraform module's inputs are (`settings`,
 * `functions`, `fanout_queue`). Tests shorten timeouts; they may also set the visibility timeout,
 * which the module always derives, to see redeliveries within seconds.
 */
export interface StackOverrides extends Partial<StageThrottlingSettings> {
  settings?: Record<string, number>;
  functions?: Partial<Record<FunctionName, Partial<{ memory_size: number; timeout: number }>>>;
  fanout_queue?: Partial<FanoutQueueSettings>;
}

/**
 * The number a `variable "<name>"` block of a terraform-fmt'ed file defaults to: its top-level
 * `default = <number>` line (nested blocks are indented deeper). Not an HCL parser: the local runtime
 * reads two defaults at every start, and dev-settings.test.ts checks this reading against a real HCL
 * parser, so a layout it cannot read fails there rather than here.
 */
export function numericVariableDefault(source: string, name: string): number {
  const block = new RegExp(`^variable "${name}" \\{\\n([\\s\\S]*?)^\\}`, 'm').exec(source);
  const line = block?.[1] ? /^ {2}default\s*=\s*(-?\d+(?:\.\d+)?)\s*$/m.exec(block[1]) : null;
  const value = line?.[1] === undefined ? Number.NaN : Number(line[1]);
  if (!Number.isFinite(value)) {
    throw new Error(`variables.tf: variable "${name}" has no numeric default the local runtime can read`);
  }
  return value;
}

/** The stage throttling defaults of the module's variables.tf, with the overrides applied. */
function stageThrottling(moduleDir: string, overrides: StackOverrides): StageThrottlingSettings {
  const source = readFileSync(join(moduleDir, 'variables.tf'), 'utf8');
  const [burst, rate] = STAGE_THROTTLING_VARIABLES.map(
    (name) => overrides[name] ?? numericVariableDefault(source, name),
  ) as [number, number];
  // The module's validations of the two variables.
  if (!Number.isInteger(burst) || burst < 0) {
    throw new Error(`stage_throttling_burst_limit must be a whole number >= 0, got ${burst}`);
  }
  if (!(rate >= 0)) throw new Error(`stage_throttling_rate_limit must be >= 0, got ${rate}`);
  return { stage_throttling_burst_limit: burst, stage_throttling_rate_limit: rate };
}

/** Every setting of every function, with its default (functions.json keeps shared ones identical). */
function settingDefaults(): Record<string, number> {
  const defaults: Record<string, number> = {};
  for (const fn of FUNCTION_NAMES) {
    for (const [name, variable] of Object.entries(functionSpec(fn).environment)) {
      if (variable.type === 'integer') defaults[name] = variable.default;
    }
  }
  return defaults;
}

function refuseUnknown(what: string, given: object, known: readonly string[]): void {
  const unknown = Object.keys(given).filter((key) => !known.includes(key));
  if (unknown.length > 0) {
    throw new Error(`${what}: ${unknown.join(', ')} not in functions.json (it has ${known.join(', ')})`);
  }
}

export function readStackSettings(moduleDir: string, overrides: StackOverrides = {}): StackSettings {
  const defaults = settingDefaults();
  refuseUnknown('settings', overrides.settings ?? {}, Object.keys(defaults));
  refuseUnknown('functions', overrides.functions ?? {}, FUNCTION_NAMES);
  const queue = manifest.fanout_queue;
  const queueKeys = [
    'batch_size',
    'batching_window_seconds',
    'maximum_concurrency',
    'max_receive_count',
    'max_message_size',
  ] as const;
  refuseUnknown('fanout_queue', overrides.fanout_queue ?? {}, [...queueKeys, 'visibility_timeout_seconds']);

  const functions = Object.fromEntries(
    FUNCTION_NAMES.map((fn) => {
      const spec = functionSpec(fn);
      const override = overrides.functions?.[fn] ?? {};
      return [
        fn,
        { memory_size: override.memory_size ?? spec.memory_size, timeout: override.timeout ?? spec.timeout },
      ];
    }),
  ) as StackSettings['functions'];
  const consumer = Object.fromEntries(
    queueKeys.map((key) => [key, overrides.fanout_queue?.[key] ?? queue[key].default]),
  ) as Omit<FanoutQueueSettings, 'visibility_timeout_seconds'>;
  const visibility =
    overrides.fanout_queue?.visibility_timeout_seconds ??
    visibilityTimeoutSeconds({
      fanout_timeout: functions.fanout.timeout,
      batching_window_seconds: consumer.batching_window_seconds,
    });
  return {
    functions,
    settings: { ...defaults, ...overrides.settings },
    fanoutQueue: { ...consumer, visibility_timeout_seconds: visibility },
    stageThrottling: stageThrottling(moduleDir, overrides),
    eventPattern: JSON.parse(readFileSync(join(moduleDir, 'event-pattern.json'), 'utf8')),
  };
}

/**
 * A function's environment as functions.json lists it: each setting's value, and what the local
 * stand-ins wire in where the module would wire a resource (left out when undefined, as the module
 * leaves out a null).
 */
export function functionEnvironment(
  fn: FunctionName,
  settings: StackSettings,
  wired: Readonly<Record<WiredSource, string | undefined>>,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, variable] of Object.entries(functionSpec(fn).environment)) {
    const value = variable.type === 'integer' ? settings.settings[name] : wired[variable.from];
    if (value !== undefined) env[name] = String(value);
  }
  return env;
}
