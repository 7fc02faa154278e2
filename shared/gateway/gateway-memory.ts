import { MAX_MESSAGE_BYTES } from '@fanout/protocol';
import { type ConnectionGateway, GatewayError, type GatewayErrorKind } from './gateway.js';

/** The HTTP status API Gateway answers with for each kind (AWS page "Use @connections commands in your backend service"). */
export const STATUS_BY_KIND: Readonly<Record<GatewayErrorKind, number>> = {
  gone: 410,
  throttled: 429,
  too_large: 413,
  forbidden: 403,
  invalid: 400,
  other: 500,
};

/** Decides a post's fate: a kind to fail with, or undefined to let it through. `attempt` counts from 1. */
export type FaultHook = (connectionId: string, attempt: number) => GatewayErrorKind | undefined;

export interface MemoryGatewayOptions {
  /** Milliseconds each call takes (setTimeout). 0 still yields once, so calls overlap as real ones do. */
  latencyMs?: number;
  fault?: FaultHook;
}

/**
 * In-memory ConnectionGateway for unit tests: a set of live connections, every accepted frame
 * recorded per connection, fault and latency injection, and a measure of how many posts ran at once
 * (so tests can prove the fan-out engine's concurrency bound).
 */
export class MemoryConnectionGateway implements ConnectionGateway {
  /** Posts currently running, and the most that ever ran at once. */
  inFlight = 0;
  maxInFlight = 0;
  /** Post calls per connection id (accepted or not). */
  readonly attempts = new Map<string, number>();
  /** Every post call in call order, with its outcome. */
  readonly log: { connectionId: string; outcome: 'ok' | GatewayErrorKind }[] = [];
  fault: FaultHook | undefined;
  latencyMs: number;

  private readonly live = new Set<string>();
  private readonly frames = new Map<string, unknown[]>();
  private readonly scripted = new Map<string, GatewayErrorKind[]>();
  private readonly decoder = new TextDecoder();

  constructor(options: MemoryGatewayOptions = {}) {
    this.latencyMs = options.latencyMs ?? 0;
    this.fault = options.fault;
  }

  connect(...connectionIds: string[]): this {
    for (const id of connectionIds) this.live.add(id);
    return this;
  }

  disconnect(...connectionIds: string[]): this {
    for (const id of connectionIds) this.live.delete(id);
    return this;
  }

  /** The next `times` posts to `connectionId` fail with `kind` (before the fault hook is asked). */
  failNext(connectionId: string, kind: GatewayErrorKind, times = 1): this {
    const queue = this.scripted.get(connectionId) ?? [];
    for (let i = 0; i < times; i++) queue.push(kind);
    this.scripted.set(connectionId, queue);
    return this;
  }

  /** Frames accepted for `connectionId`, decoded from JSON, in arrival order. */
  received(connectionId: string): unknown[] {
    return [...(this.frames.get(connectionId) ?? [])];
  }

  /** Connection ids that received at least one frame. */
  recipients(): string[] {
    return [...this.frames.keys()];
  }

  /** Total frames accepted. */
  deliveredCount(): number {
    let total = 0;
    for (const list of this.frames.values()) total += list.length;
    return total;
  }

  async post(connectionId: string, data: Uint8Array): Promise<void> {
    const attempt = (this.attempts.get(connectionId) ?? 0) + 1;
    this.attempts.set(connectionId, attempt);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await this.delay();
      const kind = this.outcome(connectionId, attempt, data);
      this.log.push({ connectionId, outcome: kind ?? 'ok' });
      if (kind) throw fault(kind, 'PostToConnection', connectionId);
      const list = this.frames.get(connectionId) ?? [];
      list.push(JSON.parse(this.decoder.decode(data)));
      this.frames.set(connectionId, list);
    } finally {
      this.inFlight--;
    }
  }

  private outcome(connectionId: string, attempt: number, data: Uint8Array): GatewayErrorKind | undefined {
    const scripted = this.scripted.get(connectionId)?.shift();
    if (scripted) return scripted;
    const injected = this.fault?.(connectionId, attempt);
    if (injected) return injected;
    if (!this.live.has(connectionId)) return 'gone';
    if (data.byteLength > MAX_MESSAGE_BYTES) return 'too_large';
    return undefined;
  }

  private delay(): Promise<void> {
    return new Promise((resolve) => {
      if (this.latencyMs > 0) setTimeout(resolve, this.latencyMs);
      else setImmediate(resolve);
    });
  }
}

function fault(kind: GatewayErrorKind, operation: string, connectionId: string): GatewayError {
  const status = STATUS_BY_KIND[kind];
  return new GatewayError(kind, `${operation} ${connectionId}: ${kind} (${status})`, status);
}
