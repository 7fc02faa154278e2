import { createHash, createHmac, type Hmac, type Hash as NodeHash } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type {
  AwsCredentialIdentity,
  AwsCredentialIdentityProvider,
  Checksum,
  DateInput,
  SourceData,
} from '@smithy/types';
import { type ConnectionGateway, classifyFailure, GatewayError } from './gateway.js';
import { type Http1Answer, Http1Pool } from './http1.js';

export interface SignedGatewayOptions {
  /** `https://{api-id}.execute-api.{region}.amazonaws.com/{stage}` (or the local gateway's). */
  endpoint: string;
  region: string;
  /** Where the signing credentials come from (in Lambda: its environment), asked again before expiry. */
  credentials: AwsCredentialIdentityProvider;
  /** Sockets kept open to the endpoint: the fan-out concurrency, so no post waits for one. */
  maxSockets: number;
  /** Longest wait for an answer, connecting included; a slower post fails as `other` (retryable). */
  requestTimeoutMs: number;
}

/**
 * SHA-256 (and HMAC-SHA-256 with a secret) on node:crypto, as the signer's hash constructor. The
 * signer hashes the credentials (HMAC of the access key id with the secret key) on every call, only to
 * find its cached signing key: with a string secret, the last message's digest is kept, so that
 * lookup costs no HMAC.
 */
class Sha256 implements Checksum {
  private hash: NodeHash | Hmac | undefined;
  private message: Buffer | undefined;
  private static last: { secret: string; message: Buffer; digest: Buffer } | undefined;

  constructor(private readonly secret?: SourceData) {}

  update(data: Uint8Array): void {
    if (typeof this.secret === 'string' && this.hash === undefined && this.message === undefined) {
      // Held until digest: it may be the message whose digest is already known.
      this.message = Buffer.from(data);
      return;
    }
    this.flushMessage();
    this.current().update(data);
  }

  async digest(): Promise<Uint8Array> {
    const secret = this.secret;
    const message = this.message;
    if (typeof secret === 'string' && message !== undefined && this.hash === undefined) {
      const last = Sha256.last;
      if (last && last.secret === secret && last.message.equals(message)) return last.digest;
      const digest = createHmac('sha256', secret).update(message).digest();
      Sha256.last = { secret, message, digest };
      return digest;
    }
    this.flushMessage();
    return this.current().digest();
  }

  reset(): void {
    this.hash = undefined;
    this.message = undefined;
  }

  private flushMessage(): void {
    const message = this.message;
    if (message === undefined) return;
    this.message = undefined;
    this.current().update(message);
  }

  private current(): NodeHash | Hmac {
    this.hash ??= this.create();
    return this.hash;
  }

  private create(): NodeHash | Hmac {
    if (this.secret === undefined) return createHash('sha256');
    const secret = this.secret;
    const key =
      typeof secret === 'string'
        ? secret
        : ArrayBuffer.isView(secret)
          ? new Uint8Array(secret.buffer, secret.byteOffset, secret.byteLength)
          : new Uint8Array(secret);
    return createHmac('sha256', key);
  }
}

/**
 * @smithy/signature-v4 with the work that is the same for every post of a second done once: the
 * dates are formatted once a second, and the canonical request is hashed straight to hex (the
 * base class hashes through the constructor above, its promise, and a hex conversion).
 */
class PostSigner extends SignatureV4 {
  private date: { second: number; formatted: { longDate: string; shortDate: string } } | undefined;

  protected override formatDate(now: DateInput): { longDate: string; shortDate: string } {
    const time = now instanceof Date ? now.getTime() : undefined;
    if (time === undefined) return super.formatDate(now);
    const second = Math.floor(time / 1000);
    if (this.date?.second !== second) this.date = { second, formatted: super.formatDate(now) };
    return this.date.formatted;
  }

  protected override async createStringToSign(
    longDate: string,
    credentialScope: string,
    canonicalRequest: string,
    algorithmIdentifier: string,
  ): Promise<string> {
    const hashed = createHash('sha256').update(canonicalRequest).digest('hex');
    return `${algorithmIdentifier}\n${longDate}\n${credentialScope}\n${hashed}`;
  }
}

/** Credentials are fetched again this long before they expire. */
const REFRESH_BEFORE_EXPIRY_MS = 5 * 60_000;

/**
 * ConnectionGateway that posts `POST /{stage}/@connections/{id}` itself, SigV4-signed: the lean path
 * of the fan-out. The SDK client costs most of a delivery's CPU in its middleware stack (serializer,
 * retry and endpoint middlewares, a fresh payload hash per call); here the frame's payload hash is
 * computed once per frame (every connection of a source shares the frame's bytes), the signing key
 * once per day (by @smithy/signature-v4), and the request goes as one write onto a kept-alive
 * connection of a pool sized to the concurrency (http1.ts: node:http's per-request objects and
 * listeners cost as much as the signing).
 * Failures are classified as the SDK adapter classifies them (`classifyFailure`), from the answer's
 * `x-amzn-ErrorType` header or JSON `__type`, then its status.
 */
export class SignedConnectionGateway implements ConnectionGateway {
  private readonly basePath: string;
  private readonly pool: Http1Pool;
  private readonly signer: SignatureV4;
  private readonly payloadHashes = new WeakMap<Uint8Array, string>();
  /** The parts of the request the signer reads that are the same for every post. */
  private readonly endpoint: { protocol: string; hostname: string; port?: number; host: string };

