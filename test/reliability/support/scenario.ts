/**
 * One reliability scenario against the local platform: its clients (raw `ws` clients of the harness
 * and client-SDK clients), what it publishes, and at the end the figures of the ledger plus the two
 * the table is asked about, wrongly pruned connections and leaked rows. Every scenario ends with
 * `finish()`, so every one of them counts the same way and reports the same figures.
 */
import { FanoutClient, type RecoveryResult } from '@fanout/client';
import WebSocket, { type RawData } from 'ws';
import { isMetaKey } from '../../../shared/store/dynamodb-rows';
import {
  type Frame,
  type PlatformClient,
  type PlatformHarness,
  type PublishInput,
  waitUntil,
} from '../../support/platform';
import { type EventAudience, Ledger } from './ledger';
import { type PromiseId, type Scenario, type ScenarioReport, writeReport } from './report';

/*
 * The waits end as soon as their condition holds, so they cost nothing on a quiet machine; they are
 * long because a busy one is not: there a local function can run past its timeout (wall clock, as
 * Lambda's is), and its batch only comes back after the queue's visibility timeout (VISIBILITY_TIMEOUT_SECONDS, suite.ts).
 */
/** How long `finish()` waits for the rows of closed clients to go before counting them as leaked. */
const SETTLE_TIMEOUT_MS = 20_000;
/** How long `waitForDelivery` waits by default: a batch redelivered after its visibility timeout included. */
const DELIVERY_TIMEOUT_MS = 60_000;
/** A jest timeout for one scenario: its load, the delivery wait and the settling, with room. */
export const SCENARIO_TIMEOUT_MS = 120_000;

export interface SdkParticipant {
  client: FanoutClient;
  recoveries: RecoveryResult[];
  /** Events the SDK handed to the application, each once: it drops duplicates by id. */
  applicationEvents: string[];
}

/** Longest wait for a subscribe or unsubscribe reply: the machine is shared, and a route may queue. */
const REQUEST_TIMEOUT_MS = 20_000;

/** Rows are compared by key. */
const rowKey = (row: { pk: string; sk: string }): string => `${row.pk}\u0000${row.sk}`;

export class ScenarioRun {
  /** Runs begun and not finished: a scenario that failed half-way leaves its clients to `abandonAll`. */
  private static readonly unfinished = new Set<ScenarioRun>();

  readonly ledger = new Ledger();
  private readonly started = Date.now();
  private readonly raw = new Map<string, PlatformClient>();
  private readonly sdk = new Map<string, SdkParticipant>();

  private constructor(
    readonly h: PlatformHarness,
    readonly scenario: Scenario,
    /** Rows and open connections from before: a scenario answers only for its own. */
    private readonly rowsBefore: ReadonlySet<string>,
    private readonly connectionsBefore: ReadonlySet<string>,
  ) {}

  /** A scenario on the suite's platform, counting only the rows and connections it makes. */
  static async begin(h: PlatformHarness, scenario: Scenario): Promise<ScenarioRun> {
    const rows = new Set((await h.connectionRows()).map(rowKey));
    const run = new ScenarioRun(h, scenario, rows, new Set(h.platform.gateway.connections()));
    ScenarioRun.unfinished.add(run);
    return run;
  }

  /** Cuts the clients of every scenario that did not finish, so the next one starts without them. */
  static abandonAll(): void {
    for (const run of ScenarioRun.unfinished) {
      for (const { client } of run.sdk.values()) client.close();
      for (const client of run.raw.values()) client.ws.terminate();
    }
    ScenarioRun.unfinished.clear();
  }

  /** A raw `ws` client of user `sub` with `grants`, counted from its first frame. */
  async connect(name: string, sub: string, grants: readonly string[]): Promise<PlatformClient> {
    const client = await this.h.connect(sub, [...grants]);
    this.ledger.joined(name, sub);
    this.raw.set(name, client);
    // Attached in the same tick as the open: no frame can come before it.
    client.ws.on('message', (data: RawData) => this.count(name, data));
    return client;
  }

  /**
   * Connects clients one after the other (the harness tells connection ids apart that way), then
   * subscribes them all at once.
   */
  async connectAll(
    clients: readonly {
      name: string;
      sub: string;
      grants: readonly string[];
      subscribe: readonly string[];
    }[],
  ): Promise<void> {
    for (const { name, sub, grants } of clients) await this.connect(name, sub, grants);
    await Promise.all(clients.map(({ name, subscribe }) => this.subscribe(name, subscribe)));
  }

