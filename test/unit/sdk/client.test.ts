/**
 * The client SDK against a scripted in-memory server (no network): duplicate dropping, recovery
 * with `since` after a drop, and make-before-break renewal including its races.
 */
import { FanoutClient, type RecoveryResult } from '@fanout/client';

interface Sent {
  action: string;
  id: string;
  topics?: string[];
  since?: Record<string, string>;
}

/** One fake socket; the test plays the server through `server`. */
class FakeSocket {
  static all: FakeSocket[] = [];
  readyState = 0;
  readonly sent: Sent[] = [];
  onopen: ((ev: unknown) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;

  constructor(readonly url: string) {
    FakeSocket.all.push(this);
    queueMicrotask(() => {
      this.readyState = 1;
      this.onopen?.({});
    });
  }

  send(data: string): void {
    const frame = JSON.parse(data) as Sent;
    this.sent.push(frame);
    server.answer(this, frame);
  }

  close(code = 1000, reason = ''): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }

  /** The server pushes a frame. */
  push(frame: object): void {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }

  /** The server ends the connection (API Gateway's age limit, a deploy). */
  drop(): void {
    this.close(1001, 'Going away');
  }
}

/** Replies to subscribes at once unless `hold` is set; the held ones are released by `release`. */
const server = {
  settleMs: 4_000,
  position: '1700000000000',
  hold: false,
  held: [] as (() => void)[],
  answer(socket: FakeSocket, frame: Sent): void {
    const respond = () => {
      if (socket.readyState !== 1) return;
      if (frame.action === 'ping') socket.push({ type: 'pong', id: frame.id, position: this.position });
      else if (frame.action === 'subscribe')
        socket.push({
          type: 'subscribed',
          id: frame.id,
          topics: frame.topics ?? [],
          position: this.position,
          settleMs: this.settleMs,
          ...(frame.since ? { recovered: true, missed: 0 } : {}),
        });
      else socket.push({ type: 'unsubscribed', id: frame.id, topics: frame.topics ?? [] });
    };
    if (this.hold && frame.action === 'subscribe') this.held.push(respond);
    else respond();
  },
};

const event = (id: string, position: string) => ({
  type: 'event',
  id,
  topic: 'orders/eu/1',
  subscription: 'orders/*',
  source: 'orders',
  detailType: 'OrderUpdated',
  time: '2026-12-01T10:00:00Z',
  data: { id },
  position,
});

function client(extra: Partial<ConstructorParameters<typeof FanoutClient>[0]> = {}) {
  const c = new FanoutClient({
    url: 'ws://fanout.test/',
    token: 'token',
    WebSocket: FakeSocket,
    minReconnectDelayMs: 100,
    maxReconnectDelayMs: 100,
    renewAfterMs: 0,
    ...extra,
  });
  const ids: string[] = [];
  const recoveries: RecoveryResult[] = [];
  const states: string[] = [];
  c.on('event', (e) => ids.push(e.id));
  c.on('recovered', (r) => recoveries.push(r));
  c.on('state', (s) => states.push(s));
  c.on('error', () => {});
  return { c, ids, recoveries, states };
}

const open = () => FakeSocket.all.filter((s) => s.readyState === 1);
const subscribes = (socket: FakeSocket | undefined) =>
  socket?.sent.filter((f) => f.action === 'subscribe') ?? [];

beforeEach(() => {
  jest.useFakeTimers({ doNotFake: ['queueMicrotask', 'nextTick'] });
  FakeSocket.all = [];
  server.hold = false;
  server.held = [];
  server.settleMs = 4_000;
});

afterEach(() => {
  jest.useRealTimers();
});

