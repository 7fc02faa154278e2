/** The shape of bench/results/latest.json: every figure the rendered tables and charts show. */
export interface DeliveryRow {
  system: string;
  n: number;
  latencyMs: number;
  throttle?: number;
  concurrency: number;
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
}

export interface BenchResults {
  mode: 'full' | 'quick';
  date: string;
  commit: string;
  machine: Machine;
  seconds: number;
  delivery: DeliveryRow[];
  latency: LatencyRow[];
  large: LargeRow[];
  coldStart: ColdStartRow[];
}