  client(name: string): PlatformClient {
    const client = this.raw.get(name);
    if (!client) throw new Error(`no raw client ${name}`);
    return client;
  }

  async subscribe(name: string, patterns: readonly string[]): Promise<Frame> {
    this.ledger.subscribing(name, patterns);
    const reply = await this.client(name)
      .request({ action: 'subscribe', topics: [...patterns] }, REQUEST_TIMEOUT_MS)
      .catch(this.explain(name));
    if (reply.type !== 'subscribed') throw new Error(`subscribe ${name}: ${JSON.stringify(reply)}`);
    this.ledger.subscribed(name, patterns);
    return reply;
  }

  async unsubscribe(name: string, patterns: readonly string[]): Promise<Frame> {
    this.ledger.unsubscribing(name, patterns);
    const reply = await this.client(name)
      .request({ action: 'unsubscribe', topics: [...patterns] }, REQUEST_TIMEOUT_MS)
      .catch(this.explain(name));
    if (reply.type !== 'unsubscribed') throw new Error(`unsubscribe ${name}: ${JSON.stringify(reply)}`);
    return reply;
  }

  /** A normal close: `$disconnect` runs and deletes the connection's rows. */
  async leave(name: string): Promise<void> {
    this.ledger.leaving(name);
    await this.client(name).close();
  }

  /** The socket vanishes without a close frame (the gateway sees 1006). */
  vanish(name: string): void {
    this.ledger.leaving(name);
    this.client(name).ws.terminate();
  }

  /** A client-SDK client: reconnects by itself and recovers what it missed with `since`. */
  async sdkClient(name: string, sub: string, grants: readonly string[]): Promise<SdkParticipant> {
    const token = await this.h.token({ sub, topics: [...grants] });
    const count = (data: RawData) => this.count(name, data);
    // The SDK drops duplicates before the application sees them; the wire is where they are counted.
    class CountingSocket extends WebSocket {
      constructor(url: string) {
        super(url);
        this.on('message', count);
      }
    }
    const client = new FanoutClient({
      url: this.h.config.websocketUrl,
      token,
      WebSocket: CountingSocket,
      minReconnectDelayMs: 50,
      maxReconnectDelayMs: 300,
    });
    const participant: SdkParticipant = { client, recoveries: [], applicationEvents: [] };
    client.on('event', (event) => participant.applicationEvents.push(event.id));
    client.on('recovered', (result) => participant.recoveries.push(result));
    // Reconnection errors are expected in these scenarios; the figures say whether anything was lost.
    client.on('error', () => {});
    this.ledger.joined(name, sub);
    this.sdk.set(name, participant);
    await client.connect();
    return participant;
  }

  async sdkSubscribe(name: string, patterns: readonly string[]): Promise<void> {
    const participant = this.sdk.get(name);
    if (!participant) throw new Error(`no SDK client ${name}`);
    this.ledger.subscribing(name, patterns);
    await participant.client.subscribe(...patterns);
    this.ledger.subscribed(name, patterns);
  }

  /** PutEvents through the real SDK, each event owed to whoever is subscribed for sure right now. */
  async publish(...entries: PublishInput[]): Promise<string[]> {
    const owed = entries.map((entry) => this.ledger.owedBy(audienceOf(entry.detail)));
    const ids = await this.h.publish(...entries);
    ids.forEach((id, i) => {
      const entry = entries[i];
      if (entry) this.ledger.published(id, audienceOf(entry.detail), owed[i] ?? []);
    });
    return ids;
  }

  /**
   * Waits (bounded) until every live client has what it is owed; a shortfall shows in the figures.
   * The bound is generous because the machine is shared: under load the fan-out runs seconds behind.
   */
  async waitForDelivery(timeoutMs = DELIVERY_TIMEOUT_MS): Promise<void> {
    await waitUntil(() => this.ledger.allDelivered(), 'every owed event', timeoutMs, 50).catch(
      () => undefined,
    );
  }