  constructor(options: SignedGatewayOptions) {
    const url = new URL(options.endpoint);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new Error(`the @connections endpoint must be an http(s) URL, got ${options.endpoint}`);
    }
    this.basePath = url.pathname.replace(/\/+$/, '');
    const { protocol, hostname, port, host } = url;
    this.endpoint = { protocol, hostname, ...(port ? { port: Number(port) } : {}), host };
    this.pool = new Http1Pool({
      protocol,
      // A bracketed IPv6 literal is connected to without its brackets.
      hostname: hostname.replace(/^\[(.*)\]$/, '$1'),
      port: port ? Number(port) : protocol === 'https:' ? 443 : 80,
      maxSockets: options.maxSockets,
      timeoutMs: options.requestTimeoutMs,
      maxBodyBytes: MAX_ERROR_BODY,
      answerHeaders: [ERROR_TYPE_HEADER],
    });
    this.signer = new PostSigner({
      service: 'execute-api',
      region: options.region,
      credentials: refreshingCredentials(options.credentials),
      sha256: Sha256,
    });
  }

  async post(connectionId: string, data: Uint8Array): Promise<void> {
    const signed = await this.sign(connectionId, data);
    let head = `POST ${signed.path} HTTP/1.1\r\n`;
    for (const name in signed.headers) head += `${name}: ${signed.headers[name]}\r\n`;
    let answer: Http1Answer;
    try {
      answer = await this.pool.request(`${head}\r\n`, data);
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      throw new GatewayError(
        'other',
        `PostToConnection ${connectionId} failed (other): ${detail}`,
        undefined,
        {
          cause: err,
        },
      );
    }
    const { status } = answer;
    if (status >= 200 && status < 300) return;
    const { errorType, message } = errorOf(answer);
    const kind = classifyFailure(errorType, status);
    throw new GatewayError(
      kind,
      `PostToConnection ${connectionId} failed (${kind}): ${errorType ?? status}${message ? `: ${message}` : ''}`,
      status,
    );
  }

  /** Closes the kept-alive connections (the process may then exit). */
  destroy(): void {
    this.pool.destroy();
  }

  /** The request the SDK would send, signed the same way (see the unit test that compares them). */
  async sign(connectionId: string, data: Uint8Array): Promise<SignedRequest> {
    const path = `${this.basePath}/@connections/${encodeURIComponent(connectionId)}`;
    const signed = await this.signer.sign({
      method: 'POST',
      ...this.endpoint,
      path,
      query: {},
      headers: {
        host: this.endpoint.host,
        'content-type': 'application/octet-stream',
        'content-length': String(data.byteLength),
        'x-amz-content-sha256': this.payloadHash(data),
      },
      body: data,
    });
    return { path, headers: signed.headers };
  }

  private payloadHash(data: Uint8Array): string {
    let hash = this.payloadHashes.get(data);
    if (hash === undefined) {
      hash = createHash('sha256').update(data).digest('hex');
      this.payloadHashes.set(data, hash);
    }
    return hash;
  }
}

export interface SignedRequest {
  path: string;
  headers: Record<string, string>;
}

const ERROR_TYPE_HEADER = 'x-amzn-errortype';

/** Largest error body read: API Gateway's are a few dozen bytes; a proxy's page is not worth more. */
const MAX_ERROR_BODY = 4096;

/** An error answer's type and message: `x-amzn-ErrorType` first, then the JSON body's `__type`. */
function errorOf(answer: Http1Answer): { errorType?: string; message?: string } {
  // `x-amzn-ErrorType: GoneException:http://internal.amazon.com/...`: the name is before the colon.
  const header = answer.headers[ERROR_TYPE_HEADER];
  const fromHeader = header === undefined ? undefined : header.split(':')[0];
  const fromBody = parseErrorBody(answer.body);
  const errorType = fromHeader || fromBody.type;
  return { ...(errorType ? { errorType } : {}), ...(fromBody.message ? { message: fromBody.message } : {}) };
}

function parseErrorBody(body: string): { type?: string; message?: string } {
  try {
    const json: unknown = JSON.parse(body);
    if (typeof json !== 'object' || json === null) return {};
    const record = json as Record<string, unknown>;
    const rawType = typeof record.__type === 'string' ? record.__type : undefined;
    // `__type` may be `namespace#Name`.
    const type = rawType?.split('#').pop();
    const message =
      typeof record.message === 'string'
        ? record.message
        : typeof record.Message === 'string'
          ? record.Message
          : undefined;
    return { ...(type ? { type } : {}), ...(message ? { message } : {}) };
  } catch {
    return body ? { message: body.slice(0, 200) } : {};
  }
}

/**
 * A provider that asks `source` once and again only when the credentials are about to expire, so
 * a warm function does not sign with credentials that lapse mid-invocation. Concurrent callers
 * share one refresh.
 */
export function refreshingCredentials(
  source: AwsCredentialIdentityProvider,
  now: () => number = Date.now,
): AwsCredentialIdentityProvider {
  let current: AwsCredentialIdentity | undefined;
  let pending: Promise<AwsCredentialIdentity> | undefined;
  return async () => {
    const expiresAt = current?.expiration?.getTime();
    const fresh =
      current !== undefined && (expiresAt === undefined || expiresAt - now() > REFRESH_BEFORE_EXPIRY_MS);
    if (fresh && current) return current;
    pending ??= source().then(
      (identity) => {
        current = identity;
        pending = undefined;
        return identity;
      },
      (err: unknown) => {
        pending = undefined;
        throw err;
      },
    );
    return pending;
  };
}
