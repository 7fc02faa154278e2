/**
 * Laws of the envelope (shared/domain/envelope.ts) and of reading a queue record (shared/fanout/record.ts;
 * docs/architecture.md, "The fan-out algorithm", step 1): every valid EventBridge envelope becomes a
 * FanoutEvent the engine can carry in its page and retry messages, and no body makes the reading throw
 * or quote the event's data in its reason.
 */
import { check, MAX_TOPICS_PER_EVENT, MAX_USERS_PER_EVENT } from '@fanout/protocol';
import fc from 'fast-check';
import { audienceSources } from '../../shared/domain/audience';
import {
  EventBridgeEnvelope,
  FanoutEvent,
  type PageMessage,
  type RetryMessage,
  toFanoutEvent,
  WorkMessage,
} from '../../shared/domain/envelope';
import { parseRecord } from '../../shared/fanout/record';
import { topicArb } from '../support/arbitraries';
import { checkProperty } from '../support/properties';

const RUNS = 100;
/**
 * Put in the event's data; must never appear in a reason, which is logged and sent as a DLQ attribute.
 * Short, because a quote of the text may be short too (V8's JSON.parse messages show about ten characters).
 */
const MARKER = 'dAtA7q';

const isoTimeArb = fc
  .tuple(
    fc.date({
      min: new Date('2000-01-01T00:00:00Z'),
      max: new Date('2100-01-01T00:00:00Z'),
      noInvalidDate: true,
    }),
    fc.constantFrom('Z', '+02:00', '-05:30'),
  )
  .map(([date, offset]) => date.toISOString().replace('Z', offset));

const userArb = fc.oneof(fc.constantFrom('alice', 'bob'), fc.string({ minLength: 1, maxLength: 40 }));

/**
 * A `Detail` a publisher may send: at least one topic or user (duplicates allowed), any JSON data.
 * `data` is always there: the schema requires the key (`null` says "no data"), as the frames do.
 */
const detailArb = fc
  .record(
    {
      topics: fc.array(fc.oneof(topicArb, fc.constantFrom('a', 'a/b')), { maxLength: MAX_TOPICS_PER_EVENT }),
      users: fc.array(userArb, { maxLength: Math.min(MAX_USERS_PER_EVENT, 12) }),
      data: fc.jsonValue(),
      expiresAt: isoTimeArb,
    },
    { requiredKeys: ['data'] },
  )
  .filter((detail) => (detail.topics?.length ?? 0) + (detail.users?.length ?? 0) > 0);

/** An EventBridge envelope as the rule's SQS target delivers it. */
const envelopeArb = fc.record({
  version: fc.constant('0'),
  id: fc.uuid(),
  'detail-type': fc.string({ maxLength: 20 }),
  source: fc.string({ maxLength: 20 }),
  account: fc.stringMatching(/^\d{12}$/),
  time: isoTimeArb,
  region: fc.constantFrom('us-east-1', 'eu-west-1'),
  resources: fc.array(fc.string(), { maxLength: 2 }),
  detail: detailArb,
});

const overTheWire = (value: unknown): unknown => JSON.parse(JSON.stringify(value));
const unique = <T>(values: readonly T[] | undefined): T[] => [...new Set(values ?? [])];

describe('toFanoutEvent', () => {
  it('turns every valid envelope into an event FanoutEvent accepts, after JSON too', async () => {
    await checkProperty(
      fc.property(envelopeArb, (envelope) => {
        const parsed = check(EventBridgeEnvelope, overTheWire(envelope));
        if (!parsed.ok) throw new Error(`a valid envelope was refused: ${parsed.problems.join('; ')}`);
        const event = toFanoutEvent(parsed.value);
        expect(check(FanoutEvent, overTheWire(event))).toEqual({ ok: true, value: overTheWire(event) });
        // Topics and users once each, in the order the publisher gave them; the data as it was.
        expect(event.topics).toEqual(unique(envelope.detail.topics));
        expect(event.users).toEqual(unique(envelope.detail.users));
        expect(overTheWire({ data: event.data })).toEqual(overTheWire({ data: envelope.detail.data }));
        expect(event.expiresAt).toBe(envelope.detail.expiresAt);
      }),
      RUNS,
    );
  });

  it('gives events that the page and retry messages carry unchanged', async () => {
    const caseArb = envelopeArb.chain((envelope) => {
      const event = toFanoutEvent(envelope as EventBridgeEnvelope);
      const count = audienceSources(event).length;
      return fc.tuple(fc.constant(event), fc.nat(count - 1), fc.nat());
    });
    await checkProperty(
      fc.property(caseArb, ([event, source, startedAt]) => {
        const page: PageMessage = { kind: 'fanout.page', event, source, startedAt };
        const retry: RetryMessage = {
          kind: 'fanout.retry',
          event,
          attempt: 1,
          targets: [{ source, connectionIds: ['c1'] }],
        };
        for (const message of [page, retry]) {
          expect(check(WorkMessage, overTheWire(message))).toEqual({ ok: true, value: overTheWire(message) });
          const record = parseRecord(JSON.stringify(message));
          expect(record).toMatchObject({
            kind: message === page ? 'page' : 'retry',
            event: overTheWire(event),
          });
        }
      }),
      RUNS,
    );
  });
});

