/**
 * The client farm: a child process holding the benchmark's WebSocket clients (real `ws` sockets
 * through the local gateway), so their receiving costs no CPU in the process that delivers. Each
 * client counts the event frames it gets by event id and keeps their arrival times; the parent asks
 * over IPC. Client i connects as user `b<i>`, which is how the parent maps clients to connection ids.
 */
import { signToken } from '@fanout/publisher';
import WebSocket, { type RawData } from 'ws';
import { handshake } from '../local/test/support/ws-client.js';
import type { Arrival, FarmReply, FarmRequest, FrameReport } from './lib/farm-protocol.js';

interface Client {
  ws: WebSocket;
  /** Its place in `clients`, which is how reports name it. */
  index: number;
  /** Frames received, by event id. */
  counts: Map<string, number>;
}

const clients: Client[] = [];
/** Arrival minus the publisher's `sentAt` of every event frame, by event id (latency runs). */
const latencies = new Map<string, number[]>();
/** Latest arrival per event id (epoch ms with sub-ms precision). */
const lastArrival = new Map<string, number>();
const firstArrival = new Map<string, number>();
/** Frames of each event received by any client: a report then reads only its audience's clients. */
const totals = new Map<string, number>();
/**
 * Each client's first frame of each event, by event id (latency runs: the stage split pairs it with
 * its post), kept per event so that a question about a few events does not walk every client.
 */
const arrivalsByEvent = new Map<string, Arrival[]>();

const now = (): number => performance.timeOrigin + performance.now();

function onMessage(client: Client, data: RawData): void {
  const at = now();
  const text = Buffer.isBuffer(data)
    ? data.toString('utf8')
    : Buffer.from(data as ArrayBuffer).toString('utf8');
  let frame: { type?: unknown; id?: unknown; data?: { sentAt?: unknown } };
  try {
    frame = JSON.parse(text) as typeof frame;
  } catch {
    return;
  }
  if (frame.type !== 'event' || typeof frame.id !== 'string') return;
  const id = frame.id;
  const count = (client.counts.get(id) ?? 0) + 1;
  client.counts.set(id, count);
  totals.set(id, (totals.get(id) ?? 0) + 1);
  if (count === 1) listIn(arrivalsByEvent, id).push({ eventId: id, client: client.index, at });
  lastArrival.set(id, Math.max(lastArrival.get(id) ?? 0, at));
  if (!firstArrival.has(id)) firstArrival.set(id, at);
  const sentAt = frame.data?.sentAt;
  if (typeof sentAt === 'number') listIn(latencies, id).push(at - sentAt);
}

/** The list `map` keeps under `key`, made and kept there on first use. */
function listIn<T>(map: Map<string, T[]>, key: string): T[] {
  let list = map.get(key);
  if (!list) {
    list = [];
    map.set(key, list);
  }
  return list;
}

async function openOne(url: string, secret: string, index: number, topics: string[]): Promise<Client> {
  const token = await signToken({ secret, sub: `b${index}`, topics, expiresInSeconds: 4 * 3600 });
  for (let attempt = 0; ; attempt++) {
    try {
      const ws = new WebSocket(`${url}?token=${token}`, { perMessageDeflate: false });
      const client: Client = { ws, index, counts: new Map() };
      await handshake(ws);
      ws.on('error', () => {});
      ws.on('message', (data) => onMessage(client, data));
      return client;
    } catch (err) {
      // A burst of handshakes may meet the stage's throttle or a busy Lambda account: try again.
      if (attempt >= 20) throw err;
      await new Promise((resolve) => setTimeout(resolve, 50 * (attempt + 1)));
    }
  }
}

async function open(request: Extract<FarmRequest, { type: 'open' }>): Promise<FarmReply> {
  const started = Date.now();
  const first = clients.length;
  const slots: (Client | undefined)[] = new Array(request.count);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < request.count) {
      const i = next++;
      slots[i] = await openOne(request.url, request.secret, first + i, request.topics);
    }
  };
  await Promise.all(Array.from({ length: Math.min(request.parallel, request.count) }, worker));
  for (const client of slots) if (client) clients.push(client);
  return { type: 'opened', total: clients.length, ms: Date.now() - started };
}

/**
 * One event's frames at its audience (the first `audience` clients) and elsewhere. It reads only the
 * audience's clients: the benchmark asks while frames still arrive, and a walk over all 10,000
 * clients per event would hold this process's event loop for tens of milliseconds, stamping the
 * frames it then reads late.
 */
function report(eventId: string, audience: number): FrameReport {
  let received = 0;
  let duplicates = 0;
  let missing = 0;
  let atAudience = 0;
  for (const client of clients.slice(0, audience)) {
    const count = client.counts.get(eventId) ?? 0;
    if (count === 0) missing++;
    else received++;
    if (count > 1) duplicates += count - 1;
    atAudience += count;
  }
  const strays = (totals.get(eventId) ?? 0) - atAudience;
  return {
    eventId,
    received,
    missing,
    duplicates,
    strays,
    firstAt: firstArrival.get(eventId) ?? 0,
    lastAt: lastArrival.get(eventId) ?? 0,
  };
}

async function handle(request: FarmRequest): Promise<FarmReply> {
  switch (request.type) {
    case 'open':
      return open(request);
    case 'report':
      return { type: 'reports', reports: request.eventIds.map((id) => report(id, request.audience)) };
    case 'latencies': {
      const all: number[] = [];
      for (const id of request.eventIds) all.push(...(latencies.get(id) ?? []));
      return { type: 'latencies', values: all };
    }
    case 'arrivals':
      return {
        type: 'arrivals',
        arrivals: request.eventIds.flatMap((id) => arrivalsByEvent.get(id) ?? []),
      };
    case 'close':
      for (const client of clients) client.ws.terminate();
      return { type: 'closed' };
  }
}

process.on('message', (message: { seq: number; request: FarmRequest }) => {
  handle(message.request).then(
    (reply) => process.send?.({ seq: message.seq, reply }),
    (err: unknown) =>
      process.send?.({
        seq: message.seq,
        reply: { type: 'error', message: String(err) } satisfies FarmReply,
      }),
  );
});
// The parent gone means the benchmark is over: nothing here may outlive it.
process.on('disconnect', () => process.exit(0));
