import { createHash, createHmac, type Hmac, type Hash as NodeHash } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { SignatureV4 } from '@smithy/signature-v4';
import type {
  AwsCredentialIdentity,
  AwsCredentialIdentityProvider,
  Checksum,
  SourceData,
} from '@smithy/types';
import { type ConnectionGateway, classifyFailure, GatewayError } from './gateway.js';

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

/** SHA-256 (and HMAC-SHA-256 with a secret) on node:crypto, as the signer's hash constructor. */
class Sha256 implements Checksum {
  private hash: NodeHash | Hmac;

  constructor(private readonly secret?: SourceData) {
    this.hash = this.create();
  }

  update(data: Uint8Array): void {
    this.hash.update(data);
  }

  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }

  reset(): void {
    this.hash = this.create();
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

/** Credentials are fetched again this long before they expire. */
const REFRESH_BEFORE_EXPIRY_MS = 5 * 60_000;

/**
 * ConnectionGateway that posts `POST /{stage}/@connections/{id}` itself, SigV4-signed: the lean path
 * of the fan-out. The SDK client costs most of a delivery's CPU in its middleware stack (serializer,
 * retry and endpoint middlewares, a fresh payload hash per call); here the frame's payload hash is
 * computed once per frame (every connection of a source shares the frame's bytes), the signing key
 * once per day (by @smithy/signature-v4), and the request goes straight onto a keep-alive agent.
 * Failures are classified as the SDK adapter classifies them (`classifyFailure`), from the answer's
 * `x-amzn-ErrorType` header or JSON `__type`, then its status.
 */
export class SignedConnectionGateway implements ConnectionGateway {
  private readonly url: URL;
  private readonly basePath: string;
  private readonly agent: HttpAgent;
  private readonly request: typeof httpRequest;
  private readonly signer: SignatureV4;
  private readonly payloadHashes = new WeakMap<Uint8Array, string>();

  constructor(private readonly options: SignedGatewayOptions) {
    this.url = new URL(options.endpoint);
    if (this.url.protocol !== 'https:' && this.url.protocol !== 'http:') {
      throw new Error(`the @connections endpoint must be an http(s) URL, got ${options.endpoint}`);
    }
    this.basePath = this.url.pathname.replace(/\/+$/, '');
    const agentOptions = { keepAlive: true, maxSockets: options.maxSockets, scheduling: 'lifo' as const };
    const https = this.url.protocol === 'https:';
    this.agent = https ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions);
    this.request = https ? httpsRequest : httpRequest;
    this.signer = new SignatureV4({
      service: 'execute-api',
      region: options.region,
      credentials: refreshingCredentials(options.credentials),
      sha256: Sha256,
    });
  }

  async post(connectionId: string, data: Uint8Array): Promise<void> {
    const signed = await this.sign(connectionId, data);
    const { status, errorType, message } = await this.send(signed, data, connectionId);
    if (status >= 200 && status < 300) return;
    const kind = classifyFailure(errorType, status);
    throw new GatewayError(
      kind,
      `PostToConnection ${connectionId} failed (${kind}): ${errorType ?? status}${message ? `: ${message}` : ''}`,
      status,
    );
  }

  /** Closes the kept-alive sockets (the process may then exit). */
  destroy(): void {
    this.agent.destroy();
  }

  /** The request the SDK would send, signed the same way (see the unit test that compares them). */
  async sign(connectionId: string, data: Uint8Array): Promise<SignedRequest> {
    const { hostname, port } = this.url;
    const host = this.url.host;
    const path = `${this.basePath}/@connections/${encodeURIComponent(connectionId)}`;
    const signed = await this.signer.sign({
      method: 'POST',
      protocol: this.url.protocol,
      hostname,
      ...(port ? { port: Number(port) } : {}),
      path,
      query: {},
      headers: {
        host,
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

  private send(signed: SignedRequest, data: Uint8Array, connectionId: string): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const req = this.request({
        agent: this.agent,
        method: 'POST',
        hostname: this.url.hostname,
        ...(this.url.port ? { port: Number(this.url.port) } : {}),
        path: signed.path,
        headers: signed.headers,
        timeout: this.options.requestTimeoutMs,
      });
      const fail = (detail: string, cause?: unknown) =>
        reject(
          new GatewayError('other', `PostToConnection ${connectionId} failed (other): ${detail}`, undefined, {
            cause,
          }),
        );
      req.on('timeout', () => req.destroy(new TimeoutError(this.options.requestTimeoutMs)));
      req.on('error', (err) => fail(err.message, err));
      req.on('response', (res) => {
        readAnswer(res).then(resolve, (err: Error) => fail(err.message, err));
      });
      req.end(data);
    });
  }
}

export interface SignedRequest {
  path: string;
  headers: Record<string, string>;
}

interface Answer {
  status: number;
  errorType?: string;
  message?: string;
}

class TimeoutError extends Error {
  override readonly name = 'TimeoutError';
  constructor(ms: number) {
    super(`no answer within ${ms} ms`);
  }
}

/** Largest error body read: API Gateway's are a few dozen bytes; a proxy's page is not worth more. */
const MAX_ERROR_BODY = 4096;

/** The answer's status and, for an error, its type and message; a success's body is drained unread. */
function readAnswer(res: IncomingMessage): Promise<Answer> {
  const status = res.statusCode ?? 0;
  if (status >= 200 && status < 300) {
    res.resume();
    return new Promise((resolve, reject) => {
      res.on('end', () => resolve({ status }));
      res.on('error', reject);
    });
  }
  return new Promise((resolve, reject) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      if (body.length < MAX_ERROR_BODY) body += chunk;
    });
    res.on('error', reject);
    res.on('end', () => {
      // `x-amzn-ErrorType: GoneException:http://internal.amazon.com/...`: the name is before the colon.
      const header = res.headers['x-amzn-errortype'];
      const fromHeader = typeof header === 'string' ? header.split(':')[0] : undefined;
      const fromBody = parseErrorBody(body);
      const errorType = fromHeader || fromBody.type;
      resolve({
        status,
        ...(errorType ? { errorType } : {}),
        ...(fromBody.message ? { message: fromBody.message } : {}),
      });
    });
  });
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
