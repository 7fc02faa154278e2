/**
 * The fan-out's own HTTP/1.1 client (shared/gateway/http1.ts) against raw TCP servers on loopback
 * that answer byte for byte what each case needs: framing by length, chunks and close, keep-alive and
 * its end, timeouts, broken connections and answers that are not HTTP.
 */
import { createServer as createHttpsServer } from 'node:https';
import { createServer, type Server, type Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { Http1Error, type Http1Options, Http1Pool } from '../../../shared/gateway/http1';

interface Received {
  head: string;
  body: Buffer;
  socket: Socket;
  /** Which accepted connection the request came on, counting from 0. */
  connection: number;
}

/** A server that calls `answer` with each complete request (head and Content-Length body). */
async function rawServer(
  answer: (request: Received) => void,
): Promise<{ port: number; server: Server; accepted: () => number; close: () => Promise<void> }> {
  let accepted = 0;
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    const connection = accepted++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        const end = buffered.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buffered.toString('latin1', 0, end);
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        if (buffered.length < end + 4 + length) return;
        const body = buffered.subarray(end + 4, end + 4 + length);
        buffered = buffered.subarray(end + 4 + length);
        answer({ head, body, socket, connection });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    port: address.port,
    server,
    accepted: () => accepted,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const options = (port: number, overrides: Partial<Http1Options> = {}): Http1Options => ({
  protocol: 'http:',
  hostname: '127.0.0.1',
  port,
  maxSockets: 2,
  timeoutMs: 1_000,
  maxBodyBytes: 64,
  answerHeaders: ['x-amzn-errortype'],
  ...overrides,
});

const head = (path = '/live/@connections/a', length = 2) =>
  `POST ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: ${length}\r\n\r\n`;
const body = new TextEncoder().encode('{}');

const failureOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 'answered',
    (err: unknown) => (err instanceof Http1Error ? err.code : `not an Http1Error: ${String(err)}`),
  );

const servers: { close: () => Promise<void> }[] = [];
const pools: Http1Pool[] = [];
afterEach(async () => {
  for (const pool of pools.splice(0)) pool.destroy();
  for (const server of servers.splice(0)) await server.close();
});

async function setUp(
  answer: (request: Received) => void,
  overrides: Partial<Http1Options> = {},
): Promise<{ pool: Http1Pool; accepted: () => number }> {
  const server = await rawServer(answer);
  servers.push(server);
  const pool = new Http1Pool(options(server.port, overrides));
  pools.push(pool);
  return { pool, accepted: server.accepted };
}

describe('the kept-alive HTTP/1.1 pool', () => {
  it('sends the head and body as given and reuses one connection for requests one after another', async () => {
    const seen: Received[] = [];
    const { pool, accepted } = await setUp((request) => {
      seen.push(request);
      request.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Amzn-RequestId: r1\r\n\r\n');
    });
    for (let i = 0; i < 3; i++) {
      const answer = await pool.request(head(`/live/@connections/c${i}`), body);
      expect(answer).toEqual({ status: 200, headers: {}, body: '' });
    }
    expect(accepted()).toBe(1);
    expect(pool.size).toBe(1);
    expect(seen.map((r) => r.head.split('\r\n')[0])).toEqual([
      'POST /live/@connections/c0 HTTP/1.1',
      'POST /live/@connections/c1 HTTP/1.1',
      'POST /live/@connections/c2 HTTP/1.1',
    ]);
    expect(seen.map((r) => r.body.toString())).toEqual(['{}', '{}', '{}']);
  });

  it('sends a large body whole, after the head', async () => {
    const large = new Uint8Array(100_000).fill(65);
    let received: Buffer | undefined;
    const { pool } = await setUp((request) => {
      received = request.body;
      request.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
    });
    await pool.request(head('/live/@connections/a', large.byteLength), large);
    expect(received?.equals(Buffer.from(large))).toBe(true);
  });

  it('opens at most maxSockets connections and starts a waiting request when one is free', async () => {
    const held: Received[] = [];
    const { pool, accepted } = await setUp((request) => held.push(request));
    const answers = [1, 2, 3].map(() => pool.request(head(), body));
    await waitFor(() => held.length === 2);
    expect(accepted()).toBe(2);
    held[0]?.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
    await waitFor(() => held.length === 3);
    expect(held[2]?.connection).toBe(held[0]?.connection);
    for (const request of held.slice(1)) request.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
    await expect(Promise.all(answers)).resolves.toHaveLength(3);
    expect(accepted()).toBe(2);
  });

  it('reads an error answer in pieces: its status, the headers asked for and its body', async () => {
    const { pool } = await setUp((request) => {
      const text =
        'HTTP/1.1 410 Gone\r\nx-amzn-ErrorType: GoneException:http://internal.amazon.com/\r\nContent-Length: 40\r\n\r\n{"message":"gone","__type":"GoneExcept"}';
      // One byte at a time, each in its own packet: every state of the parser sees a cut.
      void (async () => {
        for (const ch of text) {
          request.socket.write(ch);
          await new Promise((resolve) => setImmediate(resolve));
        }
      })();
    });
    const answer = await pool.request(head(), body);
    expect(answer.status).toBe(410);
    expect(answer.headers).toEqual({ 'x-amzn-errortype': 'GoneException:http://internal.amazon.com/' });
    expect(answer.body).toBe('{"message":"gone","__type":"GoneExcept"}');
  });

  it('reads a chunked body, keeps at most maxBodyBytes of it, and keeps the connection', async () => {
    const { pool, accepted } = await setUp((request) => {
      const first = 'a'.repeat(40);
      const second = 'b'.repeat(40);
      request.socket.write(
        `HTTP/1.1 500 Internal\r\nTransfer-Encoding: chunked\r\n\r\n${first.length.toString(16)};ext=1\r\n${first}\r\n${second.length.toString(16)}\r\n${second}\r\n0\r\nx-trailer: t\r\n\r\n`,
      );
    });
    const answer = await pool.request(head(), body);
    expect(answer.status).toBe(500);
    expect(answer.body).toBe(`${'a'.repeat(40)}${'b'.repeat(24)}`);
    await pool.request(head(), body);
    expect(accepted()).toBe(1);
  });

  it('reads a body that ends with the connection, and opens a new connection for the next request', async () => {
    const { pool, accepted } = await setUp((request) => {
      request.socket.end('HTTP/1.1 429 Too Many Requests\r\n\r\n{"message":"slow down"}');
    });
    const answer = await pool.request(head(), body);
    expect(answer).toEqual({ status: 429, headers: {}, body: '{"message":"slow down"}' });
    await pool.request(head(), body);
    expect(accepted()).toBe(2);
  });

  it('does not reuse a connection the answer closes (Connection: close, or HTTP/1.0 without keep-alive)', async () => {
    let n = 0;
    const { pool, accepted } = await setUp((request) => {
      n++;
      request.socket.write(
        n === 1
          ? 'HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n'
          : 'HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n',
      );
    });
    await pool.request(head(), body);
    await pool.request(head(), body);
    await pool.request(head(), body);
    expect(accepted()).toBe(3);
  });

  it('skips an interim 100 Continue and returns the answer after it', async () => {
    const { pool } = await setUp((request) => {
      request.socket.write('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n');
    });
    await expect(pool.request(head(), body)).resolves.toEqual({ status: 204, headers: {}, body: '' });
  });

  it('fails a request with no answer within timeoutMs as a timeout, and drops its connection', async () => {
    const { pool } = await setUp(() => {}, { timeoutMs: 100 });
    const started = Date.now();
    expect(await failureOf(pool.request(head(), body))).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(900);
    expect(pool.size).toBe(0);
  });

  it('fails a request whose connection closes before the answer is whole, as closed', async () => {
    const { pool } = await setUp((request) => {
      request.socket.end('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc');
    });
    expect(await failureOf(pool.request(head(), body))).toBe('closed');
  });

  it('forgets an idle connection the server closed, and opens a new one for the next request', async () => {
    const { pool, accepted } = await setUp((request) => {
      request.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
      setTimeout(() => request.socket.destroy(), 10);
    });
    await pool.request(head(), body);
    await waitFor(() => pool.size === 0);
    await pool.request(head(), body);
    expect(accepted()).toBe(2);
  });

  it('closes connections idle longer than maxIdleMs instead of reusing them, and reuses fresher ones', async () => {
    const { pool, accepted } = await setUp(
      (request) => request.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'),
      { maxIdleMs: 100 },
    );
    await Promise.all([pool.request(head(), body), pool.request(head(), body)]);
    expect(accepted()).toBe(2);
    await pool.request(head(), body);
    expect(accepted()).toBe(2);
    await new Promise((done) => setTimeout(done, 150));
    await pool.request(head(), body);
    // Both idle connections were too old: closed, and the request went on a new one.
    expect(accepted()).toBe(3);
    expect(pool.size).toBe(1);
  });

  it('fails answers that are not HTTP, or are framed wrongly, as protocol errors', async () => {
    const answers = [
      'SSH-2.0-OpenSSH\r\n\r\n',
      'HTTP/1.1 200 OK\r\nContent-Length: ten\r\n\r\n',
      'HTTP/1.1 500 Oops\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
    ];
    let n = 0;
    const { pool } = await setUp((request) => request.socket.write(answers[n++] ?? ''));
    for (const _ of answers) expect(await failureOf(pool.request(head(), body))).toBe('protocol');
  });

  it('drops a connection that sends bytes nobody asked for', async () => {
    const { pool } = await setUp((request) => {
      request.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\n');
    });
    await pool.request(head(), body);
    await waitFor(() => pool.size === 0);
  });

  it('fails a request to a port nobody listens on as a socket error', async () => {
    const server = await rawServer(() => {});
    await server.close();
    const pool = new Http1Pool(options(server.port));
    pools.push(pool);
    expect(await failureOf(pool.request(head(), body))).toBe('socket');
    expect(pool.size).toBe(0);
  });

  it('fails the requests in flight and waiting as closed when destroyed', async () => {
    const { pool } = await setUp(() => {}, { maxSockets: 1 });
    const inFlight = failureOf(pool.request(head(), body));
    const waiting = failureOf(pool.request(head(), body));
    await waitFor(() => pool.size === 1);
    pool.destroy();
    expect(await waiting).toBe('closed');
    expect(await inFlight).toBe('closed');
  });
});

async function waitFor(condition: () => boolean, ms = 2_000): Promise<void> {
  const until = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A self-signed certificate for localhost and 127.0.0.1, valid for a century: for these tests only. */
const TEST_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg+xT0Xjos/9j2aUwK
Zm++yNJjJZUE6WB3VLGfgFv/JMChRANCAARhihSxe2E54FJQgi05BHKlodbBI16D
mZYANMErG69c2VYxt7WC3tMbObj+HCybpYoAQxHSn2l29BmN0Kbo5yCY
-----END PRIVATE KEY-----`;
const TEST_CERT = `-----BEGIN CERTIFICATE-----
MIIBmzCCAUGgAwIBAgIUDeyxGz/n7JY4C5oYf9jrxhAfr6IwCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTIwMjA0NTQyNloYDzIxMjYxMTA4
MDQ1NDI2WjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAARhihSxe2E54FJQgi05BHKlodbBI16DmZYANMErG69c2VYxt7WC3tMb
Obj+HCybpYoAQxHSn2l29BmN0Kbo5yCYo28wbTAdBgNVHQ4EFgQU0zuRpJUJ17gs
xlv0rWgEGzxfLNwwHwYDVR0jBBgwFoAU0zuRpJUJ17gsxlv0rWgEGzxfLNwwDwYD
VR0TAQH/BAUwAwEB/zAaBgNVHREEEzARgglsb2NhbGhvc3SHBH8AAAEwCgYIKoZI
zj0EAwIDSAAwRQIgSPdX6Go3TyaCX97RzpdrCMvuuaHNLSnxN6u/YoiLvRsCIQCx
OoIigucIAeF/zkn+RPsv4zL4l4ggisa26rS1bdYdIA==
-----END CERTIFICATE-----`;

describe('the kept-alive HTTP/1.1 pool over TLS', () => {
  it.each([
    ['127.0.0.1', false],
    ['localhost', 'localhost'],
  ])(
    'posts to %s on verified TLS connections it keeps, with SNI %s (a host name, never an address)',
    async (hostname, sni) => {
      const names: (string | false)[] = [];
      const server = createHttpsServer({ key: TEST_KEY, cert: TEST_CERT }, (req, res) => {
        req.resume();
        req.on('end', () => res.writeHead(200, { 'content-length': '0' }).end());
      });
      server.on('secureConnection', (socket: TLSSocket) =>
        names.push((socket as TLSSocket & { servername: string | false }).servername),
      );
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const address = server.address();
      if (address === null || typeof address === 'string') throw new Error('no port');
      const pool = new Http1Pool(
        options(address.port, { protocol: 'https:', hostname, maxSockets: 2, ca: TEST_CERT }),
      );
      try {
        const answers = await Promise.all(Array.from({ length: 10 }, () => pool.request(head(), body)));
        expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
        expect(names).toEqual([sni, sni]);
      } finally {
        pool.destroy();
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    },
  );

  it('refuses a server whose certificate it does not trust, as a socket error', async () => {
    const server = createHttpsServer({ key: TEST_KEY, cert: TEST_CERT }, (_req, res) => res.end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    const pool = new Http1Pool(options(address.port, { protocol: 'https:' }));
    try {
      expect(await failureOf(pool.request(head(), body))).toBe('socket');
    } finally {
      pool.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
