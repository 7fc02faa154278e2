import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from '@cdktf/hcl2json';

/**
 * The deployment settings the local runtime mirrors, read from the Terraform module itself (its
 * variable defaults and the rule's pattern file), so that local and AWS route, batch and redrive
 * events the same way.
 */
export interface StackSettings {
  maxReceiveCount: number;
  fanoutTimeoutSeconds: number;
  routeTimeoutSeconds: number;
  fanoutMemoryMb: number;
  routeMemoryMb: number;
  batchSize: number;
  batchingWindowSeconds: number;
  maximumConcurrency: number;
  maxSubscriptions: number;
  /** Fan-out tuning: undefined where the module leaves it to the function's default (null). */
  fanoutTuning: Partial<
    Record<
      'FANOUT_CONCURRENCY' | 'FANOUT_PAGE_SIZE' | 'FANOUT_MAX_ATTEMPTS' | 'FANOUT_MAX_RETRY_MESSAGES',
      number
    >
  >;
  /** 6 × fan-out timeout + batching window, as the module computes it. */
  visibilityTimeoutSeconds: number;
  eventPattern: unknown;
}

type Required = Exclude<keyof StackSettings, 'visibilityTimeoutSeconds' | 'eventPattern' | 'fanoutTuning'>;

const VARIABLES: Record<Required, string> = {
  maxReceiveCount: 'fanout_max_receive_count',
  fanoutTimeoutSeconds: 'fanout_function_timeout',
  routeTimeoutSeconds: 'route_function_timeout',
  fanoutMemoryMb: 'fanout_function_memory_size',
  routeMemoryMb: 'route_function_memory_size',
  batchSize: 'fanout_batch_size',
  batchingWindowSeconds: 'fanout_batching_window_seconds',
  maximumConcurrency: 'fanout_maximum_concurrency',
  maxSubscriptions: 'max_subscriptions_per_connection',
};

/** Optional variables, by the environment variable the fan-out function reads them from. */
const TUNING = {
  FANOUT_CONCURRENCY: 'fanout_concurrency',
  FANOUT_PAGE_SIZE: 'fanout_page_size',
  FANOUT_MAX_ATTEMPTS: 'fanout_max_attempts',
  FANOUT_MAX_RETRY_MESSAGES: 'fanout_max_retry_messages',
} as const;

export async function readStackSettings(moduleDir: string): Promise<StackSettings> {
  const file = join(moduleDir, 'variables.tf');
  const parsed = (await parse(file, readFileSync(file, 'utf8'))) as {
    variable?: Record<string, { default?: unknown }[]>;
  };
  const defaultOf = (name: string): number => {
    const value = parsed.variable?.[name]?.[0]?.default;
    if (typeof value !== 'number') throw new Error(`${file}: variable "${name}" has no numeric default`);
    return value;
  };
  const numbers = Object.fromEntries(
    Object.entries(VARIABLES).map(([key, variable]) => [key, defaultOf(variable)]),
  ) as Record<Required, number>;
  const fanoutTuning: StackSettings['fanoutTuning'] = {};
  for (const [env, variable] of Object.entries(TUNING) as [keyof typeof TUNING, string][]) {
    const value = parsed.variable?.[variable]?.[0]?.default;
    if (typeof value === 'number') fanoutTuning[env] = value;
  }
  return {
    ...numbers,
    fanoutTuning,
    visibilityTimeoutSeconds: 6 * numbers.fanoutTimeoutSeconds + numbers.batchingWindowSeconds,
    eventPattern: JSON.parse(readFileSync(join(moduleDir, 'event-pattern.json'), 'utf8')),
  };
}
