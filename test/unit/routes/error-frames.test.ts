import middy from '@middy/core';
import { FanoutError } from '../../../shared/domain/errors.js';
import { MemoryLog, MemoryMetrics } from '../../../shared/observability/ports.js';
import type { Observability } from '../../../shared/observability/powertools.js';
import { errorFrames } from '../../../shared/routes/error-frames.js';
import type { RouteResponse, WebSocketEvent } from '../../../shared/routes/events.js';
import { messageEvent } from '../../support/events.js';
import { context, replyOf } from './harness.js';

function failingRoute(error: unknown) {
  const logger = new MemoryLog();
  const metrics = new MemoryMetrics();
  const handler = middy<WebSocketEvent, RouteResponse>(async () => {
    throw error;
  }).use(errorFrames({ logger, metrics }));
  return { handler, logger, metrics };
}

describe('errorFrames middleware', () => {
  it('turns a FanoutError into an error frame with its code and message', async () => {
    const { handler, logger, metrics } = failingRoute(new FanoutError('forbidden', 'not allowed'));
    const reply = replyOf(await handler(messageEvent({ action: 'subscribe', id: 'r1' }), context));
    expect(reply).toEqual({ type: 'error', id: 'r1', code: 'forbidden', message: 'not allowed' });
    expect(logger.entries).toEqual([
      {
        level: 'info',
        message: 'request refused',
        extra: [expect.objectContaining({ code: 'forbidden', reason: 'not allowed', routeKey: 'subscribe' })],
      },
    ]);
    expect(metrics.total('RouteErrors')).toBe(1);
  });

  it('logs an internal FanoutError at error level', async () => {
    const { handler, logger } = failingRoute(new FanoutError('internal', 'connection x is not registered'));
    await handler(messageEvent({ action: 'ping' }), context);
    expect(logger.entries[0]?.level).toBe('error');
  });

  it('hides an unknown error behind an internal frame and logs the error itself', async () => {
    const cause = new Error('secret table arn:aws:dynamodb:...');
    const { handler, logger } = failingRoute(cause);
    const response = await handler(messageEvent({ action: 'ping', id: 'x' }), context);
    expect(replyOf(response)).toEqual({
      type: 'error',
      id: 'x',
      code: 'internal',
      message: 'internal error; the request may be retried',
    });
    expect(response.body).not.toMatch(/arn|stack|secret/);
    expect(logger.entries[0]).toMatchObject({
      level: 'error',
      extra: [expect.objectContaining({ error: cause })],
    });
  });

  it.each([
    ['no id', { action: 'ping' }],
    ['a numeric id', { action: 'ping', id: 1 }],
    ['an object id', { action: 'ping', id: { a: 1 } }],
    ['an over-long id', { action: 'ping', id: 'x'.repeat(129) }],
  ])('leaves the id out of the reply for a request with %s', async (_what, frame) => {
    const { handler } = failingRoute(new FanoutError('bad_request', 'no'));
    expect(replyOf(await handler(messageEvent(frame), context))).not.toHaveProperty('id');
  });

  it('leaves the id out when the body is not JSON', async () => {
    const { handler } = failingRoute(new FanoutError('bad_request', 'no'));
    expect(replyOf(await handler(messageEvent('{"id":"r1"'), context))).not.toHaveProperty('id');
  });

  it('refuses to be built without a logger and metrics', () => {
    const metrics = new MemoryMetrics();
    const logger = new MemoryLog();
    expect(() => errorFrames({ logger, metrics: {} } as unknown as Observability)).toThrow(TypeError);
    expect(() => errorFrames({ logger: undefined, metrics } as unknown as Observability)).toThrow(TypeError);
    expect(() => errorFrames(undefined as unknown as Observability)).toThrow(TypeError);
  });
});
