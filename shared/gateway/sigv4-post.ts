import { createHash, createHmac } from 'node:crypto';
import {
  ALGORITHM_IDENTIFIER,
  createScope,
  getCanonicalHeaders,
  getSigningKey,
  SignatureV4Base,
} from '@smithy/signature-v4';
import type {
  AwsCredentialIdentity,
  AwsCredentialIdentityProvider,
  Checksum,
  SourceData,
} from '@smithy/types';

/** SHA-256, or HMAC-SHA-256 with a secret, on node:crypto: the hash @smithy/signature-v4 derives keys with. */
class NodeSha256 implements Checksum {
  private hash: ReturnType<typeof createHash> | ReturnType<typeof createHmac>;

  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', toKey(secret));
  }

  update(data: Uint8Array): void {
    this.hash.update(data);
  }

  async digest(): Promise<Uint8Array> {
    return this.hash.digest();
  }

  reset(): void {
    throw new Error('NodeSha256 is used once');
  }
}

function toKey(secret: SourceData): string | Uint8Array {
  if (typeof secret === 'string') return secret;
  return ArrayBuffer.isView(secret)
    ? new Uint8Array(secret.buffer, secret.byteOffset, secret.byteLength)
    : new Uint8Array(secret);
}

/** Credentials are fetched again this long before they expire. */
const REFRESH_BEFORE_EXPIRY_MS = 5 * 60_000;

/**
 * The credentials of `source`, asked once and again only when they are about to expire, so a warm
 * function does not sign with credentials that lapse mid-invocation. `fresh()` answers without a
 * promise while they are good, which is every post but one in a few hours; concurrent refreshes
 * share one call to `source`, and a failed one is asked again next time.
 */
export class CredentialCache {
  private current: AwsCredentialIdentity | undefined;
  private pending: Promise<AwsCredentialIdentity> | undefined;

  constructor(
    private readonly source: AwsCredentialIdentityProvider,
    private readonly now: () => number = Date.now,
  ) {}

  /** The cached credentials while they are good for more than the refresh margin. */
  fresh(): AwsCredentialIdentity | undefined {
    const current = this.current;
    if (current === undefined) return undefined;
    const expiresAt = current.expiration?.getTime();
    return expiresAt === undefined || expiresAt - this.now() > REFRESH_BEFORE_EXPIRY_MS ? current : undefined;
  }

  refresh(): Promise<AwsCredentialIdentity> {
    this.pending ??= this.source().then(
      (identity) => {
        this.current = identity;
        this.pending = undefined;
        return identity;
      },
      (err: unknown) => {
        this.pending = undefined;
        throw err;
      },
    );
    return this.pending;
  }

  get(): Promise<AwsCredentialIdentity> {
    const fresh = this.fresh();
    return fresh ? Promise.resolve(fresh) : this.refresh();
  }
}

/** A provider over {@link CredentialCache}: `source` asked once, and again shortly before expiry. */
export function refreshingCredentials(
  source: AwsCredentialIdentityProvider,
  now: () => number = Date.now,
): AwsCredentialIdentityProvider {
  const cache = new CredentialCache(source, now);
  return () => cache.get();
}

export interface PostSignerOptions {
  region: string;
  /** The endpoint's `host` header value (`{api-id}.execute-api.{region}.amazonaws.com`, with a port if any). */
  host: string;
  credentials: AwsCredentialIdentityProvider;
  now?: () => number;
}

/** A signed post: the path to request and every header to send (names in lower case). */
export interface SignedPost {
  path: string;
  headers: Record<string, string>;
}

/** What is the same for every post of one frame in one second with one set of credentials. */
interface Slot {
  second: number;
  credentials: AwsCredentialIdentity;
  longDate: string;
  scope: string;
  key: Buffer;
  headers: Record<string, string>;
  canonicalHeaders: Record<string, string>;
  signedHeaders: string;
  payloadHash: string;
}

const SERVICE = 'execute-api';

/**
 * SigV4 for `POST {path}` with an `application/octet-stream` body, as @smithy/signature-v4's
 * `SignatureV4.sign` computes it for the SDK's PostToConnection, and with its code: the canonical
 * request, canonical path and canonical headers are `SignatureV4Base`'s and `getCanonicalHeaders`, and
 * the signing key is `getSigningKey`'s. What it leaves out is the per-call work that is the same for
 * every post of a frame: `sign` clones and re-normalises the request, lower-cases and sorts its
 * headers, looks the signing key up behind an HMAC of the credentials, and awaits half a dozen
 * promises, which together cost a post about as much CPU as its socket write. Here that work is done
 * once per frame, second and credentials, and a post costs one SHA-256 and one HMAC, without a promise
 * while the credentials and the day's key are at hand (the unit test compares every header with the
 * SDK client's, across seconds, days, credential changes and odd connection ids).
 */