describe('FanoutClient', () => {
  it('hands each event to the application once, however often it is delivered', async () => {
    const { c, ids } = client();
    await c.connect();
    const [socket] = FakeSocket.all;
    socket?.push(event('a', '1700000000001'));
    socket?.push(event('a', '1700000000001'));
    socket?.push({ type: 'events', events: [event('a', '1700000000001'), event('b', '1700000000002')] });
    expect(ids).toEqual(['a', 'b']);
    c.close();
  });

  it('reports a frame outside the protocol as an error and keeps the connection', async () => {
    const { c, ids } = client();
    const errors: string[] = [];
    c.on('error', (err) => errors.push(err.message));
    await c.connect();
    FakeSocket.all[0]?.push({ type: 'event', id: 'x' });
    expect(ids).toEqual([]);
    expect(errors).toEqual([expect.stringContaining('outside the protocol')]);
    expect(c.status.state).toBe('open');
    c.close();
  });

  it('resubscribes with since for each subscription and direct messages after a drop, and reports the recovery', async () => {
    const { c, recoveries, states } = client();
    await c.connect();
    await c.subscribe('orders/*');
    FakeSocket.all[0]?.push(event('a', '1700000000005'));
    FakeSocket.all[0]?.drop();
    expect(c.status).toMatchObject({ state: 'reconnecting', lastClose: { code: 1001 } });
    await jest.advanceTimersByTimeAsync(150);
    const [again] = subscribes(FakeSocket.all[1]);
    // The greatest position seen: the subscribed reply's or the event's, whichever is later.
    expect(again?.since).toEqual({ 'orders/*': '1700000000005', $user: '1700000000005' });
    expect(recoveries).toEqual([{ recovered: true, missed: 0 }]);
    expect(states).toEqual(['connecting', 'open', 'reconnecting', 'connecting', 'recovering', 'open']);
    c.close();
  });

  it('renews by subscribing a new connection and closing the old one only after the settle time', async () => {
    server.settleMs = 500;
    const { c, ids, recoveries, states } = client({ renewAfterMs: 1_000 });
    await c.connect();
    await c.subscribe('orders/*');
    FakeSocket.all[0]?.push(event('before', '1700000000003'));
    await jest.advanceTimersByTimeAsync(1_000);
    expect(open()).toHaveLength(2);
    expect(subscribes(FakeSocket.all[1])).toEqual([expect.objectContaining({ topics: ['orders/*'] })]);
    expect(subscribes(FakeSocket.all[1])[0]?.since).toBeUndefined();
    // Deliveries already under way still reach the old connection, and count.
    FakeSocket.all[0]?.push(event('late', '1700000000009'));
    expect(ids).toEqual(['before', 'late']);
    await jest.advanceTimersByTimeAsync(server.settleMs - 10);
    expect(open()).toHaveLength(2);
    expect(recoveries).toEqual([]);
    await jest.advanceTimersByTimeAsync(20);
    expect(open()).toEqual([FakeSocket.all[1]]);
    // Then the new connection is asked for what the old one may still have missed (a post retried
    // after the settle time), from where the renewal began; the client stays open throughout.
    const recovery = subscribes(FakeSocket.all[1])[1];
    expect(recovery?.since).toEqual({ 'orders/*': '1700000000003', $user: '1700000000003' });
    expect(recoveries).toEqual([{ recovered: true, missed: 0 }]);
    expect(states).toEqual(['connecting', 'open']);
    c.close();
  });

  it('reports an error when the recovery after an orderly renewal is not answered, and stays open', async () => {
    server.settleMs = 500;
    const errors: Error[] = [];
    const { c, recoveries } = client({ renewAfterMs: 1_000, requestTimeoutMs: 200 });
    c.on('error', (err) => errors.push(err));
    await c.connect();
    await c.subscribe('orders/*');
    FakeSocket.all[0]?.push(event('before', '1700000000003'));
    await jest.advanceTimersByTimeAsync(1_000);
    server.hold = true;
    await jest.advanceTimersByTimeAsync(server.settleMs + 200);
    expect(errors.map((err) => err.message)).toEqual([expect.stringContaining('no reply to subscribe')]);
    expect(recoveries).toEqual([]);
    expect(c.status.state).toBe('open');
    server.hold = false;
    c.close();
  });

  it('recovers on the new connection when the old one ends before its settle time', async () => {
    const { c, recoveries } = client({ renewAfterMs: 1_000 });
    await c.connect();
    await c.subscribe('orders/*');
    FakeSocket.all[0]?.push(event('a', '1700000000007'));
    await jest.advanceTimersByTimeAsync(1_000);
    FakeSocket.all[1]?.push(event('b', '1700000000099'));
    FakeSocket.all[0]?.drop();
    await jest.advanceTimersByTimeAsync(0);
    const recovery = subscribes(FakeSocket.all[1])[1];
    // From where the renewal started, not from what the new connection has seen since.
    expect(recovery?.since).toEqual({ 'orders/*': '1700000000007', $user: '1700000000007' });
    expect(recoveries).toEqual([{ recovered: true, missed: 0 }]);
    expect(c.status.state).toBe('open');
    c.close();
  });

  it('adopts the new connection when the old one ends while the renewal is subscribing it', async () => {
    const { c, recoveries, states } = client({ renewAfterMs: 1_000 });
    await c.connect();
    await c.subscribe('orders/*');
    server.hold = true;
    await jest.advanceTimersByTimeAsync(1_000);
    FakeSocket.all[0]?.drop();
    expect(c.status.state).toBe('reconnecting');
    server.hold = false;
    for (const respond of server.held.splice(0)) respond();
    await jest.advanceTimersByTimeAsync(0);
    expect(c.status.state).toBe('open');
    expect(recoveries).toEqual([{ recovered: true, missed: 0 }]);
    // The pending reconnect was cancelled: no third connection.
    await jest.advanceTimersByTimeAsync(500);
    expect(FakeSocket.all).toHaveLength(2);
    expect(states.at(-1)).toBe('open');
    c.close();
  });

  it('closes the connection it renewed away from when the application closes the client', async () => {
    const { c } = client({ renewAfterMs: 1_000 });
    await c.connect();
    await c.subscribe('orders/*');
    await jest.advanceTimersByTimeAsync(1_000);
    expect(open()).toHaveLength(2);
    c.close();
    expect(open()).toHaveLength(0);
    expect(c.status.state).toBe('closed');
  });

  it('retries a failed renewal while the old connection stays open', async () => {
    const { c } = client({ renewAfterMs: 1_000, requestTimeoutMs: 200 });
    await c.connect();
    await c.subscribe('orders/*');
    server.hold = true;
    await jest.advanceTimersByTimeAsync(1_000 + 200);
    // The fresh connection never answered and was closed; the old one still serves.
    expect(FakeSocket.all[1]?.readyState).toBe(3);
    expect(FakeSocket.all[0]?.readyState).toBe(1);
    server.hold = false;
    await jest.advanceTimersByTimeAsync(100);
    expect(open()).toHaveLength(2);
    c.close();
  });
});
