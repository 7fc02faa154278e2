/** The IPC messages between the benchmark and a delivering child (bench/deliverer.ts). */
export type System = 'fanout' | 'sample' | 'sequential';

export interface DelivererRun {
  type: 'run';
  /** fanout: the SQS record bodies to hand the bundle's handler (an EventBridge event). */
  body: string;
  /** sample / sequential: the frame they post, and the one-row-per-connection table they scan. */
  frame: string;
  chatTable: string;
}

export interface DelivererResult {
  type: 'result';
  /** Epoch ms (sub-ms precision) when the run started and when its last call returned. */
  startedAt: number;
  endedAt: number;
  /** CPU time of this process during the run, µs (process.cpuUsage: user + system). */
  cpuMicros: number;
  /** The kernel's part of cpuMicros (loopback TCP: the receiving side's work is counted here too). */
  systemMicros?: number;
  /** Posts that failed for good (the sample and sequential loop give up on a throttled post). */
  failed: number;
  /** Handler invocations (fanout: the event, then its page and retry messages). */
  invocations: number;
  /** Messages on the deliverer's own dead-letter queue after the run (fanout). */
  deadLettered: number;
}

/**
 * The untimed event each delivering child handles before its timed one: to this many subscribers,
 * more than the fan-out's concurrency in any case, so its connection pool is as full as a warm
 * Lambda environment's (the sample opens a connection per post, so for it only the code is warm).
 */
export const WARM_UP = { topic: 'bench/warm-up', chatTable: 'bench-chat-warm-up', audience: 200 } as const;

/** Loads the system; with `warmUp`, also delivers that run once, untimed, before answering. */
export interface DelivererLoad {
  type: 'load';
  warmUp?: Omit<DelivererRun, 'type'>;
}

export type DelivererRequest = DelivererLoad | DelivererRun;
export type DelivererReply = { type: 'loaded' } | DelivererResult | { type: 'error'; message: string };