export class PostSigner extends SignatureV4Base {
  private readonly credentialCache: CredentialCache;
  private readonly region: string;
  private readonly host: string;
  private readonly now: () => number;
  /** By frame: the posts of several frames (sources, records) interleave. */
  private readonly slots = new WeakMap<Uint8Array, Slot>();
  private key: { credentials: AwsCredentialIdentity; shortDate: string; key: Buffer } | undefined;

  constructor(options: PostSignerOptions) {
    super({ service: SERVICE, region: options.region, credentials: options.credentials, sha256: NodeSha256 });
    this.credentialCache = new CredentialCache(options.credentials);
    this.region = options.region;
    this.host = options.host;
    this.now = options.now ?? Date.now;
  }

  /**
   * Signs a post of `data` to `path` (already percent-encoded, as it goes on the wire). Returns
   * synchronously while credentials and the day's signing key are cached, else a promise.
   */
  sign(path: string, data: Uint8Array): SignedPost | Promise<SignedPost> {
    const time = this.now();
    const credentials = this.credentialCache.fresh();
    const slot = credentials && this.slotFor(time, credentials, data);
    if (slot) return this.signWith(slot, path);
    return this.prepare(time, data).then((ready) => this.signWith(ready, path));
  }

  private signWith(slot: Slot, path: string): SignedPost {
    const canonicalRequest = this.createCanonicalRequest(
      { method: 'POST', path, query: {}, headers: slot.headers, protocol: '', hostname: '' },
      slot.canonicalHeaders,
      slot.payloadHash,
    );
    const hashed = createHash('sha256').update(canonicalRequest).digest('hex');
    const stringToSign = `${ALGORITHM_IDENTIFIER}\n${slot.longDate}\n${slot.scope}\n${hashed}`;
    const signature = createHmac('sha256', slot.key).update(stringToSign).digest('hex');
    const authorization = `${ALGORITHM_IDENTIFIER} Credential=${slot.credentials.accessKeyId}/${slot.scope}, SignedHeaders=${slot.signedHeaders}, Signature=${signature}`;
    return { path, headers: { ...slot.headers, authorization } };
  }

  /** The cached slot if it still fits this post, or a new one when only the frame or second changed. */
  private slotFor(time: number, credentials: AwsCredentialIdentity, data: Uint8Array): Slot | undefined {
    const second = Math.floor(time / 1000);
    const slot = this.slots.get(data);
    if (slot && slot.second === second && slot.credentials === credentials) return slot;
    const { longDate, shortDate } = this.formatDate(new Date(second * 1000));
    const key = this.key;
    if (!key || key.credentials !== credentials || key.shortDate !== shortDate) return undefined;
    return this.buildSlot(second, longDate, shortDate, credentials, key.key, data);
  }

  /** Resolves credentials (refreshing them if due) and the day's signing key, then builds the slot. */
  private async prepare(time: number, data: Uint8Array): Promise<Slot> {
    const credentials = this.credentialCache.fresh() ?? (await this.credentialCache.refresh());
    this.validateResolvedCredentials(credentials);
    const second = Math.floor(time / 1000);
    const { longDate, shortDate } = this.formatDate(new Date(second * 1000));
    const key = Buffer.from(await getSigningKey(NodeSha256, credentials, shortDate, this.region, SERVICE));
    this.key = { credentials, shortDate, key };
    return this.buildSlot(second, longDate, shortDate, credentials, key, data);
  }

  private buildSlot(
    second: number,
    longDate: string,
    shortDate: string,
    credentials: AwsCredentialIdentity,
    key: Buffer,
    data: Uint8Array,
  ): Slot {
    // A frame's hash outlives its slot: the next second's slot of the same frame reuses it.
    const payloadHash = this.slots.get(data)?.payloadHash ?? createHash('sha256').update(data).digest('hex');
    // The headers SignatureV4.sign ends up with for the SDK's request, in its order.
    const headers: Record<string, string> = {
      host: this.host,
      'content-type': 'application/octet-stream',
      'content-length': String(data.byteLength),
      'x-amz-content-sha256': payloadHash,
      'x-amz-date': longDate,
      ...(credentials.sessionToken ? { 'x-amz-security-token': credentials.sessionToken } : {}),
    };
    const canonicalHeaders = getCanonicalHeaders({ headers } as Parameters<typeof getCanonicalHeaders>[0]);
    const slot: Slot = {
      second,
      credentials,
      longDate,
      scope: createScope(shortDate, this.region, SERVICE),
      key,
      headers,
      canonicalHeaders,
      signedHeaders: this.getCanonicalHeaderList(canonicalHeaders),
      payloadHash,
    };
    this.slots.set(data, slot);
    return slot;
  }
}
