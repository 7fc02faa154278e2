import type { IncomingHttpHeaders } from 'node:http';
import { BackendError } from '../../../shared/backend/errors';
import { readRouteEvent } from '../../../shared/backend/request';
import { CONNECTED_AT, CONNECTION_ID, SOURCE_IP } from '../../support/events';

/** The headers an integration of `route` maps, lower-cased as node gives them. */
function mapped(
  routeKey: string,
  eventType: string,
  extra: Record<string, string> = {},
): IncomingHttpHeaders {
  return {
    connectionid: CONNECTION_ID,
    routekey: routeKey,
    eventtype: eventType,
    connectedat: String(CONNECTED_AT),
    requestid: 'req-1',
    sourceip: SOURCE_IP,
    authorizeruserid: 'alice',
    authorizertopics: '["demo/*"]',
    ...extra,
  };
}

function refusal(run: () => unknown): { code: string; status: number; message: string } {
  try {
    run();
  } catch (err) {
    if (err instanceof BackendError) return { code: err.code, status: err.status, message: err.message };
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('reading a route call from the mapped headers', () => {
  it('rebuilds the event a Lambda route gets: connection, route, time, request, source address, grants and the frame', () => {
    const body = '{"action":"subscribe","topics":["demo/*"]}';
    expect(readRouteEvent('subscribe', mapped('subscribe', 'MESSAGE'), body)).toEqual({
      requestContext: {
        routeKey: 'subscribe',
        eventType: 'MESSAGE',
        connectionId: CONNECTION_ID,
        connectedAt: CONNECTED_AT,
        requestId: 'req-1',
        identity: { sourceIp: SOURCE_IP },
        authorizer: { userId: 'alice', topics: '["demo/*"]' },
      },
      body,
      isBase64Encoded: false,
    });
  });

  it('gives $connect and $disconnect no body, and $disconnect its close status and reason', () => {
    expect(readRouteEvent('$connect', mapped('$connect', 'CONNECT'), 'ignored')).not.toHaveProperty('body');
    const event = readRouteEvent(
      '$disconnect',
      mapped('$disconnect', 'DISCONNECT', { disconnectstatuscode: '1001', disconnectreason: 'Going away' }),
      '',
    );
    expect(event).not.toHaveProperty('body');
    expect(event.requestContext).toMatchObject({
      disconnectStatusCode: 1001,
      disconnectReason: 'Going away',
    });
  });

  it('leaves out what was not mapped: no request id, no source address, and no grants (null, as a route without an authorizer gets)', () => {
    const headers: IncomingHttpHeaders = {
      connectionid: CONNECTION_ID,
      routekey: '$default',
      eventtype: 'MESSAGE',
      connectedat: String(CONNECTED_AT),
    };
    expect(readRouteEvent('$default', headers, '{}').requestContext).toEqual({
      routeKey: '$default',
      eventType: 'MESSAGE',
      connectionId: CONNECTION_ID,
      connectedAt: CONNECTED_AT,
      authorizer: null,
    });
  });

  it.each(['connectionid', 'routekey', 'eventtype', 'connectedat'])(
    'refuses a call without the %s header as header_missing (400), naming the context variable to map',
    (name) => {
      const headers = mapped('subscribe', 'MESSAGE');
      delete headers[name];
      const refused = refusal(() => readRouteEvent('subscribe', headers, '{}'));
      expect(refused).toMatchObject({ code: 'header_missing', status: 400 });
      expect(refused.message).toMatch(/map it from context\.\w+/);
    },
  );

  it('decodes the percent-encoded user id to the authorizer’s, and takes grants of up to 16 KiB as the Lambda routes take any', () => {
    const topics = JSON.stringify(Array.from({ length: 700 }, (_, i) => `t${i}/rooms/*`)).slice(0, 16 * 1024);
    const headers = mapped('subscribe', 'MESSAGE', {
      authorizeruserid: encodeURIComponent('zoë 50%'),
      authorizertopics: topics,
    });
    expect(topics.length).toBeGreaterThan(1024);
    expect(readRouteEvent('subscribe', headers, '').requestContext.authorizer).toEqual({
      userId: 'zoë 50%',
      topics,
    });
  });

  it('counts an empty required header as missing', () => {
    const refused = refusal(() =>
      readRouteEvent('subscribe', mapped('subscribe', 'MESSAGE', { connectionid: '' }), ''),
    );
    expect(refused.code).toBe('header_missing');
  });

  it.each([
    [
      'a connection id with characters API Gateway never uses',
      { connectionid: 'abc;def' },
      'not a connection id',
    ],
    [
      'a connection id longer than API Gateway makes',
      { connectionid: 'A'.repeat(129) },
      'not a connection id',
    ],
    ['a request id over 1,024 characters', { requestid: 'r'.repeat(1025) }, 'over 1024 characters'],
    [
      'grants over 16 KiB',
      { authorizertopics: `["${'a'.repeat(16 * 1024)}"]` },
      'AuthorizerTopics header is over 16384 characters',
    ],
    ['a user id that is not percent-encoded text', { authorizeruserid: 'zo%C3' }, 'not percent-encoded'],
    ['a connectedAt that is not a whole number', { connectedat: '12.5' }, 'must be a whole number'],
    ['a connectedAt that is not a number', { connectedat: 'yesterday' }, 'must be a whole number'],
  ])('refuses %s as header_invalid (400)', (_what, extra, message) => {
    const refused = refusal(() => readRouteEvent('subscribe', mapped('subscribe', 'MESSAGE', extra), ''));
    expect(refused).toMatchObject({ code: 'header_invalid', status: 400 });
    expect(refused.message).toContain(message);
  });

  it('refuses a repeated mapped header as header_invalid', () => {
    const headers = { ...mapped('subscribe', 'MESSAGE'), connectionid: [CONNECTION_ID, 'Other0000000='] };
    expect(refusal(() => readRouteEvent('subscribe', headers as IncomingHttpHeaders, '')).code).toBe(
      'header_invalid',
    );
  });

  it('refuses a disconnect status that is not a whole number as header_invalid', () => {
    const headers = mapped('$disconnect', 'DISCONNECT', { disconnectstatuscode: 'normal' });
    expect(refusal(() => readRouteEvent('$disconnect', headers, '')).code).toBe('header_invalid');
  });

  it('refuses a route key other than the path route as route_mismatch (a mis-wired integration URI)', () => {
    const refused = refusal(() => readRouteEvent('unsubscribe', mapped('subscribe', 'MESSAGE'), ''));
    expect(refused).toMatchObject({ code: 'route_mismatch', status: 400 });
    expect(refused.message).toContain('/routes/unsubscribe');
  });

  it('refuses an event type other than the route kind as route_mismatch', () => {
    const refused = refusal(() => readRouteEvent('$connect', mapped('$connect', 'MESSAGE'), ''));
    expect(refused).toMatchObject({ code: 'route_mismatch', status: 400 });
    expect(refused.message).toContain('CONNECT route');
  });
});
