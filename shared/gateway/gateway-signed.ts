import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { type ConnectionGateway, classifyFailure, GatewayError } from './gateway.js';
import { type Http1Answer, Http1Pool } from './http1.js';
import { PostSigner, type SignedPost } from './sigv4-post.js';

export { refreshingCredentials } from './sigv4-post.js';

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
 * ConnectionGateway that posts `POST /{stage}/@connections/{id}` itself, SigV4-signed: the lean path
 * of the fan-out. The SDK client costs most of a delivery's CPU in its middleware stack (serializer,
 * retry and endpoint middlewares, a fresh payload hash per call); here the signer (sigv4-post.ts,
 * @smithy/signature-v4's canonical request and signing key) does once per frame and second what is
 * the same for every post, and the request goes as one write onto a kept-alive
 * connection of a pool sized to the concurrency (http1.ts: node:http's per-request objects and
 * listeners cost as much as the signing).
 * Failures are classified as the SDK adapter classifies them (`classifyFailure`), from the answer's
 * `x-amzn-ErrorType` header or JSON `__type`, then its status.
 */
export class SignedConnectionGateway implements ConnectionGateway {
  private readonly basePath: string;
  private readonly pool: Http1Pool;
  private readonly signer: PostSigner;

  constructor(options: SignedGatewayOptions) {
    const url = new URL(options.endpoint);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new Error(`the @connections endpoint must be an http(s) URL, got ${options.endpoint}`);
    }
    this.basePath = url.pathname.replace(/\/+$/, '');
    const { protocol, hostname, port, host } = url;
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
    this.signer = new PostSigner({ region: options.region, host, credentials: options.credentials });
  }

  async post(connectionId: string, data: Uint8Array): Promise<void> {
    const signing = this.signer.sign(this.pathOf(connectionId), data);
    // Awaited only when it is a promise: a refresh of the credentials or the day's key.
    const signed = signing instanceof Promise ? await signing : signing;
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
  async sign(connectionId: string, data: Uint8Array): Promise<SignedPost> {
    return this.signer.sign(this.pathOf(connectionId), data);
  }

  private pathOf(connectionId: string): string {
    return `${this.basePath}/@connections/${escapeSegment(connectionId)}`;
  }
}

/**
 * A path segment escaped as the SDK escapes its labels (RFC 3986: `encodeURIComponent` leaves
 * `!'()*` as they are): the signature covers the path, so both must send the same bytes.
 */
function escapeSegment(segment: string): string {
  const encoded = encodeURIComponent(segment);
  return RESERVED.test(encoded) ? encoded.replace(RESERVED_ALL, hexEscape) : encoded;
}

const RESERVED = /[!'()*]/;
const RESERVED_ALL = /[!'()*]/g;
const hexEscape = (c: string): string => `%${c.charCodeAt(0).toString(16).toUpperCase()}`;

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
