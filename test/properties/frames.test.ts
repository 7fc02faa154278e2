/**
 * Laws of the wire frames (sdk/protocol/src/frames.ts; docs/architecture.md, "The protocol"): what the
 * server sends survives the trip through JSON and the client's parser, client frames keep their shape
 * through the route schemas, and no input makes either side throw.
 */
import {
  check,
  ERROR_CODES,
  MAX_REQUEST_ID_LENGTH,
  PingFrame,
  parseServerFrame,
  SubscribeFrame,
  UnsubscribeFrame,
} from '@fanout/protocol';
import fc from 'fast-check';
import { isFanoutError } from '../../shared/domain/errors';
import { parseFrame, validateFrame } from '../../shared/routes/request';
import { patternArb, topicArb } from '../support/arbitraries';
import { messageEvent } from '../support/events';
import { checkProperty } from '../support/properties';

const RUNS = 100;

const idArb = fc.string({ minLength: 1, maxLength: MAX_REQUEST_ID_LENGTH });
/** Fields a newer server may add: clients keep them (names that no frame uses). */
const extraFieldsArb = fc.dictionary(
  fc.string({ minLength: 1, maxLength: 8 }).map((name) => `x-${name}`),
  fc.jsonValue(),
  { maxKeys: 2 },
);

const withOptionalId = <T extends object>(frame: T, id: string | null): T & { id?: string } =>
  id === null ? frame : { ...frame, id };

const eventBaseArb = fc.record({
  type: fc.constant('event' as const),
  id: fc.string({ minLength: 1, maxLength: 40 }),
  source: fc.string({ maxLength: 20 }),
  detailType: fc.string({ maxLength: 20 }),
  time: fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
  data: fc.jsonValue(),
});

/** Every frame the server sends, as the platform builds it, plus fields a newer server may add. */
const serverFrameArb = fc
  .tuple(
    fc.oneof(
      fc
        .tuple(eventBaseArb, topicArb, patternArb)
        .map(([base, topic, subscription]) => ({ ...base, topic, subscription })),
      fc.tuple(eventBaseArb, fc.string({ minLength: 1 })).map(([base, user]) => ({ ...base, user })),
      fc
        .tuple(
          fc.constantFrom('subscribed' as const, 'unsubscribed' as const),
          fc.array(patternArb),
          fc.option(idArb),
        )
        .map(([type, topics, id]) => withOptionalId({ type, topics }, id)),
      fc.option(idArb).map((id) => withOptionalId({ type: 'pong' as const }, id)),
      fc
        .tuple(
          // A code this version does not know yet is still an error frame.
          fc.oneof(fc.constantFrom(...ERROR_CODES), fc.string({ minLength: 1, maxLength: 20 })),
          fc.string(),
          fc.option(idArb),
        )
        .map(([code, message, id]) => withOptionalId({ type: 'error' as const, code, message }, id)),
    ),
    extraFieldsArb,
  )
  .map(([frame, extra]) => ({ ...extra, ...frame }));

/** What JSON makes of a value (-0 becomes 0, and so on): the shape a frame has once it crossed the wire. */
const overTheWire = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

describe('parseServerFrame', () => {
  it('gives back every frame the server sends, field for field, after JSON', async () => {
    await checkProperty(
      fc.property(serverFrameArb, (frame) => {
        const parsed = parseServerFrame(JSON.stringify(frame));
        expect(parsed).toEqual({ ok: true, value: overTheWire(frame) });
      }),
      RUNS,
    );
  });

  it('answers any text with a frame or its problems, never by throwing', async () => {
    const textArb = fc.oneof(
      fc.string(),
      fc.jsonValue().map((value) => JSON.stringify(value)),
      // Frames that look almost right: a known type with arbitrary fields.
      fc
        .tuple(
          fc.constantFrom('event', 'subscribed', 'unsubscribed', 'pong', 'error'),
          fc.dictionary(fc.string(), fc.jsonValue()),
        )
        .map(([type, fields]) => JSON.stringify({ ...fields, type })),
    );
    await checkProperty(
      fc.property(textArb, (text) => {
        const parsed = parseServerFrame(text);
        expect(parsed.ok || parsed.problems.length > 0).toBe(true);
      }),
      RUNS,
    );
  });
});

describe('the client frame schemas', () => {
  const topicsArb = fc.array(fc.oneof(patternArb, fc.jsonValue()), { maxLength: 5 });
  const clientFrameArb = fc.oneof(
    fc
      .tuple(fc.constantFrom('subscribe' as const, 'unsubscribe' as const), topicsArb, fc.option(idArb))
      .map(([action, topics, id]) => withOptionalId({ action, topics }, id)),
    fc.option(idArb).map((id) => withOptionalId({ action: 'ping' as const }, id)),
  );
  const schemaOf = (action: string) =>
    action === 'subscribe' ? SubscribeFrame : action === 'unsubscribe' ? UnsubscribeFrame : PingFrame;

  it('accept every frame a client builds, unchanged after JSON (topics are checked one by one later)', async () => {
    await checkProperty(
      fc.property(clientFrameArb, (frame) => {
        expect(check(schemaOf(frame.action), overTheWire(frame))).toEqual({
          ok: true,
          value: overTheWire(frame),
        });
      }),
      RUNS,
    );
  });

  it('refuse an id that is empty or longer than 128 characters', async () => {
    const badIdArb = fc.oneof(
      fc.constant(''),
      fc.string({ minLength: MAX_REQUEST_ID_LENGTH + 1, maxLength: 300 }),
    );
    await checkProperty(
      fc.property(clientFrameArb, badIdArb, (frame, id) => {
        const checked = check(schemaOf(frame.action), { ...frame, id });
        expect({ id, ok: checked.ok }).toEqual({ id, ok: false });
      }),
      RUNS,
    );
  });

  it('turn any frame text into a parsed frame or a bad_request, and nothing else', async () => {
    const bodyArb = fc.oneof(
      fc.string(),
      fc.jsonValue().map((value) => JSON.stringify(value)),
      clientFrameArb.chain((frame) =>
        fc
          .dictionary(fc.constantFrom('action', 'topics', 'id', 'x'), fc.jsonValue())
          .map((fields) => JSON.stringify({ ...frame, ...fields })),
      ),
    );
    await checkProperty(
      fc.property(bodyArb, fc.constantFrom('subscribe', 'unsubscribe', 'ping'), (body, action) => {
        let code: string | undefined;
        try {
          validateFrame(schemaOf(action), parseFrame(messageEvent(body)), action);
        } catch (err) {
          code = isFanoutError(err) ? err.code : `not a FanoutError: ${String(err)}`;
        }
        expect([undefined, 'bad_request']).toContain(code);
      }),
      RUNS,
    );
  });
});
