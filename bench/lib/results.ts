/** The shape of bench/results/latest.json: every figure the rendered tables and charts show. */
import type { StageRow } from './stages.js';

export interface DeliveryRow {
  system: string;
  n: number;
  latencyMs: number;
  throttle?: number;
  concurrency: number;
  /** FANOUT_PAGE_SIZE of an in-process run, when the case sets it (else the platform's). */
  pageSize?: number;
  /** Invocations posting at once (the pipeline: its pages, up to the poller's maximum concurrency). */
  parallel?: number;
  seconds: number;
  delivered: number;
  missing: number;
  duplicates: number;
  rate: number;
  limit?: number;
  ratio?: number;
  cpuMicrosPerDelivery?: number;
  invocations?: number;
  deadLettered?: number;
  /** Calls the throttle answered 429 during the run (throttled cases only). */
  throttledCalls?: number;
  /**
   * Which run of its case this row is, when the case ran its system more than once: a target then
   * reads the median run (bench/lib/targets.ts), so that one slow spell of the shared machine does not
   * decide it.
   */
  run?: { index: number; of: number };
}

export interface LatencyRow {
  audience: number;
  perSecond: number;
  events: number;
  frames: number;
  missing: number;
  duplicates: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  /** Where the time goes: PutEvents to each stage of the pipeline (bench/lib/stages.ts). */
  stages?: StageRow[];
}

export interface LargeRow {
  n: number;
  invocations: number;
  concurrency: number;
  latencyMs: number;
  seconds: number;
  delivered: number;
  missing: number;
  duplicates: number;
  batches: number;
  maxInFlight: number;
  rate: number;
  limit: number;
}

export interface ColdStartRow {
  name: string;
  zipBytes: number;
  loadMs: number;
}

export interface Machine {
  cpu: string;
  cores: number;
  memoryGb: number;
  node: string;
  os: string;
  /** 1-minute load average when the run started and ended: other work on the machine skews figures. */
  loadStart: number;
  loadEnd: number;
  /** CPU time the hypervisor gave to other guests during the run, in percent (Linux only). */
  stolenPercent?: number;
}

/** When, where and on what a run happened. */
export interface RunInfo {
  mode: 'full' | 'quick';
  date: string;
  commit: string;
  machine: Machine;
  seconds: number;
}

/** `--only latency`: the run and its latency rows. */
export interface LatencyResults extends RunInfo {
  latency: LatencyRow[];
}

export interface BenchResults extends RunInfo {
  delivery: DeliveryRow[];
  latency: LatencyRow[];
  large: LargeRow[];
  coldStart: ColdStartRow[];
}
