/**
 * The stage's route throttling: the `default_route_settings` of the Terraform stage
 * (`throttling_burst_limit`, `throttling_rate_limit`), which apply to each route of the stage.
 *
 * "API Gateway throttles requests to your API using the token bucket algorithm, where a token counts
 * for a request. […] When request submissions exceed the steady-state request rate and burst limits,
 * API Gateway begins to throttle requests. Clients may receive 429 Too Many Requests error responses at
 * this point." (Amazon API Gateway Developer Guide, "Protect your WebSocket APIs in API Gateway"). So
 * each route has a bucket of `burstLimit` tokens, full at the start, refilled at `rateLimit` tokens a
 * second; a request takes one token or is throttled. A burst limit of 0 throttles every request, as on
 * AWS. What a throttled client gets is in server.ts: the handshake of a throttled `$connect` is refused
 * with 429, a throttled message is answered with API Gateway's error frame "Too Many Requests".
 */

export interface ThrottlingSettings {
  /** Bucket size: requests a route takes at once before throttling (Terraform `throttling_burst_limit`). */
  burstLimit: number;
  /** Steady-state requests per second of a route (Terraform `throttling_rate_limit`). */
  rateLimit: number;
}

export function checkThrottlingSettings(settings: ThrottlingSettings): ThrottlingSettings {
  const { burstLimit, rateLimit } = settings;
  // The module's own validations: a whole number >= 0, and a number >= 0.
  if (!Number.isInteger(burstLimit) || burstLimit < 0) {
    throw new RangeError(`throttling burstLimit must be a whole number >= 0, got ${burstLimit}`);
  }
  if (!Number.isFinite(rateLimit) || rateLimit < 0) {
    throw new RangeError(`throttling rateLimit must be a number >= 0, got ${rateLimit}`);
  }
  return settings;
}

export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly settings: ThrottlingSettings,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = settings.burstLimit;
    this.updatedAt = now();
  }

  /** Takes a token if one is there; false means the request is throttled. */
  take(): boolean {
    const now = this.now();
    const { burstLimit, rateLimit } = this.settings;
    this.tokens = Math.min(burstLimit, this.tokens + ((now - this.updatedAt) / 1000) * rateLimit);
    this.updatedAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** One bucket per route key, all with the stage's default route settings. */
export class StageThrottle {
  private readonly buckets = new Map<string, TokenBucket>();
  private throttledCount = 0;

  constructor(
    private readonly settings: ThrottlingSettings | undefined,
    private readonly now?: () => number,
  ) {
    if (settings) checkThrottlingSettings(settings);
  }

  /** Whether a request on `routeKey` may go on; without settings nothing is throttled. */
  admit(routeKey: string): boolean {
    if (this.settings === undefined) return true;
    let bucket = this.buckets.get(routeKey);
    if (bucket === undefined) {
      bucket = new TokenBucket(this.settings, this.now);
      this.buckets.set(routeKey, bucket);
    }
    if (bucket.take()) return true;
    this.throttledCount += 1;
    return false;
  }

  /** Requests throttled so far, all routes together. */
  throttled(): number {
    return this.throttledCount;
  }
}
