import { createDefaultHandler } from '../../../shared/routes/default.js';
import { messageEvent } from '../../support/events.js';
import { context, replyOf, routeDeps } from './harness.js';

describe('$default route', () => {
  const setup = () => {
    const { logger, metrics } = routeDeps();
    return { logger, metrics, handler: createDefaultHandler({ logger, metrics }) };
  };

  it('answers a ping with a pong carrying the same id', async () => {
    const { handler, metrics } = setup();
    const response = await handler(messageEvent({ action: 'ping', id: 'r3' }), context);
    expect(response).toMatchObject({ statusCode: 200 });
    // The pong carries the server's position: a client keeps the greatest one it has seen.
    expect(response.body).toMatch(/^\{"type":"pong","id":"r3","position":"\d{13}"\}$/);
    expect(metrics.total('Pings')).toBe(1);
  });

  it('answers a ping without an id with a pong without an id', async () => {
    const { handler } = setup();
    expect(replyOf(await handler(messageEvent({ action: 'ping' }), context))).toEqual({
      type: 'pong',
      position: expect.stringMatching(/^\d{13}$/),
    });
  });

  it('refuses a frame that is not JSON with bad_request', async () => {
    const { handler, metrics } = setup();
    const frame = replyOf(await handler(messageEvent('{"action":"ping",'), context));
    expect(frame).toEqual({ type: 'error', code: 'bad_request', message: 'the frame is not valid JSON' });
    expect(metrics.total('RouteErrors')).toBe(1);
  });

  it.each([
    ['an array', '[{"action":"ping"}]'],
    ['a string', '"ping"'],
    ['null', 'null'],
    ['a number', '42'],
  ])('refuses a frame that is %s with bad_request', async (_what, body) => {
    const { handler } = setup();
    expect(replyOf(await handler(messageEvent(body), context))).toMatchObject({
      type: 'error',
      code: 'bad_request',
      message: 'the frame must be a JSON object',
    });
  });

  it('refuses an empty frame with bad_request', async () => {
    const { handler } = setup();
    expect(replyOf(await handler(messageEvent(''), context))).toMatchObject({ code: 'bad_request' });
    expect(replyOf(await handler(messageEvent(null), context))).toMatchObject({ code: 'bad_request' });
  });

  it('refuses a frame without an action with bad_request, keeping its id', async () => {
    const { handler } = setup();
    expect(replyOf(await handler(messageEvent({ id: 'r9', topics: [] }), context))).toEqual({
      type: 'error',
      id: 'r9',
      code: 'bad_request',
      message: 'the frame has no "action"',
    });
  });

  it('refuses a non-string action with bad_request', async () => {
    const { handler } = setup();
    expect(replyOf(await handler(messageEvent({ action: 7, id: 'r1' }), context))).toMatchObject({
      id: 'r1',
      code: 'bad_request',
    });
  });

  it('names the unknown action and the known ones', async () => {
    const { handler, logger } = setup();
    const frame = replyOf(await handler(messageEvent({ action: 'publish', id: 'r4' }), context));
    expect(frame).toEqual({
      type: 'error',
      id: 'r4',
      code: 'unknown_action',
      message: 'unknown action "publish"; known actions: subscribe, unsubscribe, ping',
    });
    expect(logger.entries).toContainEqual(
      expect.objectContaining({
        message: 'request refused',
        extra: [expect.objectContaining({ code: 'unknown_action', routeKey: '$default' })],
      }),
    );
  });

  it('echoes at most a bounded prefix of a long unknown action', async () => {
    const { handler } = setup();
    const frame = replyOf(await handler(messageEvent({ action: 'x'.repeat(10_000) }), context));
    expect(frame).toMatchObject({ code: 'unknown_action' });
    expect(frame.type === 'error' && frame.message.length).toBeLessThan(200);
  });

  it('treats action names case-sensitively, as route selection does', async () => {
    const { handler } = setup();
    expect(replyOf(await handler(messageEvent({ action: 'Ping' }), context))).toMatchObject({
      code: 'unknown_action',
    });
  });

  it('refuses a ping whose id is not a string, and leaves the id out of the reply', async () => {
    const { handler } = setup();
    const frame = replyOf(await handler(messageEvent({ action: 'ping', id: 5 }), context));
    expect(frame).toMatchObject({ type: 'error', code: 'bad_request' });
    expect(frame).not.toHaveProperty('id');
  });

  it('reads a base64-encoded (binary) frame', async () => {
    const { handler } = setup();
    const event = messageEvent(Buffer.from('{"action":"ping","id":"b1"}').toString('base64'));
    event.isBase64Encoded = true;
    expect(replyOf(await handler(event, context))).toEqual({
      type: 'pong',
      id: 'b1',
      position: expect.stringMatching(/^\d{13}$/),
    });
  });
});