describe('parseRecord', () => {
  it('reads every valid envelope body as that event, with its audience sources', async () => {
    await checkProperty(
      fc.property(envelopeArb, (envelope) => {
        const event = toFanoutEvent(envelope as EventBridgeEnvelope);
        expect(parseRecord(JSON.stringify(envelope))).toEqual({
          kind: 'envelope',
          event: overTheWire(event),
          sources: audienceSources(event),
        });
      }),
      RUNS,
    );
  });

  it('answers any JSON or text without throwing, as a record or a malformed one', async () => {
    const bodyArb = fc.oneof(
      fc.string(),
      fc.jsonValue().map((value) => JSON.stringify(value)),
      // Objects that route to a schema: `detail-type` or `kind`, with arbitrary fields beside.
      fc
        .tuple(
          fc.constantFrom(
            { 'detail-type': 'x' },
            { kind: 'fanout.page' },
            { kind: 'fanout.retry' },
            { kind: 1 },
          ),
          fc.dictionary(fc.constantFrom('id', 'detail', 'event', 'source', 'targets', 'x'), fc.jsonValue()),
        )
        .map(([route, fields]) => JSON.stringify({ ...fields, ...route })),
    );
    await checkProperty(
      fc.property(bodyArb, (body) => {
        const record = parseRecord(body);
        expect(['envelope', 'page', 'retry', 'malformed']).toContain(record.kind);
        if (record.kind === 'malformed') expect(record.detail.length).toBeGreaterThan(0);
      }),
      RUNS,
    );
  });

  it('lets the schemas answer any value, JSON or not, without throwing', async () => {
    await checkProperty(
      fc.property(fc.oneof(fc.jsonValue(), fc.anything()), (value) => {
        for (const schema of [EventBridgeEnvelope, FanoutEvent, WorkMessage]) {
          const checked = check(schema, value);
          expect(checked.ok || checked.problems.length > 0).toBe(true);
        }
      }),
      RUNS,
    );
  });

  it("never quotes the event's data in the reason of a malformed record", async () => {
    /** A body broken at one place: a field removed or replaced, or the text cut, short of a character or spliced. */
    const brokenArb = envelopeArb.chain((envelope) => {
      const withMarker = { ...envelope, detail: { ...envelope.detail, data: { note: MARKER } } };
      const text = JSON.stringify(withMarker);
      const at = text.indexOf(MARKER);
      return fc.oneof(
        fc
          .constantFrom('id', 'detail-type', 'time', 'resources', 'version')
          .chain((key) =>
            fc
              .option(fc.jsonValue())
              .map((value) => JSON.stringify({ ...withMarker, [key]: value === null ? undefined : value })),
          ),
        fc
          .constantFrom(
            { topics: [] as string[], users: [] as string[] },
            { topics: ['a//b'] },
            { expiresAt: 'soon' },
          )
          .map((detail) => JSON.stringify({ ...withMarker, detail: { ...withMarker.detail, ...detail } })),
        fc.nat(text.length).map((cut) => text.slice(0, cut)),
        // A character lost, next to the data (its opening quote) or anywhere.
        fc
          .oneof(fc.constant(at - 1), fc.nat(text.length - 1))
          .map((position) => `${text.slice(0, position)}${text.slice(position + 1)}`),
        // Text that stops being JSON next to the data, or anywhere.
        fc
          .tuple(
            fc.oneof(fc.constant(at - 1), fc.constant(at + MARKER.length + 1), fc.nat(text.length)),
            fc.constantFrom('x', '}', ',', ' ,'),
          )
          .map(([position, junk]) => `${text.slice(0, position)}${junk}${text.slice(position)}`),
      );
    });
    let malformed = 0;
    await checkProperty(
      fc.property(brokenArb, (body) => {
        const record = parseRecord(body);
        if (record.kind !== 'malformed') return;
        malformed += 1;
        expect({ detail: record.detail, quotesData: record.detail.includes(MARKER) }).toEqual({
          detail: record.detail,
          quotesData: false,
        });
      }),
      RUNS,
    );
    expect(malformed).toBeGreaterThan(RUNS / 2);
  });
});