  /**
   * Counts the open connections that lost their META row, closes every client still open (with a
   * close frame), waits for their rows to go, and reports. Rows there before the scenario began are
   * not its own; history rows are not counted either: they belong to no connection and expire by TTL.
   */
  async finish(checks: Partial<Record<PromiseId, string>> = {}): Promise<ScenarioReport> {
    const wronglyPruned = await this.wronglyPruned();
    const delivery = this.ledger.figures();
    for (const { client } of this.sdk.values()) client.close();
    await Promise.all(
      [...this.raw.values()].filter((client) => !client.isClosed()).map((client) => client.close()),
    );
    let rowsLeaked = 0;
    await waitUntil(
      async () => {
        const rows = await this.h.connectionRows();
        rowsLeaked = rows.filter((row) => !this.rowsBefore.has(rowKey(row))).length;
        return rowsLeaked === 0;
      },
      'every connection row to go',
      SETTLE_TIMEOUT_MS,
      200,
    ).catch(() => undefined);
    const report: ScenarioReport = {
      ...this.scenario,
      figures: { ...delivery, wronglyPruned, rowsLeaked },
      checks,
      durationMs: Date.now() - this.started,
      finishedAt: new Date().toISOString(),
    };
    ScenarioRun.unfinished.delete(this);
    writeReport(report);
    return report;
  }

  /** Connections this scenario opened that are still open and whose META row is gone: pruned while alive. */
  private async wronglyPruned(): Promise<number> {
    const open = this.h.platform.gateway.connections().filter((id) => !this.connectionsBefore.has(id));
    const rows = await this.h.connectionRows();
    const registered = new Set(
      rows.filter((row) => isMetaKey(row.sk)).map((row) => row.pk.slice('CONN#'.length)),
    );
    return open.filter((id) => !registered.has(id)).length;
  }

  /** A failed request, with the client's last frames that were not events (the answer it got instead). */
  private explain(name: string): (err: Error) => never {
    return (err) => {
      const texts = this.client(name).texts.filter((text) => eventIds(text).length === 0);
      throw new Error(`${name}: ${err.message}; its last frames:\n${texts.slice(-5).join('\n')}`);
    };
  }

  private count(name: string, data: RawData): void {
    for (const id of eventIds(rawText(data))) this.ledger.received(name, id);
  }
}

/** The figures that must be zero in every scenario, with samples when they are not. */
export function expectClean(report: ScenarioReport, h: PlatformHarness): void {
  const { lost, misdelivered, wronglyPruned, rowsLeaked, samples } = report.figures;
  const bad = { lost, misdelivered, wronglyPruned, rowsLeaked };
  if (Object.values(bad).some((value) => value !== 0)) {
    // The function and poller lines that name a sampled event: where its delivery went wrong.
    const ids = new Set(samples.flatMap((sample) => /\S+-\S+-\S+-\S+-\S+/.exec(sample) ?? []));
    const lines = h.logs
      .filter((entry) => [...ids].some((id) => entry.line.includes(id)))
      .map((entry) => `[${entry.functionName}] ${entry.line.slice(0, 600)}`);
    throw new Error(
      `${report.id}: ${JSON.stringify(bad)} (published ${report.figures.published}, expected ${report.figures.expected})\n${samples.join('\n')}\nlines naming those events:\n${lines.slice(-30).join('\n')}\nrecent logs:\n${h.recentLogs(20)}`,
    );
  }
  // Something was owed and delivered: a scenario that delivers nothing proves nothing.
  expect(report.figures.expected).toBeGreaterThan(0);
  expect(report.figures.delivered).toBe(report.figures.expected);
}

function audienceOf(detail: Record<string, unknown>): EventAudience {
  const strings = (value: unknown) =>
    Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : undefined;
  const topics = strings(detail.topics);
  const users = strings(detail.users);
  return { ...(topics ? { topics } : {}), ...(users ? { users } : {}) };
}

/** Ids of the events a frame carries: an `event` frame's, or each of an `events` frame's (recovery). */
export function eventIds(text: string): string[] {
  let frame: unknown;
  try {
    frame = JSON.parse(text);
  } catch {
    return [];
  }
  if (!isRecord(frame)) return [];
  if (frame.type === 'event' && typeof frame.id === 'string') return [frame.id];
  if (frame.type === 'events' && Array.isArray(frame.events)) {
    return frame.events.flatMap((inner: unknown) =>
      isRecord(inner) && typeof inner.id === 'string' ? [inner.id] : [],
    );
  }
  return [];
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function rawText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

export const pause = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));
