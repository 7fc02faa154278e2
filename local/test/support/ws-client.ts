/** A promise-friendly `ws` client for integration tests against the local gateway. */
import WebSocket, { type ClientOptions, type RawData } from 'ws';

export interface Received {
  data: Buffer;
  text: string;
  isBinary: boolean;
}

export interface CloseInfo {
  code: number;
  reason: string;
}

export interface TestClient {
  ws: WebSocket;
  /** Resolves with the next message, or rejects after `timeoutMs`. */
  next(timeoutMs?: number): Promise<Received>;
  /** Resolves if nothing arrives for `ms`, rejects with the message otherwise. */
  expectSilence(ms: number): Promise<void>;
  /** Sends a text message and waits until it is written. */
  send(text: string): Promise<void>;
  closed: Promise<CloseInfo>;
}

const toBuffer = (data: RawData): Buffer =>
  Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);

export function openClient(
  url: string,
  options: ClientOptions = {},
  protocols?: string[],
): Promise<TestClient> {
  const ws = new WebSocket(url, protocols, options);
  const queue: Received[] = [];
  const waiters: Array<(message: Received) => void> = [];
  ws.on('message', (data, isBinary) => {
    const buffer = toBuffer(data);
    const message = { data: buffer, text: buffer.toString('utf8'), isBinary };
    const waiter = waiters.shift();
    if (waiter) waiter(message);
    else queue.push(message);
  });
  const closed = new Promise<CloseInfo>((resolve) => {
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString('utf8') }));
  });
  ws.on('error', () => {}); // surfaced through `closed` / the open promise

  const next = (timeoutMs = 2_000): Promise<Received> => {
    const queued = queue.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const waiter = (message: Received): void => {
        clearTimeout(timer);
        resolve(message);
      };
      const timer = setTimeout(() => {
        const index = waiters.indexOf(waiter);
        if (index >= 0) waiters.splice(index, 1);
        reject(new Error(`no message within ${timeoutMs} ms`));
      }, timeoutMs);
      waiters.push(waiter);
    });
  };
  const expectSilence = async (ms: number): Promise<void> => {
    const message = await next(ms).catch(() => undefined);
    if (message) throw new Error(`expected silence, got ${message.text}`);
  };
  const send = (text: string): Promise<void> =>
    new Promise((resolve, reject) => ws.send(text, (err) => (err ? reject(err) : resolve())));

  return handshake(ws).then(() => ({ ws, next, expectSilence, send, closed }));
}

/**
 * Resolves when `ws`'s handshake completes; rejects with `handshake refused with <status>` when the
 * server answers the upgrade with an HTTP status, or with the socket's error.
 */
export function handshake(ws: WebSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (req, res) => {
      req.destroy();
      reject(new Error(`handshake refused with ${res.statusCode}`));
    });
    ws.once('error', reject);
  });
}

/** The HTTP status a handshake ends with: 101 when accepted (the socket is then closed), else the refusal. */
export function handshakeStatus(
  url: string,
  options: ClientOptions = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options);
    ws.on('error', () => {});
    ws.once('open', () => {
      resolve({ status: 101, body: '' });
      ws.close();
    });
    ws.once('unexpected-response', (req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
      res.on('close', () => req.destroy());
    });
  });
}
